//! Remembers each program's answer to a family's probe (Pythons, nodes), so a second
//! `status` does not spawn them all again. One file per family.
//!
//! An answer is reused only while every path the family named when it stored it is
//! unchanged (inode, size, mtime, ctime): for a Python its binary, resolved path,
//! `pyvenv.cfg`, site-packages directories and user site (installing or removing a package
//! changes its site-packages directory, upgrading the interpreter changes the binary); for
//! a node its binary and resolved path.
//! As root the cache lives in `/var/cache/trustsync`, and is ignored unless that directory
//! is a root-owned, non-symlink directory nobody else can write; elsewhere in the user's
//! `$XDG_CACHE_HOME/trustsync`. Writes are temp file + fsync + rename.

use crate::runtimes::exec::ExecPolicy;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Bumped whenever this format changes (a changed probe script is told by its digest).
const FORMAT: u32 = 3;

#[derive(Debug, Default, Serialize, Deserialize)]
struct CacheFile {
    format: u32,
    probe_sha256: String,
    entries: BTreeMap<String, Entry>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
struct Entry {
    policy: String,
    watched: Vec<(PathBuf, Option<String>)>,
    answer: String,
}

/// Stat summary of a path, or None when absent.
fn stamp(path: &Path) -> Option<String> {
    let m = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Some(format!(
            "{}:{}:{}:{}.{}:{}.{}",
            m.dev(),
            m.ino(),
            m.size(),
            m.mtime(),
            m.mtime_nsec(),
            m.ctime(),
            m.ctime_nsec()
        ))
    }
    #[cfg(not(unix))]
    {
        Some(format!("{}:{:?}", m.len(), m.modified().ok()))
    }
}

fn policy_key(p: &ExecPolicy) -> String {
    format!("{p:?}")
}

pub struct ProbeCache {
    path: Option<PathBuf>,
    euid: u32,
    file: CacheFile,
    probe_sha256: String,
    dirty: bool,
}

impl ProbeCache {
    /// A cache that remembers nothing (`--fresh`, or no safe place for it).
    pub fn disabled() -> ProbeCache {
        ProbeCache {
            path: None,
            euid: 0,
            file: CacheFile::default(),
            probe_sha256: String::new(),
            dirty: false,
        }
    }

    /// The cache in `dir`/`file_name`, valid for answers to `probe_script`.
    pub fn open(
        dir: Option<PathBuf>,
        euid: u32,
        file_name: &str,
        probe_script: &str,
    ) -> ProbeCache {
        use sha2::Digest;
        let probe_sha256 = hex::encode(sha2::Sha256::digest(probe_script.as_bytes()));
        // A missing directory is created only when there is something to save.
        let Some(dir) = dir.filter(|d| !d.exists() || dir_is_safe(d, euid, false)) else {
            return ProbeCache::disabled();
        };
        let path = dir.join(file_name);
        let file = read_own_file(&path, euid)
            .and_then(|b| serde_json::from_slice::<CacheFile>(&b).ok())
            .filter(|f| f.format == FORMAT && f.probe_sha256 == probe_sha256)
            .unwrap_or_default();
        ProbeCache {
            path: Some(path),
            euid,
            file,
            probe_sha256,
            dirty: false,
        }
    }

    /// The remembered answer for `binary`, if nothing it depends on changed.
    pub fn get(&self, binary: &Path, policy: &ExecPolicy) -> Option<String> {
        let e = self.file.entries.get(&binary.display().to_string())?;
        let fresh = e.policy == policy_key(policy) && e.watched.iter().all(|(p, s)| stamp(p) == *s);
        fresh.then(|| e.answer.clone())
    }

    /// Remembers the answer `raw` for `binary` run under `policy`, valid while none of
    /// `watched` changes.
    pub fn put(&mut self, binary: &Path, policy: &ExecPolicy, raw: String, watched: Vec<PathBuf>) {
        if self.path.is_none() {
            return;
        }
        let watched = watched.into_iter().map(|p| {
            let s = stamp(&p);
            (p, s)
        });
        let entry = Entry {
            policy: policy_key(policy),
            watched: watched.collect(),
            answer: raw,
        };
        self.file
            .entries
            .insert(binary.display().to_string(), entry);
        self.dirty = true;
    }

    /// Writes the cache back if it changed. Failure only costs speed next time.
    pub fn save(mut self) {
        let Some(path) = self.path.take().filter(|_| self.dirty) else {
            return;
        };
        self.file.format = FORMAT;
        self.file.probe_sha256 = self.probe_sha256.clone();
        let Some(dir) = path.parent() else { return };
        if !dir_is_safe(dir, self.euid, true) {
            return;
        }
        let Ok(mut tmp) = tempfile::NamedTempFile::new_in(dir) else {
            return;
        };
        let Ok(bytes) = serde_json::to_vec(&self.file) else {
            return;
        };
        if tmp.write_all(&bytes).is_ok() && tmp.as_file().sync_all().is_ok() {
            let _ = tmp.persist(&path);
        }
    }
}

/// The cache file's bytes, only if it is a regular file (not a link: opened with
/// `O_NOFOLLOW`), owned by `euid` and not writable by group or others, checked on the
/// descriptor read from. A cache someone else can write is someone else's answers: ignored.
fn read_own_file(path: &Path, euid: u32) -> Option<Vec<u8>> {
    use std::io::Read;
    const CAP: u64 = 16 << 20;
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(
            (rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::NONBLOCK).bits() as i32,
        );
    }
    let f = opts.open(path).ok()?;
    let m = f.metadata().ok()?;
    if !m.is_file() || m.len() > CAP {
        return None;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if m.uid() != euid || m.mode() & 0o022 != 0 {
            return None;
        }
    }
    #[cfg(not(unix))]
    let _ = euid;
    let mut out = Vec::new();
    f.take(CAP).read_to_end(&mut out).ok()?;
    Some(out)
}

/// Checks nobody else controls the cache dir; with `create`, creates it first (mode 0700).
fn dir_is_safe(dir: &Path, euid: u32, create: bool) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, MetadataExt};
        if create && std::fs::symlink_metadata(dir).is_err() {
            let _ = std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir);
        }
        match std::fs::symlink_metadata(dir) {
            Ok(m) => m.is_dir() && m.uid() == euid && m.mode() & 0o022 == 0,
            Err(_) => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = euid;
        (create && std::fs::create_dir_all(dir).is_ok()) || dir.is_dir()
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_cache_file_others_can_write_or_do_not_own_is_ignored() {
        let euid = rustix::process::geteuid().as_raw();
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("python-probes.json");
        std::fs::write(&f, b"{}").unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(read_own_file(&f, euid).as_deref(), Some(&b"{}"[..]));
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o666)).unwrap();
        assert_eq!(read_own_file(&f, euid), None, "world-writable");
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(read_own_file(&f, euid + 1), None, "owned by someone else");
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(&f, &link).unwrap();
        assert_eq!(read_own_file(&link, euid), None, "a symlink");
    }
}
