//! Running a runtime's own binary to ask it where it looks, safely and with a deadline.
//!
//! Two dangers: a hung interpreter must not hang `status` (every run has a deadline, see
//! [`trustsync_platform::spawn`], the one module that starts programs), and as root,
//! executing a program runs every file it loads at start-up as root: the interpreter, its
//! standard library, and (unless Python runs with `-S`) every `.pth`, `sitecustomize` and
//! imported package in its site directories. [`ExecPolicy`] decides from the owners of all
//! of those whether to run a binary, as whom, without its site directories, or not at all
//! (then its files are read instead).

use std::path::{Path, PathBuf};
use std::time::Duration;
use trustsync_platform::spawn::{Program, SpawnError};

#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error(transparent)]
    Start(#[from] SpawnError),
    #[error("{path}: exited with {status}: {stderr}")]
    Failed {
        path: PathBuf,
        status: String,
        stderr: String,
    },
}

/// Runs `program` (hermetic, see [`trustsync_platform::spawn`]) and returns its stdout, or
/// an error carrying the last line of its stderr.
/// The account of a user who invoked root but whom `/etc/passwd` does not list (LDAP,
/// sssd): `getent passwd UID|NAME`, from its fixed path, with the minimal environment.
/// A name is passed only when it looks like a login name, so nothing odd reaches argv.
pub fn lookup_account(
    who: &crate::discover::users::Invoker,
) -> Option<crate::discover::users::Account> {
    use crate::discover::users::Invoker;
    let key = match who {
        Invoker::Uid(uid) => uid.to_string(),
        Invoker::Name(n)
            if !n.is_empty()
                && n.len() <= 64
                && !n.starts_with('-')
                && n.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)) =>
        {
            n.clone()
        }
        Invoker::Name(_) => return None,
    };
    let getent = Path::new("/usr/bin/getent");
    if !getent.is_file() {
        return None;
    }
    let program = Program::new(getent).arg("passwd").arg(key);
    let text = run(program, Duration::from_secs(5)).ok()?;
    crate::discover::users::parse_passwd(&text)
        .into_iter()
        .next()
}

pub fn run(program: Program, timeout: Duration) -> Result<String, ExecError> {
    let program = program.timeout(timeout);
    let out = program.run()?;
    if !out.status.success() {
        return Err(ExecError::Failed {
            path: program.path().to_path_buf(),
            status: out.status.to_string(),
            stderr: out.last_stderr_line(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Whether and how a binary may be executed by this process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecPolicy {
    /// Run it as we are.
    Run,
    /// We are root and the interpreter and its standard library are root's, but a file in
    /// its site directories (a `.pth`, `sitecustomize`, a package) is not: run it as root
    /// with `-S` (no site), and find certifi and pip by path.
    RunWithoutSite { reason: String },
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

/// Decides how to run a Python: [`decide`] over the interpreter and its standard library
/// (`core`); when that says "run as root", the site files (`site`) must be root's too, or
/// it runs without them ([`ExecPolicy::RunWithoutSite`]). A tree run as its owner must not
/// hold a third user's site files either (their code would run as that owner).
pub fn decide_python(euid: u32, core: &[Ownership], site: &[Ownership]) -> ExecPolicy {
    match decide(euid, core) {
        ExecPolicy::Run if euid == 0 => match decide(euid, site) {
            ExecPolicy::Run => ExecPolicy::Run,
            ExecPolicy::DoNotRun { reason } => ExecPolicy::RunWithoutSite { reason },
            _ => {
                let o = site.iter().find(|o| o.uid != 0).expect("a non-root owner");
                ExecPolicy::RunWithoutSite {
                    reason: format!("{} belongs to uid {}", o.path.display(), o.uid),
                }
            }
        },
        ExecPolicy::RunAs { .. } => {
            let all: Vec<Ownership> = core.iter().chain(site).cloned().collect();
            decide(euid, &all)
        }
        other => other,
    }
}

/// The files that decide what a binary runs at start-up, in two tiers: `core` (the binary,
/// the file it resolves to, every directory above both, and for each of their prefixes the
/// standard library and the TLS libraries it loads) and `site` (Python's site directories,
/// their `.pth` files and the directories those add, `sitecustomize`/`usercustomize`, and
/// the `certifi` package the probe imports).
#[derive(Debug, Default)]
pub struct StartFiles {
    pub core: Vec<PathBuf>,
    pub site: Vec<PathBuf>,
}

/// Standard-library subdirectories whose modules the probe imports (and their byte code).
const STDLIB_SUBDIRS: &[&str] = &[
    "lib-dynload",
    "encodings",
    "json",
    "re",
    "collections",
    "importlib",
    "__pycache__",
    "encodings/__pycache__",
    "json/__pycache__",
    "re/__pycache__",
    "collections/__pycache__",
    "importlib/__pycache__",
];

/// Names in `PREFIX/lib*` that the binary loads itself (shared libraries, OpenSSL modules).
const LIB_PREFIXES: &[&str] = &[
    "libssl",
    "libcrypto",
    "libpython",
    "ossl-modules",
    "engines",
];

/// Adds `p` once. Only for short lists: the two tiers are deduplicated once, at the end of
/// [`start_files`] (a stdlib has a thousand entries; `contains` on each made warm runs
/// quadratic).
fn push_unique(out: &mut Vec<PathBuf>, p: PathBuf) {
    if !out.contains(&p) {
        out.push(p);
    }
}

/// Keeps the first of each path, in order.
fn dedup_in_order(paths: &mut Vec<PathBuf>) {
    let mut seen = std::collections::HashSet::new();
    paths.retain(|p| seen.insert(p.clone()));
}

fn push_with_ancestors(out: &mut Vec<PathBuf>, p: &Path) {
    let mut cur = Some(p);
    while let Some(c) = cur {
        out.push(c.to_path_buf());
        cur = c.parent().filter(|p| !p.as_os_str().is_empty());
    }
}

/// Every entry of `dir` (bounded: a directory of more than `MAX` entries is listed up to
/// that many, which is far beyond any real standard library).
fn push_entries(out: &mut Vec<PathBuf>, dir: &Path, keep: impl Fn(&str) -> bool) {
    const MAX: usize = 4096;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten().take(MAX) {
        if e.file_name().to_str().is_some_and(&keep) {
            out.push(e.path());
        }
    }
}

/// Directories a `.pth` file adds to `sys.path` (its lines that are not comments or
/// `import` statements), resolved against the site directory as `site.py` does.
fn pth_dirs(site: &Path, pth: &Path) -> Vec<PathBuf> {
    // The platform's bounded reader: a `.pth` that is a FIFO or huge cannot hold the run.
    let Ok(text) = trustsync_platform::read::read_file(pth) else {
        return Vec::new();
    };
    String::from_utf8_lossy(&text)
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with("import"))
        .take(256)
        .map(|l| site.join(l))
        .collect()
}

pub fn start_files(binary: &Path) -> StartFiles {
    let mut f = StartFiles::default();
    push_with_ancestors(&mut f.core, binary);
    let real = std::fs::canonicalize(binary).ok();
    if let Some(real) = &real {
        push_with_ancestors(&mut f.core, real);
    }
    let mut prefixes: Vec<PathBuf> = Vec::new();
    for b in std::iter::once(binary.to_path_buf()).chain(real) {
        if let Some(prefix) = b.parent().and_then(Path::parent) {
            push_unique(&mut prefixes, prefix.to_path_buf());
        }
    }
    // Debian's Python also reads /usr/local's dist-packages.
    if prefixes.iter().any(|p| p == Path::new("/usr")) {
        push_unique(&mut prefixes, PathBuf::from("/usr/local"));
    }
    for prefix in &prefixes {
        for lib in ["lib", "lib64"] {
            let lib = prefix.join(lib);
            push_entries(&mut f.core, &lib, |n| {
                LIB_PREFIXES.iter().any(|p| n.starts_with(p))
                    || (n.starts_with("python") && n.ends_with(".zip"))
            });
            let Ok(entries) = std::fs::read_dir(&lib) else {
                continue;
            };
            for stdlib in entries
                .flatten()
                .filter(|e| e.file_name().to_string_lossy().starts_with("python"))
                .map(|e| e.path())
                .filter(|p| p.is_dir())
            {
                f.core.push(stdlib.clone());
                push_entries(&mut f.core, &stdlib, |n| {
                    n != "site-packages" && n != "dist-packages"
                });
                for sub in STDLIB_SUBDIRS {
                    push_entries(&mut f.core, &stdlib.join(sub), |_| true);
                }
            }
        }
        for site in super::python::site::site_dirs_of_prefix(prefix) {
            f.site.push(site.clone());
            let mut dirs = vec![site.clone()];
            let Ok(entries) = std::fs::read_dir(&site) else {
                continue;
            };
            for pth in entries
                .flatten()
                .take(4096)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "pth"))
            {
                f.site.push(pth.clone());
                for d in pth_dirs(&site, &pth) {
                    push_with_ancestors(&mut f.site, &d);
                    dirs.push(d);
                }
            }
            for dir in dirs {
                for name in ["sitecustomize.py", "usercustomize.py", "certifi"] {
                    let p = dir.join(name);
                    if p.exists() {
                        f.site.push(p);
                    }
                }
                push_entries(&mut f.site, &dir.join("certifi"), |_| true);
                push_entries(&mut f.site, &dir.join("certifi/__pycache__"), |_| true);
            }
        }
    }
    dedup_in_order(&mut f.core);
    dedup_in_order(&mut f.site);
    f
}

/// The `lstat` answers of one discovery run, shared by the interpreters it judges: fifty
/// venvs of one base Python share its thousand standard-library files, which are then
/// looked at once, not fifty times. A memo lives only as long as the run that made it.
#[derive(Debug, Default)]
#[cfg_attr(not(unix), allow(dead_code))]
pub struct StatMemo(std::sync::Mutex<std::collections::HashMap<PathBuf, Option<Ownership>>>);

/// Ownership of each path, skipping symlinks (a link's own owner does not matter: its
/// target is listed too) and paths that do not exist.
#[cfg(unix)]
fn owners(paths: Vec<PathBuf>, memo: &StatMemo) -> Vec<Ownership> {
    use std::os::unix::fs::MetadataExt;
    let look = |p: PathBuf| {
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
    };
    paths
        .into_iter()
        .filter_map(|p| {
            if let Some(known) = memo.0.lock().ok().and_then(|m| m.get(&p).cloned()) {
                return known;
            }
            let found = look(p.clone());
            if let Ok(mut m) = memo.0.lock() {
                m.insert(p, found.clone());
            }
            found
        })
        .collect()
}

/// The policy for a Python interpreter (both tiers of [`start_files`]).
#[cfg(unix)]
pub fn policy_for(binary: &Path) -> ExecPolicy {
    policy_for_with(binary, &StatMemo::default())
}

/// [`policy_for`] with the run's [`StatMemo`].
#[cfg(unix)]
pub fn policy_for_with(binary: &Path, memo: &StatMemo) -> ExecPolicy {
    policy_as_root(binary, |files| {
        decide_python(0, &owners(files.core, memo), &owners(files.site, memo))
    })
}

/// The policy for a binary that has no site directories (`openssl`): the core tier only.
#[cfg(unix)]
pub fn policy_for_binary(binary: &Path) -> ExecPolicy {
    policy_as_root(binary, |files| {
        decide(0, &owners(files.core, &StatMemo::default()))
    })
}

/// Not root: run as we are (nothing of ours to protect from ourselves); root: `judge` the
/// binary's start-up files.
#[cfg(unix)]
fn policy_as_root(binary: &Path, judge: impl FnOnce(StartFiles) -> ExecPolicy) -> ExecPolicy {
    if rustix::process::geteuid().as_raw() != 0 {
        return ExecPolicy::Run;
    }
    judge(start_files(binary))
}

#[cfg(not(unix))]
pub fn policy_for(_binary: &Path) -> ExecPolicy {
    ExecPolicy::Run
}

#[cfg(not(unix))]
pub fn policy_for_with(_binary: &Path, _memo: &StatMemo) -> ExecPolicy {
    ExecPolicy::Run
}

#[cfg(not(unix))]
pub fn policy_for_binary(_binary: &Path) -> ExecPolicy {
    ExecPolicy::Run
}

/// The [`Program`] that asks a one-binary runtime (`openssl`, `node`) about itself, under
/// the binary's own policy; `None`, with a `not-executed` note on `rt`, when it must not
/// run. Run as its owner, what it answers is that user's word (`reported_by_uid`).
pub fn program_for_row(
    binary: &Path,
    rt: &mut crate::model::runtime::Runtime,
) -> Option<(Program, ExecPolicy)> {
    let policy = policy_for_binary(binary);
    if let ExecPolicy::DoNotRun { reason } = &policy {
        rt.notes.push(crate::model::runtime::Note::said(
            "not-executed",
            msg!("note-not-executed", reason = reason),
            false,
        ));
        return None;
    }
    if let ExecPolicy::RunAs { uid, .. } = policy {
        rt.reported_by_uid = Some(uid);
    }
    program_for(binary, &policy).map(|p| (p, policy))
}

/// A [`Program`] for `binary` under `policy`; `None` for [`ExecPolicy::DoNotRun`].
pub fn program_for(binary: &Path, policy: &ExecPolicy) -> Option<Program> {
    let program = Program::new(binary);
    match policy {
        ExecPolicy::Run | ExecPolicy::RunWithoutSite { .. } => Some(program),
        ExecPolicy::RunAs { uid, gid } => Some(program.run_as(*uid, *gid)),
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
    fn a_user_owned_site_file_in_a_root_tree_means_no_site() {
        let core = [own("/usr/bin/python3", 0, 0o100755, false)];
        let site = [
            own("/opt/tool/lib/python3.11/site-packages", 0, 0o40755, true),
            own(
                "/opt/tool/lib/python3.11/site-packages/evil.pth",
                1001,
                0o100644,
                false,
            ),
        ];
        match decide_python(0, &core, &site) {
            ExecPolicy::RunWithoutSite { reason } => {
                assert!(reason.contains("evil.pth"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
        let writable = [own(
            "/opt/tool/lib/python3.11/site-packages",
            0,
            0o40777,
            true,
        )];
        assert!(matches!(
            decide_python(0, &core, &writable),
            ExecPolicy::RunWithoutSite { .. }
        ));
        assert_eq!(decide_python(0, &core, &site[..1]), ExecPolicy::Run);
        // A user's own venv runs as that user, unless a third user's file is in it.
        let ann = [own("/home/ann/venv/bin/python", 1000, 0o100755, false)];
        let ann_site = [own(
            "/home/ann/venv/lib/python3.11/site-packages/x.pth",
            1000,
            0o100644,
            false,
        )];
        assert_eq!(
            decide_python(0, &ann, &ann_site),
            ExecPolicy::RunAs {
                uid: 1000,
                gid: 1000
            }
        );
        assert!(matches!(
            decide_python(0, &ann, &site[1..]),
            ExecPolicy::DoNotRun { .. }
        ));
    }
}
