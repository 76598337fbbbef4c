//! The fix engine: turns a [`Plan`] (a list of file-system [`Action`]s that a fix strategy
//! decided on) into changes on disk, safely enough to run as root, and reverses them exactly.
//!
//! Why it exists: `trustsync fix` edits trust configuration of other programs (OpenSSL cert
//! dirs, Python bundles, profile snippets) as root. Every such edit must be atomic, journaled
//! so that `trustsync undo` restores the exact previous bytes, mode and owner, refuse to follow
//! symlinks or write into user-controlled directories, and never touch a file trustsync did
//! not create (except its own marked block in patch mode). Keeping all of that in one engine
//! means strategies only decide *what* to change, never *how*.
//!
//! Flow, one code path for `--dry-run` and the real run:
//! 1. a strategy builds actions with a [`Planner`] (which records the digest of what is at
//!    each target now) and drops satisfied ones with [`Plan::without_satisfied`];
//! 2. `--dry-run` renders that plan ([`Plan::render_human`] or JSON);
//! 3. [`apply`] (or [`apply_locked`]) re-checks every planned digest, checks every safety
//!    rule for every action *before* writing anything, writes the journal, then performs the
//!    actions; [`undo`] reverses everything the journal records, newest first.
//!
//! How the CLI and the strategies drive it (take the lock *before* planning, so the plan is
//! made against a quiet system and a killed earlier run has been recovered):
//!
//! ```no_run
//! use std::path::Path;
//! use trustsync::apply::posix::{self as apply, hashdir, Context, Plan, Planner, StateLock};
//!
//! # fn main() -> Result<(), apply::ApplyError> {
//! let mut ctx = Context::system(); // or Context::with_root("/image") for --root
//! ctx.allow_user_dirs = false;     // --allow-user-dirs
//! let lock = StateLock::acquire(&ctx)?;
//! let planner = Planner::new(&ctx)?;
//! let mut plan = Plan::default();
//! // A strategy for S1 (capath empty): entries come from the cert model.
//! let entries: Vec<hashdir::HashEntry> = Vec::new();
//! plan.actions.extend(hashdir::plan_dir(
//!     &planner,
//!     Path::new("/usr/local/openssl111/certs"),
//!     0o755,
//!     &entries,
//!     hashdir::HashDirMode::Symlink,
//! )?);
//! // A strategy for S2 (managed bundle + env snippet).
//! plan.push(planner.write_bundle(
//!     Path::new("/etc/ssl/trustsync/ca-bundle.pem"),
//!     b"-----BEGIN CERTIFICATE-----\n...".to_vec(),
//!     0o644,
//!     "certifi lacks 1 CA the OS trusts: a bundle with the OS store",
//! )?);
//! let plan = plan.without_satisfied();
//! print!("{}", plan.render_human()); // or plan.to_json()
//! apply::preflight(&plan, &ctx)?;     // --dry-run stops here: same refusals as the real run
//! let applied = apply::apply_locked(&plan, &ctx, &lock)?;
//! assert_eq!(applied.actions, plan.actions);
//! # Ok(()) }
//! ```
//!
//! Submodules: [`plan`] (actions, planner, rendering), [`safe_fs`] (symlink-refusing
//! directory walk and atomic writes), [`journal`] (write-ahead record and crash recovery),
//! [`lock`] (one run at a time), [`hashdir`] (OpenSSL `HASH.N` directory planner),
//! `engine` (apply/undo).

mod engine;
pub mod hashdir;
pub mod journal;
pub mod lock;
pub mod marked_block;
pub mod plan;
pub mod safe_fs;
mod undo;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub use engine::{apply, apply_locked, preflight, Applied, UndoReport};
pub use lock::StateLock;
pub use plan::{Action, ActionKind, Plan, Planner};
pub use undo::{undo, undo_locked};

/// Where the engine works and how strict it is. Built once by the CLI from its flags.
#[derive(Clone)]
pub struct Context {
    /// Every target path is taken under this directory (`--root DIR`, like `dpkg --root`);
    /// `/` on a live system. Action targets are always written as seen *inside* the root.
    pub root: PathBuf,
    /// Host path of the directory holding the journal, saved previous contents and the lock.
    pub state_dir: PathBuf,
    /// `--allow-user-dirs`: when root, also write into directories a non-root user owns or
    /// that group/others can write (a user's venv). Off by default: those belong to the user.
    pub allow_user_dirs: bool,
    /// `undo --force`: restore even files that changed after trustsync wrote them.
    pub force: bool,
    /// How long a run waits for another run's lock before giving up.
    pub lock_wait: Duration,
    /// Called at each step of a run (progress display; the crash tests use it to kill a
    /// child at known points).
    pub progress: Option<ProgressHook>,
}

/// Callback type for [`Context::progress`].
pub type ProgressHook = Arc<dyn Fn(&ProgressEvent<'_>) + Send + Sync>;

/// Steps a run reports through [`Context::progress`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressEvent<'a> {
    /// The write-ahead journal record for run `run` is on disk; changes start now.
    JournalWritten { run: u64, actions: usize },
    /// The new content of action `index` is in a synced temp file, not yet renamed in place.
    Staged { index: usize, target: &'a Path },
    /// Action `index` is in place.
    Done { index: usize, target: &'a Path },
    /// The journal says the whole run is complete.
    Committed { run: u64 },
    /// `undo` restored (or removed) one journaled path.
    Undone { target: &'a Path },
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("root", &self.root)
            .field("state_dir", &self.state_dir)
            .field("allow_user_dirs", &self.allow_user_dirs)
            .field("force", &self.force)
            .field("lock_wait", &self.lock_wait)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

/// Default system state directory when running as root.
pub const SYSTEM_STATE_DIR: &str = "/var/lib/trustsync";

impl Context {
    /// Context for the live system: root `/`, journal under `/var/lib/trustsync` when root,
    /// else `$XDG_STATE_HOME/trustsync` or `~/.local/state/trustsync`.
    pub fn system() -> Self {
        let state_dir = if safe_fs::running_as_root() {
            PathBuf::from(SYSTEM_STATE_DIR)
        } else if let Some(xdg) = std::env::var_os("XDG_STATE_HOME").filter(|v| !v.is_empty()) {
            PathBuf::from(xdg).join("trustsync")
        } else {
            let home = std::env::var_os("HOME").unwrap_or_else(|| "/".into());
            PathBuf::from(home).join(".local/state/trustsync")
        };
        Self::new(PathBuf::from("/"), state_dir)
    }

    /// Context for an offline tree (`--root DIR`): targets and the journal
    /// (`DIR/var/lib/trustsync`) all live under `root`.
    pub fn with_root(root: impl Into<PathBuf>) -> Self {
        let root = root.into();
        let state_dir = root.join(SYSTEM_STATE_DIR.trim_start_matches('/'));
        Self::new(root, state_dir)
    }

    /// Explicit root and state dir (tests, or a CLI `--state-dir`).
    pub fn new(root: PathBuf, state_dir: PathBuf) -> Self {
        Context {
            root,
            state_dir,
            allow_user_dirs: false,
            force: false,
            lock_wait: Duration::from_secs(10),
            progress: None,
        }
    }

    /// Host path of a logical target path (as seen inside [`Context::root`]); for messages
    /// and for tests. The engine itself never opens this path in one go: it walks it.
    pub fn host_path(&self, logical: &Path) -> PathBuf {
        let relative = logical.strip_prefix("/").unwrap_or(logical);
        self.root.join(relative)
    }

    /// The inverse of [`Context::host_path`]: a host path under the root as seen inside it
    /// (what action targets name). The store reader and discovery report host paths; a path
    /// outside the root is returned as it is.
    pub fn logical_path(&self, host: &Path) -> PathBuf {
        match host.strip_prefix(&self.root) {
            Ok(rel) => Path::new("/").join(rel),
            Err(_) => host.to_path_buf(),
        }
    }

    pub(crate) fn report(&self, event: ProgressEvent<'_>) {
        if let Some(hook) = &self.progress {
            hook(&event);
        }
    }
}

/// Everything that can stop a plan, an apply or an undo. Each message names the path and
/// says what to do, in one line.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("{path}: {source}", path = .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} changed since planned (planned {planned}, found {found}); run the fix again to re-plan", path = .path.display())]
    ChangedSincePlanned {
        path: PathBuf,
        planned: String,
        found: String,
    },
    #[error("{path} is a symlink trustsync did not expect; refusing to follow or replace it", path = .path.display())]
    UnexpectedSymlink { path: PathBuf },
    #[error("refusing to write into {dir} as root: {why}; run `trustsync fix` as the directory's owner (or pass --allow-user-dirs)", dir = .dir.display())]
    UserControlledDir { dir: PathBuf, why: String },
    #[error("cannot write in {dir}: permission denied; run `sudo trustsync fix`", dir = .dir.display())]
    NeedsRoot { dir: PathBuf },
    #[error("{dir}: read-only file system; nothing was written", dir = .dir.display())]
    ReadOnly { dir: PathBuf },
    #[error("{path} was not created by trustsync; refusing to modify or remove it", path = .path.display())]
    NotOurs { path: PathBuf },
    #[error("{path} changed after trustsync wrote it; refusing to overwrite it (use --force to restore it anyway)", path = .path.display())]
    ChangedAfterWrite { path: PathBuf },
    #[error("refusing to write {path}: it would replace a bundle of {old} certificates with one of {new}", path = .path.display())]
    BundleShrinks {
        path: PathBuf,
        old: usize,
        new: usize,
    },
    #[error("refusing to write {path}: the bundle contains no certificate", path = .path.display())]
    EmptyBundle { path: PathBuf },
    #[error("{path}: trustsync block {block_id:?} has a begin line without a matching end line; fix or remove it by hand", path = .path.display())]
    MalformedBlock { path: PathBuf, block_id: String },
    #[error("{path}: {what}", path = .path.display())]
    InvalidAction { path: PathBuf, what: String },
    #[error("another trustsync run ({holder}) holds the lock {lock}", lock = .lock.display(), holder = match .pid { Some(p) => format!("pid {p}"), None => "pid unknown".to_string() })]
    Locked { pid: Option<u32>, lock: PathBuf },
    #[error("journal {path}: {detail}", path = .path.display())]
    Journal { path: PathBuf, detail: String },
    #[error("{cause}; rolled back this run's {undone} change(s)")]
    RolledBack {
        cause: Box<ApplyError>,
        undone: usize,
    },
    #[error("{cause}; rollback also failed ({rollback}); run `trustsync undo`")]
    RollbackFailed {
        cause: Box<ApplyError>,
        rollback: Box<ApplyError>,
    },
}

impl ApplyError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: impl Into<std::io::Error>) -> Self {
        ApplyError::Io {
            path: path.into(),
            source: source.into(),
        }
    }
}

/// Result alias for this module.
pub type Result<T, E = ApplyError> = std::result::Result<T, E>;
