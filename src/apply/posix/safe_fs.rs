//! File-system primitives that are safe to run as root against directories other users may
//! influence: a component-by-component directory walk that refuses unexpected symlinks, an
//! inspection of what is at a target, and atomic writes (temp file in the same directory,
//! fsync, rename, fsync the directory).
//!
//! Why hand-written on `rustix` rather than `std::fs`: `std::fs` resolves whole paths, so a
//! symlink swapped into a parent directory between check and write would redirect a root
//! write anywhere. Here every directory is opened relative to the previous one with
//! `O_NOFOLLOW|O_DIRECTORY`, every write happens through that directory's file descriptor,
//! and symlinks met on the way are only followed when the rule below allows them.
//!
//! Symlink rule for directory components (the "usrmerge rule"): a symlinked component such as
//! Debian's `/lib -> usr/lib` is followed only when the link is owned by root (or by the
//! user running trustsync) and sits in a directory owned by root (or that user) that neither
//! group nor others can write; nobody else could have planted or swapped it. Absolute link
//! targets are resolved inside [`Context::root`], never on the host. The final component of a
//! target is never followed: the engine inspects it with `AT_SYMLINK_NOFOLLOW`.
#![forbid(unsafe_code)]

use std::ffi::{OsStr, OsString};
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use rustix::fs::{self as rfs, Access, AtFlags, FileType, FlockOperation, Gid, Mode, OFlags, Uid};
use rustix::io::Errno;
use sha2::{Digest, Sha256};

use super::{ApplyError, Context, Result};

/// Prefix of the temp names used for atomic replacement; crash recovery removes leftovers.
pub const TEMP_PREFIX: &str = ".trustsync-tmp-";

/// Digest string for "nothing at this path".
pub const ABSENT: &str = "absent";
/// Digest string for "a directory is at this path".
pub const DIR: &str = "dir";

/// Effective uid is 0: the strict root-only rules apply.
pub fn running_as_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Digest string of a symlink: its link text, hashed (a link is identified by where it points).
pub fn symlink_digest(link_target: &Path) -> String {
    format!("symlink:{}", sha256_hex(link_target.as_os_str().as_bytes()))
}

/// What is at a path right now, as seen without following a final symlink.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetState {
    Absent,
    File {
        mode: u32,
        uid: u32,
        gid: u32,
        digest: String,
    },
    Symlink {
        target: PathBuf,
        uid: u32,
        gid: u32,
    },
    Dir {
        mode: u32,
        uid: u32,
        gid: u32,
    },
    /// A device, fifo or socket: never ours, never touched.
    Other,
}

impl TargetState {
    /// The digest string stored in plans and the journal.
    pub fn digest(&self) -> String {
        match self {
            TargetState::Absent => ABSENT.to_string(),
            TargetState::File { digest, .. } => digest.clone(),
            TargetState::Symlink { target, .. } => symlink_digest(target),
            TargetState::Dir { .. } => DIR.to_string(),
            TargetState::Other => "other".to_string(),
        }
    }
}

/// Outcome of walking to a directory: the directory, opened without following an
/// unexpected symlink, or the logical path of the first component that does not exist.
pub use trustsync_platform::read::DirWalk as Walk;

/// Whether symlinked directory components must pass the usrmerge rule (`Strict`: any write,
/// and the reads that decide a write) or may be followed freely (`FollowAny`: reading a
/// certificate a hash link points to, which only feeds a digest).
pub use trustsync_platform::read::LinkPolicy as SymlinkPolicy;

/// Opens the root directory the whole run works under.
pub fn open_root(ctx: &Context) -> Result<OwnedFd> {
    rfs::open(
        &ctx.root,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| ApplyError::io(&ctx.root, e))
}

/// Walks `logical_dir` (absolute, as seen inside the root) one component at a time: the
/// walk every read under `--root` uses too (`trustsync_platform::read`), so reads and
/// writes cannot disagree about where a path leads.
pub fn walk_dir(
    ctx: &Context,
    root_fd: &OwnedFd,
    logical_dir: &Path,
    policy: SymlinkPolicy,
) -> Result<Walk> {
    use trustsync_platform::read::{walk_dir, WalkErrorKind};
    walk_dir(root_fd, logical_dir, policy).map_err(|e| {
        let host = ctx.host_path(&e.at);
        match e.kind {
            WalkErrorKind::UntrustedSymlink => ApplyError::UnexpectedSymlink { path: host },
            WalkErrorKind::Loop => ApplyError::io(host, Errno::LOOP),
            WalkErrorKind::Io(errno) => ApplyError::io(host, errno),
        }
    })
}

/// Splits an absolute logical target into its parent directory and final name.
pub fn split_target(target: &Path) -> Result<(PathBuf, OsString)> {
    let invalid = |what: &str| ApplyError::InvalidAction {
        path: target.to_path_buf(),
        what: what.to_string(),
    };
    if !target.is_absolute() {
        return Err(invalid("target must be an absolute path"));
    }
    if target
        .components()
        .any(|c| matches!(c, Component::ParentDir | Component::CurDir))
    {
        return Err(invalid("target must not contain `.` or `..` components"));
    }
    let name = target
        .file_name()
        .ok_or_else(|| invalid("target has no file name"))?;
    let parent = target.parent().unwrap_or(Path::new("/"));
    Ok((parent.to_path_buf(), name.to_os_string()))
}

/// Looks at `name` in `dir` without following it; returns its state and, for a regular file,
/// its bytes (opened `O_NOFOLLOW|O_NONBLOCK` so a swapped-in symlink or fifo cannot redirect
/// or block the read).
pub fn inspect(dir: &OwnedFd, name: &OsStr) -> std::io::Result<(TargetState, Option<Vec<u8>>)> {
    inspect_tries(dir, name, 8)
}

/// [`inspect`], looking again (at most `tries` times) when the entry is swapped between
/// stat and open: someone racing it forever gets an error, not a stack overflow.
fn inspect_tries(
    dir: &OwnedFd,
    name: &OsStr,
    tries: u32,
) -> std::io::Result<(TargetState, Option<Vec<u8>>)> {
    let stat = match rfs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(s) => s,
        Err(Errno::NOENT) => return Ok((TargetState::Absent, None)),
        Err(e) => return Err(e.into()),
    };
    let (mode, uid, gid) = (perm_bits(stat.st_mode), stat.st_uid, stat.st_gid);
    match FileType::from_raw_mode(stat.st_mode) {
        FileType::RegularFile => {
            let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
            let fd = match rfs::openat(dir, name, flags, Mode::empty()) {
                Ok(fd) => fd,
                // Swapped between stat and open: look again.
                Err(Errno::LOOP | Errno::NOENT) if tries > 0 => {
                    return inspect_tries(dir, name, tries - 1)
                }
                Err(e) => return Err(e.into()),
            };
            let st = rfs::fstat(&fd)?;
            if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile {
                return Ok((TargetState::Other, None));
            }
            let mut bytes = Vec::new();
            std::fs::File::from(fd).read_to_end(&mut bytes)?;
            Ok((
                TargetState::File {
                    mode: perm_bits(st.st_mode),
                    uid: st.st_uid,
                    gid: st.st_gid,
                    digest: sha256_hex(&bytes),
                },
                Some(bytes),
            ))
        }
        FileType::Symlink => {
            let link = rfs::readlinkat(dir, name, Vec::new())?;
            Ok((
                TargetState::Symlink {
                    target: PathBuf::from(OsStr::from_bytes(link.to_bytes())),
                    uid,
                    gid,
                },
                None,
            ))
        }
        FileType::Directory => Ok((TargetState::Dir { mode, uid, gid }, None)),
        _ => Ok((TargetState::Other, None)),
    }
}

/// Refuses a directory the running user must not write into, before anything is written:
/// as root, one owned by another user or writable by group/others (unless
/// `allow_user_dirs`); for anyone, one the effective user cannot write (`sudo` needed) or one
/// on a read-only file system.
pub fn check_dir_writable(ctx: &Context, dir: &OwnedFd, host_dir: &Path) -> Result<()> {
    check_dir_writable_with(ctx, dir, host_dir, ctx.allow_user_dirs)
}

/// [`check_dir_writable`] with the user-dir permission given explicitly (undo passes the one
/// recorded with the entries it restores).
pub fn check_dir_writable_with(
    ctx: &Context,
    dir: &OwnedFd,
    host_dir: &Path,
    allow_user_dirs: bool,
) -> Result<()> {
    let _ = ctx;
    let stat = rfs::fstat(dir).map_err(|e| ApplyError::io(host_dir, e))?;
    if running_as_root() && !allow_user_dirs {
        if stat.st_uid != 0 {
            return Err(ApplyError::UserControlledDir {
                dir: host_dir.to_path_buf(),
                why: format!("it is owned by uid {}", stat.st_uid),
            });
        }
        if stat.st_mode & 0o022 != 0 {
            return Err(ApplyError::UserControlledDir {
                dir: host_dir.to_path_buf(),
                why: format!(
                    "group or others can write it (mode {:04o})",
                    stat.st_mode & 0o7777
                ),
            });
        }
    }
    match rfs::accessat(
        dir,
        ".",
        Access::WRITE_OK | Access::EXEC_OK,
        AtFlags::EACCESS,
    ) {
        Ok(()) => Ok(()),
        Err(Errno::ACCESS | Errno::PERM) => Err(ApplyError::NeedsRoot {
            dir: host_dir.to_path_buf(),
        }),
        Err(Errno::ROFS) => Err(ApplyError::ReadOnly {
            dir: host_dir.to_path_buf(),
        }),
        Err(e) => Err(ApplyError::io(host_dir, e)),
    }
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

fn temp_name() -> OsString {
    static PID: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    let pid = *PID.get_or_init(std::process::id);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    OsString::from(format!(
        "{TEMP_PREFIX}{pid}-{}-{nanos}",
        TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ))
}

/// Creates a fresh, exclusive temp file in `dir` (never follows or reuses an existing name).
fn create_temp(dir: &OwnedFd) -> std::io::Result<(OwnedFd, OsString)> {
    loop {
        let name = temp_name();
        let flags =
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        match rfs::openat(dir, name.as_os_str(), flags, Mode::from_raw_mode(0o600)) {
            Ok(fd) => return Ok((fd, name)),
            Err(Errno::EXIST) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

/// When to fsync the directory after an atomic rename, mkdir or unlink.
///
/// `Now` for standalone writes (the journal). `Deferred` lets a run of many changes fsync
/// each touched directory once before it records the run as complete (see the engine): until
/// then a power loss may undo a rename, which leaves the path whole-old, and recovery drops
/// the entry. File *contents* are always fsynced before the rename, so a rename that
/// survives never exposes an empty or partial file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirSync {
    Now,
    Deferred,
}

/// Whether an atomic placement may replace what is at the name.
///
/// `CreateNew` is used when the plan says the target is absent: the kernel then refuses
/// (`EEXIST`) if anything appeared there since, closing the last check-to-write window
/// (`RENAME_NOREPLACE`, or `symlinkat` straight to the name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    CreateNew,
    Replace,
}

/// How [`write_atomic`] and [`symlink_atomic`] place their result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteOptions {
    /// uid/gid to give the new entry (restoring a previous owner); `None` keeps the runner's.
    pub owner: Option<(u32, u32)>,
    pub placement: Placement,
    pub sync: DirSync,
}

/// Atomically puts a regular file with `contents`, `mode` and (if given) `owner` at `name`:
/// temp file in the same directory, write, chown/chmod, fsync, rename over `name`, fsync the
/// directory. `staged` runs between the fsync and the rename (progress reporting). At every
/// instant `name` is either the old entry or the complete new file.
pub fn write_atomic(
    dir: &OwnedFd,
    name: &OsStr,
    contents: &[u8],
    mode: u32,
    options: WriteOptions,
    staged: &mut dyn FnMut(),
) -> std::io::Result<()> {
    let WriteOptions {
        owner,
        placement,
        sync,
    } = options;
    let (fd, temp) = create_temp(dir)?;
    let result = (|| -> std::io::Result<()> {
        let mut file = std::fs::File::from(fd);
        file.write_all(contents)?;
        if let Some((uid, gid)) = owner {
            chown_if_needed(&file, uid, gid)?;
        }
        rfs::fchmod(&file, mode_from_bits(mode))?;
        file.sync_all()?;
        drop(file);
        staged();
        rename_into_place(dir, &temp, name, placement)
    })();
    if let Err(e) = result {
        let _ = rfs::unlinkat(dir, temp.as_os_str(), AtFlags::empty());
        return Err(e);
    }
    if sync == DirSync::Now {
        rfs::fsync(dir)?;
    }
    Ok(())
}

fn rename_into_place(
    dir: &OwnedFd,
    temp: &OsStr,
    name: &OsStr,
    placement: Placement,
) -> std::io::Result<()> {
    match placement {
        Placement::Replace => Ok(rfs::renameat(dir, temp, dir, name)?),
        Placement::CreateNew => {
            match rfs::renameat_with(dir, temp, dir, name, rfs::RenameFlags::NOREPLACE) {
                // File systems without RENAME_NOREPLACE: check, then rename (the engine has
                // re-checked the digest just before, so the window stays microseconds).
                Err(Errno::INVAL | Errno::NOSYS) => {
                    match rfs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
                        Err(Errno::NOENT) => Ok(rfs::renameat(dir, temp, dir, name)?),
                        Ok(_) => Err(Errno::EXIST.into()),
                        Err(e) => Err(e.into()),
                    }
                }
                other => Ok(other?),
            }
        }
    }
}

fn chown_if_needed(file: &std::fs::File, uid: u32, gid: u32) -> std::io::Result<()> {
    let st = rfs::fstat(file)?;
    if st.st_uid != uid || st.st_gid != gid {
        rfs::fchown(file, Some(Uid::from_raw(uid)), Some(Gid::from_raw(gid)))?;
    }
    Ok(())
}

/// Atomically points `name` at `link_target`: a symlink under a temp name, optional lchown,
/// rename over `name`, fsync the directory.
pub fn symlink_atomic(
    dir: &OwnedFd,
    name: &OsStr,
    link_target: &Path,
    options: WriteOptions,
    staged: &mut dyn FnMut(),
) -> std::io::Result<()> {
    let WriteOptions {
        owner,
        placement,
        sync,
    } = options;
    if placement == Placement::CreateNew && owner.is_none() {
        // A symlink appears whole in one syscall, which fails if the name exists: no temp.
        staged();
        rfs::symlinkat(link_target.as_os_str(), dir, name)?;
        if sync == DirSync::Now {
            rfs::fsync(dir)?;
        }
        return Ok(());
    }
    let temp = loop {
        let temp = temp_name();
        match rfs::symlinkat(link_target.as_os_str(), dir, temp.as_os_str()) {
            Ok(()) => break temp,
            Err(Errno::EXIST) => continue,
            Err(e) => return Err(e.into()),
        }
    };
    let result = (|| -> std::io::Result<()> {
        if let Some((uid, gid)) = owner {
            let st = rfs::statat(dir, temp.as_os_str(), AtFlags::SYMLINK_NOFOLLOW)?;
            if st.st_uid != uid || st.st_gid != gid {
                rfs::chownat(
                    dir,
                    temp.as_os_str(),
                    Some(Uid::from_raw(uid)),
                    Some(Gid::from_raw(gid)),
                    AtFlags::SYMLINK_NOFOLLOW,
                )?;
            }
        }
        staged();
        rename_into_place(dir, &temp, name, placement)
    })();
    if let Err(e) = result {
        let _ = rfs::unlinkat(dir, temp.as_os_str(), AtFlags::empty());
        return Err(e);
    }
    if sync == DirSync::Now {
        rfs::fsync(dir)?;
    }
    Ok(())
}

/// Creates directory `name` with exactly `mode` (not masked by the umask).
pub fn make_dir(dir: &OwnedFd, name: &OsStr, mode: u32, sync: DirSync) -> std::io::Result<()> {
    rfs::mkdirat(dir, name, mode_from_bits(mode))?;
    let fd = rfs::openat(
        dir,
        name,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    rfs::fchmod(&fd, mode_from_bits(mode))?;
    if sync == DirSync::Now {
        rfs::fsync(dir)?;
    }
    Ok(())
}

/// Removes `name` (a file or symlink, or an empty directory when `is_dir`).
pub fn remove_entry(
    dir: &OwnedFd,
    name: &OsStr,
    is_dir: bool,
    sync: DirSync,
) -> std::io::Result<()> {
    let flags = if is_dir {
        AtFlags::REMOVEDIR
    } else {
        AtFlags::empty()
    };
    rfs::unlinkat(dir, name, flags)?;
    if sync == DirSync::Now {
        rfs::fsync(dir)?;
    }
    Ok(())
}

/// Removes temp files a killed run left in `dir` (names starting with [`TEMP_PREFIX`]).
pub fn remove_stale_temps(dir: &OwnedFd) -> std::io::Result<usize> {
    let listing = rfs::Dir::read_from(dir)?;
    let mut removed = 0;
    for entry in listing {
        let entry = entry?;
        let name = entry.file_name().to_bytes();
        if name.starts_with(TEMP_PREFIX.as_bytes()) {
            let name = OsStr::from_bytes(name).to_os_string();
            match rfs::unlinkat(dir, name.as_os_str(), AtFlags::empty()) {
                Ok(()) | Err(Errno::NOENT) => removed += 1,
                Err(e) => return Err(e.into()),
            }
        }
    }
    if removed > 0 {
        rfs::fsync(dir)?;
    }
    Ok(removed)
}

/// Names in `dir` (excluding `.` and `..`).
pub fn list_dir(dir: &OwnedFd) -> std::io::Result<Vec<OsString>> {
    let mut names = Vec::new();
    for entry in rfs::Dir::read_from(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_bytes();
        if name != b"." && name != b".." {
            names.push(OsStr::from_bytes(name).to_os_string());
        }
    }
    Ok(names)
}

/// Takes or tries an exclusive `flock` on `fd`.
pub fn flock_exclusive(fd: &OwnedFd, wait: bool) -> std::io::Result<bool> {
    let op = if wait {
        FlockOperation::LockExclusive
    } else {
        FlockOperation::NonBlockingLockExclusive
    };
    match rfs::flock(fd, op) {
        Ok(()) => Ok(true),
        Err(Errno::WOULDBLOCK) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Counts PEM certificates in `bytes` (the bundle-shrink guard).
pub fn count_certificates(bytes: &[u8]) -> usize {
    const MARKER: &[u8] = b"-----BEGIN CERTIFICATE-----";
    bytes.windows(MARKER.len()).filter(|w| *w == MARKER).count()
}

/// Permission bits of a `st_mode`, as trustsync stores modes (`u32` on every OS; the
/// platform's `mode_t` is `u16` on macOS, hence the conversion that is a no-op on Linux).
#[allow(clippy::useless_conversion)]
pub(crate) fn perm_bits(st_mode: rustix::fs::RawMode) -> u32 {
    u32::from(st_mode) & 0o7777
}

/// A stored mode back to rustix's `Mode` (bits fit any `mode_t` after the mask).
#[allow(clippy::unnecessary_cast)]
pub(crate) fn mode_from_bits(bits: u32) -> Mode {
    Mode::from_raw_mode((bits & 0o7777) as rustix::fs::RawMode)
}
