//! The one place trustsync starts another program.
//!
//! trustsync runs as root and starts interpreters, `openssl` builds, the distro's update
//! command and `systemctl`. Each start is a chance to hand root to someone else: root's
//! working directory (Python puts it first on `sys.path` for `-c`), root's environment
//! (`PYTHON*`, `LD_*`, `OPENSSL_CONF`, `NODE_OPTIONS`, tokens), descriptors root holds open,
//! a program found through root's `PATH`, or a child that never lets go of its pipes. So
//! every program is started here, and only like this:
//! - from an absolute path; system tools only from [`SYSTEM_BIN_DIRS`] ([`resolve_system`]);
//! - working directory `/`; stdin `/dev/null`;
//! - an environment that is *only* [`BASE_ENV`] plus what the caller names, with
//!   `OPENSSL_CONF=/dev/null` unless the caller passes the value under test (an
//!   `openssl.cnf` can load provider and engine modules: code);
//! - no inherited descriptors (every descriptor above 2 is marked close-on-exec first);
//! - in its own process group, which is killed as a whole when the program exits or at the
//!   deadline, so a `sleep 40 &` left behind cannot keep the pipes open;
//! - pipe reads bounded by the same deadline and by a size cap.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Where system programs (`systemctl`, `update-ca-certificates`, ...) are looked up: fixed,
/// root-owned directories, never the caller's `PATH`.
pub const SYSTEM_BIN_DIRS: &[&str] = &["/usr/sbin", "/usr/bin", "/sbin", "/bin"];

/// `PATH` every started program gets unless the caller sets another fixed one.
pub const SAFE_PATH: &str = "/usr/sbin:/usr/bin:/sbin:/bin";

/// The whole environment a program starts with, before the caller's own entries.
pub const BASE_ENV: &[(&str, &str)] = &[
    ("PATH", SAFE_PATH),
    ("LC_ALL", "C.UTF-8"),
    // An openssl.cnf can load engines and providers (shared objects): none is read unless a
    // caller passes the file under test explicitly.
    ("OPENSSL_CONF", "/dev/null"),
];

/// Most a program may print on stdout (probe answers are a few KiB) and on stderr.
pub const MAX_STDOUT: usize = 8 << 20;
pub const MAX_STDERR: usize = 64 << 10;

#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    #[error("{program:?} is not a plain program name")]
    NotAName { program: String },
    #[error("{program} not found in {looked_in}")]
    NotFound { program: String, looked_in: String },
    #[error("{path}: not an absolute path; trustsync starts programs only by absolute path")]
    NotAbsolute { path: PathBuf },
    #[error("{path}: could not start: {source}")]
    Spawn {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: no answer within {secs:.1} s; killed")]
    Timeout { path: PathBuf, secs: f64 },
    #[error("{path}: printed more than {limit} bytes; killed")]
    TooMuchOutput { path: PathBuf, limit: usize },
}

/// What a finished program left: its exit status and what it printed (each capped).
#[derive(Debug)]
pub struct Output {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Output {
    /// The last non-empty line of stderr, for one-line error messages.
    pub fn last_stderr_line(&self) -> String {
        String::from_utf8_lossy(&self.stderr)
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .trim()
            .to_string()
    }
}

/// Finds `program` in [`SYSTEM_BIN_DIRS`] under `root` (`/` on a live system): the first
/// regular file there with an execute bit. `program` must be a plain name.
pub fn resolve_system(root: &Path, program: &str) -> Result<PathBuf, SpawnError> {
    if program.is_empty() || program.contains('/') || program == "." || program == ".." {
        return Err(SpawnError::NotAName {
            program: program.to_string(),
        });
    }
    for dir in SYSTEM_BIN_DIRS {
        let candidate = root.join(dir.trim_start_matches('/')).join(program);
        if is_executable_file(&candidate) {
            return Ok(candidate);
        }
    }
    Err(SpawnError::NotFound {
        program: program.to_string(),
        looked_in: SYSTEM_BIN_DIRS.join(", "),
    })
}

#[cfg(unix)]
fn is_executable_file(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable_file(path: &Path) -> bool {
    path.is_file()
}

/// A program to start, built up like `std::process::Command` but only with what is safe.
#[derive(Debug, Clone)]
pub struct Program {
    path: PathBuf,
    args: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
    run_as: Option<(u32, u32)>,
    timeout: Duration,
}

impl Program {
    /// `path` must be absolute (checked when run). Default deadline: 10 s.
    pub fn new(path: impl Into<PathBuf>) -> Program {
        Program {
            path: path.into(),
            args: Vec::new(),
            env: Vec::new(),
            run_as: None,
            timeout: Duration::from_secs(10),
        }
    }

    pub fn arg(mut self, a: impl AsRef<OsStr>) -> Program {
        self.args.push(a.as_ref().to_os_string());
        self
    }

    pub fn args<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(mut self, args: I) -> Program {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_os_string()));
        self
    }

    /// Sets one variable on top of [`BASE_ENV`] (replacing a base entry of the same name).
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Program {
        let key = key.as_ref().to_os_string();
        self.env.retain(|(k, _)| *k != key);
        self.env.push((key, value.as_ref().to_os_string()));
        self
    }

    /// Runs it as `uid`/`gid` (root only; supplementary groups are dropped).
    pub fn run_as(mut self, uid: u32, gid: u32) -> Program {
        self.run_as = Some((uid, gid));
        self
    }

    pub fn timeout(mut self, timeout: Duration) -> Program {
        self.timeout = timeout;
        self
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The environment the program will see, in order (for tests and plan text).
    pub fn environment(&self) -> Vec<(OsString, OsString)> {
        let mut out: Vec<(OsString, OsString)> = BASE_ENV
            .iter()
            .filter(|(k, _)| !self.env.iter().any(|(e, _)| e == OsStr::new(k)))
            .map(|(k, v)| (OsString::from(k), OsString::from(v)))
            .collect();
        out.extend(self.env.iter().cloned());
        out
    }

    fn command(&self) -> Result<Command, SpawnError> {
        if !self.path.is_absolute() {
            return Err(SpawnError::NotAbsolute {
                path: self.path.clone(),
            });
        }
        let mut cmd = Command::new(&self.path);
        cmd.args(&self.args)
            .env_clear()
            .envs(self.environment())
            .current_dir("/")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        #[cfg(windows)]
        {
            // Windows programs need these to find their own DLLs and the registry.
            for var in ["SystemRoot", "windir", "SystemDrive"] {
                if let Some(v) = std::env::var_os(var) {
                    cmd.env(var, v);
                }
            }
        }
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            cmd.process_group(0);
            if let Some((uid, gid)) = self.run_as {
                // std drops supplementary groups when it changes uid as root.
                cmd.uid(uid).gid(gid);
            }
        }
        Ok(cmd)
    }

    /// Starts the program and collects its output, killing it (and its whole process
    /// group) at the deadline. A non-zero exit is not an error here: see [`Output::status`].
    pub fn run(&self) -> Result<Output, SpawnError> {
        let mut cmd = self.command()?;
        #[cfg(unix)]
        crate::unix_fds::close_inherited_on_exec();
        let child = cmd.spawn().map_err(|source| SpawnError::Spawn {
            path: self.path.clone(),
            source,
        })?;
        collect(child, &self.path, self.timeout)
    }
}

/// Reads both pipes until the child exits (then kills its group and drains what is
/// already buffered) or the deadline passes (then kills it and reports a timeout).
#[cfg(unix)]
fn collect(
    mut child: std::process::Child,
    path: &Path,
    timeout: Duration,
) -> Result<Output, SpawnError> {
    use rustix::event::{PollFd, PollFlags, Timespec};
    use rustix::fs::{fcntl_getfl, fcntl_setfl, OFlags};
    use std::io::Read;

    let deadline = Instant::now() + timeout;
    let pgid = rustix::process::Pid::from_child(&child);
    let kill_group = || {
        // The group id is the child's pid (process_group(0)); ESRCH once all are gone.
        let _ = rustix::process::kill_process_group(pgid, rustix::process::Signal::KILL);
    };
    let mut stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    for fd in [
        std::os::fd::AsFd::as_fd(&stdout),
        std::os::fd::AsFd::as_fd(&stderr),
    ] {
        if let Ok(fl) = fcntl_getfl(fd) {
            let _ = fcntl_setfl(fd, fl | OFlags::NONBLOCK);
        }
    }
    let mut out = Vec::new();
    let mut err = Vec::new();
    let (mut out_open, mut err_open) = (true, true);
    let mut buf = vec![0u8; 64 << 10];
    let mut exited: Option<ExitStatus> = None;
    // Reads what is available now from one pipe; false once it is at EOF.
    let mut drain = |pipe: &mut dyn Read, sink: &mut Vec<u8>, cap: usize| -> Result<bool, ()> {
        loop {
            match pipe.read(&mut buf) {
                Ok(0) => return Ok(false),
                Ok(n) => {
                    if sink.len() + n > cap {
                        return Err(());
                    }
                    sink.extend_from_slice(&buf[..n]);
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Ok(true),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => return Ok(false),
            }
        }
    };
    // Over a cap: the whole group goes, and the run is an error.
    let too_much = |child: &mut std::process::Child, limit: usize| {
        kill_group();
        let _ = child.kill();
        let _ = child.wait();
        SpawnError::TooMuchOutput {
            path: path.to_path_buf(),
            limit,
        }
    };
    loop {
        if out_open {
            out_open = drain(&mut stdout, &mut out, MAX_STDOUT)
                .map_err(|_| too_much(&mut child, MAX_STDOUT))?;
        }
        if err_open {
            err_open = drain(&mut stderr, &mut err, MAX_STDERR)
                .map_err(|_| too_much(&mut child, MAX_STDERR))?;
        }
        if exited.is_none() {
            exited = child.try_wait().ok().flatten();
            if exited.is_some() {
                // Whatever it left behind in its group goes with it; what it wrote before
                // exiting is already in the pipes and is drained on the next pass.
                kill_group();
                if out_open {
                    let _ = drain(&mut stdout, &mut out, MAX_STDOUT);
                }
                if err_open {
                    let _ = drain(&mut stderr, &mut err, MAX_STDERR);
                }
                break;
            }
        }
        if !out_open && !err_open && exited.is_none() {
            // Both pipes closed: only the exit is left to wait for, still bounded.
            match wait_until(&mut child, deadline) {
                Some(status) => {
                    kill_group();
                    exited = Some(status);
                    break;
                }
                None => break,
            }
        }
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        // Wake on output, or every 10 ms to notice the exit (no SIGCHLD handler here).
        let slice = (deadline - now).min(Duration::from_millis(10));
        let ts = Timespec {
            tv_sec: 0,
            tv_nsec: slice.as_nanos() as _,
        };
        let mut fds = Vec::with_capacity(2);
        if out_open {
            fds.push(PollFd::new(&stdout, PollFlags::IN));
        }
        if err_open {
            fds.push(PollFd::new(&stderr, PollFlags::IN));
        }
        if !fds.is_empty() {
            let _ = rustix::event::poll(&mut fds, Some(&ts));
        }
    }
    match exited {
        Some(status) => Ok(Output {
            status,
            stdout: out,
            stderr: err,
        }),
        None => {
            kill_group();
            let _ = child.kill();
            let _ = child.wait();
            Err(SpawnError::Timeout {
                path: path.to_path_buf(),
                secs: timeout.as_secs_f64(),
            })
        }
    }
}

/// Waits for the child's exit without pipes to watch, checking every 10 ms until the
/// deadline.
fn wait_until(child: &mut std::process::Child, deadline: Instant) -> Option<ExitStatus> {
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        let now = Instant::now();
        if now >= deadline {
            return None;
        }
        std::thread::sleep((deadline - now).min(Duration::from_millis(10)));
    }
}

/// Windows: both pipes drained in threads; at the deadline the process is killed and the
/// readers are abandoned (they end when the last handle closes).
#[cfg(not(unix))]
fn collect(
    mut child: std::process::Child,
    path: &Path,
    timeout: Duration,
) -> Result<Output, SpawnError> {
    use std::io::Read;
    use std::sync::mpsc;
    let deadline = Instant::now() + timeout;
    let (tx, rx) = mpsc::channel();
    for (i, pipe) in [
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    ]
    .into_iter()
    .enumerate()
    {
        let tx = tx.clone();
        let cap = if i == 0 { MAX_STDOUT } else { MAX_STDERR };
        std::thread::spawn(move || {
            let mut s = Vec::new();
            if let Some(p) = pipe {
                let _ = p.take(cap as u64 + 1).read_to_end(&mut s);
            }
            let _ = tx.send((i, s));
        });
    }
    drop(tx);
    let mut outs: [Option<Vec<u8>>; 2] = [None, None];
    while outs.iter().any(Option::is_none) {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok((i, s)) => outs[i] = Some(s),
            Err(_) => break,
        }
    }
    let status = wait_until(&mut child, deadline);
    let Some(status) = status.filter(|_| outs.iter().all(Option::is_some)) else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(SpawnError::Timeout {
            path: path.to_path_buf(),
            secs: timeout.as_secs_f64(),
        });
    };
    let [stdout, stderr] = outs.map(Option::unwrap_or_default);
    for (s, limit) in [(&stdout, MAX_STDOUT), (&stderr, MAX_STDERR)] {
        if s.len() > limit {
            return Err(SpawnError::TooMuchOutput {
                path: path.to_path_buf(),
                limit,
            });
        }
    }
    Ok(Output {
        status,
        stdout,
        stderr,
    })
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn program_is_resolved_from_system_dirs_only() {
        use std::os::unix::fs::PermissionsExt;
        let t = tempfile::tempdir().unwrap();
        assert!(matches!(
            resolve_system(t.path(), "update-ca-trust"),
            Err(SpawnError::NotFound { .. })
        ));
        assert!(matches!(
            resolve_system(t.path(), "../bin/sh"),
            Err(SpawnError::NotAName { .. })
        ));
        let sbin = t.path().join("usr/sbin");
        std::fs::create_dir_all(&sbin).unwrap();
        let tool = sbin.join("update-ca-trust");
        std::fs::write(&tool, "#!/bin/sh\n").unwrap();
        // Not executable: not a candidate.
        std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(resolve_system(t.path(), "update-ca-trust").is_err());
        std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(resolve_system(t.path(), "update-ca-trust").unwrap(), tool);
    }

    fn sh(script: &str) -> Program {
        Program::new("/bin/sh").args(["-c", script])
    }

    #[test]
    fn runs_from_root_dir_with_only_the_base_environment() {
        std::env::set_var("TRUSTSYNC_SPAWN_TEST_SECRET", "s3cret");
        let out = sh("pwd; env | sort").run().unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.starts_with("/\n"), "{text}");
        assert!(!text.contains("s3cret"), "{text}");
        assert!(text.contains("OPENSSL_CONF=/dev/null"), "{text}");
        assert!(text.contains(&format!("PATH={SAFE_PATH}")), "{text}");
    }

    #[test]
    fn caller_env_replaces_a_base_entry() {
        let out = sh("echo $OPENSSL_CONF")
            .env("OPENSSL_CONF", "/etc/ssl/openssl.cnf")
            .run()
            .unwrap();
        assert_eq!(out.stdout, b"/etc/ssl/openssl.cnf\n");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_background_child_does_not_hold_the_run_and_dies_with_the_group() {
        // The child leaves `sleep 40` behind holding both pipes, then exits at once.
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("pid");
        let out = sh("sleep 40 & echo $! > \"$1\"; echo answered")
            .args([Path::new("sh"), &pidfile])
            .timeout(Duration::from_secs(30))
            .run()
            .unwrap();
        assert_eq!(out.stdout, b"answered\n");
        assert!(out.status.success());
        let pid: i32 = std::fs::read_to_string(&pidfile)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        // Killed with its group: its pidfd turns readable when it has exited (an event,
        // not a guess at how long a kill takes). Without the group kill it would run 40 s.
        use rustix::process::{pidfd_open, Pid, PidfdFlags};
        let Ok(pidfd) = pidfd_open(Pid::from_raw(pid).unwrap(), PidfdFlags::empty()) else {
            return; // already gone and reaped
        };
        let mut fds = [rustix::event::PollFd::new(
            &pidfd,
            rustix::event::PollFlags::IN,
        )];
        let ts = rustix::event::Timespec {
            tv_sec: 20,
            tv_nsec: 0,
        };
        let n = rustix::event::poll(&mut fds, Some(&ts)).unwrap();
        assert_eq!(n, 1, "sleep {pid} still runs after its group was killed");
    }

    #[test]
    fn deadline_kills_a_hung_program() {
        let err = sh("exec sleep 30")
            .timeout(Duration::from_millis(200))
            .run()
            .unwrap_err();
        assert!(matches!(err, SpawnError::Timeout { .. }), "{err}");
    }

    #[test]
    fn output_is_capped() {
        let err = Program::new("/bin/cat")
            .arg("/dev/zero")
            .timeout(Duration::from_secs(30))
            .run()
            .unwrap_err();
        assert!(matches!(err, SpawnError::TooMuchOutput { .. }), "{err}");
    }

    #[test]
    fn only_absolute_paths_and_plain_names() {
        assert!(matches!(
            Program::new("sh").run(),
            Err(SpawnError::NotAbsolute { .. })
        ));
        assert!(matches!(
            resolve_system(Path::new("/"), "../bin/sh"),
            Err(SpawnError::NotAName { .. })
        ));
        let sh = resolve_system(Path::new("/"), "sh").unwrap();
        assert!(
            SYSTEM_BIN_DIRS
                .iter()
                .any(|d| sh == Path::new(d).join("sh")),
            "{sh:?}"
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn no_descriptor_is_inherited() {
        // A descriptor this process holds without close-on-exec (as one inherited from
        // whoever started trustsync would be).
        // Numbered high so it cannot be mistaken for the one `ls` opens itself.
        let f = std::fs::File::open("/dev/null").unwrap();
        let high = rustix::io::fcntl_dupfd_cloexec(&f, 200).unwrap();
        rustix::io::fcntl_setfd(&high, rustix::io::FdFlags::empty()).unwrap();
        let raw = std::os::fd::AsRawFd::as_raw_fd(&high);
        let out = sh("ls /proc/self/fd").run().unwrap();
        let fds: Vec<String> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect();
        assert!(!fds.contains(&raw.to_string()), "fd {raw} leaked: {fds:?}");
        // 0, 1, 2 and the one `ls` opened for /proc/self/fd.
        assert!(fds.len() <= 4, "{fds:?}");
    }
}
