//! Runtime discovery: every Python, OpenSSL build and trust environment variable on the
//! machine, each asked (in parallel, each with a deadline) where it looks for CAs.

pub mod bundled;
pub mod env_vars;
pub mod exec;
pub mod offline;
pub mod openssl;
pub mod os_paths;
pub mod probe_cache;
pub mod python;

use crate::runtime::{Note, Runtime, RuntimeKind};
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
}

impl Options {
    pub fn from_process() -> Options {
        let env: HashMap<String, String> = std::env::vars().collect();
        #[cfg(unix)]
        let euid = rustix::process::geteuid().as_raw();
        #[cfg(not(unix))]
        let euid = 1;
        Options {
            cache_dir: probe_cache::default_dir(euid, &env),
            home: env.get("HOME").map(PathBuf::from),
            env,
            euid,
            runtimes: Vec::new(),
            timeout: Duration::from_secs(10),
            scan_common_dirs: true,
        }
    }
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

/// Discovers every runtime. Probes run in parallel, a bounded number at a time.
pub fn discover(opts: &Options) -> Vec<Runtime> {
    let pythons = python::candidates(opts);
    let openssls = openssl::candidates(opts);
    let jobs: Vec<(bool, PathBuf)> = pythons
        .into_iter()
        .map(|p| (true, p))
        .chain(openssls.into_iter().map(|p| (false, p)))
        .collect();
    let mut cache = match &opts.cache_dir {
        Some(dir) => probe_cache::ProbeCache::open(Some(dir.clone()), opts.euid, python::PROBE),
        None => probe_cache::ProbeCache::disabled(),
    };
    let answers = parallel_map(&jobs, |(is_python, path)| {
        if *is_python {
            probe_python(path, opts, &cache)
        } else {
            (vec![openssl::probe(path, opts)], None)
        }
    });
    let mut results = Vec::with_capacity(answers.len());
    for ((_, path), (runtimes, fresh)) in jobs.iter().zip(answers) {
        if let Some(f) = fresh {
            cache.put(path, &f.policy, &f.answer);
        }
        results.push(runtimes);
    }
    cache.save();
    let mut runtimes: Vec<Runtime> = Vec::new();
    // The same interpreter reached by two paths (a pyenv shim target and PATH) is listed
    // once: its (executable, prefix) identity only shows after it answered.
    let mut seen = HashSet::new();
    let mut seen_bundles = HashSet::new();
    for group in results {
        let key = group.first().map(|r| {
            (
                r.kind,
                r.label.clone(),
                r.cafile.clone(),
                r.capath.clone(),
                r.version.clone(),
            )
        });
        if group
            .first()
            .is_some_and(|r| r.kind == RuntimeKind::PythonSsl)
            && !seen.insert(key)
        {
            continue;
        }
        // A site-packages dir shared by two interpreters lists its bundles once.
        runtimes.extend(
            group.into_iter().filter(|r| {
                r.kind != RuntimeKind::Bundled || seen_bundles.insert(r.cafile.clone())
            }),
        );
    }
    runtimes.extend(env_vars::runtimes(opts));
    runtimes
}

/// An answer just obtained from an interpreter, for the cache.
struct Fresh {
    policy: exec::ExecPolicy,
    answer: python::ProbeAnswer,
}

/// Probes one interpreter (or reuses its remembered answer). Returns its runtimes and,
/// when it was really asked, what the cache should remember.
fn probe_python(
    path: &Path,
    opts: &Options,
    cache: &probe_cache::ProbeCache,
) -> (Vec<Runtime>, Option<Fresh>) {
    let policy = exec::policy_for(path);
    if let exec::ExecPolicy::DoNotRun { reason } = &policy {
        return (python::runtimes_without_running(path, reason), None);
    }
    let (raw, fresh) = match cache.get(path, &policy) {
        Some(raw) => (Ok(raw), false),
        None => (python::ask_raw(path, &policy, opts), true),
    };
    match raw.and_then(|r| python::parse_answer(&r)) {
        Ok(mut answer) => {
            answer.find_bundles();
            let mut runtimes = python::runtimes_from_answer(path, &answer, &opts.env);
            if let exec::ExecPolicy::RunAs { uid, .. } = policy {
                for rt in &mut runtimes {
                    rt.reported_by_uid = Some(uid);
                }
            }
            // Remembered with the bundle walk's result, so a warm run does not walk again.
            let fresh = fresh.then_some(Fresh { policy, answer });
            (runtimes, fresh)
        }
        Err(e) => {
            let mut rt = Runtime::new(
                RuntimeKind::PythonSsl,
                path.to_path_buf(),
                path.display().to_string(),
            );
            rt.notes.push(Note {
                code: "probe-failed",
                message: format!("could not ask it where it looks: {e}"),
                fatal: true,
            });
            (vec![rt], None)
        }
    }
}

/// Maps `f` over `items` on a few threads, keeping order. Spawning interpreters is mostly
/// waiting on exec and imports, so a little more parallelism than cores pays off.
fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
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
