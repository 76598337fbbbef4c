//! The commands, each composed from the layers below: [`status`] (OS store + every
//! family's rows, judged), [`fix`] (per-runtime repair plans, POSIX and Windows),
//! [`list`] (the OS store's CAs, filtered), [`manage`] (`add`/`remove` in the OS store),
//! [`probe`] (a server's chain against every trust set), [`hooks`] (keeping the sync true after updates), [`reference`] (S7), and
//! [`failure`]: the JSON error document they all print when they fail.

pub mod failure;
pub mod fix;
#[cfg(unix)]
pub mod hooks;
pub mod list;
pub mod manage;
pub mod probe;
pub mod reference;
pub mod status;
