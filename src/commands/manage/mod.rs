//! `trustsync add FILE` and `trustsync remove FINGERPRINT`: put a CA into the OS trust store
//! the way the OS wants it done, and take out only what trustsync put in.
//!
//! Why this module exists: deciding whether a certificate may become a trust anchor is the
//! same question on every OS (is it a CA? expired? distrusted? already trusted?), and it
//! must be answered before any OS API is called. Everything here compiles on every OS; the
//! OS-specific part is a small [`StoreBackend`] per OS:
//! - Linux ([`LinuxBackend`]): a file `trustsync-<16 hex of SHA-256>.crt` in the distro's
//!   admin anchors directory ([`trustsync_platform::linux_anchors`]), written through the fix
//!   engine ([`crate::apply::posix`]: lock, journal, atomic write, so `trustsync undo` reverts it),
//!   then the distro's update command, run directly.
//! - Windows: `trustsync_platform::windows::{add_root, remove_root}` (LocalMachine\ROOT when
//!   elevated, CurrentUser\ROOT otherwise; removal only of copies carrying trustsync's mark).
//! - macOS: `trustsync_platform::macos::{add_root, remove_root}` (System.keychain plus admin
//!   trust settings for sslServer; removal only of trustsync-labelled items).
//!
//! Rules, in the order they are checked:
//! 1. Where the store needs root (Linux, macOS) and we are not root: refuse, name the
//!    `sudo` command, write nothing.
//! 2. The file must hold certificates and nothing unreadable. A file with several
//!    certificates is accepted only when every one is a CA, and then all are added: a
//!    company's root and its issuing CA often come as one file. A file mixing a non-CA in
//!    (a server's chain, pasted by mistake) is refused even with `--force`; `--force` is for
//!    one deliberate certificate at a time.
//! 3. A single non-CA, an expired or a not-yet-valid certificate is refused unless `--force`.
//! 4. A CA the OS store distrusts is refused, always: trustsync never overrides a distrust.
//! 5. A CA the OS store already trusts is left alone (exit 0, "already trusted").
//! 6. `remove` takes a SHA-256 fingerprint (never a serial or a subject) and removes only
//!    what trustsync added; a CA the store trusts through anything else is refused.
//! 7. After a change the store is read again: an `add` whose CA the store still does not
//!    trust is a failure, a `remove` whose CA is still trusted through another source says so.

use crate::model::cert::{unix_now, CertSummary, Certificate};
use crate::model::system::OsStore;
use serde::Serialize;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use trustsync_platform::StoreError;

mod report;
use report::summary;
pub use report::{CertResult, ErrorReport, ManageReport, Outcome, UpdateReport};

/// Version of the `add`/`remove` `--json` documents (fields are only ever added).
pub const SCHEMA_VERSION: u32 = 1;

/// Why `add` or `remove` refused or failed. Each message names the file, store or
/// fingerprint and says what to do.
#[derive(Debug, thiserror::Error)]
pub enum ManageError {
    #[error("changing the OS trust store needs root: run `{command}`")]
    NeedsRoot { command: String },
    /// The file is missing, not a regular file (a FIFO, a device), over 64 MiB, or
    /// unreadable; `reason` is the bounded reader's one line.
    #[error("{path}: {reason}", path = .path.display())]
    Unreadable { path: PathBuf, reason: String },
    #[error("{path}: no certificate found (expected PEM or DER)", path = .path.display())]
    NoCertificate { path: PathBuf },
    #[error("{path}: parts of the file cannot be read, so nothing is trusted from it: {}", .entries.join("; "), path = .path.display())]
    BadEntries { path: PathBuf, entries: Vec<String> },
    #[error("{path}: {subject} is not a CA certificate (no basicConstraints CA:TRUE); trusting it as a root is almost always a mistake (pass --force if you mean it)", path = .path.display())]
    NotCa { path: PathBuf, subject: String },
    #[error("{path}: {subject} expired on {date}; pass --force to add it anyway", path = .path.display())]
    Expired {
        path: PathBuf,
        subject: String,
        date: String,
    },
    #[error("{path}: {subject} is not valid before {date}; pass --force to add it anyway", path = .path.display())]
    NotYetValid {
        path: PathBuf,
        subject: String,
        date: String,
    },
    #[error("{path} holds {count} certificates and {subject} is not a CA: that looks like a server's chain; put only the CA certificate(s) in the file", path = .path.display())]
    ChainWithNonCa {
        path: PathBuf,
        count: usize,
        subject: String,
    },
    #[error("{subject} (SHA-256 {fingerprint}) is distrusted by the OS store; trustsync never overrides a distrust (remove the distrust entry first if it is wrong)")]
    Distrusted {
        subject: String,
        fingerprint: String,
    },
    #[error("{input:?} is not a SHA-256 fingerprint (64 hex digits; colons and a `sha256:` prefix are fine)")]
    BadFingerprint { input: String },
    #[error("refusing to remove SHA-256 {fingerprint}: {detail}; trustsync only removes CAs it added itself")]
    NotAddedByTrustsync { fingerprint: String, detail: String },
    #[error("this system ({flavor}) has no known directory for locally added CAs; add the CA the distro's own way")]
    Unsupported { flavor: String },
    #[error("cannot read the OS trust store: {0}")]
    Store(#[from] StoreError),
    #[cfg(unix)]
    #[error(transparent)]
    Apply(#[from] crate::apply::posix::ApplyError),
    #[error("{0}")]
    Update(#[from] trustsync_platform::linux_anchors::UpdateError),
    #[error("{subject} (SHA-256 {fingerprint}) is still not trusted by the OS store after {what}; see the warnings of `trustsync status`")]
    NotTrustedAfter {
        subject: String,
        fingerprint: String,
        what: String,
    },
    /// The OS store API refused (`refused`) or failed; its message says which store.
    #[error("{message}")]
    Backend { refused: bool, message: String },
}

impl ManageError {
    /// Stable code for `--json` (codes are only ever added).
    pub fn code(&self) -> &'static str {
        match self {
            ManageError::NeedsRoot { .. } => "needs-root",
            ManageError::Unreadable { .. } => "unreadable",
            ManageError::NoCertificate { .. } => "no-certificate",
            ManageError::BadEntries { .. } => "bad-entries",
            ManageError::NotCa { .. } => "not-a-ca",
            ManageError::Expired { .. } => "expired",
            ManageError::NotYetValid { .. } => "not-yet-valid",
            ManageError::ChainWithNonCa { .. } => "chain-with-non-ca",
            ManageError::Distrusted { .. } => "distrusted",
            ManageError::BadFingerprint { .. } => "bad-fingerprint",
            ManageError::NotAddedByTrustsync { .. } => "not-added-by-trustsync",
            ManageError::Unsupported { .. } => "unsupported",
            ManageError::Store(_) => "store-unreadable",
            #[cfg(unix)]
            ManageError::Apply(_) => "write-failed",
            ManageError::Update(_) => "update-failed",
            ManageError::NotTrustedAfter { .. } => "not-trusted-after-update",
            ManageError::Backend { refused: true, .. } => "refused-by-store",
            ManageError::Backend { refused: false, .. } => "store-error",
        }
    }

    /// A refusal (trustsync decided not to) rather than a failure (something broke).
    pub fn is_refusal(&self) -> bool {
        !matches!(
            self,
            ManageError::Unreadable { .. }
                | ManageError::Store(_)
                | ManageError::Update(_)
                | ManageError::NotTrustedAfter { .. }
                | ManageError::Backend { refused: false, .. }
        ) && !self.is_write_failure()
    }

    #[cfg(unix)]
    fn is_write_failure(&self) -> bool {
        matches!(self, ManageError::Apply(_))
    }

    #[cfg(not(unix))]
    fn is_write_failure(&self) -> bool {
        false
    }
}

// ---------------------------------------------------------------------------------------
// Decisions, on every OS

/// What `add` takes from a file: the certificates to trust, and notes for the user.
#[derive(Debug)]
pub struct Selected {
    pub certificates: Vec<Certificate>,
    pub notes: Vec<String>,
}

use crate::model::cert::format_date as date;

/// Rules 2 and 3 of the module doc: which certificates of `bytes` (read from `path`) may be
/// added, at time `now` (Unix seconds).
pub fn select_certificates(
    path: &Path,
    bytes: &[u8],
    now: i64,
    force: bool,
) -> Result<Selected, ManageError> {
    let loaded = crate::model::load::parse_bytes(path, bytes);
    if !loaded.bad_entries.is_empty() {
        return Err(ManageError::BadEntries {
            path: path.to_path_buf(),
            entries: loaded.bad_entries,
        });
    }
    let mut seen = HashSet::new();
    let certificates: Vec<Certificate> = loaded
        .certificates
        .into_iter()
        .filter(|c| seen.insert(c.sha256))
        .collect();
    let mut notes = Vec::new();
    if loaded.private_keys_skipped > 0 {
        notes.push(format!(
            "{} also holds a private key; only the certificate is used (keys are never copied)",
            path.display()
        ));
    }
    match certificates.as_slice() {
        [] => {
            return Err(ManageError::NoCertificate {
                path: path.to_path_buf(),
            })
        }
        [one] if !one.is_ca => {
            if !force {
                return Err(ManageError::NotCa {
                    path: path.to_path_buf(),
                    subject: one.display_name(),
                });
            }
            notes.push(format!(
                "--force: {} is not a CA, and is trusted as a root anyway",
                one.display_name()
            ));
        }
        [_] => {}
        several => {
            if let Some(leaf) = several.iter().find(|c| !c.is_ca) {
                return Err(ManageError::ChainWithNonCa {
                    path: path.to_path_buf(),
                    count: several.len(),
                    subject: leaf.display_name(),
                });
            }
        }
    }
    for c in &certificates {
        if c.is_expired_at(now) {
            if !force {
                return Err(ManageError::Expired {
                    path: path.to_path_buf(),
                    subject: c.display_name(),
                    date: date(c.not_after),
                });
            }
            notes.push(format!(
                "--force: {} expired on {}; TLS libraries will still reject chains ending in it",
                c.display_name(),
                date(c.not_after)
            ));
        } else if now < c.not_before {
            if !force {
                return Err(ManageError::NotYetValid {
                    path: path.to_path_buf(),
                    subject: c.display_name(),
                    date: date(c.not_before),
                });
            }
            notes.push(format!(
                "--force: {} is not valid before {}",
                c.display_name(),
                date(c.not_before)
            ));
        }
    }
    Ok(Selected {
        certificates,
        notes,
    })
}

/// What `add` must do with one certificate, given the OS store as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddStep {
    /// The store already trusts exactly this certificate: nothing to do.
    AlreadyTrusted,
    Add,
}

/// Rules 4 and 5 of the module doc. A distrusted CA is matched by identity and by anchor
/// (same subject and key), so a re-issued copy of a distrusted root is refused too.
pub fn decide_add(os: &OsStore, cert: &Certificate) -> Result<AddStep, ManageError> {
    if os
        .distrusted
        .iter()
        .any(|d| d.sha256 == cert.sha256 || d.anchor_key() == cert.anchor_key())
    {
        return Err(ManageError::Distrusted {
            subject: cert.display_name(),
            fingerprint: cert.fingerprint(),
        });
    }
    if os.trusted.iter().any(|t| t.sha256 == cert.sha256) {
        return Ok(AddStep::AlreadyTrusted);
    }
    Ok(AddStep::Add)
}

/// A SHA-256 fingerprint as people paste it: hex in any case, with or without colons or
/// spaces, optionally prefixed `sha256:` (what `openssl x509 -fingerprint -sha256` and the
/// `--json` output print).
pub fn parse_fingerprint(input: &str) -> Result<[u8; 32], ManageError> {
    let trimmed = input.trim();
    let body = trimmed
        .get(..7)
        .filter(|p| p.eq_ignore_ascii_case("sha256:"))
        .map_or(trimmed, |_| &trimmed[7..]);
    let digits: String = body.chars().filter(|c| !matches!(c, ':' | ' ')).collect();
    let bad = || ManageError::BadFingerprint {
        input: input.to_string(),
    };
    let bytes = hex::decode(&digits).map_err(|_| bad())?;
    bytes.try_into().map_err(|_| bad())
}

/// `sudo` plus the command line as given, for the "needs root" message. Arguments with
/// characters a shell would interpret are single-quoted (display only: nothing runs it).
pub fn sudo_hint(args: &[String]) -> String {
    let quote = |a: &String| {
        if !a.is_empty()
            && a.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./:=@,+".contains(c))
        {
            a.clone()
        } else {
            format!("'{}'", a.replace('\'', r"'\''"))
        }
    };
    let mut out = String::from("sudo");
    for a in args {
        out.push(' ');
        out.push_str(&quote(a));
    }
    out
}

// ---------------------------------------------------------------------------------------
// The flows, over a backend

/// Where one certificate was put or found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placed {
    /// File path or store name.
    pub location: String,
    /// False when it was already there (nothing written).
    pub written: bool,
}

/// What a backend's removal found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoveResult {
    /// trustsync's copy was removed from `location`.
    Removed { location: String },
    /// trustsync has no copy of this CA in the store.
    NotFound,
}

/// One OS's way of writing its trust store. Decisions are made by [`add`] and [`remove`]
/// before these are called; a backend only carries them out (and refuses what its own
/// records say is not trustsync's).
pub trait StoreBackend {
    /// Whether writing this store needs root.
    fn needs_root(&self) -> bool;
    /// The store as `status` reads it (the live machine's, unless the backend has a root).
    fn read_store(&mut self) -> Result<OsStore, ManageError> {
        Ok(OsStore::read(Path::new("/"))?)
    }
    /// Puts every certificate in the store, in order.
    fn add(&mut self, certs: &[Certificate]) -> Result<Vec<Placed>, ManageError>;
    /// Removes trustsync's copy of the CA with this SHA-256.
    fn remove(&mut self, fingerprint: &[u8; 32]) -> Result<RemoveResult, ManageError>;
    /// The update command the last `add`/`remove` ran, if any.
    fn take_update(&mut self) -> Option<UpdateReport> {
        None
    }
}

/// Facts about the running process the flows need (kept out of the flows for testing).
#[derive(Debug, Clone)]
pub struct Options {
    pub force: bool,
    /// Unix seconds.
    pub now: i64,
    pub is_root: bool,
    /// The `sudo …` command to suggest when root is needed.
    pub sudo_command: String,
}

impl Options {
    /// Options for this process: its effective user, the clock, its own command line.
    pub fn from_process(force: bool) -> Options {
        // Lossy: a non-UTF-8 argument must not panic a message that only displays it.
        let args: Vec<String> = std::env::args_os()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        Options {
            force,
            now: unix_now(),
            is_root: process_is_root(),
            sudo_command: sudo_hint(&args),
        }
    }
}

#[cfg(unix)]
fn process_is_root() -> bool {
    crate::apply::posix::safe_fs::running_as_root()
}

#[cfg(not(unix))]
fn process_is_root() -> bool {
    // Windows picks LocalMachine or CurrentUser itself; no backend there needs "root".
    false
}

/// `trustsync add FILE`.
pub fn add(file: &Path, backend: &mut dyn StoreBackend, opts: &Options) -> ManageReport {
    let mut report = ManageReport::new("add", file.display().to_string());
    match add_inner(file, backend, opts, &mut report) {
        Ok(outcome) => report.done(outcome),
        Err(e) => report.fail(e),
    }
}

fn add_inner(
    file: &Path,
    backend: &mut dyn StoreBackend,
    opts: &Options,
    report: &mut ManageReport,
) -> Result<Outcome, ManageError> {
    if backend.needs_root() && !opts.is_root {
        return Err(ManageError::NeedsRoot {
            command: opts.sudo_command.clone(),
        });
    }
    // The file is the caller's choice, and `add` runs as root: read it bounded (a FIFO or
    // `/dev/zero` is refused, never read).
    let bytes = trustsync_platform::read::read_file(file).map_err(|e| ManageError::Unreadable {
        path: file.to_path_buf(),
        reason: e.reason(),
    })?;
    let selected = select_certificates(file, &bytes, opts.now, opts.force)?;
    report.notes = selected.notes;
    let os = backend.read_store()?;
    let mut to_add = Vec::new();
    for c in &selected.certificates {
        match decide_add(&os, c)? {
            AddStep::AlreadyTrusted => {
                report
                    .certificates
                    .push(summary(c, "already-trusted", None));
            }
            AddStep::Add => to_add.push(c.clone()),
        }
    }
    if to_add.is_empty() {
        return Ok(Outcome::AlreadyTrusted);
    }
    let placed = backend.add(&to_add);
    report.update = backend.take_update();
    for (c, p) in to_add.iter().zip(placed?) {
        let result = if p.written {
            "added"
        } else {
            "already-in-place"
        };
        report
            .certificates
            .push(summary(c, result, Some(p.location)));
    }
    // Rule 7: believe the store, not the backend.
    let after = backend.read_store()?;
    for c in &to_add {
        if !after.trusted.iter().any(|t| t.sha256 == c.sha256) {
            return Err(ManageError::NotTrustedAfter {
                subject: c.display_name(),
                fingerprint: c.fingerprint(),
                what: "adding it".into(),
            });
        }
    }
    Ok(Outcome::Added)
}

/// `trustsync remove FINGERPRINT`.
pub fn remove(fingerprint: &str, backend: &mut dyn StoreBackend, opts: &Options) -> ManageReport {
    let mut report = ManageReport::new("remove", fingerprint.trim().to_string());
    match remove_inner(fingerprint, backend, opts, &mut report) {
        Ok(outcome) => report.done(outcome),
        Err(e) => report.fail(e),
    }
}

fn remove_inner(
    input: &str,
    backend: &mut dyn StoreBackend,
    opts: &Options,
    report: &mut ManageReport,
) -> Result<Outcome, ManageError> {
    let fingerprint = parse_fingerprint(input)?;
    let fingerprint_hex = hex::encode(fingerprint);
    report.input = fingerprint_hex.clone();
    if backend.needs_root() && !opts.is_root {
        return Err(ManageError::NeedsRoot {
            command: opts.sudo_command.clone(),
        });
    }
    let os = backend.read_store()?;
    let trusted_before = os.trusted.iter().find(|t| t.sha256 == fingerprint).cloned();
    let result = backend.remove(&fingerprint);
    report.update = backend.take_update();
    match result? {
        RemoveResult::NotFound => match trusted_before {
            Some(c) => {
                report.certificates.push(summary(&c, "not-ours", None));
                Err(ManageError::NotAddedByTrustsync {
                    fingerprint: fingerprint_hex,
                    detail: format!(
                        "the OS store trusts {}, but not through anything trustsync added",
                        c.display_name()
                    ),
                })
            }
            None => Ok(Outcome::NotPresent),
        },
        RemoveResult::Removed { location } => {
            let after = backend.read_store()?;
            match &trusted_before {
                Some(c) => report
                    .certificates
                    .push(summary(c, "removed", Some(location))),
                // Not trusted before (an `add` whose update never ran): say what went.
                None => report
                    .notes
                    .push(format!("removed trustsync's copy at {location}")),
            }
            if let Some(still) = after.trusted.iter().find(|t| t.sha256 == fingerprint) {
                report.notes.push(format!(
                    "trustsync's copy is gone, but the OS store still trusts {} through another source (added by someone else); trustsync leaves that alone",
                    still.display_name()
                ));
            }
            Ok(Outcome::Removed)
        }
    }
}

// ---------------------------------------------------------------------------------------
// Backends

/// The backend for this OS.
pub fn system_backend() -> Box<dyn StoreBackend> {
    #[cfg(windows)]
    {
        Box::new(windows_backend::WindowsBackend)
    }
    #[cfg(target_os = "macos")]
    {
        Box::new(macos_backend::MacBackend)
    }
    #[cfg(all(unix, not(target_os = "macos")))]
    {
        Box::new(LinuxBackend::system())
    }
}

#[cfg(all(unix, not(target_os = "macos")))]
pub use linux_backend::{refresh_store_after_undo, LinuxBackend};

#[cfg(all(unix, not(target_os = "macos")))]
mod linux_backend;

#[cfg(windows)]
mod windows_backend;

#[cfg(target_os = "macos")]
mod macos_backend;

#[cfg(test)]
mod tests;
