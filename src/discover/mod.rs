//! What every family's discovery shares: the options a run looks with (its environment,
//! home, deadline, cache), the usual places binaries live, and a small parallel map so
//! runtimes are asked at the same time. The families themselves are in `crate::runtimes`.

pub mod os_paths;
pub mod users;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What discovery needs from the outside world, gathered once so tests can set it.
#[derive(Debug, Clone)]
pub struct Options {
    /// The environment runtimes will run with (and whose trust variables count).
    pub env: HashMap<String, String>,
    pub home: Option<PathBuf>,
    pub euid: u32,
    /// Extra interpreters or venvs named with `--runtime`.
    pub runtimes: Vec<PathBuf>,
    /// Deadline for each runtime's self-report.
    pub timeout: Duration,
    /// Also search the usual places (off: only `--runtime` paths and PATH).
    pub scan_common_dirs: bool,
    /// Where to remember interpreters' answers (None: ask every time).
    pub cache_dir: Option<PathBuf>,
    /// Every account `/etc/passwd` lists (to name the owners of runtimes).
    pub accounts: Vec<users::Account>,
    /// The accounts whose homes are searched besides `home` (as root: the invoking user and
    /// root, or everyone; see [`users`]).
    pub homes: Vec<users::Account>,
    /// What the bounded walks of this run covered, for "where I looked" (shared by clones:
    /// families record into it while discovering).
    pub looked: std::sync::Arc<std::sync::Mutex<Vec<Looked>>>,
}

/// One bounded walk: where, how deep, what it cost, whether its budget ran out.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Looked {
    pub path: PathBuf,
    pub depth: usize,
    pub entries: usize,
    pub truncated: bool,
    pub millis: u64,
}

impl Options {
    /// Records a walk (see [`Options::looked`]).
    pub fn record(&self, walk: Looked) {
        if let Ok(mut log) = self.looked.lock() {
            log.push(walk);
        }
    }

    /// The walks recorded so far.
    pub fn walks(&self) -> Vec<Looked> {
        self.looked.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

impl Options {
    pub fn from_process() -> Options {
        let env: HashMap<String, String> = std::env::vars().collect();
        #[cfg(unix)]
        let euid = rustix::process::geteuid().as_raw();
        #[cfg(not(unix))]
        let euid = 1;
        let accounts = if cfg!(unix) {
            trustsync_platform::read::Reader::host()
                .read_to_string(Path::new("/etc/passwd"))
                .map(|t| users::parse_passwd(&t))
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        let mut opts = Options {
            cache_dir: default_cache_dir(euid, &env),
            home: env.get("HOME").map(PathBuf::from),
            env,
            euid,
            runtimes: Vec::new(),
            timeout: Duration::from_secs(10),
            scan_common_dirs: true,
            accounts,
            homes: Vec::new(),
            looked: Default::default(),
        };
        opts.cover_accounts(false, |_| None);
        opts
    }

    /// Sets whose homes are searched: see [`users::accounts_to_cover`].
    pub fn cover_accounts(
        &mut self,
        all_users: bool,
        lookup: impl Fn(&users::Invoker) -> Option<users::Account>,
    ) {
        self.homes =
            users::accounts_to_cover(self.euid, &self.env, &self.accounts, all_users, lookup);
    }

    /// Every home to search: the covered accounts', then this run's own `HOME`.
    pub fn home_dirs(&self) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = self.homes.iter().map(|a| a.home.clone()).collect();
        out.extend(self.home.clone());
        let mut seen = HashSet::new();
        out.retain(|h| h.is_absolute() && seen.insert(h.clone()));
        out
    }

    /// The account name owning `uid`, or `uid N`.
    pub fn owner_name(&self, uid: u32) -> String {
        users::name_of(&self.accounts, uid)
    }
}

/// Where trustsync remembers answers for this user (root: `/var/cache/trustsync`, which
/// the cache refuses unless root-owned and private).
pub fn default_cache_dir(euid: u32, env: &HashMap<String, String>) -> Option<PathBuf> {
    if euid == 0 {
        return Some(PathBuf::from("/var/cache/trustsync"));
    }
    if let Some(x) = env
        .get("XDG_CACHE_HOME")
        .filter(|v| Path::new(v).is_absolute())
    {
        return Some(Path::new(x).join("trustsync"));
    }
    env.get("HOME")
        .map(|h| Path::new(h).join(".cache/trustsync"))
}

pub(crate) fn env_value(opts: &Options, name: &str) -> Option<String> {
    opts.env.get(name).filter(|v| !v.is_empty()).cloned()
}

/// Subdirectories `name` of each directory in `parent` (`/opt/*/bin`).
pub(crate) fn glob_dirs(parent: &Path, name: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path().join(name))
        .filter(|p| p.is_dir())
        .collect();
    out.sort();
    out
}

/// PATH, then `/usr/local/bin`, `/usr/local/*/bin`, `/opt/*/bin`.
pub(crate) fn search_dirs(opts: &Options) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = opts
        .env
        .get("PATH")
        .map(|p| std::env::split_paths(p).collect())
        .unwrap_or_default();
    if opts.scan_common_dirs {
        if cfg!(windows) {
            dirs.extend(os_paths::windows_dirs(&opts.env));
        } else {
            dirs.push("/usr/local/bin".into());
            dirs.extend(glob_dirs(Path::new("/usr/local"), "bin"));
            dirs.extend(glob_dirs(Path::new("/opt"), "bin"));
        }
        if cfg!(target_os = "macos") {
            dirs.extend(os_paths::macos_openssl_dirs());
        }
    }
    let mut seen = HashSet::new();
    dirs.retain(|d| d.is_absolute() && seen.insert(d.clone()));
    dirs
}

/// An environment map from pairs, for unit tests of the rules that read one.
#[cfg(test)]
pub(crate) fn env_of(pairs: &[(&str, &str)]) -> std::collections::HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Sorted real subdirectories of `dir` (a link is not followed: what it points at is found
/// by its own path), at most `max` of them, looking at no more than `4 * max` entries (a
/// hostile home can hold millions).
pub(crate) fn bounded_subdirs(dir: &Path, max: usize) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .flatten()
        .take(4 * max)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .collect();
    out.sort();
    out.truncate(max);
    out
}

/// The regular files among `paths`, each real file once (the first path that reaches it).
pub(crate) fn unique_files(paths: Vec<PathBuf>) -> Vec<PathBuf> {
    unique_paths(paths, |p| p.is_file())
}

/// The `paths` that pass `keep`, each real path once (the first path that reaches it).
pub(crate) fn unique_paths(paths: Vec<PathBuf>, keep: impl Fn(&Path) -> bool) -> Vec<PathBuf> {
    let mut seen = HashSet::new();
    paths
        .into_iter()
        .filter(|p| keep(p))
        .filter(|p| seen.insert(std::fs::canonicalize(p).unwrap_or_else(|_| p.clone())))
        .collect()
}

/// Maps `f` over `items` on a few threads, keeping order. Spawning interpreters is mostly
/// waiting on exec and imports, so a little more parallelism than cores pays off.
pub fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let workers = std::thread::available_parallelism()
        .map(|n| n.get() * 2)
        .unwrap_or(4)
        .clamp(2, 16)
        .min(items.len().max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut slots: Vec<Option<R>> = (0..items.len()).map(|_| None).collect();
    let slots_mutex = std::sync::Mutex::new(&mut slots);
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= items.len() {
                    break;
                }
                let r = f(&items[i]);
                slots_mutex.lock().expect("no worker panics holding it")[i] = Some(r);
            });
        }
    });
    slots
        .into_iter()
        .map(|r| r.expect("every item ran"))
        .collect()
}
