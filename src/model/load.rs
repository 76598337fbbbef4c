//! Reading certificate files and directories the way a TLS library reads them.
//!
//! Every runtime's trust comes down to a CA file (`cafile`), a hashed directory (`capath`)
//! or both. This module loads them into [`Certificate`]s and reports, one line per file,
//! what could not be read, so that bad input never stops a run. The semantics follow
//! OpenSSL: a capath only yields certificates stored under `HASH.N` names matching their
//! subject hash; a directory of `*.pem` without hash names is empty to OpenSSL.
//!
//! Every read goes through `trustsync_platform::read`: a FIFO, device or socket is refused
//! without blocking, a file over 64 MiB is not read, and under `--root DIR` (a [`Cache`]
//! made with [`Cache::with_reader`]) symlinks resolve inside DIR, never on the host.

use crate::model::cert::Certificate;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use trustsync_platform::read::{ReadError, ReadErrorKind, Reader};

/// What reading one CA file gave.
#[derive(Debug, Clone)]
pub enum FileState {
    Loaded(LoadedFile),
    Missing,
    /// A directory where a file was expected.
    NotAFile,
    /// Exists but cannot be read: permissions, symlink loop, I/O error.
    Unreadable(String),
}

#[derive(Debug, Clone, Default)]
pub struct LoadedFile {
    pub certificates: Vec<Certificate>,
    /// One line per block or blob that is not a certificate.
    pub bad_entries: Vec<String>,
    pub private_keys_skipped: usize,
    /// Why OpenSSL loads nothing from this file as a CA file, if it does not: the first
    /// block its PEM reader cannot decode, or a DER file (CA files are read as PEM only).
    /// A hashed directory's entries are read one certificate at a time and keep theirs.
    pub rejected_by_openssl: Option<String>,
}

/// What reading one capath directory gave.
#[derive(Debug, Clone)]
pub enum DirState {
    Loaded(LoadedDir),
    Missing,
    NotADir,
    Unreadable(String),
}

#[derive(Debug, Clone, Default)]
pub struct LoadedDir {
    /// Certificates OpenSSL can find here (under a matching `HASH.N` name).
    pub certificates: Vec<Certificate>,
    /// Regular files or links in the directory, of any name.
    pub entries: usize,
    /// Entries named like `HASH.N`.
    pub hash_named: usize,
    pub bad_entries: Vec<String>,
}

/// Parsed certificates by SHA-256 of their DER: a machine's bundles are mostly copies of
/// the same few hundred CAs, so each is parsed once per run, however many files hold it.
#[derive(Default)]
pub struct CertMemo(HashMap<[u8; 32], Certificate>);

impl CertMemo {
    pub fn parse(&mut self, der: &[u8]) -> Result<Certificate, crate::model::cert::CertError> {
        use sha2::Digest;
        let key: [u8; 32] = sha2::Sha256::digest(der).into();
        if let Some(c) = self.0.get(&key) {
            return Ok(c.clone());
        }
        let c = Certificate::from_der(der)?;
        self.0.insert(key, c.clone());
        Ok(c)
    }
}

/// Parses every certificate in `bytes`, which came from `path`.
pub fn parse_bytes(path: &Path, bytes: &[u8]) -> LoadedFile {
    parse_bytes_with(path, bytes, &mut CertMemo::default())
}

/// [`parse_bytes`], reusing certificates already parsed this run.
pub fn parse_bytes_with(path: &Path, bytes: &[u8], memo: &mut CertMemo) -> LoadedFile {
    let decoded = trustsync_platform::bundle::decode(bytes);
    let mut out = LoadedFile {
        private_keys_skipped: decoded.private_keys_skipped,
        ..Default::default()
    };
    // OpenSSL's PEM reader (`PEM_X509_INFO_read_bio_ex`, which `X509_load_cert_crl_file`
    // and `load_verify_locations` use) gives up on the first block it cannot decode and
    // then returns nothing at all for the file.
    out.rejected_by_openssl = decoded.errors.first().cloned();
    if out.rejected_by_openssl.is_none()
        && !decoded.certificates.is_empty()
        && !bytes.windows(11).any(|w| w == b"-----BEGIN ")
    {
        out.rejected_by_openssl = Some("it is DER, and OpenSSL reads a CA file as PEM only".into());
    }
    for e in decoded.errors {
        out.bad_entries.push(format!("{}: {e}", path.display()));
    }
    for (i, der) in decoded.certificates.iter().enumerate() {
        match memo.parse(der) {
            Ok(c) => out.certificates.push(c),
            Err(e) => {
                out.bad_entries
                    .push(format!("{}: certificate {}: {e}", path.display(), i + 1))
            }
        }
    }
    out
}

/// Loads one CA file (PEM bundle or DER), following symlinks as TLS libraries do.
pub fn load_file(path: &Path) -> FileState {
    load_file_with(&Reader::host(), path, &mut CertMemo::default())
}

fn load_file_with(reader: &Reader, path: &Path, memo: &mut CertMemo) -> FileState {
    match reader.read(path) {
        Ok(bytes) => FileState::Loaded(parse_bytes_with(path, &bytes, memo)),
        Err(ReadError {
            kind: ReadErrorKind::Missing,
            ..
        }) => FileState::Missing,
        Err(ReadError {
            kind: ReadErrorKind::IsDir,
            ..
        }) => FileState::NotAFile,
        Err(e) => FileState::Unreadable(e.reason()),
    }
}

/// `HASH.N` exactly as OpenSSL's `by_dir` lookup spells the names it tries (`%08lx.%d`:
/// lower-case hex, N without leading zeros), since it opens those names and lists nothing.
/// `HASH.rN` would be a CRL and is not counted; `5AD8A5D6.0` or `5ad8a5d6.01` are never
/// opened, so they are not certificates OpenSSL finds either.
pub fn parse_hash_name(name: &str) -> Option<(u32, u32)> {
    let (hash, n) = name.split_once('.')?;
    let parsed = (u32::from_str_radix(hash, 16).ok()?, n.parse().ok()?);
    (name == format!("{:08x}.{}", parsed.0, parsed.1)).then_some(parsed)
}

/// Loads a capath the way OpenSSL's `by_dir` lookup sees it: for each hash, `HASH.0`,
/// `HASH.1`, … up to the first gap, and only certificates whose subject hash matches.
pub fn load_hashed_dir(dir: &Path) -> DirState {
    load_hashed_dir_with(&Reader::host(), dir, &mut CertMemo::default())
}

fn load_hashed_dir_with(reader: &Reader, dir: &Path, memo: &mut CertMemo) -> DirState {
    let listing = match reader.list(dir) {
        Ok(l) => l,
        Err(ReadError {
            kind: ReadErrorKind::Missing,
            ..
        }) => return DirState::Missing,
        Err(ReadError {
            kind: ReadErrorKind::NotDir,
            ..
        }) => return DirState::NotADir,
        Err(e) => return DirState::Unreadable(e.reason()),
    };
    let mut out = LoadedDir::default();
    let mut by_hash: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for (name, _) in listing {
        out.entries += 1;
        if let Some((hash, n)) = name.to_str().and_then(parse_hash_name) {
            out.hash_named += 1;
            by_hash.entry(hash).or_default().push(n);
        }
    }
    for (hash, mut ns) in by_hash {
        ns.sort_unstable();
        // OpenSSL stops at the first missing number.
        for (expected, n) in ns.into_iter().enumerate() {
            if n as usize != expected {
                break;
            }
            let path = dir.join(format!("{hash:08x}.{n}"));
            match load_file_with(reader, &path, memo) {
                FileState::Loaded(f) => {
                    out.bad_entries.extend(f.bad_entries);
                    out.certificates.extend(
                        f.certificates
                            .into_iter()
                            .filter(|c| c.subject_hash == hash),
                    );
                }
                FileState::Missing => out
                    .bad_entries
                    .push(format!("{}: dangling symlink", path.display())),
                FileState::NotAFile => {}
                FileState::Unreadable(e) => {
                    out.bad_entries.push(format!("{}: {e}", path.display()))
                }
            }
        }
    }
    DirState::Loaded(out)
}

/// Reads each file or directory once per run: many runtimes share the OS bundle.
/// `Cache::default()` reads the live system.
#[derive(Default)]
pub struct Cache {
    files: HashMap<PathBuf, FileState>,
    dirs: HashMap<PathBuf, DirState>,
    memo: CertMemo,
    reader: Reader,
}

impl Cache {
    /// A cache that reads through `reader` (`Reader::under(root)` for `--root DIR`).
    pub fn with_reader(reader: Reader) -> Self {
        Cache {
            reader,
            ..Cache::default()
        }
    }

    pub fn file(&mut self, path: &Path) -> &FileState {
        self.files
            .entry(path.to_path_buf())
            .or_insert_with(|| load_file_with(&self.reader, path, &mut self.memo))
    }

    pub fn dir(&mut self, path: &Path) -> &DirState {
        self.dirs
            .entry(path.to_path_buf())
            .or_insert_with(|| load_hashed_dir_with(&self.reader, path, &mut self.memo))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_names() {
        assert_eq!(parse_hash_name("5ad8a5d6.0"), Some((0x5ad8a5d6, 0)));
        assert_eq!(parse_hash_name("5ad8a5d6.12"), Some((0x5ad8a5d6, 12)));
        assert_eq!(parse_hash_name("5ad8a5d6.r0"), None);
        assert_eq!(parse_hash_name("ISRG_Root_X1.pem"), None);
        assert_eq!(parse_hash_name("5ad8a5d.0"), None);
        assert_eq!(
            parse_hash_name("5AD8A5D6.0"),
            None,
            "OpenSSL opens lower case"
        );
        assert_eq!(parse_hash_name("5ad8a5d6.01"), None, "and N as %d");
        assert_eq!(parse_hash_name("5ad8a5d6.+1"), None);
    }

    #[test]
    fn missing_and_not_a_file() {
        let t = tempfile::tempdir().unwrap();
        assert!(matches!(
            load_file(&t.path().join("nope")),
            FileState::Missing
        ));
        assert!(matches!(load_file(t.path()), FileState::NotAFile));
        assert!(matches!(
            load_hashed_dir(&t.path().join("nope")),
            DirState::Missing
        ));
    }

    #[cfg(unix)]
    #[test]
    fn symlink_loop_is_named() {
        let t = tempfile::tempdir().unwrap();
        let a = t.path().join("a");
        std::os::unix::fs::symlink(t.path().join("b"), &a).unwrap();
        std::os::unix::fs::symlink(&a, t.path().join("b")).unwrap();
        match load_file(&a) {
            FileState::Unreadable(e) => assert!(e.contains("symlink loop"), "{e}"),
            other => panic!("{other:?}"),
        }
    }
}
