//! The Python family: every interpreter (PATH, pyenv, conda, the usual prefixes, `py.exe`
//! on Windows), asked by the embedded probe (`probe_python.py`) where its `ssl` module,
//! `requests` (certifi) and `pip` (vendored certifi) look, under the exec policy that keeps
//! root safe ([`crate::runtimes::exec`]); answers remembered in [`crate::runtimes::probe_cache`]; the bundles
//! its site-packages carry found by reading ([`site`], with [`crate::runtimes::bundled`]).
//!
//! Rows: `python-ssl` (OpenSSL's rule: CA file + hashed directory), `requests` and `pip`
//! (one bundle each, a variable to point them elsewhere).

pub mod homes;
mod pip;
pub mod pip_config;
pub mod probe;
pub mod site;
mod start_files;
mod truststore;

use super::exec::{self, ExecPolicy};
use super::Family;
use crate::discover::{parallel_map, Options};
use crate::model::runtime::{Note, Repair, Runtime, RuntimeKind};
use crate::runtimes::probe_cache::ProbeCache;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use trustsync_platform::read::Reader;

/// A Python's `ssl` module (`ssl.create_default_context()`, urllib, aiohttp).
pub const SSL: RuntimeKind = RuntimeKind {
    name: "python-ssl",
    repair: Repair::HashedDir,
    variable: Some("SSL_CERT_FILE"),
    cafile_strict: false,
};
/// certifi's bundle as `requests` uses it (REQUESTS_CA_BUNDLE > CURL_CA_BUNDLE > certifi).
pub const REQUESTS: RuntimeKind = RuntimeKind {
    name: "requests",
    repair: Repair::Bundle,
    variable: Some("REQUESTS_CA_BUNDLE"),
    cafile_strict: true,
};
/// pip, with its own vendored certifi.
pub const PIP: RuntimeKind = RuntimeKind {
    name: "pip",
    repair: Repair::Bundle,
    variable: Some("PIP_CERT"),
    cafile_strict: true,
};

pub use probe::PROBE;

pub struct Python;

impl Family for Python {
    fn name(&self) -> &'static str {
        "python"
    }

    fn kinds(&self) -> &'static [RuntimeKind] {
        &[SSL, REQUESTS, PIP]
    }

    fn discover(&self, opts: &Options) -> Vec<Runtime> {
        discover(opts)
    }

    fn discover_offline(&self, root: &Path, _opts: &Options, scan: bool) -> Vec<Runtime> {
        if scan {
            site::runtimes(root)
        } else {
            Vec::new()
        }
    }
}

/// What a Python answer depends on: the binary and its resolved path, its `pyvenv.cfg`,
/// each site-packages directory it reported and its user site.
fn watched_paths(binary: &Path, answer: &probe::ProbeAnswer) -> Vec<PathBuf> {
    let mut paths = vec![binary.to_path_buf()];
    if let Ok(real) = std::fs::canonicalize(binary) {
        paths.push(real);
    }
    if let Some(venv) = binary.parent().and_then(Path::parent) {
        paths.push(venv.join("pyvenv.cfg"));
    }
    paths.extend(answer.site_dirs.iter().map(PathBuf::from));
    paths.extend(answer.user_site.iter().map(PathBuf::from));
    paths
}

/// Every interpreter's rows. Probes run in parallel, a bounded number at a time.
fn discover(opts: &Options) -> Vec<Runtime> {
    let jobs = probe::candidates(opts);
    let mut cache = match &opts.cache_dir {
        Some(dir) => ProbeCache::open(Some(dir.clone()), opts.euid, "python-probes.json", PROBE),
        None => ProbeCache::disabled(),
    };
    let memo = exec::StatMemo::default();
    let answers = parallel_map(&jobs, |path| probe_python(path, opts, &cache, &memo));
    let mut results = Vec::with_capacity(answers.len());
    for (path, (mut runtimes, fresh)) in jobs.iter().zip(answers) {
        if let Some(f) = fresh {
            if let Ok(raw) = serde_json::to_string(&f.answer) {
                cache.put(path, &f.policy, raw, watched_paths(path, &f.answer));
            }
        }
        let owner = owner_of(path, opts);
        for rt in &mut runtimes {
            rt.owner.clone_from(&owner);
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
        if group.first().is_some_and(|r| r.kind == SSL) && !seen.insert(key) {
            continue;
        }
        // A site-packages dir shared by two interpreters lists its bundles once.
        runtimes.extend(group.into_iter().filter(|r| {
            r.kind != crate::runtimes::bundled::KIND || seen_bundles.insert(r.cafile.clone())
        }));
    }
    runtimes
}

/// The account owning an interpreter's `bin` directory (not following a link there).
fn owner_of(binary: &Path, opts: &Options) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let dir = binary.parent()?;
        let uid = std::fs::symlink_metadata(dir).ok()?.uid();
        Some(opts.owner_name(uid))
    }
    #[cfg(not(unix))]
    {
        let _ = (binary, opts);
        None
    }
}

/// An answer just obtained from an interpreter, for the cache.
struct Fresh {
    policy: ExecPolicy,
    answer: probe::ProbeAnswer,
}

/// Probes one interpreter (or reuses its remembered answer). Returns its runtimes and,
/// when it was really asked, what the cache should remember.
fn probe_python(
    path: &Path,
    opts: &Options,
    cache: &ProbeCache,
    memo: &exec::StatMemo,
) -> (Vec<Runtime>, Option<Fresh>) {
    let policy = exec::policy_for_with(path, memo);
    if let exec::ExecPolicy::DoNotRun { reason } = &policy {
        return (probe::runtimes_without_running(path, reason), None);
    }
    let (raw, fresh) = match cache.get(path, &policy) {
        Some(raw) => (Ok(raw), false),
        None => (probe::ask_raw(path, &policy, opts), true),
    };
    match raw.and_then(|r| probe::parse_answer(&r)) {
        Ok(mut answer) => {
            answer.find_bundles();
            // An interpreter run as its owner reads that owner's pip configuration.
            let owner_home = match &policy {
                exec::ExecPolicy::RunAs { uid, .. } => opts
                    .accounts
                    .iter()
                    .find(|a| a.uid == *uid)
                    .map(|a| a.home.clone()),
                _ => None,
            };
            let home = owner_home
                .or_else(|| opts.home.clone())
                .or_else(|| opts.env.get("HOME").map(PathBuf::from));
            let files =
                pip_config::config_files(&opts.env, home.as_deref(), Path::new(&answer.prefix));
            let settings = pip_config::read(&Reader::host(), &files, &opts.env);
            let mut runtimes = probe::runtimes_from_answer(path, &answer, &opts.env, &settings);
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
            let mut rt = Runtime::new(SSL, path.to_path_buf(), path.display().to_string());
            rt.notes.push(Note::said(
                "probe-failed",
                msg!("note-probe-failed", error = e.to_string()),
                true,
            ));
            (vec![rt], None)
        }
    }
}
