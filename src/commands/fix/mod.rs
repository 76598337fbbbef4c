//! `trustsync fix`: from `status`'s diagnoses, the plan that makes every runtime trust the
//! OS store. Each row carries the repair its family proposes ([`RuntimeKind::repair`]); the
//! planners here carry it out on [`posix`] (files) or [`windows`] (a bundle plus registry
//! variables) and never ask which family a row came from.
//!
//! [`RuntimeKind::repair`]: crate::model::runtime::RuntimeKind::repair

#[cfg(unix)]
pub mod posix;
pub mod windows;
