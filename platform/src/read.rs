//! Bounded reads of files other users choose, and the in-root walk `--root DIR` reads and
//! the fix engine's writes share.
//!
//! Why it exists: trustsync runs as root and reads CA files, bundles, hashed directories and
//! whatever a trust variable names, and with `--root DIR` a whole tree (a container image)
//! that may hold hostile symlinks. A plain `std::fs::read` of such a path blocks forever on
//! a FIFO, reads `/dev/zero` until memory runs out, opens devices (opening some, like a
//! watchdog, has effects) and follows a tree's `etc/ssl/certs/ca-certificates.crt ->
//! /etc/shadow` out of the tree. Here:
//!
//! - every path is resolved by [`walk`]: one component at a time from a descriptor of the
//!   root, each opened with `O_NOFOLLOW`, symlinks resolved *inside* the root (an absolute
//!   target starts again at the root, `..` never climbs above it), at most
//!   [`MAX_SYMLINK_HOPS`] links per path. A live-system read is the same walk with root `/`,
//!   which is what the kernel does, minus `/proc`'s magic links;
//! - the final file is looked at with `AT_SYMLINK_NOFOLLOW` first (a FIFO, device or socket
//!   is refused without being opened), then opened `O_NONBLOCK|O_NOCTTY|O_NOFOLLOW|
//!   O_CLOEXEC`, and `fstat` on that descriptor must say "regular file" (the entry may have
//!   been swapped since the look);
//! - a file is read up to [`MAX_FILE_BYTES`] (real bundles reach ~60 MB) and a directory
//!   listing up to [`MAX_DIR_ENTRIES`] names.
//!
//! The fix engine (`safe_fs` in the main crate) walks to the directories it writes in with
//! [`walk_dir`] and its stricter [`LinkPolicy::Strict`]; reads use [`LinkPolicy::FollowAny`].
//! On Windows (no `--root`, no FIFOs in the trust paths) [`Reader`] falls back to `std::fs`
//! with a metadata check and a `take()` cap.
#![cfg_attr(not(windows), forbid(unsafe_code))]

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Largest file read: the biggest real CA bundles are ~60 MB.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;
/// Most names read from one directory (a hashed directory holds hundreds).
pub const MAX_DIR_ENTRIES: usize = 100_000;
/// Most symlinks followed while resolving one path (Linux's own limit).
pub const MAX_SYMLINK_HOPS: u32 = 40;

/// Why a file or directory was not read; shown as `PATH: reason`, one line.
#[derive(Debug, thiserror::Error)]
#[error("{}: {kind}", path.display())]
pub struct ReadError {
    /// The path as the caller named it (a host path).
    pub path: PathBuf,
    pub kind: ReadErrorKind,
}

/// The reason part of a [`ReadError`].
#[derive(Debug, thiserror::Error)]
pub enum ReadErrorKind {
    #[error("does not exist")]
    Missing,
    #[error("is a directory, not a file")]
    IsDir,
    #[error("is not a directory")]
    NotDir,
    #[error("is a {0}, not a regular file; not read")]
    NotRegular(&'static str),
    #[error("is {} MiB ({size} bytes), more than the {} MiB trustsync reads from one certificate file; not read", size / (1024 * 1024), MAX_FILE_BYTES / (1024 * 1024))]
    TooLarge { size: u64 },
    #[error("holds more than {MAX_DIR_ENTRIES} entries; not listed")]
    TooManyEntries,
    #[error(
        "too many levels of symbolic links (a symlink loop, or more than {MAX_SYMLINK_HOPS} links)"
    )]
    Loop,
    #[error("{0}")]
    Io(#[source] std::io::Error),
}

impl ReadError {
    fn new(path: &Path, kind: ReadErrorKind) -> Self {
        ReadError {
            path: path.to_path_buf(),
            kind,
        }
    }

    /// The reason without the path (for messages that already name it).
    pub fn reason(&self) -> String {
        self.kind.to_string()
    }

    pub fn is_missing(&self) -> bool {
        matches!(self.kind, ReadErrorKind::Missing)
    }
}

/// What a directory entry is, without following it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    File,
    Dir,
    Symlink,
    /// A FIFO, socket or device.
    Other,
}

/// Reads host paths for one run: on the live system (root `/`) or confined to `--root DIR`.
///
/// With a root other than `/`, a host path under it is read as the path inside it, and any
/// other path (a trust variable's value, say) is taken as a path inside the root too: under
/// `--root` nothing outside DIR is read.
#[derive(Debug, Clone)]
pub struct Reader {
    root: PathBuf,
}

impl Default for Reader {
    fn default() -> Self {
        Reader::host()
    }
}

impl Reader {
    /// Reads the live system.
    pub fn host() -> Self {
        Reader {
            root: PathBuf::from("/"),
        }
    }

    /// Reads only under `root` (`/` is the live system).
    pub fn under(root: &Path) -> Self {
        Reader {
            root: root.to_path_buf(),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Whether this reads a tree rather than the live system.
    pub fn is_confined(&self) -> bool {
        self.root != Path::new("/")
    }

    /// `path` as seen inside the root: absolute, host prefix removed.
    pub fn logical(&self, path: &Path) -> PathBuf {
        if self.is_confined() {
            if let Ok(rel) = path.strip_prefix(&self.root) {
                return Path::new("/").join(rel);
            }
        } else if path.is_relative() {
            if let Ok(cwd) = std::env::current_dir() {
                return cwd.join(path);
            }
        }
        Path::new("/").join(path)
    }

    /// The bytes of the regular file at `path` (symlinks followed inside the root), at most
    /// [`MAX_FILE_BYTES`].
    pub fn read(&self, path: &Path) -> Result<Vec<u8>, ReadError> {
        imp::read(&self.root, &self.logical(path)).map_err(|kind| ReadError::new(path, kind))
    }

    /// [`Reader::read`] with only the rights the account `uid` has (see
    /// `LinkPolicy::AsUser`): for a root run reading a file another user chose, so that
    /// a link they planted cannot show root what they may not read themselves. Other OSes,
    /// and `uid` 0: [`Reader::read`].
    pub fn read_as(&self, path: &Path, uid: u32) -> Result<Vec<u8>, ReadError> {
        imp::read_as(&self.root, &self.logical(path), uid)
            .map_err(|kind| ReadError::new(path, kind))
    }

    /// [`Reader::read_as`] as text (invalid UTF-8 replaced).
    pub fn read_to_string_as(&self, path: &Path, uid: u32) -> Result<String, ReadError> {
        self.read_as(path, uid)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    }

    /// [`Reader::read`] as text (invalid UTF-8 replaced).
    pub fn read_to_string(&self, path: &Path) -> Result<String, ReadError> {
        self.read(path)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    }

    /// The names in directory `path` (symlinks to it followed inside the root), sorted, with
    /// what each entry is (not followed); at most [`MAX_DIR_ENTRIES`].
    pub fn list(&self, path: &Path) -> Result<Vec<(OsString, EntryKind)>, ReadError> {
        let mut names = self.list_in_dir_order(path)?;
        names.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(names)
    }

    /// [`Reader::list`] in the order `readdir` returns the entries: OpenSSL 3's store
    /// lookup walks a certificate directory in that order and stops at the first entry it
    /// cannot load, so what it finds depends on it.
    pub fn list_in_dir_order(&self, path: &Path) -> Result<Vec<(OsString, EntryKind)>, ReadError> {
        imp::list(&self.root, &self.logical(path)).map_err(|kind| ReadError::new(path, kind))
    }

    /// What is at `path`, following symlinks inside the root; `None` when nothing is
    /// (including a dangling link).
    pub fn kind(&self, path: &Path) -> Result<Option<EntryKind>, ReadError> {
        match imp::kind(&self.root, &self.logical(path)) {
            Ok(k) => Ok(Some(k)),
            Err(ReadErrorKind::Missing) => Ok(None),
            Err(kind) => Err(ReadError::new(path, kind)),
        }
    }

    pub fn is_file(&self, path: &Path) -> bool {
        matches!(self.kind(path), Ok(Some(EntryKind::File)))
    }

    pub fn is_dir(&self, path: &Path) -> bool {
        matches!(self.kind(path), Ok(Some(EntryKind::Dir)))
    }
}

/// One file outside any tree (`trustsync add FILE`, a saved chain): the live-system read.
pub fn read_file(path: &Path) -> Result<Vec<u8>, ReadError> {
    Reader::host().read(path)
}

/// Reads `file`, whose size said `size`, refusing more than [`MAX_FILE_BYTES`] (a file
/// growing while read is caught by reading one byte more than the cap).
fn read_capped(file: std::fs::File, size: u64) -> Result<Vec<u8>, ReadErrorKind> {
    use std::io::Read;
    if size > MAX_FILE_BYTES {
        return Err(ReadErrorKind::TooLarge { size });
    }
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(ReadErrorKind::Io)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(ReadErrorKind::TooLarge {
            size: bytes.len() as u64,
        });
    }
    Ok(bytes)
}

#[cfg(unix)]
pub use walk::{walk_dir, DirWalk, LinkPolicy, WalkError, WalkErrorKind};

#[cfg(unix)]
mod walk {
    //! The component-by-component resolver (see the module doc above).
    use super::{ReadErrorKind, MAX_SYMLINK_HOPS};
    use rustix::fs::{self as rfs, AtFlags, FileType, Mode, OFlags};
    use rustix::io::Errno;
    use std::collections::VecDeque;
    use std::ffi::{OsStr, OsString};
    use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
    use std::os::unix::ffi::OsStrExt;
    use std::path::{Component, Path, PathBuf};

    /// How intermediate directories are opened: `O_PATH` where the OS has it, so a
    /// directory one may search but not list (mode 0711) is walked as the kernel would.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    const SEARCH: OFlags = OFlags::PATH;
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    const SEARCH: OFlags = OFlags::RDONLY;

    /// Which symlinks met on the way may be followed.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum LinkPolicy {
        /// Only links owned by root (or the running user) in a directory owned by root (or
        /// that user) that group and others cannot write: nobody else could have planted
        /// or swapped them (Debian's `/lib -> usr/lib`). For writes and the reads that
        /// decide a write.
        Strict,
        /// Any link, resolved inside the root: for reads.
        FollowAny,
        /// Any link, but only as far as the account `uid` could go itself: every directory
        /// on the way must be searchable, and the file readable, by that account through
        /// its owner or other bits (its groups are not known here, so group bits do not
        /// count). For a root run reading a file another user names: a `~/.yarnrc` linked
        /// to `/etc/shadow` or into `/root` is refused, not read with root's rights.
        AsUser(u32),
    }

    /// Whether `uid` may use `st` with the `owner` or `other` permission bit (`0o100`/`0o001`
    /// search, `0o400`/`0o004` read).
    fn user_may(uid: u32, st: &rfs::Stat, owner: u32, other: u32) -> bool {
        // `st_mode` is u16 on macOS, u32 on Linux.
        #[allow(clippy::unnecessary_cast)]
        let mode = st.st_mode as u32;
        uid == 0 || (st.st_uid == uid && mode & owner != 0) || mode & other != 0
    }

    /// `AsUser`'s check of an opened directory or file (`dir`: search, else read).
    fn allowed_as(policy: LinkPolicy, fd: BorrowedFd<'_>, dir: bool) -> Result<(), Errno> {
        let LinkPolicy::AsUser(uid) = policy else {
            return Ok(());
        };
        let st = rfs::fstat(fd)?;
        let (owner, other) = if dir { (0o100, 0o001) } else { (0o400, 0o004) };
        if user_may(uid, &st, owner, other) {
            Ok(())
        } else {
            Err(Errno::ACCESS)
        }
    }

    /// Outcome of walking to a directory.
    #[derive(Debug)]
    pub enum DirWalk {
        /// The directory, opened `O_RDONLY|O_DIRECTORY` (it can be listed and fsynced).
        Found(OwnedFd),
        /// A component does not exist; `first_missing` is its path inside the root.
        Missing { first_missing: PathBuf },
    }

    /// Why a walk stopped; `at` is the path inside the root where it did.
    #[derive(Debug)]
    pub struct WalkError {
        pub at: PathBuf,
        pub kind: WalkErrorKind,
    }

    #[derive(Debug)]
    pub enum WalkErrorKind {
        /// A link [`LinkPolicy::Strict`] refuses.
        UntrustedSymlink,
        /// More than [`MAX_SYMLINK_HOPS`] links.
        Loop,
        /// A component that is neither a directory nor a link (`ENOTDIR`) or another error.
        Io(Errno),
    }

    /// Walks the directory `logical` (absolute, as seen inside the root) from `root`.
    pub fn walk_dir(
        root: &OwnedFd,
        logical: &Path,
        policy: LinkPolicy,
    ) -> Result<DirWalk, WalkError> {
        match resolve(root.as_fd(), logical, Last::Dir, policy)? {
            Resolved::Dir(fd) => Ok(DirWalk::Found(fd)),
            Resolved::Missing(first_missing) => Ok(DirWalk::Missing { first_missing }),
            Resolved::File(_) | Resolved::Special { .. } => unreachable!("a Last::Dir walk"),
        }
    }

    #[derive(Clone, Copy, PartialEq, Eq)]
    pub(super) enum Last {
        Dir,
        File,
    }

    pub(super) enum Resolved {
        Dir(OwnedFd),
        /// A regular file, opened for reading and checked with `fstat`.
        File(OwnedFd),
        /// Something that is not a regular file or a directory, never opened.
        Special {
            kind: &'static str,
        },
        Missing(PathBuf),
    }

    fn logical_of(names: &[OsString]) -> PathBuf {
        let mut p = PathBuf::from("/");
        for n in names {
            p.push(n);
        }
        p
    }

    /// Adds the components of `path` to the walk queue (at the front when expanding a link).
    fn push_components(queue: &mut VecDeque<OsString>, path: &Path, front: bool) {
        let parts: Vec<OsString> = path
            .components()
            .filter_map(|c| match c {
                Component::Normal(n) => Some(n.to_os_string()),
                Component::ParentDir => Some(OsString::from("..")),
                Component::RootDir | Component::CurDir | Component::Prefix(_) => None,
            })
            .collect();
        if front {
            for p in parts.into_iter().rev() {
                queue.push_front(p);
            }
        } else {
            queue.extend(parts);
        }
    }

    pub(super) fn special_kind(ft: FileType) -> &'static str {
        match ft {
            FileType::Fifo => "FIFO (named pipe)",
            FileType::Socket => "socket",
            FileType::CharacterDevice => "character device",
            FileType::BlockDevice => "block device",
            _ => "special file",
        }
    }

    /// The flags every final file is opened with: never blocks (FIFO), never becomes the
    /// controlling terminal, never follows a link swapped in since it was looked at.
    pub(super) const FILE_FLAGS: OFlags = OFlags::RDONLY
        .union(OFlags::NONBLOCK)
        .union(OFlags::NOCTTY)
        .union(OFlags::NOFOLLOW)
        .union(OFlags::CLOEXEC);

    /// Resolves `logical` from `root`: every component opened with `O_NOFOLLOW`, links
    /// resolved inside the root, the final one opened as `last` says.
    pub(super) fn resolve(
        root: BorrowedFd<'_>,
        logical: &Path,
        last: Last,
        policy: LinkPolicy,
    ) -> Result<Resolved, WalkError> {
        let mut queue: VecDeque<OsString> = VecDeque::new();
        push_components(&mut queue, logical, false);
        // Opened directories below the root, with their names (for messages).
        let mut fds: Vec<OwnedFd> = Vec::new();
        let mut names: Vec<OsString> = Vec::new();
        let mut hops = 0u32;
        // An entry swapped between its look and its open is looked at again, a few times.
        let mut swaps = 8u32;
        let euid = rustix::process::geteuid().as_raw();

        while let Some(component) = queue.pop_front() {
            if component == ".." {
                fds.pop();
                names.pop();
                continue;
            }
            let here = || {
                let mut n = names.clone();
                n.push(component.clone());
                logical_of(&n)
            };
            let fail = |kind| WalkError { at: here(), kind };
            let current: BorrowedFd<'_> = fds.last().map(|f| f.as_fd()).unwrap_or(root);
            let name = component.as_os_str();
            // Each branch returns, continues with the next component, or falls through to
            // follow the symlink `name` is.
            if last == Last::File && queue.is_empty() {
                let st = match rfs::statat(current, name, AtFlags::SYMLINK_NOFOLLOW) {
                    Ok(st) => st,
                    Err(Errno::NOENT) => return Ok(Resolved::Missing(here())),
                    Err(e) => return Err(fail(WalkErrorKind::Io(e))),
                };
                match FileType::from_raw_mode(st.st_mode) {
                    FileType::Symlink => {}
                    FileType::Directory => {
                        let fd = rfs::openat(current, name, SEARCH | dir_flags(), Mode::empty())
                            .map_err(|e| fail(WalkErrorKind::Io(e)))?;
                        return Ok(Resolved::Dir(fd));
                    }
                    FileType::RegularFile => {
                        match rfs::openat(current, name, FILE_FLAGS, Mode::empty()) {
                            Ok(fd) => {
                                let st = rfs::fstat(&fd).map_err(|e| fail(WalkErrorKind::Io(e)))?;
                                let ft = FileType::from_raw_mode(st.st_mode);
                                if ft != FileType::RegularFile {
                                    return Ok(Resolved::Special {
                                        kind: special_kind(ft),
                                    });
                                }
                                allowed_as(policy, fd.as_fd(), false)
                                    .map_err(|e| fail(WalkErrorKind::Io(e)))?;
                                return Ok(Resolved::File(fd));
                            }
                            Err(Errno::LOOP | Errno::NOENT) if swaps > 0 => {
                                swaps -= 1;
                                queue.push_front(component);
                                continue;
                            }
                            Err(e) => return Err(fail(WalkErrorKind::Io(e))),
                        }
                    }
                    ft => {
                        return Ok(Resolved::Special {
                            kind: special_kind(ft),
                        })
                    }
                }
            } else {
                match rfs::openat(current, name, SEARCH | dir_flags(), Mode::empty()) {
                    Ok(fd) => {
                        allowed_as(policy, fd.as_fd(), true)
                            .map_err(|e| fail(WalkErrorKind::Io(e)))?;
                        fds.push(fd);
                        names.push(component);
                        continue;
                    }
                    Err(Errno::NOENT) => return Ok(Resolved::Missing(here())),
                    Err(errno @ (Errno::LOOP | Errno::NOTDIR)) => {
                        let st = rfs::statat(current, name, AtFlags::SYMLINK_NOFOLLOW)
                            .map_err(|e| fail(WalkErrorKind::Io(e)))?;
                        if FileType::from_raw_mode(st.st_mode) != FileType::Symlink {
                            return Err(fail(WalkErrorKind::Io(errno)));
                        }
                        if policy == LinkPolicy::Strict {
                            let parent =
                                rfs::fstat(current).map_err(|e| fail(WalkErrorKind::Io(e)))?;
                            let trusted_owner = |uid: u32| uid == 0 || uid == euid;
                            let allowed = trusted_owner(st.st_uid)
                                && trusted_owner(parent.st_uid)
                                && parent.st_mode & 0o022 == 0;
                            if !allowed {
                                return Err(fail(WalkErrorKind::UntrustedSymlink));
                            }
                        }
                    }
                    Err(e) => return Err(fail(WalkErrorKind::Io(e))),
                }
            }
            hops += 1;
            if hops > MAX_SYMLINK_HOPS {
                return Err(fail(WalkErrorKind::Loop));
            }
            let link = rfs::readlinkat(current, name, Vec::new())
                .map_err(|e| fail(WalkErrorKind::Io(e)))?;
            let link = PathBuf::from(OsStr::from_bytes(link.to_bytes()));
            if link.is_absolute() {
                fds.clear();
                names.clear();
            }
            push_components(&mut queue, &link, true);
        }
        // The walk ended on a directory (the last component, a `..`, or the root itself).
        let dir = fds.last().map(|f| f.as_fd()).unwrap_or(root);
        let fd =
            rfs::openat(dir, ".", OFlags::RDONLY | dir_flags(), Mode::empty()).map_err(|e| {
                WalkError {
                    at: logical_of(&names),
                    kind: WalkErrorKind::Io(e),
                }
            })?;
        Ok(Resolved::Dir(fd))
    }

    fn dir_flags() -> OFlags {
        OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC
    }

    impl From<WalkError> for ReadErrorKind {
        fn from(e: WalkError) -> Self {
            match e.kind {
                WalkErrorKind::Loop | WalkErrorKind::Io(Errno::LOOP) => ReadErrorKind::Loop,
                WalkErrorKind::Io(Errno::NOTDIR) => ReadErrorKind::Io(std::io::Error::new(
                    std::io::ErrorKind::NotADirectory,
                    format!("{} is not a directory", e.at.display()),
                )),
                WalkErrorKind::Io(errno) => ReadErrorKind::Io(errno.into()),
                WalkErrorKind::UntrustedSymlink => ReadErrorKind::Io(std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    format!("{} is a symlink trustsync does not follow", e.at.display()),
                )),
            }
        }
    }
}

#[cfg(unix)]
mod imp {
    //! Reads through [`super::walk`].
    use super::walk::{resolve, Last, LinkPolicy, Resolved};
    use super::{EntryKind, ReadErrorKind, MAX_DIR_ENTRIES};
    use rustix::fs::{self as rfs, AtFlags, FileType, Mode, OFlags};
    use std::ffi::{OsStr, OsString};
    use std::os::fd::{AsFd, OwnedFd};
    use std::os::unix::ffi::OsStrExt;
    use std::path::Path;

    fn open_root(root: &Path) -> Result<OwnedFd, ReadErrorKind> {
        // The root itself is the caller's choice (`/` or `--root DIR`): resolved normally.
        rfs::open(
            root,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| ReadErrorKind::Io(e.into()))
    }

    fn resolve_in(root: &Path, logical: &Path, last: Last) -> Result<Resolved, ReadErrorKind> {
        resolve_with(root, logical, last, LinkPolicy::FollowAny)
    }

    fn resolve_with(
        root: &Path,
        logical: &Path,
        last: Last,
        policy: LinkPolicy,
    ) -> Result<Resolved, ReadErrorKind> {
        let root_fd = open_root(root)?;
        Ok(resolve(root_fd.as_fd(), logical, last, policy)?)
    }

    pub fn read(root: &Path, logical: &Path) -> Result<Vec<u8>, ReadErrorKind> {
        read_resolved(resolve_in(root, logical, Last::File)?)
    }

    pub fn read_as(root: &Path, logical: &Path, uid: u32) -> Result<Vec<u8>, ReadErrorKind> {
        read_resolved(resolve_with(
            root,
            logical,
            Last::File,
            LinkPolicy::AsUser(uid),
        )?)
    }

    fn read_resolved(resolved: Resolved) -> Result<Vec<u8>, ReadErrorKind> {
        match resolved {
            Resolved::File(fd) => read_regular(fd),
            Resolved::Dir(_) => Err(ReadErrorKind::IsDir),
            Resolved::Special { kind } => Err(ReadErrorKind::NotRegular(kind)),
            Resolved::Missing(_) => Err(ReadErrorKind::Missing),
        }
    }

    /// Reads a descriptor `fstat` said is a regular file, at most [`MAX_FILE_BYTES`].
    pub fn read_regular(fd: OwnedFd) -> Result<Vec<u8>, ReadErrorKind> {
        let st = rfs::fstat(&fd).map_err(|e| ReadErrorKind::Io(e.into()))?;
        let size = u64::try_from(st.st_size).unwrap_or(0);
        super::read_capped(std::fs::File::from(fd), size)
    }

    pub fn list(root: &Path, logical: &Path) -> Result<Vec<(OsString, EntryKind)>, ReadErrorKind> {
        list_at_most(root, logical, MAX_DIR_ENTRIES)
    }

    pub(super) fn list_at_most(
        root: &Path,
        logical: &Path,
        limit: usize,
    ) -> Result<Vec<(OsString, EntryKind)>, ReadErrorKind> {
        let fd = match resolve_in(root, logical, Last::Dir)? {
            Resolved::Dir(fd) => fd,
            Resolved::Missing(_) => return Err(ReadErrorKind::Missing),
            Resolved::File(_) | Resolved::Special { .. } => return Err(ReadErrorKind::NotDir),
        };
        let mut out = Vec::new();
        for entry in rfs::Dir::read_from(&fd).map_err(|e| ReadErrorKind::Io(e.into()))? {
            let entry = entry.map_err(|e| ReadErrorKind::Io(e.into()))?;
            let name = entry.file_name().to_bytes();
            if name == b"." || name == b".." {
                continue;
            }
            if out.len() >= limit {
                return Err(ReadErrorKind::TooManyEntries);
            }
            let name = OsStr::from_bytes(name).to_os_string();
            let ft = match entry.file_type() {
                FileType::Unknown => rfs::statat(&fd, name.as_os_str(), AtFlags::SYMLINK_NOFOLLOW)
                    .map(|st| FileType::from_raw_mode(st.st_mode))
                    .unwrap_or(FileType::Unknown),
                ft => ft,
            };
            out.push((name, entry_kind(ft)));
        }
        Ok(out)
    }

    fn entry_kind(ft: FileType) -> EntryKind {
        match ft {
            FileType::RegularFile => EntryKind::File,
            FileType::Directory => EntryKind::Dir,
            FileType::Symlink => EntryKind::Symlink,
            _ => EntryKind::Other,
        }
    }

    pub fn kind(root: &Path, logical: &Path) -> Result<EntryKind, ReadErrorKind> {
        match resolve_in(root, logical, Last::File)? {
            Resolved::File(_) => Ok(EntryKind::File),
            Resolved::Dir(_) => Ok(EntryKind::Dir),
            Resolved::Special { .. } => Ok(EntryKind::Other),
            Resolved::Missing(_) => Err(ReadErrorKind::Missing),
        }
    }
}

#[cfg(not(unix))]
mod imp {
    //! The portable fallback: `std::fs` with a metadata check before opening and a `take()`
    //! cap while reading. Windows has no `--root` and no FIFOs at trust paths.
    use super::{EntryKind, ReadErrorKind, MAX_DIR_ENTRIES};
    use std::ffi::OsString;
    use std::path::{Path, PathBuf};

    fn host(root: &Path, logical: &Path) -> PathBuf {
        let rel: PathBuf = logical
            .components()
            .filter(|c| matches!(c, std::path::Component::Normal(_)))
            .collect();
        if logical.has_root() && root == Path::new("/") {
            return logical.to_path_buf();
        }
        root.join(rel)
    }

    fn io(e: std::io::Error) -> ReadErrorKind {
        match e.kind() {
            std::io::ErrorKind::NotFound => ReadErrorKind::Missing,
            _ => ReadErrorKind::Io(e),
        }
    }

    /// No other accounts' rights to emulate here: the plain read.
    pub fn read_as(root: &Path, logical: &Path, _uid: u32) -> Result<Vec<u8>, ReadErrorKind> {
        read(root, logical)
    }

    pub fn read(root: &Path, logical: &Path) -> Result<Vec<u8>, ReadErrorKind> {
        let path = host(root, logical);
        let meta = std::fs::metadata(&path).map_err(io)?;
        if meta.is_dir() {
            return Err(ReadErrorKind::IsDir);
        }
        if !meta.is_file() {
            return Err(ReadErrorKind::NotRegular("special file"));
        }
        let file = std::fs::File::open(&path).map_err(io)?;
        super::read_capped(file, meta.len())
    }

    pub fn list(root: &Path, logical: &Path) -> Result<Vec<(OsString, EntryKind)>, ReadErrorKind> {
        let path = host(root, logical);
        if !std::fs::metadata(&path).map_err(io)?.is_dir() {
            return Err(ReadErrorKind::NotDir);
        }
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&path).map_err(io)? {
            let entry = entry.map_err(ReadErrorKind::Io)?;
            if out.len() >= MAX_DIR_ENTRIES {
                return Err(ReadErrorKind::TooManyEntries);
            }
            let kind = match entry.file_type() {
                Ok(t) if t.is_symlink() => EntryKind::Symlink,
                Ok(t) if t.is_dir() => EntryKind::Dir,
                Ok(t) if t.is_file() => EntryKind::File,
                _ => EntryKind::Other,
            };
            out.push((entry.file_name(), kind));
        }
        Ok(out)
    }

    pub fn kind(root: &Path, logical: &Path) -> Result<EntryKind, ReadErrorKind> {
        let meta = std::fs::metadata(host(root, logical)).map_err(io)?;
        Ok(if meta.is_dir() {
            EntryKind::Dir
        } else if meta.is_file() {
            EntryKind::File
        } else {
            EntryKind::Other
        })
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;
    use std::sync::mpsc;
    use std::time::Duration;

    /// Runs `f` on a thread and fails the test if it has not returned within 30 s: a read
    /// that blocks (a FIFO opened without `O_NONBLOCK`) is a failure, never a hung test.
    fn within_deadline<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(f());
        });
        rx.recv_timeout(Duration::from_secs(30))
            .expect("the read blocked: it must return at once")
    }

    fn write(path: &Path, data: &[u8]) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, data).unwrap();
    }

    fn kind_of(path: &Path) -> ReadErrorKind {
        let p = path.to_path_buf();
        let e = within_deadline(move || read_file(&p)).unwrap_err();
        assert_eq!(e.path, path, "the error names the file");
        assert!(e.to_string().starts_with(&path.display().to_string()));
        e.kind
    }

    #[test]
    fn fifo_is_refused_without_blocking() {
        let t = tempfile::tempdir().unwrap();
        let fifo = t.path().join("fifo");
        rustix::fs::mkfifoat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::Mode::from_raw_mode(0o644),
        )
        .unwrap();
        assert!(matches!(kind_of(&fifo), ReadErrorKind::NotRegular(k) if k.contains("FIFO")));
        // A FIFO reached through a symlink, and listed in a directory, too.
        symlink(&fifo, t.path().join("link")).unwrap();
        assert!(matches!(
            kind_of(&t.path().join("link")),
            ReadErrorKind::NotRegular(_)
        ));
        // The open itself never blocks, even for a FIFO swapped in after the look: the flags
        // every final file is opened with carry O_NONBLOCK (no writer is ever attached).
        let dir = t.path().to_path_buf();
        let opened = within_deadline(move || {
            let d = rustix::fs::open(
                &dir,
                rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::DIRECTORY,
                rustix::fs::Mode::empty(),
            )
            .unwrap();
            rustix::fs::openat(&d, "fifo", walk::FILE_FLAGS, rustix::fs::Mode::empty()).is_ok()
        });
        assert!(opened);
    }

    #[test]
    fn devices_are_refused_unopened() {
        for dev in ["/dev/zero", "/dev/null"] {
            let k = kind_of(Path::new(dev));
            assert!(
                matches!(k, ReadErrorKind::NotRegular("character device")),
                "{dev}: {k}"
            );
        }
    }

    #[test]
    fn socket_is_refused() {
        let t = tempfile::tempdir().unwrap();
        let sock = t.path().join("sock");
        let _listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
        assert!(matches!(
            kind_of(&sock),
            ReadErrorKind::NotRegular("socket")
        ));
    }

    #[test]
    fn sparse_file_over_the_cap_is_not_read() {
        let t = tempfile::tempdir().unwrap();
        let big = t.path().join("big.pem");
        let f = std::fs::File::create(&big).unwrap();
        f.set_len(65 * 1024 * 1024).unwrap();
        let k = kind_of(&big);
        assert!(matches!(k, ReadErrorKind::TooLarge { size } if size == 65 * 1024 * 1024));
        let msg = k.to_string();
        assert!(msg.contains("65 MiB") && msg.contains("64 MiB"), "{msg}");
        // Exactly at the cap is read.
        f.set_len(MAX_FILE_BYTES).unwrap();
        assert_eq!(read_file(&big).unwrap().len() as u64, MAX_FILE_BYTES);
    }

    #[test]
    fn directory_missing_and_symlink_loop() {
        let t = tempfile::tempdir().unwrap();
        assert!(matches!(kind_of(t.path()), ReadErrorKind::IsDir));
        assert!(matches!(
            kind_of(&t.path().join("nope")),
            ReadErrorKind::Missing
        ));
        let (a, b) = (t.path().join("a"), t.path().join("b"));
        symlink(&b, &a).unwrap();
        symlink(&a, &b).unwrap();
        let k = kind_of(&a);
        assert!(matches!(k, ReadErrorKind::Loop), "{k}");
        assert!(k.to_string().contains("symlink loop"));
        // A loop in a directory component is the same error.
        assert!(matches!(kind_of(&a.join("x.pem")), ReadErrorKind::Loop));
    }

    #[test]
    fn read_as_goes_only_where_that_account_could() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path, m: u32| {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap()
        };
        let me = rustix::process::geteuid().as_raw();
        let other = me.wrapping_add(12345).max(1);
        let t = tempfile::tempdir().unwrap();
        mode(t.path(), 0o755);
        let open = t.path().join("open.pem");
        let private = t.path().join("private.pem");
        write(&open, b"o");
        write(&private, b"p");
        mode(&open, 0o644);
        mode(&private, 0o600);
        let closed = t.path().join("closed");
        write(&closed.join("inside.pem"), b"i");
        mode(&closed.join("inside.pem"), 0o644);
        mode(&closed, 0o700);
        symlink(&private, t.path().join("link-to-private")).unwrap();
        symlink(&open, t.path().join("link-to-open")).unwrap();
        let r = Reader::host();
        assert_eq!(r.read_as(&open, other).unwrap(), b"o");
        assert_eq!(
            r.read_as(&t.path().join("link-to-open"), other).unwrap(),
            b"o"
        );
        assert!(r.read_as(&private, other).is_err());
        assert!(r.read_as(&t.path().join("link-to-private"), other).is_err());
        assert!(r.read_as(&closed.join("inside.pem"), other).is_err());
        // Its owner may: owner bits count for the owner.
        assert_eq!(r.read_as(&private, me).unwrap(), b"p");
        assert_eq!(r.read_as(&closed.join("inside.pem"), me).unwrap(), b"i");
        mode(&closed, 0o755);
    }

    #[test]
    fn unreadable_directory_listing() {
        use std::os::unix::fs::PermissionsExt;
        let t = tempfile::tempdir().unwrap();
        let d = t.path().join("closed");
        write(&d.join("a.pem"), b"x");
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o000)).unwrap();
        let listed = Reader::host().list(&d);
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755)).unwrap();
        if rustix::process::geteuid().is_root() {
            // Root reads past permission bits, as every TLS library running as root would.
            assert_eq!(listed.unwrap().len(), 1);
        } else {
            let e = listed.unwrap_err();
            assert_eq!(e.path, d);
            assert!(matches!(e.kind, ReadErrorKind::Io(_)), "{e}");
        }
    }

    #[test]
    fn listing_is_bounded_and_sorted() {
        let t = tempfile::tempdir().unwrap();
        for n in ["c", "a", "b", "d"] {
            write(&t.path().join(n), b"");
        }
        std::fs::create_dir(t.path().join("e")).unwrap();
        symlink("a", t.path().join("f")).unwrap();
        let all = Reader::host().list(t.path()).unwrap();
        let names: Vec<_> = all.iter().map(|(n, _)| n.to_str().unwrap()).collect();
        assert_eq!(names, ["a", "b", "c", "d", "e", "f"]);
        assert_eq!(all[4].1, EntryKind::Dir);
        assert_eq!(all[5].1, EntryKind::Symlink, "entries are not followed");
        assert!(matches!(
            imp::list_at_most(Path::new("/"), t.path(), 3),
            Err(ReadErrorKind::TooManyEntries)
        ));
    }

    /// A tree (the `--root` DIR) beside a host directory holding a secret: every link in the
    /// tree that names the host directory must resolve inside the tree.
    struct Tree {
        _t: tempfile::TempDir,
        root: PathBuf,
        host: PathBuf,
    }

    fn tree() -> Tree {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("tree");
        let host = t.path().join("host");
        write(&host.join("secret.pem"), b"HOST SECRET");
        write(&root.join("etc/real.pem"), b"tree bundle");
        Tree { _t: t, root, host }
    }

    #[test]
    fn in_root_absolute_link_resolves_inside_the_root() {
        let t = tree();
        let r = Reader::under(&t.root);
        let link = t.root.join("etc/ca.pem");
        // An absolute link to the host secret: inside the tree that path does not exist.
        symlink(t.host.join("secret.pem"), &link).unwrap();
        let e = r.read(&link).unwrap_err();
        assert!(e.is_missing(), "{e}");
        // Once the tree holds that path, the tree's file is what is read.
        let inside = t
            .root
            .join(t.host.strip_prefix("/").unwrap())
            .join("secret.pem");
        write(&inside, b"tree copy");
        assert_eq!(r.read(&link).unwrap(), b"tree copy");
        // The same read on the host follows the link to the host file.
        assert_eq!(read_file(&link).unwrap(), b"HOST SECRET");
        // A path outside the root is taken as a path inside it.
        assert_eq!(r.read(&t.host.join("secret.pem")).unwrap(), b"tree copy");
    }

    #[test]
    fn in_root_dotdot_never_climbs_above_the_root() {
        let t = tree();
        let r = Reader::under(&t.root);
        let depth = t.root.components().count() + 3;
        let up = "../".repeat(depth);
        let rel_host = t.host.strip_prefix("/").unwrap();
        let link = t.root.join("etc/escape.pem");
        symlink(format!("{up}{}/secret.pem", rel_host.display()), &link).unwrap();
        assert!(r.read(&link).unwrap_err().is_missing());
        // `..` in the path asked for is clamped the same way.
        let asked = t.root.join(format!("etc/{up}etc/real.pem"));
        assert_eq!(r.read(&asked).unwrap(), b"tree bundle");
        // A directory component linking out of the tree stays inside it too.
        symlink(&t.host, t.root.join("etc/hostdir")).unwrap();
        assert!(r
            .read(&t.root.join("etc/hostdir/secret.pem"))
            .unwrap_err()
            .is_missing());
        assert!(r
            .list(&t.root.join("etc/hostdir"))
            .unwrap_err()
            .is_missing());
    }

    #[test]
    fn in_root_chain_loop_dangling_and_hop_limit() {
        let t = tree();
        let r = Reader::under(&t.root);
        let etc = t.root.join("etc");
        // a -> b (relative) -> /etc/c (absolute, in the tree) -> real.pem
        symlink("b", etc.join("a")).unwrap();
        symlink("/etc/c", etc.join("b")).unwrap();
        symlink("real.pem", etc.join("c")).unwrap();
        assert_eq!(r.read(&etc.join("a")).unwrap(), b"tree bundle");
        assert_eq!(r.kind(&etc.join("a")).unwrap(), Some(EntryKind::File));
        symlink("/etc/loop2", etc.join("loop1")).unwrap();
        symlink("loop1", etc.join("loop2")).unwrap();
        let e = r.read(&etc.join("loop1")).unwrap_err();
        assert!(matches!(e.kind, ReadErrorKind::Loop), "{e}");
        assert_eq!(e.path, etc.join("loop1"));
        symlink("/nowhere/x.pem", etc.join("dangling")).unwrap();
        assert!(r.read(&etc.join("dangling")).unwrap_err().is_missing());
        assert_eq!(r.kind(&etc.join("dangling")).unwrap(), None);
        // 40 links are followed, 41 are a loop.
        let mut prev = "real.pem".to_string();
        for i in 0..41 {
            let name = format!("hop{i}");
            symlink(&prev, etc.join(&name)).unwrap();
            prev = name;
        }
        assert_eq!(r.read(&etc.join("hop39")).unwrap(), b"tree bundle");
        assert!(matches!(
            r.read(&etc.join("hop40")).unwrap_err().kind,
            ReadErrorKind::Loop
        ));
    }

    #[test]
    fn strict_walk_refuses_links_others_control() {
        use std::os::unix::fs::PermissionsExt;
        let t = tree();
        std::fs::create_dir(t.root.join("real")).unwrap();
        symlink("real", t.root.join("lib")).unwrap();
        let root_fd = rustix::fs::open(
            &t.root,
            rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::DIRECTORY,
            rustix::fs::Mode::empty(),
        )
        .unwrap();
        std::fs::set_permissions(&t.root, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(matches!(
            walk_dir(&root_fd, Path::new("/lib"), LinkPolicy::Strict),
            Ok(DirWalk::Found(_))
        ));
        // The link sits in a directory others can write: anyone could have planted it.
        std::fs::set_permissions(&t.root, std::fs::Permissions::from_mode(0o777)).unwrap();
        let e = walk_dir(&root_fd, Path::new("/lib"), LinkPolicy::Strict).unwrap_err();
        assert!(matches!(e.kind, WalkErrorKind::UntrustedSymlink));
        assert_eq!(e.at, Path::new("/lib"));
        assert!(matches!(
            walk_dir(&root_fd, Path::new("/lib"), LinkPolicy::FollowAny),
            Ok(DirWalk::Found(_))
        ));
        match walk_dir(&root_fd, Path::new("/real/a/b"), LinkPolicy::Strict).unwrap() {
            DirWalk::Missing { first_missing } => assert_eq!(first_missing, Path::new("/real/a")),
            DirWalk::Found(_) => panic!("found a missing directory"),
        }
    }
}
