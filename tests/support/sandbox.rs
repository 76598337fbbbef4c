//! A throw-away view of this machine for integration tests: the real `python3`, the real
//! `openssl` and the real `trustsync` run against a *changed* `/etc`, `/usr/local`, … while
//! the machine itself is never touched.
//!
//! Why: trustsync reads and repairs system paths (`/etc/ssl/certs`,
//! `/usr/local/openssl111/certs`, `/usr/local/share/ca-certificates`, …). Testing it honestly
//! means putting a real machine into a broken state (seed cases S1, S2, S6 in
//! `SCENARIOS.md`) and letting real binaries look at it. A [`Sandbox`] does that with Linux
//! mount namespaces and overlayfs:
//!
//! * For every overlaid directory (default [`DEFAULT_LAYERS`]) the sandbox owns a temp
//!   `upper` and `work` dir. Test code prepares the upper layer *before* running anything
//!   ([`Sandbox::write`], [`Sandbox::symlink`], [`Sandbox::remove`], [`Sandbox::mkdir`],
//!   [`Sandbox::replace_with_empty_dir`], [`Sandbox::chmod`], [`Sandbox::chown`]).
//! * [`Sandbox::run`] starts `unshare --mount --propagation private` with a fixed shell
//!   script ([`SETUP_SCRIPT`]) that mounts each overlay (`lowerdir` = the real directory) and
//!   then `exec "$@"`. Paths and the command travel only as positional arguments, never
//!   inside the script text. Mounts are private to that namespace and vanish when its last
//!   process exits, so nothing leaks even if a test panics or a child is killed.
//! * Upper dirs persist across runs of the same sandbox: `trustsync fix` in one run and
//!   `python3` in the next see the same state. Afterwards, [`Sandbox::read`],
//!   [`Sandbox::read_link`], [`Sandbox::is_removed`] and [`Sandbox::changed_paths`] show what
//!   the commands changed (they read the upper layers), and [`Sandbox::read_inside`] shows a
//!   path exactly as a process inside sees it.
//!
//! ```ignore
//! let Some(sb) = Sandbox::new() else { return }; // not root: loud SKIPPED, test returns
//! sandbox::install_private_openssl(&sb);          // S1: /usr/local/openssl111, empty certs/
//! sb.write("/etc/profile.d/broken.sh", "export SSL_CERT_FILE=/nope\n"); // S6
//! let fix = sb.run(&[env!("CARGO_BIN_EXE_trustsync"), "fix", "--yes"], &[]);
//! let after = sb.run(&["/usr/local/openssl111/bin/openssl", "verify", leaf], &[]);
//! assert!(sb.read_link("/usr/local/openssl111/certs/1234abcd.0").is_some());
//! ```
//!
//! * Every sandbox also gets a fresh, empty `/home` of its own ([`FRESH_DIRS`]: its state
//!   dir bind-mounted there, so it persists across runs and vanishes with the sandbox).
//!   [`Sandbox::add_user`] makes a real user with the machine's `useradd` (its entries go to
//!   the overlaid `/etc`, its home to that `/home`); [`Sandbox::run_as`] (`setpriv`) and
//!   [`Sandbox::sudo_as`] (the real `sudo -u`) run commands as that user. Tests that need
//!   "another user" use these rather than a bare chown to some uid.
//!
//! Environment: every command starts from a clean, fixed environment ([`BASE_ENV`]: `PATH`,
//! `HOME=/root`, `LANG=C.UTF-8`) plus what the test passes, because this machine exports
//! `SSL_CERT_FILE`, `REQUESTS_CA_BUNDLE`, … which would otherwise hide every S1/S2 failure.
//! The working directory is `/`.
//!
//! Needs root (for mount namespaces). Without it [`Sandbox::new`] prints a loud
//! `SKIPPED:` line and returns `None`; under CI (`support::report::under_ci`) it panics
//! instead, because there these tests must run.
//!
//! Caveats, by design:
//! * Do not run two commands of the *same* sandbox at once: two overlay mounts sharing one
//!   upper dir is undefined behaviour in overlayfs. A loopback server that a test needs can
//!   run outside the sandbox (the network namespace is shared), its files in a plain temp
//!   dir, which the sandbox sees as it is (only the layer directories are overlaid).
//! * Prepare the upper layer only while no command of this sandbox runs (overlayfs does not
//!   support changing layers under a live mount).
//! * Only the overlaid directories (and the fresh `/home`) are protected. `/tmp`, the
//!   repository and the target dir are the machine's own, inside too: handy for sharing a leaf certificate or a server's files with the sandbox, but a
//!   command writing there writes to the machine.
//! * Overlaid directories must not nest (e.g. `/usr/local` and `/usr/local/share`), and
//!   directories mounted *inside* a layer on the host (e.g. a bind-mounted `/etc/hosts` in a
//!   container) show their underlying copy inside the sandbox. Tests use `127.0.0.1`, not
//!   `localhost`, for that reason.

use std::ffi::{OsStr, OsString};
use std::fs;
use std::io::ErrorKind;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use rustix::fs::{FileType, Gid, Mode, Uid, XattrFlags, CWD};

/// Directories overlaid by [`Sandbox::new`]: where trust stores, locally added CAs,
/// private OpenSSL builds, Pythons and trustsync's own journal live.
/// All of `/usr`, not only `/usr/local`: a `fix` run inside the sandbox finds the
/// machine's own Python and may patch its bundles under `/usr/lib` (Debian's pip), which
/// must never reach the machine. A test asking for a directory inside a layer (e.g.
/// `/usr/lib/ssl`) gets the layer that holds it.
pub const DEFAULT_LAYERS: &[&str] = &["/etc", "/usr", "/opt", "/var", "/root"];

/// Directories every sandbox replaces with a fresh, empty directory of its own (bind-mounted
/// from its state dir) unless the test overlays them: `/home`, so users made with
/// [`Sandbox::add_user`] (`useradd -m`) get homes that exist only inside this sandbox and
/// vanish with it, and the machine's own users' files are out of sight.
pub const FRESH_DIRS: &[&str] = &["/home"];

/// The environment every sandboxed command starts from; the test's own variables are added
/// on top (and may replace these).
pub const BASE_ENV: &[(&str, &str)] = &[
    (
        "PATH",
        "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    ),
    ("HOME", "/root"),
    ("LANG", "C.UTF-8"),
];

/// The fixed script run by `sh` inside the new mount namespace. Arguments:
/// `$1` = the sandbox state dir, then the layer directories, then `--`, then the command.
/// Layer number i (0-based, in argument order) uses `$1/i/upper` and `$1/i/work`; a
/// directory preceded by `--fresh` is not overlaid but replaced by a bind mount of
/// `$1/i/upper` (see [`FRESH_DIRS`]).
/// Paths only ever appear as quoted expansions, never as script text. `mount` is looked up
/// in a fixed PATH so a test's own PATH cannot change how the sandbox is built.
pub const SETUP_SCRIPT: &str = r#"set -u
state=$1
shift
i=0
while [ "$#" -gt 0 ]; do
    if [ "$1" = "--" ]; then
        shift
        break
    fi
    if [ "$1" = "--fresh" ]; then
        shift
        if ! PATH=/usr/sbin:/usr/bin:/sbin:/bin mount --bind -- "$state/$i/upper" "$1"; then
            echo "trustsync-sandbox-setup-failed: cannot bind a fresh $1" >&2
            exit 125
        fi
        i=$((i + 1))
        shift
        continue
    fi
    if ! PATH=/usr/sbin:/usr/bin:/sbin:/bin mount -t overlay trustsync-sandbox \
        -o "lowerdir=$1,upperdir=$state/$i/upper,workdir=$state/$i/work" -- "$1"; then
        echo "trustsync-sandbox-setup-failed: cannot mount overlay on $1" >&2
        exit 125
    fi
    i=$((i + 1))
    shift
done
unset PWD OLDPWD
exec "$@"
"#;

/// Exit status and stderr marker by which [`Sandbox::run`] tells a failed sandbox setup
/// from a failing command (a test expecting failure must not pass because mount failed).
const SETUP_FAILED_STATUS: i32 = 125;
const SETUP_FAILED_MARKER: &str = "trustsync-sandbox-setup-failed:";

/// overlayfs refuses to use itself as an upper layer; statfs magic numbers to detect that.
const OVERLAYFS_MAGIC: i64 = 0x794c_7630;

/// One overlaid directory: the real directory and where its upper layer lives.
#[derive(Debug)]
struct Layer {
    /// Absolute, normalised path of the overlaid directory, e.g. `/etc`.
    target: PathBuf,
    /// `<state>/<i>/upper`: what the sandbox changed under `target`.
    upper: PathBuf,
    /// True for a [`FRESH_DIRS`] entry: `upper` is bind-mounted over `target`, so nothing
    /// of the machine's directory shows through (no lower layer, no whiteouts).
    fresh: bool,
}

/// A user made inside a sandbox by [`Sandbox::add_user`]: a real `/etc/passwd` entry (in the
/// sandbox's `/etc`) with a home under the sandbox's fresh `/home`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxUser {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    /// Absolute path inside the sandbox, e.g. `/home/alice`.
    pub home: String,
}

/// A private, copy-on-write view of the machine's system directories. See the module docs.
#[derive(Debug)]
pub struct Sandbox {
    layers: Vec<Layer>,
    /// Holds the upper/work dirs; removed when the sandbox is dropped.
    state: tempfile::TempDir,
}

/// Skip loudly, or panic under CI: the shared policy for every missing precondition.
fn skip_or_panic(what: &str) {
    super::report::skip_unless_ci(what);
}

/// Where the sandbox keeps its layers: `TRUSTSYNC_SANDBOX_TMPDIR`, else the temp dir —
/// unless that is itself on overlayfs (a container's root), which cannot hold an upper
/// layer; then `/dev/shm`.
fn state_base_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("TRUSTSYNC_SANDBOX_TMPDIR") {
        return PathBuf::from(dir);
    }
    let temp = std::env::temp_dir();
    // f_type's width differs between architectures; From keeps it lossless everywhere.
    #[allow(clippy::useless_conversion)]
    let on_overlay = |dir: &Path| {
        rustix::fs::statfs(dir)
            .map(|fs| i64::from(fs.f_type) == OVERLAYFS_MAGIC)
            .unwrap_or(false)
    };
    if on_overlay(&temp) && !on_overlay(Path::new("/dev/shm")) {
        return PathBuf::from("/dev/shm");
    }
    temp
}

/// Characters that overlayfs' mount option syntax cannot carry in a path.
fn check_mount_option_safe(path: &Path) {
    let text = path
        .to_str()
        .unwrap_or_else(|| panic!("non-UTF-8 layer path {path:?}"));
    assert!(
        !text.contains([',', ':', '\\', '\n']),
        "path {path:?} cannot be used in overlay mount options (contains , : \\ or newline)"
    );
}

/// `/a/./b/` → `/a/b`; rejects relative paths and `..`, which would escape the layer.
fn normalise_absolute(path: &Path) -> PathBuf {
    assert!(
        path.is_absolute(),
        "sandbox paths must be absolute: {path:?}"
    );
    let mut out = PathBuf::from("/");
    for component in path.components() {
        match component {
            Component::RootDir | Component::CurDir => {}
            Component::Normal(name) => out.push(name),
            Component::ParentDir | Component::Prefix(_) => {
                panic!("sandbox paths may not contain '..': {path:?}")
            }
        }
    }
    out
}

/// Gives a freshly made upper-layer directory the mode and owner of the host directory it
/// stands for, because overlayfs shows a merged directory with the *upper* one's attributes.
fn copy_dir_attributes(host: &Path, upper: &Path) {
    if let Ok(meta) = fs::symlink_metadata(host) {
        if meta.is_dir() {
            fs::set_permissions(upper, fs::Permissions::from_mode(meta.mode() & 0o7777))
                .unwrap_or_else(|e| panic!("chmod {upper:?}: {e}"));
            rustix::fs::chown(
                upper,
                Some(Uid::from_raw(meta.uid())),
                Some(Gid::from_raw(meta.gid())),
            )
            .unwrap_or_else(|e| panic!("chown {upper:?}: {e}"));
        }
    }
}

/// Is this upper-layer entry an overlayfs whiteout (a 0/0 character device)?
fn is_whiteout(meta: &fs::Metadata) -> bool {
    use std::os::unix::fs::FileTypeExt;
    meta.file_type().is_char_device() && meta.rdev() == 0
}

/// Removes whatever is at `path` (file, link, whiteout or whole directory), if anything.
fn remove_any(path: &Path) {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => {
            fs::remove_dir_all(path).unwrap_or_else(|e| panic!("remove {path:?}: {e}"))
        }
        Ok(_) => fs::remove_file(path).unwrap_or_else(|e| panic!("remove {path:?}: {e}")),
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(e) => panic!("lstat {path:?}: {e}"),
    }
}

/// Makes `dir` an opaque upper directory: the lower directory's contents are hidden.
fn make_opaque(dir: &Path) {
    rustix::fs::setxattr(dir, "trusted.overlay.opaque", b"y", XattrFlags::empty())
        .unwrap_or_else(|e| panic!("setxattr trusted.overlay.opaque on {dir:?}: {e}"));
}

/// `unshare` by absolute path: the command's environment is the test's, and a test's own
/// `PATH` must not decide which program builds the sandbox.
fn unshare_program() -> &'static Path {
    ["/usr/bin/unshare", "/bin/unshare"]
        .into_iter()
        .map(Path::new)
        .find(|candidate| candidate.exists())
        .unwrap_or(Path::new("/usr/bin/unshare"))
}

/// Runs one trivial command in a throw-away sandbox, once per test process, so a machine
/// that is root but cannot mount (an unprivileged container) skips instead of failing
/// every test with a confusing error.
fn namespaces_work() -> Result<(), String> {
    static PROBE: OnceLock<Result<(), String>> = OnceLock::new();
    PROBE
        .get_or_init(|| {
            let probe = Sandbox::create(DEFAULT_LAYERS);
            let output = probe
                .command(["/bin/true"], &[])
                .output()
                .map_err(|e| format!("cannot start unshare: {e}"))?;
            if output.status.success() {
                Ok(())
            } else {
                Err(format!(
                    "unshare/overlay mount failed ({}): {}",
                    output.status,
                    String::from_utf8_lossy(&output.stderr).trim()
                ))
            }
        })
        .clone()
}

impl Sandbox {
    /// A sandbox overlaying [`DEFAULT_LAYERS`] (those that exist on this machine).
    ///
    /// Returns `None` after a loud `SKIPPED:` message when not root or when mount namespaces
    /// do not work here; panics instead of skipping when `CI=true`.
    pub fn new() -> Option<Sandbox> {
        Self::with_layers(DEFAULT_LAYERS)
    }

    /// Like [`Sandbox::new`] with a chosen list of absolute directories to overlay.
    /// Directories that do not exist on this machine are skipped (see [`Sandbox::layers`]).
    pub fn with_layers(targets: &[&str]) -> Option<Sandbox> {
        if !rustix::process::geteuid().is_root() {
            skip_or_panic("needs root for mount namespaces and overlayfs; run the tests as root");
            return None;
        }
        if let Err(why) = namespaces_work() {
            skip_or_panic(&format!("mount namespaces are unusable here: {why}"));
            return None;
        }
        Some(Self::create(targets))
    }

    /// Builds the state directory without any precondition checks.
    fn create(targets: &[&str]) -> Sandbox {
        let state = tempfile::Builder::new()
            .prefix("trustsync-sandbox-")
            .tempdir_in(state_base_dir())
            .unwrap_or_else(|e| panic!("cannot create sandbox state dir: {e}"));
        check_mount_option_safe(state.path());

        let mut layers: Vec<Layer> = Vec::new();
        let wanted: Vec<PathBuf> = targets
            .iter()
            .map(|t| normalise_absolute(Path::new(t)))
            .collect();
        // A directory inside another requested layer is already overlaid by it.
        let mut outer: Vec<PathBuf> = Vec::new();
        for t in &wanted {
            let inside_other = wanted.iter().any(|o| o != t && t.starts_with(o));
            if !inside_other && !outer.contains(t) {
                outer.push(t.clone());
            }
        }
        for target in outer {
            // Robustness: /opt or /var may not exist on a minimal machine.
            if !fs::symlink_metadata(&target).is_ok_and(|m| m.is_dir()) {
                continue;
            }
            check_mount_option_safe(&target);
            for other in &layers {
                assert!(
                    !target.starts_with(&other.target) && !other.target.starts_with(&target),
                    "overlaid directories may not nest: {target:?} and {:?}",
                    other.target
                );
            }
            assert!(
                !state.path().starts_with(&target),
                "the sandbox state dir {:?} lies inside the overlaid {target:?}; \
                 set TRUSTSYNC_SANDBOX_TMPDIR elsewhere",
                state.path()
            );
            let index_dir = state.path().join(layers.len().to_string());
            let upper = index_dir.join("upper");
            for dir in [&upper, &index_dir.join("work")] {
                fs::create_dir_all(dir).unwrap_or_else(|e| panic!("mkdir {dir:?}: {e}"));
            }
            // The merged root shows the upper root's mode and owner; keep the real ones.
            copy_dir_attributes(&target, &upper);
            layers.push(Layer {
                target,
                upper,
                fresh: false,
            });
        }
        for fresh in FRESH_DIRS {
            let target = PathBuf::from(fresh);
            // A test that overlays /home (or /) keeps its overlay.
            if layers.iter().any(|l| target.starts_with(&l.target))
                || !fs::symlink_metadata(&target).is_ok_and(|m| m.is_dir())
            {
                continue;
            }
            let index_dir = state.path().join(layers.len().to_string());
            let upper = index_dir.join("upper");
            fs::create_dir_all(&upper).unwrap_or_else(|e| panic!("mkdir {upper:?}: {e}"));
            // An empty /home as a fresh install has it: 0755 root:root.
            fs::set_permissions(&upper, fs::Permissions::from_mode(0o755))
                .unwrap_or_else(|e| panic!("chmod {upper:?}: {e}"));
            rustix::fs::chown(&upper, Some(Uid::ROOT), Some(Gid::ROOT))
                .unwrap_or_else(|e| panic!("chown {upper:?}: {e}"));
            layers.push(Layer {
                target,
                upper,
                fresh: true,
            });
        }
        Sandbox { layers, state }
    }

    /// The directories actually overlaid (absolute), in mount order.
    pub fn layers(&self) -> Vec<&Path> {
        self.layers
            .iter()
            .filter(|l| !l.fresh)
            .map(|l| l.target.as_path())
            .collect()
    }

    /// The [`FRESH_DIRS`] this sandbox replaced with empty directories of its own.
    pub fn fresh_dirs(&self) -> Vec<&Path> {
        self.layers
            .iter()
            .filter(|l| l.fresh)
            .map(|l| l.target.as_path())
            .collect()
    }

    /// What the machine has at `path` *below* the sandbox's layer (its metadata), or
    /// `None`: nothing there, or `path` lies in a fresh directory, where the machine's
    /// entries do not show through.
    fn lower_metadata(&self, path: &Path) -> Option<fs::Metadata> {
        let (layer, _) = self.locate(path);
        if layer.fresh {
            return None;
        }
        fs::symlink_metadata(path).ok()
    }

    /// Where the upper layer keeps `path` (which must lie under an overlaid directory).
    /// Prefer the typed helpers; this is for assertions they do not cover.
    pub fn upper_path(&self, path: impl AsRef<Path>) -> PathBuf {
        let (layer, relative) = self.locate(path.as_ref());
        layer.upper.join(relative)
    }

    /// Finds the layer holding `path` and the path relative to it.
    fn locate(&self, path: &Path) -> (&Layer, PathBuf) {
        let path = normalise_absolute(path);
        for layer in &self.layers {
            if let Ok(relative) = path.strip_prefix(&layer.target) {
                assert!(
                    !relative.as_os_str().is_empty(),
                    "{path:?} is an overlaid directory itself; change something inside it"
                );
                return (layer, relative.to_path_buf());
            }
        }
        panic!(
            "{path:?} is not under an overlaid directory (layers: {:?})",
            self.layers()
        );
    }

    /// Creates the upper-layer directories leading to `path`, each with the mode and owner
    /// of the real directory it shadows (so a merged directory looks like the real one).
    /// Returns the upper-layer location of `path` itself.
    fn prepare_parents(&self, path: &Path) -> PathBuf {
        let (layer, relative) = self.locate(path);
        let mut host = layer.target.clone();
        let mut upper = layer.upper.clone();
        let mut parents: Vec<_> = relative.components().collect();
        parents.pop();
        for component in parents {
            host.push(component);
            upper.push(component);
            let host_meta = if layer.fresh {
                None
            } else {
                fs::symlink_metadata(&host).ok()
            };
            match &host_meta {
                Some(meta) if meta.file_type().is_symlink() => panic!(
                    "{host:?} is a symlink on this machine; give the sandbox the resolved path"
                ),
                _ => {}
            }
            match fs::symlink_metadata(&upper) {
                Ok(meta) if meta.is_dir() => continue,
                Ok(meta) if is_whiteout(&meta) => {
                    // Recreating a removed directory: it must not show the old contents.
                    fs::remove_file(&upper).unwrap_or_else(|e| panic!("remove {upper:?}: {e}"));
                    fs::create_dir(&upper).unwrap_or_else(|e| panic!("mkdir {upper:?}: {e}"));
                    make_opaque(&upper);
                }
                Ok(_) => panic!("{upper:?} exists in the sandbox and is not a directory"),
                Err(_) => {
                    fs::create_dir(&upper).unwrap_or_else(|e| panic!("mkdir {upper:?}: {e}"));
                }
            }
            if host_meta.is_some_and(|m| m.is_dir()) {
                copy_dir_attributes(&host, &upper);
            } else {
                // A directory the machine lacks: fixed attributes, whatever the umask.
                self.set_attributes(&upper, 0o755, 0, 0);
            }
        }
        layer.upper.join(relative)
    }

    /// Makes `path` (absolute) a regular file holding `bytes` inside the sandbox. It keeps
    /// the mode and owner of the real file when there is one, else 0644 root:root.
    pub fn write(&self, path: impl AsRef<Path>, bytes: impl AsRef<[u8]>) {
        let path = path.as_ref();
        let upper = self.prepare_parents(path);
        remove_any(&upper);
        fs::write(&upper, bytes.as_ref()).unwrap_or_else(|e| panic!("write {upper:?}: {e}"));
        let (mode, uid, gid) = match self.lower_metadata(path) {
            Some(meta) if meta.is_file() => (meta.mode() & 0o7777, meta.uid(), meta.gid()),
            _ => (0o644, 0, 0),
        };
        self.set_attributes(&upper, mode, uid, gid);
    }

    /// Makes `link` (absolute) a symlink to `target` inside the sandbox. `target` is stored
    /// as given (absolute or relative), exactly as `ln -s` would.
    pub fn symlink(&self, target: impl AsRef<Path>, link: impl AsRef<Path>) {
        let upper = self.prepare_parents(link.as_ref());
        remove_any(&upper);
        std::os::unix::fs::symlink(target.as_ref(), &upper)
            .unwrap_or_else(|e| panic!("symlink {upper:?}: {e}"));
    }

    /// Makes `path` absent inside the sandbox: drops what the sandbox holds there and, when
    /// the machine has something at `path`, hides it with an overlayfs whiteout (a 0/0
    /// character device in the upper layer).
    pub fn remove(&self, path: impl AsRef<Path>) {
        let path = path.as_ref();
        remove_any(&self.upper_path(path));
        // Parents are only made when a whiteout is needed, so removing a path that exists
        // nowhere leaves no trace.
        if self.lower_metadata(path).is_some() {
            let upper = self.prepare_parents(path);
            rustix::fs::mknodat(
                CWD,
                &upper,
                FileType::CharacterDevice,
                Mode::empty(),
                rustix::fs::makedev(0, 0),
            )
            .unwrap_or_else(|e| panic!("mknod whiteout {upper:?}: {e}"));
        }
    }

    /// Makes `path` a directory inside the sandbox (parents too). A directory the machine
    /// already has stays merged with it: its files remain visible.
    pub fn mkdir(&self, path: impl AsRef<Path>) {
        let path = path.as_ref();
        let upper = self.prepare_parents(path);
        match fs::symlink_metadata(&upper) {
            Ok(meta) if meta.is_dir() => return,
            Ok(_) => remove_any(&upper),
            Err(_) => {}
        }
        fs::create_dir(&upper).unwrap_or_else(|e| panic!("mkdir {upper:?}: {e}"));
        if self.lower_metadata(path).is_some_and(|m| m.is_dir()) {
            copy_dir_attributes(path, &upper);
        } else {
            // Whatever the machine has there (a file, a link) is replaced, not merged.
            make_opaque(&upper);
            self.set_attributes(&upper, 0o755, 0, 0);
        }
    }

    /// Makes `path` an *empty* directory inside the sandbox, hiding whatever the machine has
    /// there (an opaque overlayfs directory). The seed case S1 in one call:
    /// `sb.replace_with_empty_dir("/usr/local/openssl111/certs")`.
    pub fn replace_with_empty_dir(&self, path: impl AsRef<Path>) {
        let path = path.as_ref();
        let upper = self.prepare_parents(path);
        remove_any(&upper);
        fs::create_dir(&upper).unwrap_or_else(|e| panic!("mkdir {upper:?}: {e}"));
        make_opaque(&upper);
        if self.lower_metadata(path).is_some_and(|m| m.is_dir()) {
            copy_dir_attributes(path, &upper);
        } else {
            self.set_attributes(&upper, 0o755, 0, 0);
        }
    }

    /// Sets the permission bits of `path` inside the sandbox (copying the machine's file or
    /// directory into the upper layer first if the sandbox has not changed it yet).
    pub fn chmod(&self, path: impl AsRef<Path>, mode: u32) {
        let upper = self.copy_up(path.as_ref());
        fs::set_permissions(&upper, fs::Permissions::from_mode(mode))
            .unwrap_or_else(|e| panic!("chmod {upper:?}: {e}"));
    }

    /// Sets the owner of `path` inside the sandbox (copy-up as for [`Sandbox::chmod`]);
    /// does not follow a symlink at `path`.
    pub fn chown(&self, path: impl AsRef<Path>, uid: u32, gid: u32) {
        let upper = self.copy_up(path.as_ref());
        rustix::fs::chownat(
            CWD,
            &upper,
            Some(Uid::from_raw(uid)),
            Some(Gid::from_raw(gid)),
            rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
        )
        .unwrap_or_else(|e| panic!("chown {upper:?}: {e}"));
    }

    /// Ensures the upper layer holds `path`, copying the machine's entry up if needed, the
    /// way overlayfs itself copies up on first change. Directories are copied without their
    /// contents (they stay merged).
    fn copy_up(&self, path: &Path) -> PathBuf {
        let upper = self.prepare_parents(path);
        match fs::symlink_metadata(&upper) {
            Ok(meta) if is_whiteout(&meta) => panic!("{path:?} was removed in the sandbox"),
            Ok(_) => return upper,
            Err(_) => {}
        }
        let meta = self.lower_metadata(path).unwrap_or_else(|| {
            panic!("{path:?} exists neither in the sandbox nor on the machine below it")
        });
        if meta.is_dir() {
            fs::create_dir(&upper).unwrap_or_else(|e| panic!("mkdir {upper:?}: {e}"));
            copy_dir_attributes(path, &upper);
        } else if meta.file_type().is_symlink() {
            let target = fs::read_link(path).unwrap_or_else(|e| panic!("readlink {path:?}: {e}"));
            std::os::unix::fs::symlink(target, &upper)
                .unwrap_or_else(|e| panic!("symlink {upper:?}: {e}"));
        } else if meta.is_file() {
            fs::copy(path, &upper).unwrap_or_else(|e| panic!("copy {path:?}: {e}"));
            self.set_attributes(&upper, meta.mode() & 0o7777, meta.uid(), meta.gid());
        } else {
            panic!("{path:?} is neither file, directory nor symlink; cannot copy it up");
        }
        upper
    }

    /// chmod + chown of an upper-layer entry, in the order that keeps setuid bits.
    fn set_attributes(&self, upper: &Path, mode: u32, uid: u32, gid: u32) {
        rustix::fs::chown(upper, Some(Uid::from_raw(uid)), Some(Gid::from_raw(gid)))
            .unwrap_or_else(|e| panic!("chown {upper:?}: {e}"));
        fs::set_permissions(upper, fs::Permissions::from_mode(mode))
            .unwrap_or_else(|e| panic!("chmod {upper:?}: {e}"));
    }

    /// The bytes of `path` if the sandbox holds a regular file there (written by the test or
    /// created/modified by a command that ran inside). `None` if the sandbox did not change
    /// `path`, removed it, or made it something other than a regular file.
    pub fn read(&self, path: impl AsRef<Path>) -> Option<Vec<u8>> {
        let upper = self.upper_path(path);
        match fs::symlink_metadata(&upper) {
            Ok(meta) if meta.is_file() => {
                Some(fs::read(&upper).unwrap_or_else(|e| panic!("read {upper:?}: {e}")))
            }
            _ => None,
        }
    }

    /// The target of `path` if the sandbox holds a symlink there.
    pub fn read_link(&self, path: impl AsRef<Path>) -> Option<PathBuf> {
        fs::read_link(self.upper_path(path)).ok()
    }

    /// True if `path` is hidden by a whiteout (removed inside the sandbox).
    pub fn is_removed(&self, path: impl AsRef<Path>) -> bool {
        fs::symlink_metadata(self.upper_path(path)).is_ok_and(|meta| is_whiteout(&meta))
    }

    /// Every absolute path the sandbox changed: files, symlinks, whiteouts and directories
    /// it created, sorted. Directories that merely hold changes for a directory the machine
    /// has (copy-ups of parents) are left out, so "a dry run changed nothing" is
    /// `assert!(sb.changed_paths().is_empty())`.
    pub fn changed_paths(&self) -> Vec<PathBuf> {
        let mut changed = Vec::new();
        for layer in &self.layers {
            for entry in walkdir::WalkDir::new(&layer.upper).min_depth(1) {
                let entry = entry.unwrap_or_else(|e| panic!("walk {:?}: {e}", layer.upper));
                let relative = entry
                    .path()
                    .strip_prefix(&layer.upper)
                    .expect("walkdir yields paths under its root");
                let inside = layer.target.join(relative);
                let merged_dir = entry.file_type().is_dir()
                    && !layer.fresh
                    && fs::symlink_metadata(&inside).is_ok_and(|m| m.is_dir());
                if !merged_dir {
                    changed.push(inside);
                }
            }
        }
        changed.sort();
        changed
    }

    /// `path` exactly as a process inside the sandbox reads it (following symlinks,
    /// whiteouts and opaque directories), by running `cat` inside. `None` if it cannot be
    /// read there.
    pub fn read_inside(&self, path: impl AsRef<Path>) -> Option<Vec<u8>> {
        let output = self.run(
            &[
                OsStr::new("/bin/cat"),
                OsStr::new("--"),
                path.as_ref().as_os_str(),
            ],
            &[],
        );
        output.status.success().then_some(output.stdout)
    }

    /// A `Command` that runs `argv` inside the sandbox with [`BASE_ENV`] + `env`, working
    /// directory `/`. For spawning (stdin, kill -9, timeouts); [`Sandbox::run`] is the
    /// common case and additionally catches sandbox setup failures.
    pub fn command<S: AsRef<OsStr>>(
        &self,
        argv: impl IntoIterator<Item = S>,
        env: &[(&str, &str)],
    ) -> Command {
        let argv: Vec<OsString> = argv.into_iter().map(|a| a.as_ref().to_owned()).collect();
        assert!(!argv.is_empty(), "Sandbox::command needs a program to run");
        let mut command = Command::new(unshare_program());
        command
            .args(["--mount", "--propagation", "private", "--", "/bin/sh", "-c"])
            .arg(SETUP_SCRIPT)
            .arg("trustsync-sandbox") // $0
            .arg(self.state.path()); // $1
        for layer in &self.layers {
            if layer.fresh {
                command.arg("--fresh");
            }
            command.arg(&layer.target);
        }
        command
            .arg("--")
            .args(&argv)
            .env_clear()
            .current_dir("/")
            .stdin(Stdio::null());
        for (key, value) in BASE_ENV.iter().chain(env) {
            command.env(key, value);
        }
        command
    }

    /// Runs `argv` inside the sandbox and waits for it; `env` is added to [`BASE_ENV`].
    /// Panics if the sandbox itself could not be set up, so that a test expecting the
    /// command to fail cannot pass because of a mount error.
    pub fn run<S: AsRef<OsStr>>(&self, argv: &[S], env: &[(&str, &str)]) -> Output {
        let output = self
            .command(argv, env)
            .output()
            .unwrap_or_else(|e| panic!("cannot start unshare: {e}"));
        let stderr = String::from_utf8_lossy(&output.stderr);
        if output.status.code() == Some(SETUP_FAILED_STATUS) && stderr.contains(SETUP_FAILED_MARKER)
        {
            panic!("sandbox setup failed: {stderr}");
        }
        output
    }

    /// Makes a real user inside the sandbox with the machine's own `useradd`
    /// (`--create-home --user-group`): the entries land in the sandbox's `/etc/passwd`,
    /// `/etc/group` and `/etc/shadow`, the home in its fresh `/home`, so the user exists
    /// only in this sandbox. `name` must be a plain login name (`[a-z][a-z0-9-]*`).
    /// Panics when `useradd` fails; needs `/etc` overlaid (as [`DEFAULT_LAYERS`] does).
    #[track_caller]
    pub fn add_user(&self, name: &str) -> SandboxUser {
        assert!(
            name.starts_with(|c: char| c.is_ascii_lowercase())
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
            "add_user: {name:?} is not a plain login name"
        );
        assert!(
            self.layers().contains(&Path::new("/etc")),
            "add_user needs /etc overlaid, or useradd would change the machine"
        );
        let home = format!("/home/{name}");
        let out = self.run(
            &[
                "/usr/sbin/useradd",
                "--create-home",
                "--home-dir",
                &home,
                "--user-group",
                "--shell",
                "/bin/sh",
                "--",
                name,
            ],
            &[],
        );
        assert!(
            out.status.success(),
            "useradd {name}: {}",
            super::report::show(&out)
        );
        let id = |flag: &str| -> u32 {
            let out = self.run(&["/usr/bin/id", flag, "--", name], &[]);
            assert!(
                out.status.success(),
                "id {flag} {name}: {}",
                super::report::show(&out)
            );
            super::report::text(&out.stdout)
                .trim()
                .parse()
                .unwrap_or_else(|e| panic!("id {flag} {name}: {e}"))
        };
        SandboxUser {
            name: name.to_string(),
            uid: id("-u"),
            gid: id("-g"),
            home,
        }
    }

    /// Runs `argv` inside the sandbox as `user` (real uid, gid and supplementary groups,
    /// through the machine's `setpriv`), with `HOME`, `USER` and `LOGNAME` set to the
    /// user's; `env` is added on top. For "another user changed this file" in a test.
    pub fn run_as<S: AsRef<OsStr>>(
        &self,
        user: &SandboxUser,
        argv: &[S],
        env: &[(&str, &str)],
    ) -> Output {
        let uid = user.uid.to_string();
        let gid = user.gid.to_string();
        let mut full: Vec<OsString> = ["/usr/bin/setpriv", "--reuid", &uid, "--regid", &gid]
            .iter()
            .map(OsString::from)
            .collect();
        full.extend(["--init-groups", "--"].map(OsString::from));
        full.extend(argv.iter().map(|a| a.as_ref().to_owned()));
        let mut all_env = vec![
            ("HOME", user.home.as_str()),
            ("USER", user.name.as_str()),
            ("LOGNAME", user.name.as_str()),
        ];
        all_env.extend_from_slice(env);
        self.run(&full, &all_env)
    }

    /// Runs `argv` inside the sandbox through the machine's real `sudo -u USER` (so sudo's
    /// own environment and PATH policy apply, as when an administrator does it). Panics if
    /// `sudo` is not installed (scripts/setup.sh installs it).
    pub fn sudo_as<S: AsRef<OsStr>>(
        &self,
        user: &SandboxUser,
        argv: &[S],
        env: &[(&str, &str)],
    ) -> Output {
        assert!(
            Path::new("/usr/bin/sudo").exists(),
            "/usr/bin/sudo is missing; run scripts/setup.sh"
        );
        let mut full: Vec<OsString> = ["/usr/bin/sudo", "--non-interactive", "--user"]
            .iter()
            .map(OsString::from)
            .collect();
        full.push(OsString::from(&user.name));
        full.push(OsString::from("--"));
        full.extend(argv.iter().map(|a| a.as_ref().to_owned()));
        self.run(&full, env)
    }

    /// Copies the machine's directory `host` into the sandbox at `inside` (files with their
    /// mode, symlinks as they are, directories; owner root), leaving out the top-level
    /// entries `skip_top` says to skip. For planting a real package tree, e.g. a cached
    /// venv's site-packages, at a sandbox path.
    pub fn copy_tree(&self, host: &Path, inside: &str, skip_top: impl Fn(&OsStr) -> bool) {
        self.mkdir(inside);
        let walk = walkdir::WalkDir::new(host)
            .min_depth(1)
            .into_iter()
            .filter_entry(|e| e.depth() != 1 || !skip_top(e.file_name()));
        for entry in walk {
            let entry = entry.unwrap_or_else(|e| panic!("walk {host:?}: {e}"));
            let relative = entry.path().strip_prefix(host).expect("under the root");
            let target = Path::new(inside).join(relative);
            let kind = entry.file_type();
            if kind.is_dir() {
                self.mkdir(&target);
            } else if kind.is_symlink() {
                let link = fs::read_link(entry.path())
                    .unwrap_or_else(|e| panic!("readlink {:?}: {e}", entry.path()));
                self.symlink(link, &target);
            } else if kind.is_file() {
                let bytes = fs::read(entry.path())
                    .unwrap_or_else(|e| panic!("read {:?}: {e}", entry.path()));
                self.write(&target, bytes);
                let mode = entry.metadata().map(|m| m.mode() & 0o777).unwrap_or(0o644);
                self.chmod(&target, mode);
            }
        }
    }

    /// `python3 -m venv --without-pip VENV` inside the sandbox (asserted to succeed); the
    /// venv's site-packages directory (`purelib`), where a test plants its packages.
    #[track_caller]
    pub fn make_venv(&self, venv: &str) -> String {
        let out = self.run(
            &["/usr/bin/python3", "-m", "venv", "--without-pip", venv],
            &[],
        );
        assert!(out.status.success(), "{}", super::report::show(&out));
        let python = format!("{venv}/bin/python3");
        let purelib = "import sysconfig; print(sysconfig.get_paths()['purelib'])";
        let out = self.run(&[python.as_str(), "-c", purelib], &[]);
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    /// Runs the `trustsync` under test as `trustsync ARGS --json` inside the sandbox: its
    /// JSON document and the raw output.
    #[track_caller]
    pub fn trustsync_json(&self, args: &[&str]) -> (serde_json::Value, Output) {
        let mut argv = vec![env!("CARGO_BIN_EXE_trustsync")];
        argv.extend_from_slice(args);
        argv.push("--json");
        let out = self.run(&argv, &[]);
        (super::certs::json(&out), out)
    }
}

/// Where `scripts/build-private-openssl.sh` caches the S1 OpenSSL build.
pub fn private_openssl_cache() -> PathBuf {
    let root = match std::env::var_os("TRUSTSYNC_CACHE") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| "/root".into()))
            .join(".cache/trustsync"),
    };
    root.join("openssl111/bin/openssl")
}

/// Path of the private OpenSSL inside a sandbox after [`install_private_openssl`].
pub const PRIVATE_OPENSSL: &str = "/usr/local/openssl111/bin/openssl";
/// Its OPENSSLDIR, compiled in; `certs/` there is empty (seed case S1).
pub const PRIVATE_OPENSSL_DIR: &str = "/usr/local/openssl111";

/// Installs the cached private OpenSSL (seed case S1) into the sandbox: the binary at
/// [`PRIVATE_OPENSSL`], an empty `/usr/local/openssl111/certs` and `private/`, no
/// `cert.pem` — hiding anything the machine itself has under `/usr/local/openssl111`.
///
/// Returns false after a loud `SKIPPED:` message when the cache is missing (run
/// `scripts/build-private-openssl.sh`); panics instead when `CI=true`.
pub fn install_private_openssl(sandbox: &Sandbox) -> bool {
    let cached = private_openssl_cache();
    let binary = match fs::read(&cached) {
        Ok(bytes) => bytes,
        Err(e) => {
            skip_or_panic(&format!(
                "private OpenSSL not built ({cached:?}: {e}); run scripts/build-private-openssl.sh"
            ));
            return false;
        }
    };
    sandbox.replace_with_empty_dir(PRIVATE_OPENSSL_DIR);
    sandbox.write(PRIVATE_OPENSSL, binary);
    sandbox.chmod(PRIVATE_OPENSSL, 0o755);
    sandbox.mkdir(format!("{PRIVATE_OPENSSL_DIR}/certs"));
    sandbox.mkdir(format!("{PRIVATE_OPENSSL_DIR}/private"));
    sandbox.chmod(format!("{PRIVATE_OPENSSL_DIR}/private"), 0o700);
    true
}

/// The S1 client: the private OpenSSL's `s_client` to a loopback server on `port`,
/// verifying with its default trust (`-verify_return_error`: a failed verification fails
/// the command, with OpenSSL's reason on stderr).
pub fn private_openssl_s_client(sandbox: &Sandbox, port: u16) -> Output {
    let connect = format!("127.0.0.1:{port}");
    sandbox.run(
        &[
            PRIVATE_OPENSSL,
            "s_client",
            "-connect",
            &connect,
            "-servername",
            "localhost",
            "-verify_return_error",
            "-brief",
        ],
        &[],
    )
}

/// Makes the sandbox's OS store trust `pem` the way an administrator does on Debian and
/// Ubuntu (the seed case S2 starting point): writes
/// `/usr/local/share/ca-certificates/<name>.crt` and runs the real `update-ca-certificates`
/// inside, which adds the `.pem` link, the `HASH.N` link and the bundle entry (and runs its
/// hooks, all inside the sandbox). `name` is a plain file stem (letters, digits, `.-_`).
/// Panics if the tool is missing or fails; returns its output ("N added, M removed").
pub fn add_os_ca(sandbox: &Sandbox, name: &str, pem: &str) -> Output {
    assert!(
        !name.is_empty()
            && !name.starts_with('.')
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)),
        "add_os_ca: {name:?} is not a plain file stem"
    );
    sandbox.write(format!("/usr/local/share/ca-certificates/{name}.crt"), pem);
    let output = sandbox.run(&["update-ca-certificates"], &[]);
    assert!(
        output.status.success(),
        "update-ca-certificates failed inside the sandbox ({}): {}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}
