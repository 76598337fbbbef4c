//! One trustsync run at a time: an exclusive `flock` on `lock` in the state directory.
//!
//! Why: two `fix` runs interleaving would each journal the other's half-written state as
//! "previous", and undo would then restore garbage. The lock is held from before planning
//! (so a plan is made against a quiet system) until the run's journal is final. The holder
//! writes its pid into the lock file so a waiting run can say who holds it. `flock` locks are
//! released by the kernel when the holder dies, even on `kill -9`, so a stale lock file never
//! blocks anyone; the journal's recovery (see [`super::journal`]) then repairs the record,
//! which [`StateLock::acquire`] runs before returning.
//!
//! Waiting polls every 50 ms up to [`Context::lock_wait`] instead of a blocking `flock`,
//! because a blocking `flock` cannot time out without signals.
#![forbid(unsafe_code)]

use std::io::{Read, Seek, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use rustix::fs::{self as rfs, Mode, OFlags};

use super::journal::StateDir;
use super::safe_fs;
use super::{ApplyError, Context, Result};

const LOCK_FILE: &str = "lock";

/// Proof that this process holds the run lock; released on drop.
pub struct StateLock {
    // Held for its flock; the kernel releases it when the descriptor is closed.
    _file: std::fs::File,
    pub(crate) state: StateDir,
}

impl StateLock {
    /// Takes the lock (waiting up to `ctx.lock_wait`), then completes or drops the journal
    /// record of any run that was killed (see [`super::journal`]).
    pub fn acquire(ctx: &Context) -> Result<StateLock> {
        let state = StateDir::open(ctx)?;
        let lock_path: PathBuf = state.path().join(LOCK_FILE);
        let fd = rfs::openat(
            state.fd(),
            LOCK_FILE,
            OFlags::RDWR | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o600),
        )
        .map_err(|e| ApplyError::io(&lock_path, e))?;
        let deadline = Instant::now() + ctx.lock_wait;
        loop {
            if safe_fs::flock_exclusive(&fd, false).map_err(|e| ApplyError::io(&lock_path, e))? {
                break;
            }
            let now = Instant::now();
            if now >= deadline {
                let mut text = String::new();
                let mut file = std::fs::File::from(fd);
                let _ = file.read_to_string(&mut text);
                return Err(ApplyError::Locked {
                    pid: text.trim().parse().ok(),
                    lock: lock_path,
                });
            }
            std::thread::sleep((deadline - now).min(Duration::from_millis(50)));
        }
        let mut file = std::fs::File::from(fd);
        let write_pid = |file: &mut std::fs::File| -> std::io::Result<()> {
            file.set_len(0)?;
            file.rewind()?;
            writeln!(file, "{}", std::process::id())
        };
        write_pid(&mut file).map_err(|e| ApplyError::io(&lock_path, e))?;
        let lock = StateLock { _file: file, state };
        super::undo::recover(ctx, &lock)?;
        Ok(lock)
    }

    /// The state directory this lock protects.
    pub fn state_dir(&self) -> &std::path::Path {
        self.state.path()
    }
}
