//! One Windows fix or undo at a time: a `lock` file in the state dir, held open
//! exclusively for the whole run.
//!
//! Why a share mode rather than a lock crate: on Windows a file opened with share mode 0
//! cannot be opened again by anyone until its handle is closed, which the OS does when the
//! process ends, however it ends; std exposes that directly, so no dependency is needed.
//! (On Unix, where only the engine's tests run it, the same type takes an `flock`.)
#![forbid(unsafe_code)]

use super::{StateDir, WinError};
use std::fs::File;
use std::path::PathBuf;
use std::time::{Duration, Instant};

const LOCK_FILE: &str = "lock";

/// Proof that this process holds the lock; dropping it releases the lock.
#[derive(Debug)]
pub struct WinLock {
    _file: File,
    pub path: PathBuf,
}

impl WinLock {
    /// Takes the lock, waiting up to `wait` for another run to finish.
    pub fn acquire(state: &StateDir, wait: Duration) -> Result<WinLock, WinError> {
        let path = state.path().join(LOCK_FILE);
        let start = Instant::now();
        loop {
            match try_lock(&path).map_err(|e| WinError::io(&path, e))? {
                Some(file) => return Ok(WinLock { _file: file, path }),
                None if start.elapsed() >= wait => return Err(WinError::Locked { lock: path }),
                // Another run holds it: poll, it is released when that run ends.
                None => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }
}

/// Opens the lock file exclusively; `Ok(None)` when another process holds it.
#[cfg(windows)]
fn try_lock(path: &std::path::Path) -> std::io::Result<Option<File>> {
    use std::os::windows::fs::OpenOptionsExt;
    const ERROR_SHARING_VIOLATION: i32 = 32;
    match std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .share_mode(0)
        .open(path)
    {
        Ok(f) => Ok(Some(f)),
        Err(e) if e.raw_os_error() == Some(ERROR_SHARING_VIOLATION) => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(unix)]
fn try_lock(path: &std::path::Path) -> std::io::Result<Option<File>> {
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)?;
    match rustix::fs::flock(&f, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(Some(f)),
        Err(rustix::io::Errno::WOULDBLOCK) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_until_the_first_drops() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::create(dir.path()).unwrap();
        let first = WinLock::acquire(&state, Duration::ZERO).unwrap();
        assert!(matches!(
            WinLock::acquire(&state, Duration::ZERO),
            Err(WinError::Locked { .. })
        ));
        drop(first);
        WinLock::acquire(&state, Duration::ZERO).unwrap();
    }
}
