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
use std::collections::{BTreeMap, HashMap, HashSet};
use std::ffi::OsString;
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
    /// How many of `certificates` OpenSSL's one-certificate-at-a-time reader (a hashed
    /// directory's `X509_load_cert_file`) loads before it fails: all of them, the ones
    /// before the first undecodable block, or none of a DER file.
    pub loaded_one_by_one: usize,
    /// A bare DER certificate, not PEM: OpenSSL 3's store loader reads it, its PEM
    /// readers do not.
    pub is_der: bool,
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
    /// Certificates OpenSSL's `by_dir` lookup finds here (under a matching `HASH.N` name).
    pub certificates: Vec<Certificate>,
    /// Certificates only the store lookup that OpenSSL 3's `X509_STORE_set_default_paths`
    /// adds finds here (see [`load_hashed_dir`]); a runtime with
    /// `Runtime::capath_store_lookup` trusts these too.
    pub store_certificates: Vec<Certificate>,
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
    let is_der =
        !decoded.certificates.is_empty() && !bytes.windows(11).any(|w| w == b"-----BEGIN ");
    if out.rejected_by_openssl.is_none() && is_der {
        out.rejected_by_openssl = Some("it is DER, and OpenSSL reads a CA file as PEM only".into());
    }
    out.is_der = is_der;
    for e in decoded.errors {
        out.bad_entries.push(format!("{}: {e}", path.display()));
    }
    let readable = if is_der {
        0
    } else {
        decoded
            .before_first_error
            .unwrap_or(decoded.certificates.len())
    };
    for (i, der) in decoded.certificates.iter().enumerate() {
        let settings = decoded
            .trust_settings
            .iter()
            .find(|(at, _)| *at == i)
            .map(|(_, t)| t);
        match memo.parse(der) {
            Ok(c) if settings.and_then(refuses_tls_servers).is_some() => {
                let why = settings.and_then(refuses_tls_servers).unwrap_or_default();
                out.bad_entries.push(format!(
                    "{}: certificate {} ('{}') {why}, so TLS clients refuse it",
                    path.display(),
                    i + 1,
                    c.display_name()
                ));
            }
            Ok(c) => {
                out.certificates.push(c);
                if i < readable {
                    out.loaded_one_by_one = out.certificates.len();
                }
            }
            Err(e) => {
                out.bad_entries
                    .push(format!("{}: certificate {}: {e}", path.display(), i + 1))
            }
        }
    }
    out
}

/// OpenSSL's `obj_trust` for the trust a TLS client asks of its anchor
/// (`X509_TRUST_SSL_SERVER`, i.e. serverAuth): a reject list naming serverAuth or
/// anyExtendedKeyUsage refuses it; a trust list naming neither refuses it too; otherwise
/// it is trusted. Checked with the real `ssl` module in `tests/truth_rules.rs`.
fn refuses_tls_servers(t: &trustsync_platform::bundle::TrustSettings) -> Option<&'static str> {
    const SERVER_AUTH: &[u8] = &[0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01];
    const ANY_EKU: &[u8] = &[0x55, 0x1D, 0x25, 0x00];
    let names_server = |oids: &[Vec<u8>]| oids.iter().any(|o| o == SERVER_AUTH || o == ANY_EKU);
    if names_server(&t.reject) {
        return Some("is marked rejected for TLS servers (`-addreject serverAuth`)");
    }
    match &t.trust {
        Some(trust) if !names_server(trust) => Some(
            "is trusted only for purposes other than TLS servers (its trust list lacks serverAuth)",
        ),
        _ => None,
    }
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
/// opened by `by_dir` (OpenSSL 3's store lookup does find them: [`parse_store_name`]).
pub fn parse_hash_name(name: &str) -> Option<(u32, u32)> {
    let (hash, n) = name.split_once('.')?;
    let parsed = (u32::from_str_radix(hash, 16).ok()?, n.parse().ok()?);
    (name == format!("{:08x}.{}", parsed.0, parsed.1)).then_some(parsed)
}

/// The hash a name is found under by OpenSSL 3's store lookup (the `file:` loader's
/// `file_name_check`): the eight hex digits in either case, a dot, an optional `r`, then
/// decimal digits (leading zeros and gaps allowed).
pub fn parse_store_name(name: &str) -> Option<u32> {
    let (hash, n) = name.split_once('.')?;
    let digits = n.strip_prefix('r').unwrap_or(n);
    let ok = hash.len() == 8 && !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
    ok.then(|| u32::from_str_radix(hash, 16).ok()).flatten()
}

/// Loads a capath the way OpenSSL sees it, in two lookups (checked against the real
/// OpenSSL 3.0 in `tests/truth_rules.rs`):
/// - `by_dir` (every version): for each hash, `HASH.0`, `HASH.1`, … as PEM, stopping at
///   the first name that is missing or does not load (dangling, a directory, unreadable,
///   empty, an undecodable block, DER);
/// - the store lookup that OpenSSL 3's `X509_STORE_set_default_paths` adds for the same
///   directory: every entry named for the hash (see [`parse_store_name`]) in `readdir`
///   order, PEM or DER, stopping at the first that loads nothing. Its extra finds go to
///   `store_certificates`.
///
/// Only certificates whose subject hash matches their name count.
pub fn load_hashed_dir(dir: &Path) -> DirState {
    load_hashed_dir_with(&Reader::host(), dir, &mut CertMemo::default())
}

fn load_hashed_dir_with(reader: &Reader, dir: &Path, memo: &mut CertMemo) -> DirState {
    let listing = match reader.list_in_dir_order(dir) {
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
    let mut store_names: BTreeMap<u32, Vec<OsString>> = BTreeMap::new();
    for (name, _) in &listing {
        out.entries += 1;
        let Some(text) = name.to_str() else { continue };
        if let Some((hash, n)) = parse_hash_name(text) {
            out.hash_named += 1;
            by_hash.entry(hash).or_default().push(n);
        }
        if let Some(hash) = parse_store_name(text) {
            store_names.entry(hash).or_default().push(name.clone());
        }
    }
    // Both lookups read the same entries: each is loaded once and borrowed after.
    let mut loaded: HashMap<OsString, FileState> = HashMap::new();
    for (hash, mut ns) in by_hash {
        ns.sort_unstable();
        // `by_dir` stats HASH.N, loads it, and tries N+1 only when that worked.
        for (expected, n) in ns.into_iter().enumerate() {
            if n as usize != expected {
                break;
            }
            let name = format!("{hash:08x}.{n}");
            let path = dir.join(&name);
            let stops = |why: &str| {
                format!(
                    "{}: {why}; OpenSSL's by_dir lookup stops here",
                    path.display()
                )
            };
            match load_entry(&mut loaded, reader, dir, memo, name.into()) {
                FileState::Loaded(f) => {
                    let complete = f.loaded_one_by_one == f.certificates.len()
                        && f.rejected_by_openssl.is_none()
                        && !f.certificates.is_empty();
                    out.bad_entries.extend(f.bad_entries.iter().cloned());
                    if let Some(why) = &f.rejected_by_openssl {
                        out.bad_entries.push(stops(why));
                    } else if f.certificates.is_empty() {
                        out.bad_entries.push(stops("no certificate in it"));
                    }
                    out.certificates.extend(
                        f.certificates
                            .iter()
                            .take(f.loaded_one_by_one)
                            .filter(|c| c.subject_hash == hash)
                            .cloned(),
                    );
                    if !complete {
                        break;
                    }
                }
                FileState::Missing => {
                    out.bad_entries.push(stops("dangling symlink"));
                    break;
                }
                FileState::NotAFile => break,
                FileState::Unreadable(e) => {
                    out.bad_entries.push(stops(e));
                    break;
                }
            }
        }
    }
    let mut seen: HashSet<[u8; 32]> = out.certificates.iter().map(|c| c.sha256).collect();
    for (hash, names) in store_names {
        for name in names {
            let (found, complete): (&[Certificate], bool) =
                match load_entry(&mut loaded, reader, dir, memo, name) {
                    FileState::Loaded(f) => {
                        let n = if f.is_der {
                            f.certificates.len()
                        } else {
                            f.loaded_one_by_one
                        };
                        (&f.certificates[..n], n > 0 && n == f.certificates.len())
                    }
                    _ => (&[], false),
                };
            out.store_certificates.extend(
                found
                    .iter()
                    .filter(|c| c.subject_hash == hash && seen.insert(c.sha256))
                    .cloned(),
            );
            if !complete {
                break;
            }
        }
    }
    DirState::Loaded(out)
}

/// `dir/name`, loaded the first time it is asked for.
fn load_entry<'a>(
    loaded: &'a mut HashMap<OsString, FileState>,
    reader: &Reader,
    dir: &Path,
    memo: &mut CertMemo,
    name: OsString,
) -> &'a FileState {
    loaded
        .entry(name)
        .or_insert_with_key(|name| load_file_with(reader, &dir.join(name), memo))
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
