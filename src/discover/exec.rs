//! Running a runtime's own binary to ask it where it looks, safely and with a deadline.
//!
//! Two dangers: a hung interpreter must not hang `status` (every run has a timeout and is
//! killed after it), and as root, executing an interpreter another user can modify runs
//! their code as root (a venv's `.pth` files run at start-up). [`ExecPolicy`] decides
//! whether to run a binary, as whom, or to read its files instead.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;
use wait_timeout::ChildExt;

#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("{path}: could not start: {source}")]
    Spawn {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: no answer within {secs:.1} s; killed")]
    Timeout { path: PathBuf, secs: f64 },
    #[error("{path}: exited with {status}: {stderr}")]
    Failed {
        path: PathBuf,
        status: String,
        stderr: String,
    },
}

/// Runs `cmd`, returns its stdout, or kills it at `timeout`. Output is bounded by what
/// the runtime prints (small); both pipes are drained in threads so neither can block it.
pub fn run_with_timeout(
    mut cmd: Command,
    path: &Path,
    timeout: Duration,
) -> Result<String, ExecError> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|source| ExecError::Spawn {
        path: path.to_path_buf(),
        source,
    })?;
    let mut stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    let out_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = stdout.read_to_end(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = stderr.read_to_end(&mut s);
        s
    });
    let status = match child.wait_timeout(timeout) {
        Ok(Some(status)) => status,
        Ok(None) | Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(ExecError::Timeout {
                path: path.to_path_buf(),
                secs: timeout.as_secs_f64(),
            });
        }
    };
    let out = out_reader.join().unwrap_or_default();
    let err = err_reader.join().unwrap_or_default();
    if !status.success() {
        let stderr = String::from_utf8_lossy(&err);
        let last = stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        return Err(ExecError::Failed {
            path: path.to_path_buf(),
            status: status.to_string(),
            stderr: last.trim().to_string(),
        });
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// Whether and how a binary may be executed by this process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecPolicy {
    /// Run it as we are.
    Run,
    /// We are root and the binary's tree belongs to one other user: run it as them.
    RunAs { uid: u32, gid: u32 },
    /// We are root and the binary's tree is writable by several users or by group/others:
    /// executing it could run anyone's code as root. Read its files instead.
    DoNotRun { reason: String },
}

/// File ownership facts the policy needs, so it can be unit-tested with made-up trees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ownership {
    pub path: PathBuf,
    pub uid: u32,
    pub gid: u32,
    pub mode: u32,
    pub is_dir: bool,
}

/// Decides the policy from the ownership of every path that can change what the binary
/// runs at start-up (see [`paths_that_matter`]).
pub fn decide(euid: u32, owners: &[Ownership]) -> ExecPolicy {
    if euid != 0 {
        return ExecPolicy::Run;
    }
    let mut other_owner: Option<(u32, u32)> = None;
    for o in owners {
        // Sticky root-owned directories (/tmp) only let others add names, not replace ours.
        let sticky_root_dir = o.is_dir && o.uid == 0 && o.mode & 0o1000 != 0;
        if o.mode & 0o022 != 0 && !sticky_root_dir {
            return ExecPolicy::DoNotRun {
                reason: format!(
                    "{} is writable by group or others (mode {:o})",
                    o.path.display(),
                    o.mode & 0o7777
                ),
            };
        }
        if o.uid != 0 {
            match other_owner {
                None => other_owner = Some((o.uid, o.gid)),
                Some((uid, _)) if uid == o.uid => {}
                Some((uid, _)) => {
                    return ExecPolicy::DoNotRun {
                        reason: format!(
                            "its files belong to more than one user (uid {uid} and uid {})",
                            o.uid
                        ),
                    }
                }
            }
        }
    }
    match other_owner {
        None => ExecPolicy::Run,
        Some((uid, gid)) => ExecPolicy::RunAs { uid, gid },
    }
}

/// The binary, the file it resolves to, every directory above both, and the interpreter's
/// prefix and site-packages (where `.pth` files run code at start-up).
pub fn paths_that_matter(binary: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut push_with_ancestors = |p: &Path| {
        let mut cur = Some(p);
        while let Some(c) = cur {
            if !out.iter().any(|o: &PathBuf| o == c) {
                out.push(c.to_path_buf());
            }
            cur = c.parent().filter(|p| !p.as_os_str().is_empty());
        }
    };
    push_with_ancestors(binary);
    let real = std::fs::canonicalize(binary).ok();
    if let Some(real) = &real {
        push_with_ancestors(real);
    }
    for b in std::iter::once(binary.to_path_buf()).chain(real) {
        let Some(prefix) = b.parent().and_then(Path::parent) else {
            continue;
        };
        for site in super::offline::site_dirs_of_prefix(prefix) {
            out.extend(site.parent().map(Path::to_path_buf));
            out.push(site);
        }
    }
    out
}

#[cfg(unix)]
pub fn policy_for(binary: &Path) -> ExecPolicy {
    use std::os::unix::fs::MetadataExt;
    let euid = rustix::process::geteuid().as_raw();
    if euid != 0 {
        return ExecPolicy::Run;
    }
    let owners: Vec<Ownership> = paths_that_matter(binary)
        .into_iter()
        .filter_map(|p| {
            // symlink_metadata: a link's own owner does not matter, its target is listed too.
            let m = std::fs::symlink_metadata(&p).ok()?;
            if m.file_type().is_symlink() {
                return None;
            }
            Some(Ownership {
                uid: m.uid(),
                gid: m.gid(),
                mode: m.mode(),
                is_dir: m.is_dir(),
                path: p,
            })
        })
        .collect();
    decide(euid, &owners)
}

#[cfg(not(unix))]
pub fn policy_for(_binary: &Path) -> ExecPolicy {
    ExecPolicy::Run
}

/// A `Command` for `binary` under `policy`; `None` for [`ExecPolicy::DoNotRun`].
pub fn command_for(binary: &Path, policy: &ExecPolicy) -> Option<Command> {
    let cmd = Command::new(binary);
    match policy {
        ExecPolicy::Run => Some(cmd),
        #[cfg(unix)]
        ExecPolicy::RunAs { uid, gid } => {
            use std::os::unix::process::CommandExt;
            let mut cmd = cmd;
            // std drops supplementary groups when it changes uid as root.
            cmd.uid(*uid).gid(*gid);
            Some(cmd)
        }
        #[cfg(not(unix))]
        ExecPolicy::RunAs { .. } => Some(cmd),
        ExecPolicy::DoNotRun { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn own(path: &str, uid: u32, mode: u32, is_dir: bool) -> Ownership {
        Ownership {
            path: path.into(),
            uid,
            gid: uid,
            mode,
            is_dir,
        }
    }

    #[test]
    fn root_owned_tree_runs_as_root() {
        let t = [
            own("/usr/bin/python3", 0, 0o100755, false),
            own("/usr/bin", 0, 0o40755, true),
        ];
        assert_eq!(decide(0, &t), ExecPolicy::Run);
    }

    #[test]
    fn user_venv_runs_as_its_owner() {
        let t = [
            own("/home/ann/venv/bin/python", 1000, 0o100755, false),
            own(
                "/home/ann/venv/lib/python3.11/site-packages",
                1000,
                0o40755,
                true,
            ),
            own("/usr/bin/python3.11", 0, 0o100755, false),
        ];
        assert_eq!(
            decide(0, &t),
            ExecPolicy::RunAs {
                uid: 1000,
                gid: 1000
            }
        );
    }

    #[test]
    fn world_writable_or_two_owners_is_not_run() {
        let t = [own("/opt/x/lib/python3/site-packages", 0, 0o40777, true)];
        assert!(matches!(decide(0, &t), ExecPolicy::DoNotRun { .. }));
        let t = [
            own("/opt/a", 1000, 0o40755, true),
            own("/opt/a/bin", 1001, 0o40755, true),
        ];
        assert!(matches!(decide(0, &t), ExecPolicy::DoNotRun { .. }));
        let t = [
            own("/tmp", 0, 0o41777, true),
            own("/tmp/py", 0, 0o100755, false),
        ];
        assert_eq!(decide(0, &t), ExecPolicy::Run, "sticky /tmp is fine");
    }

    #[test]
    fn not_root_always_runs() {
        let t = [own("/opt/x", 1000, 0o40777, true)];
        assert_eq!(decide(1000, &t), ExecPolicy::Run);
    }

    #[test]
    fn timeout_kills_a_hung_child() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "exec sleep 30"]);
        let err = run_with_timeout(cmd, Path::new("sh"), Duration::from_millis(200)).unwrap_err();
        assert!(matches!(err, ExecError::Timeout { .. }), "{err}");
    }
}
