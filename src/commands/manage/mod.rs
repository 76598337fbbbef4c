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

fn date(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .map(|t| t.date().to_string())
        .unwrap_or_else(|_| unix.to_string())
}

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
    fn read_store(&mut self) -> Result<OsStore, ManageError>;
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

/// The `--json` document of `add` and `remove`.
#[derive(Debug, Clone, Serialize)]
pub struct ManageReport {
    pub schema_version: u32,
    /// `add` or `remove`.
    pub command: &'static str,
    /// The file or fingerprint as given.
    pub input: String,
    pub outcome: Outcome,
    pub certificates: Vec<CertResult>,
    /// The distro's update command, when one ran (Linux).
    pub update: Option<UpdateReport>,
    pub notes: Vec<String>,
    pub error: Option<ErrorReport>,
    /// What the user should run next, if anything.
    pub next_step: Option<String>,
    pub exit_code: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Added,
    AlreadyTrusted,
    Removed,
    /// `remove`: the store does not trust this fingerprint at all; nothing to do.
    NotPresent,
    Refused,
    Failed,
}

#[derive(Debug, Clone, Serialize)]
pub struct CertResult {
    #[serde(flatten)]
    pub cert: CertSummary,
    pub is_ca: bool,
    /// `added`, `already-trusted`, `already-in-place`, `removed` or `not-ours`.
    pub result: &'static str,
    /// Anchor file or store it is in (or was removed from).
    pub location: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UpdateReport {
    pub command: Vec<String>,
    pub output: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ErrorReport {
    pub code: &'static str,
    pub message: String,
}

/// The next step after a change: the runtimes with bundles of their own do not see it yet.
fn next_step() -> String {
    if cfg!(windows) {
        "runtimes with a CA bundle of their own do not see this yet: `trustsync status` lists them"
            .into()
    } else {
        "runtimes with a CA bundle of their own do not see this yet: run `sudo trustsync fix` (preview with `trustsync fix --dry-run`)".into()
    }
}

impl ManageReport {
    fn new(command: &'static str, input: String) -> ManageReport {
        ManageReport {
            schema_version: SCHEMA_VERSION,
            command,
            input,
            outcome: Outcome::Failed,
            certificates: Vec::new(),
            update: None,
            notes: Vec::new(),
            error: None,
            next_step: None,
            exit_code: 1,
        }
    }

    fn fail(mut self, e: ManageError) -> ManageReport {
        self.outcome = if e.is_refusal() {
            Outcome::Refused
        } else {
            Outcome::Failed
        };
        self.error = Some(ErrorReport {
            code: e.code(),
            message: e.to_string(),
        });
        self.exit_code = 1;
        self
    }

    fn done(mut self, outcome: Outcome) -> ManageReport {
        self.outcome = outcome;
        self.exit_code = 0;
        if matches!(outcome, Outcome::Added | Outcome::Removed) {
            self.next_step = Some(next_step());
        }
        self
    }

    /// Whether the store changed.
    pub fn changed(&self) -> bool {
        matches!(self.outcome, Outcome::Added | Outcome::Removed)
    }

    /// The human rendering (stdout part; the error goes to stderr via the printer). Subjects,
    /// paths and what the update command said are shown escaped ([`crate::term::escape`]).
    pub fn render_human(&self) -> String {
        use crate::term::escape;
        let mut out = String::new();
        for c in &self.certificates {
            let short = &c.cert.sha256[..16];
            let at = escape(c.location.as_deref().unwrap_or("the OS store"));
            let subject = escape(&c.cert.subject);
            let line = match c.result {
                "added" => format!("added    {subject} (SHA-256 {short}…) to {at}"),
                "already-in-place" => {
                    format!("present  {subject} (SHA-256 {short}…) was already in {at}")
                }
                "removed" => format!("removed  {subject} (SHA-256 {short}…) from {at}"),
                "not-ours" => format!(
                    "kept     {subject} (SHA-256 {short}…): trusted through something trustsync did not add"
                ),
                _ => format!(
                    "trusted  {subject} (SHA-256 {short}…) is already trusted by the OS store; nothing to do"
                ),
            };
            out.push_str(&line);
            out.push('\n');
        }
        if let Some(u) = &self.update {
            // Debian's summary line if there is one, else the command's last words.
            let said = u
                .output
                .lines()
                .find(|l| l.contains(" added, "))
                .or_else(|| u.output.lines().last())
                .unwrap_or("")
                .trim();
            out.push_str(&format!("ran      {}", escape(&u.command.join(" "))));
            if !said.is_empty() {
                out.push_str(&format!(": {}", escape(said)));
            }
            out.push('\n');
        }
        if self.outcome == Outcome::NotPresent {
            out.push_str(&format!(
                "The OS store does not trust SHA-256 {}; nothing to remove.\n",
                escape(&self.input)
            ));
        }
        for n in &self.notes {
            out.push_str(&format!("note: {}\n", escape(n)));
        }
        if let Some(step) = &self.next_step {
            out.push_str(&format!("Next: {}.\n", escape(step)));
        }
        if self.outcome == Outcome::Added {
            let fps: Vec<&str> = self
                .certificates
                .iter()
                .filter(|c| c.result != "already-trusted")
                .map(|c| c.cert.sha256.as_str())
                .collect();
            for fp in fps {
                let sudo = if cfg!(windows) { "" } else { "sudo " };
                out.push_str(&format!(
                    "Take it out again with `{sudo}trustsync remove {fp}`.\n"
                ));
            }
        }
        out
    }
}

fn summary(c: &Certificate, result: &'static str, location: Option<String>) -> CertResult {
    CertResult {
        cert: CertSummary::from(c),
        is_ca: c.is_ca,
        result,
        location,
    }
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
pub use linux_backend::LinuxBackend;

#[cfg(all(unix, not(target_os = "macos")))]
mod linux_backend {
    use super::*;
    use crate::apply::posix::safe_fs::TargetState;
    use crate::apply::posix::{apply_locked, Context, Plan, Planner, StateLock};
    use trustsync_platform::linux::detect_layout;
    use trustsync_platform::linux_anchors::{self, UpdateError, UpdateRun};

    /// Runs the distro's update command; replaced in unit tests, which cannot run the real
    /// one against a temp tree.
    pub type Updater = Box<dyn FnMut(&[String]) -> Result<UpdateRun, UpdateError>>;

    /// Linux: anchor files through the fix engine, then the distro's update command.
    pub struct LinuxBackend {
        ctx: Context,
        updater: Updater,
        /// From the last [`StoreBackend::read_store`].
        flavor: String,
        update_command: Option<Vec<String>>,
        last_update: Option<UpdateReport>,
    }

    /// The anchor file's content: the certificate alone, PEM with Unix line endings
    /// (`Certificate::to_pem` writes CRLF, which `update-ca-certificates` would copy into
    /// the middle of the bundle).
    pub(super) fn anchor_pem(c: &Certificate) -> String {
        let block = ::pem::Pem::new("CERTIFICATE", c.der.clone());
        ::pem::encode_config(
            &block,
            ::pem::EncodeConfig::new().set_line_ending(::pem::LineEnding::LF),
        )
    }

    impl LinuxBackend {
        /// The live system: root `/`, journal in `/var/lib/trustsync`, the real update
        /// command.
        pub fn system() -> LinuxBackend {
            LinuxBackend::new(
                Context::system(),
                Box::new(|cmd: &[String]| linux_anchors::run_update(cmd)),
            )
        }

        pub fn new(ctx: Context, updater: Updater) -> LinuxBackend {
            LinuxBackend {
                ctx,
                updater,
                flavor: String::new(),
                update_command: None,
                last_update: None,
            }
        }

        /// The anchors directory, as a path inside the context's root.
        fn anchor_dir(&self) -> Result<PathBuf, ManageError> {
            let layout = detect_layout(&self.ctx.root);
            layout
                .and_then(linux_anchors::anchor_dir)
                .map(PathBuf::from)
                .ok_or_else(|| ManageError::Unsupported {
                    flavor: layout.map_or("unknown", |l| l.flavor).to_string(),
                })
        }

        fn run_update(&mut self, removing: bool) -> Result<(), ManageError> {
            let Some(mut command) = self.update_command.clone() else {
                return Err(ManageError::Unsupported {
                    flavor: self.flavor.clone(),
                });
            };
            if removing {
                command = linux_anchors::update_command_for_removal(&self.flavor, command);
            }
            let run = (self.updater)(&command)?;
            self.last_update = Some(UpdateReport {
                command: run.argv,
                output: run.output,
            });
            Ok(())
        }
    }

    impl StoreBackend for LinuxBackend {
        fn needs_root(&self) -> bool {
            true
        }

        fn read_store(&mut self) -> Result<OsStore, ManageError> {
            let os = OsStore::read(&self.ctx.root)?;
            self.flavor = os.flavor.clone();
            // The store reader takes it from the distro layout table already.
            self.update_command = os.update_command.clone();
            Ok(os)
        }

        fn add(&mut self, certs: &[Certificate]) -> Result<Vec<Placed>, ManageError> {
            let dir = self.anchor_dir()?;
            let lock = StateLock::acquire(&self.ctx)?;
            let planner = Planner::new(&self.ctx)?;
            let mut actions = Vec::new();
            for d in planner.missing_dirs(&dir)? {
                actions.push(planner.create_dir(
                    &d,
                    0o755,
                    "the distro reads locally added CAs from here",
                )?);
            }
            let mut targets = Vec::new();
            for c in certs {
                let target = dir.join(linux_anchors::anchor_file_name(&c.sha256));
                actions.push(planner.write_file(
                    &target,
                    anchor_pem(c).into_bytes(),
                    0o644,
                    &format!(
                        "trust {} (SHA-256 {}) as a locally added CA",
                        c.display_name(),
                        c.fingerprint()
                    ),
                )?);
                targets.push(target);
            }
            let plan = Plan::new(actions).without_satisfied();
            if !plan.is_empty() {
                apply_locked(&plan, &self.ctx, &lock)?;
            }
            self.run_update(false)?;
            Ok(targets
                .into_iter()
                .map(|t| Placed {
                    written: plan.actions.iter().any(|a| a.target == t),
                    location: t.display().to_string(),
                })
                .collect())
        }

        fn remove(&mut self, fingerprint: &[u8; 32]) -> Result<RemoveResult, ManageError> {
            let dir = self.anchor_dir()?;
            let target = dir.join(linux_anchors::anchor_file_name(fingerprint));
            let fingerprint_hex = hex::encode(fingerprint);
            // Decide before taking the lock, so a refusal leaves no trace (not even the
            // state directory); the engine re-checks the digest under the lock.
            let planner = Planner::new(&self.ctx)?;
            let (state, bytes) = planner.state(&target)?;
            let not_ours = |detail: String| ManageError::NotAddedByTrustsync {
                fingerprint: fingerprint_hex.clone(),
                detail,
            };
            match (&state, bytes) {
                (TargetState::Absent, _) => return Ok(RemoveResult::NotFound),
                (TargetState::File { .. }, Some(bytes)) => {
                    if !planner.manages(&target, &state.digest())? {
                        return Err(not_ours(format!(
                            "{} was not written by trustsync (or was changed since)",
                            target.display()
                        )));
                    }
                    let holds = crate::model::load::parse_bytes(&target, &bytes)
                        .certificates
                        .iter()
                        .any(|c| &c.sha256 == fingerprint);
                    if !holds {
                        return Err(not_ours(format!(
                            "{} holds a different certificate",
                            target.display()
                        )));
                    }
                }
                _ => {
                    return Err(not_ours(format!(
                        "{} is not a regular file",
                        target.display()
                    )))
                }
            }
            let lock = StateLock::acquire(&self.ctx)?;
            let plan = Plan::new(vec![planner.remove(
                &target,
                &format!(
                    "stop trusting the CA with SHA-256 {fingerprint_hex}, which trustsync added"
                ),
            )?]);
            apply_locked(&plan, &self.ctx, &lock)?;
            self.run_update(true)?;
            Ok(RemoveResult::Removed {
                location: target.display().to_string(),
            })
        }

        fn take_update(&mut self) -> Option<UpdateReport> {
            self.last_update.take()
        }
    }
}

#[cfg(windows)]
mod windows_backend {
    use super::*;
    use trustsync_platform::windows;
    use trustsync_platform::windows_store::StoreEditError;

    /// Windows: ROOT stores through crypt32 (`trustsync_platform::windows`).
    pub struct WindowsBackend;

    fn map(e: StoreEditError) -> ManageError {
        match e {
            StoreEditError::NotAddedByTrustsync {
                fingerprint,
                origins,
            } => ManageError::NotAddedByTrustsync {
                fingerprint,
                detail: format!("its copies in {origins} do not carry trustsync's mark"),
            },
            StoreEditError::BadFingerprint(input) => ManageError::BadFingerprint { input },
            StoreEditError::LocalMachineNotWritable => ManageError::Backend {
                refused: true,
                message: e.to_string(),
            },
            other => ManageError::Backend {
                refused: false,
                message: other.to_string(),
            },
        }
    }

    impl StoreBackend for WindowsBackend {
        fn needs_root(&self) -> bool {
            false
        }

        fn read_store(&mut self) -> Result<OsStore, ManageError> {
            Ok(OsStore::read(Path::new("/"))?)
        }

        fn add(&mut self, certs: &[Certificate]) -> Result<Vec<Placed>, ManageError> {
            certs
                .iter()
                .map(|c| {
                    windows::add_root(&c.der).map_err(map).map(|o| Placed {
                        location: o.store.origin(),
                        written: o.added,
                    })
                })
                .collect()
        }

        fn remove(&mut self, fingerprint: &[u8; 32]) -> Result<RemoveResult, ManageError> {
            match windows::remove_root(&hex::encode(fingerprint)) {
                Ok(stores) => Ok(RemoveResult::Removed {
                    location: stores
                        .iter()
                        .map(|s| s.origin())
                        .collect::<Vec<_>>()
                        .join(", "),
                }),
                Err(StoreEditError::NotFound { .. }) => Ok(RemoveResult::NotFound),
                Err(e) => Err(map(e)),
            }
        }
    }
}

#[cfg(target_os = "macos")]
mod macos_backend {
    use super::*;
    use trustsync_platform::macos;
    use trustsync_platform::macos_trust::{AddOutcome, ManageError as MacError};

    /// macOS: System.keychain plus admin-domain trust settings (`trustsync_platform::macos`).
    pub struct MacBackend;

    const LOCATION: &str = "System.keychain (admin trust settings for TLS)";

    fn map(e: MacError) -> ManageError {
        match e {
            MacError::BadFingerprint { input } => ManageError::BadFingerprint { input },
            MacError::NotManaged { fingerprint, .. } => ManageError::NotAddedByTrustsync {
                fingerprint,
                detail: "System.keychain has no item trustsync added for it".into(),
            },
            e @ (MacError::ForeignItem { .. }
            | MacError::AdminDenies { .. }
            | MacError::ForeignSettings { .. }) => ManageError::Backend {
                refused: true,
                message: e.to_string(),
            },
            e => ManageError::Backend {
                refused: false,
                message: e.to_string(),
            },
        }
    }

    impl StoreBackend for MacBackend {
        fn needs_root(&self) -> bool {
            true
        }

        fn read_store(&mut self) -> Result<OsStore, ManageError> {
            Ok(OsStore::read(Path::new("/"))?)
        }

        fn add(&mut self, certs: &[Certificate]) -> Result<Vec<Placed>, ManageError> {
            certs
                .iter()
                .map(|c| {
                    macos::add_root(&c.der).map_err(map).map(|o| Placed {
                        location: LOCATION.to_string(),
                        written: o == AddOutcome::Added,
                    })
                })
                .collect()
        }

        fn remove(&mut self, fingerprint: &[u8; 32]) -> Result<RemoveResult, ManageError> {
            match macos::remove_root(&hex::encode(fingerprint)) {
                Ok(_) => Ok(RemoveResult::Removed {
                    location: LOCATION.to_string(),
                }),
                Err(MacError::NotManaged { .. }) => Ok(RemoveResult::NotFound),
                Err(e) => Err(map(e)),
            }
        }
    }
}

/// After `undo` put back or removed a file in the distro's anchors directory (an `add`
/// undone), the OS bundle still holds the old state until the update command runs again:
/// run it, as `remove` does. Only on a live Linux system (`root` = `/`); `None` when no
/// anchor file was touched.
#[cfg(all(unix, not(target_os = "macos")))]
pub fn refresh_store_after_undo(
    root: &Path,
    touched: &[PathBuf],
) -> Option<
    Result<
        trustsync_platform::linux_anchors::UpdateRun,
        trustsync_platform::linux_anchors::UpdateError,
    >,
> {
    use trustsync_platform::{linux, linux_anchors};
    if root != Path::new("/") {
        return None;
    }
    let layout = linux::detect_layout(root)?;
    let dir = linux_anchors::anchor_dir(layout)?;
    if !touched.iter().any(|p| p.starts_with(dir)) {
        return None;
    }
    let command: Vec<String> = layout
        .update_command
        .iter()
        .map(|s| s.to_string())
        .collect();
    Some(linux_anchors::run_update(
        &linux_anchors::update_command_for_removal(layout.flavor, command),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};

    const NOW: i64 = 1_700_000_000; // 2023-11-14

    /// A self-signed certificate valid for the given years; `ca` false gives a leaf.
    fn make(cn: &str, ca: bool, from_year: i32, to_year: i32) -> (String, Certificate) {
        let mut params = CertificateParams::new(vec![]).unwrap();
        params.distinguished_name.push(DnType::CommonName, cn);
        if ca {
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        }
        params.not_before = rcgen::date_time_ymd(from_year, 1, 1);
        params.not_after = rcgen::date_time_ymd(to_year, 1, 1);
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        (cert.pem(), Certificate::from_der(cert.der()).unwrap())
    }

    fn select(pem: &str, force: bool) -> Result<Selected, ManageError> {
        select_certificates(Path::new("corp.pem"), pem.as_bytes(), NOW, force)
    }

    #[test]
    fn a_valid_ca_is_selected() {
        let (pem, c) = make("Corp Root", true, 2020, 2040);
        let s = select(&pem, false).unwrap();
        assert_eq!(s.certificates.len(), 1);
        assert_eq!(s.certificates[0].sha256, c.sha256);
        assert!(s.notes.is_empty());
        // The same CA twice is one CA.
        assert_eq!(
            select(&(pem.clone() + &pem), false)
                .unwrap()
                .certificates
                .len(),
            1
        );
    }

    #[test]
    fn leaf_expired_and_future_need_force() {
        let (leaf, _) = make("www.example.test", false, 2020, 2040);
        let e = select(&leaf, false).unwrap_err();
        assert_eq!(e.code(), "not-a-ca", "{e}");
        assert!(e.is_refusal());
        let forced = select(&leaf, true).unwrap();
        assert!(forced.notes[0].contains("not a CA"), "{:?}", forced.notes);

        let (old, _) = make("Old Root", true, 2001, 2010);
        let e = select(&old, false).unwrap_err();
        assert_eq!(e.code(), "expired");
        assert!(e.to_string().contains("2010-01-01"), "{e}");
        assert!(select(&old, true).is_ok());

        let (future, _) = make("Future Root", true, 2030, 2040);
        assert_eq!(select(&future, false).unwrap_err().code(), "not-yet-valid");
        assert!(select(&future, true).is_ok());
    }

    #[test]
    fn several_certificates_must_all_be_cas() {
        let (root, _) = make("Corp Root", true, 2020, 2040);
        let (issuing, _) = make("Corp Issuing", true, 2020, 2040);
        let (leaf, _) = make("www.example.test", false, 2020, 2040);
        let both = select(&(root.clone() + &issuing), false).unwrap();
        assert_eq!(both.certificates.len(), 2);
        // A chain with a leaf is refused, even with --force.
        for force in [false, true] {
            let e = select(&(leaf.clone() + &root), force).unwrap_err();
            assert_eq!(e.code(), "chain-with-non-ca", "{e}");
            assert!(e.to_string().contains("www.example.test"), "{e}");
        }
    }

    #[test]
    fn unreadable_content_is_refused() {
        assert_eq!(
            select("hello\n", false).unwrap_err().code(),
            "no-certificate"
        );
        let (pem, _) = make("Corp Root", true, 2020, 2040);
        let broken = pem.clone() + "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert_eq!(select(&broken, false).unwrap_err().code(), "bad-entries");
    }

    #[test]
    fn a_private_key_in_the_file_is_never_used() {
        let (pem, _) = make("Corp Root", true, 2020, 2040);
        let key = KeyPair::generate().unwrap().serialize_pem();
        let s = select(&(key + &pem), false).unwrap();
        assert_eq!(s.certificates.len(), 1);
        assert!(s.notes[0].contains("private key"), "{:?}", s.notes);
    }

    fn store(trusted: &[&Certificate], distrusted: &[&Certificate]) -> OsStore {
        OsStore {
            flavor: "debian".into(),
            trusted: trusted.iter().map(|c| (*c).clone()).collect(),
            locally_added: Default::default(),
            distrusted: distrusted.iter().map(|c| (*c).clone()).collect(),
            sources: vec![],
            bundle: None,
            directory: None,
            update_command: None,
            warnings: vec![],
        }
    }

    #[test]
    fn already_trusted_and_distrusted() {
        let (_, a) = make("A", true, 2020, 2040);
        let (_, b) = make("B", true, 2020, 2040);
        assert_eq!(
            decide_add(&store(&[&a], &[]), &a).unwrap(),
            AddStep::AlreadyTrusted
        );
        assert_eq!(decide_add(&store(&[&a], &[]), &b).unwrap(), AddStep::Add);
        let e = decide_add(&store(&[], &[&b]), &b).unwrap_err();
        assert_eq!(e.code(), "distrusted");
    }

    #[test]
    fn fingerprints_as_people_paste_them() {
        let want: [u8; 32] = core::array::from_fn(|i| i as u8 * 7);
        let hex = hex::encode(want);
        let colons = want
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(":");
        for input in [
            hex.clone(),
            hex.to_uppercase(),
            colons.clone(),
            format!("sha256:{hex}"),
            format!("SHA256:{colons}"),
            format!("  {hex}\n"),
        ] {
            assert_eq!(parse_fingerprint(&input).unwrap(), want, "{input}");
        }
        for bad in [
            "",
            "abc",
            &hex[..62],
            &format!("{hex}00"),
            &hex.replace('0', "g"),
        ] {
            assert_eq!(
                parse_fingerprint(bad).unwrap_err().code(),
                "bad-fingerprint",
                "{bad}"
            );
        }
    }

    #[test]
    fn sudo_hint_quotes_what_a_shell_would_interpret() {
        let args: Vec<String> = ["trustsync", "add", "my corp.pem", "--force", "it's"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            sudo_hint(&args),
            r"sudo trustsync add 'my corp.pem' --force 'it'\''s'"
        );
    }

    /// The Linux backend against a temp tree laid out like Debian, with the real engine and
    /// journal; the distro's update command is simulated (the sandbox tests run the real
    /// one): it rebuilds the bundle from the shipped CAs plus every anchor file.
    #[cfg(all(unix, not(target_os = "macos")))]
    mod linux {
        use super::*;
        use crate::apply::posix::Context;
        use std::cell::RefCell;
        use std::rc::Rc;
        use trustsync_platform::linux_anchors::UpdateRun;

        const ANCHORS: &str = "usr/local/share/ca-certificates";
        const BUNDLE: &str = "etc/ssl/certs/ca-certificates.crt";

        struct Tree {
            dir: tempfile::TempDir,
            shipped: String,
            mozilla: Certificate,
            runs: Rc<RefCell<Vec<Vec<String>>>>,
        }

        impl Tree {
            fn new() -> Tree {
                let dir = tempfile::tempdir().unwrap();
                let (shipped, mozilla) = make("Shipped Root", true, 2020, 2040);
                std::fs::create_dir_all(dir.path().join(ANCHORS)).unwrap();
                std::fs::create_dir_all(dir.path().join("etc/ssl/certs")).unwrap();
                std::fs::write(dir.path().join(BUNDLE), &shipped).unwrap();
                Tree {
                    dir,
                    shipped,
                    mozilla,
                    runs: Rc::default(),
                }
            }

            fn root(&self) -> &Path {
                self.dir.path()
            }

            fn backend(&self) -> LinuxBackend {
                let root = self.root().to_path_buf();
                let shipped = self.shipped.clone();
                let runs = self.runs.clone();
                let updater = move |cmd: &[String]| {
                    runs.borrow_mut().push(cmd.to_vec());
                    let mut bundle = shipped.clone();
                    let mut names: Vec<_> = std::fs::read_dir(root.join(ANCHORS))
                        .unwrap()
                        .map(|e| e.unwrap().path())
                        .collect();
                    names.sort();
                    for p in names {
                        bundle.push_str(&std::fs::read_to_string(p).unwrap());
                    }
                    std::fs::write(root.join(BUNDLE), bundle).unwrap();
                    Ok(UpdateRun {
                        argv: cmd.to_vec(),
                        output: "simulated".into(),
                    })
                };
                LinuxBackend::new(Context::with_root(self.root()), Box::new(updater))
            }

            fn write_ca(&self, name: &str, pem: &str) -> PathBuf {
                let p = self.root().join(name);
                std::fs::write(&p, pem).unwrap();
                p
            }

            fn anchors(&self) -> Vec<String> {
                let mut v: Vec<String> = std::fs::read_dir(self.root().join(ANCHORS))
                    .unwrap()
                    .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect();
                v.sort();
                v
            }
        }

        fn root_opts() -> Options {
            Options {
                force: false,
                now: unix_now(),
                is_root: true,
                sudo_command: "sudo trustsync add corp.pem".into(),
            }
        }

        #[test]
        fn add_then_remove_round_trip() {
            use std::os::unix::fs::PermissionsExt;
            let t = Tree::new();
            let (pem, ca) = make("Corp Root", true, 2020, 2040);
            let file = t.write_ca("corp.pem", &pem);

            let r = add(&file, &mut t.backend(), &root_opts());
            assert_eq!(r.outcome, Outcome::Added, "{r:?}");
            assert_eq!(r.exit_code, 0);
            let name = format!("trustsync-{}.crt", &ca.fingerprint()[..16]);
            assert_eq!(t.anchors(), vec![name.clone()]);
            let anchor = t.root().join(ANCHORS).join(&name);
            assert_eq!(std::fs::read_to_string(&anchor).unwrap(), pem);
            assert_eq!(
                std::fs::metadata(&anchor).unwrap().permissions().mode() & 0o777,
                0o644
            );
            assert_eq!(
                t.runs.borrow().as_slice(),
                &[vec!["update-ca-certificates".to_string()]]
            );
            assert_eq!(r.update.as_ref().unwrap().output, "simulated");
            assert!(r.next_step.as_deref().unwrap().contains("trustsync fix"));
            assert!(OsStore::read(t.root())
                .unwrap()
                .trusted
                .iter()
                .any(|c| c.sha256 == ca.sha256));

            // Again: already trusted, nothing written, no update run.
            let again = add(&file, &mut t.backend(), &root_opts());
            assert_eq!(again.outcome, Outcome::AlreadyTrusted, "{again:?}");
            assert_eq!(t.runs.borrow().len(), 1);

            let r = remove(&ca.fingerprint(), &mut t.backend(), &root_opts());
            assert_eq!(r.outcome, Outcome::Removed, "{r:?}");
            assert!(t.anchors().is_empty());
            // Debian: the removal rebuilds /etc/ssl/certs links with --fresh.
            assert_eq!(
                t.runs.borrow().last().unwrap(),
                &vec!["update-ca-certificates".to_string(), "--fresh".into()]
            );
            assert!(!OsStore::read(t.root())
                .unwrap()
                .trusted
                .iter()
                .any(|c| c.sha256 == ca.sha256));

            // Gone already: nothing to do.
            let r = remove(&ca.fingerprint(), &mut t.backend(), &root_opts());
            assert_eq!(r.outcome, Outcome::NotPresent, "{r:?}");
            assert_eq!(r.exit_code, 0);
        }

        #[test]
        fn remove_refuses_what_trustsync_did_not_add() {
            let t = Tree::new();
            // A shipped root: trusted, but not through anything trustsync wrote.
            let before = std::fs::read(t.root().join(BUNDLE)).unwrap();
            let r = remove(&t.mozilla.fingerprint(), &mut t.backend(), &root_opts());
            assert_eq!(r.outcome, Outcome::Refused, "{r:?}");
            assert_eq!(r.error.as_ref().unwrap().code, "not-added-by-trustsync");
            assert!(t.runs.borrow().is_empty(), "no update run");
            assert!(
                !t.root().join("var/lib/trustsync").exists(),
                "a refusal leaves no trace, not even the lock"
            );
            assert_eq!(std::fs::read(t.root().join(BUNDLE)).unwrap(), before);

            // A file under trustsync's name that trustsync did not write (no journal entry).
            let (pem, ca) = make("Planted", true, 2020, 2040);
            let name = format!("trustsync-{}.crt", &ca.fingerprint()[..16]);
            std::fs::write(t.root().join(ANCHORS).join(&name), &pem).unwrap();
            let r = remove(&ca.fingerprint(), &mut t.backend(), &root_opts());
            assert_eq!(
                r.error.as_ref().unwrap().code,
                "not-added-by-trustsync",
                "{r:?}"
            );
            assert_eq!(t.anchors(), vec![name]);

            // trustsync's own file, edited by someone since: not trustsync's any more.
            let t = Tree::new();
            let (pem, ca) = make("Corp Root", true, 2020, 2040);
            let file = t.write_ca("corp.pem", &pem);
            assert_eq!(add(&file, &mut t.backend(), &root_opts()).exit_code, 0);
            let anchor = t.root().join(ANCHORS).join(&t.anchors()[0]);
            std::fs::write(&anchor, format!("# edited\n{pem}")).unwrap();
            let r = remove(&ca.fingerprint(), &mut t.backend(), &root_opts());
            assert_eq!(
                r.error.as_ref().unwrap().code,
                "not-added-by-trustsync",
                "{r:?}"
            );
            assert!(anchor.exists());
        }

        #[test]
        fn not_root_writes_nothing() {
            let t = Tree::new();
            let (pem, ca) = make("Corp Root", true, 2020, 2040);
            let file = t.write_ca("corp.pem", &pem);
            let opts = Options {
                is_root: false,
                ..root_opts()
            };
            let r = add(&file, &mut t.backend(), &opts);
            assert_eq!(r.error.as_ref().unwrap().code, "needs-root");
            assert!(r
                .error
                .unwrap()
                .message
                .contains("sudo trustsync add corp.pem"));
            let r = remove(&ca.fingerprint(), &mut t.backend(), &opts);
            assert_eq!(r.error.unwrap().code, "needs-root");
            assert!(t.anchors().is_empty());
            assert!(t.runs.borrow().is_empty());
            assert!(
                !t.root().join("var/lib/trustsync").exists(),
                "no journal, no lock"
            );
        }

        #[test]
        fn undo_takes_an_add_back() {
            let t = Tree::new();
            let (pem, _) = make("Corp Root", true, 2020, 2040);
            let file = t.write_ca("corp.pem", &pem);
            assert_eq!(add(&file, &mut t.backend(), &root_opts()).exit_code, 0);
            let report = crate::apply::posix::undo(&Context::with_root(t.root())).unwrap();
            assert_eq!(report.removed.len(), 1, "{report:?}");
            assert!(t.anchors().is_empty());
        }

        #[test]
        fn a_missing_anchor_dir_is_created_and_refusals_write_nothing() {
            let t = Tree::new();
            std::fs::remove_dir(t.root().join(ANCHORS)).unwrap();
            let (leaf, _) = make("www.example.test", false, 2020, 2040);
            let file = t.write_ca("leaf.pem", &leaf);
            let r = add(&file, &mut t.backend(), &root_opts());
            assert_eq!(r.error.unwrap().code, "not-a-ca");
            assert!(!t.root().join(ANCHORS).exists());
            assert!(!t.root().join("var/lib/trustsync").exists());

            let (pem, _) = make("Corp Root", true, 2020, 2040);
            let file = t.write_ca("corp.pem", &pem);
            let r = add(&file, &mut t.backend(), &root_opts());
            assert_eq!(r.outcome, Outcome::Added, "{r:?}");
            assert_eq!(t.anchors().len(), 1);
        }

        #[test]
        fn an_update_that_does_not_take_is_a_failure() {
            let t = Tree::new();
            let (pem, _) = make("Corp Root", true, 2020, 2040);
            let file = t.write_ca("corp.pem", &pem);
            let mut backend = LinuxBackend::new(
                Context::with_root(t.root()),
                Box::new(|cmd: &[String]| {
                    Ok(UpdateRun {
                        argv: cmd.to_vec(),
                        output: "0 added, 0 removed; done.".into(),
                    })
                }),
            );
            let r = add(&file, &mut backend, &root_opts());
            assert_eq!(r.outcome, Outcome::Failed, "{r:?}");
            assert_eq!(r.error.unwrap().code, "not-trusted-after-update");
        }
    }
}
