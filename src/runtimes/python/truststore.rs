//! truststore's `SSLContext`, which pip 24.2+ verifies with and which `inject_into_ssl()`
//! (pip-system-certs, a `.pth` or sitecustomize) puts under `ssl` and requests: what it
//! trusts, so every row it drives is modelled once.
//!
//! On Linux truststore is OpenSSL underneath (truststore/_openssl.py): it calls
//! `set_default_verify_paths()` when the default file exists or the default directory has
//! a `HASH.N` entry, else it loads the first bundle of its own list; files the caller
//! passes to `load_verify_locations` add to that. On Windows and macOS it asks the OS
//! verifier.

use crate::model::runtime::{Note, Runtime};
use std::path::{Path, PathBuf};
use trustsync_platform::read::Reader;

/// truststore's `_CA_FILE_CANDIDATES` (truststore 0.10.5, vendored by pip 26.3), tried in
/// this order when OpenSSL's default file is missing and its directory holds no `HASH.N`.
const TRUSTSTORE_FALLBACK: &[&str] = &[
    "/etc/ssl/cert.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/pki/tls/cert.pem",
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/ssl/ca-bundle.pem",
];

/// Makes `rt` trust what a truststore context trusts before anything is loaded into it:
/// `ssl`'s default paths (the same interpreter's `ssl` row), or the fallback bundle, or the
/// OS store on Windows and macOS.
pub(super) fn verify_like_truststore(
    rt: &mut Runtime,
    ssl: &Runtime,
    platform: Option<&str>,
    reader: &Reader,
) {
    rt.cafile = ssl.cafile.clone();
    rt.capath = ssl.capath.clone();
    rt.capath_store_lookup = ssl.capath_store_lookup;
    // `set_default_verify_paths` ignores a default file it cannot load.
    rt.cafile_strict = false;
    rt.extra_cafiles.clear();
    if matches!(platform, Some("win32") | Some("darwin")) {
        rt.adds_os_store = true;
    } else if !defaults_hold_anything(reader, rt) {
        if let Some(found) = TRUSTSTORE_FALLBACK
            .iter()
            .map(PathBuf::from)
            .find(|f| reader.is_file(f))
        {
            rt.notes.push(Note::said(
                "truststore-fallback",
                msg!(
                    "note-truststore-fallback",
                    path = found.display().to_string()
                ),
                false,
            ));
            rt.cafile = Some(found);
            rt.capath.clear();
        }
    }
}

/// `ctx.load_verify_locations(path)` as requests calls it: a directory is a `capath`, any
/// other path a CA file that must load.
pub(super) fn load_verify_locations(rt: &mut Runtime, path: &Path, reader: &Reader) {
    if reader.is_dir(path) {
        rt.capath.push(path.to_path_buf());
    } else {
        rt.extra_cafiles.push(path.to_path_buf());
    }
}

/// truststore's test before it uses OpenSSL's defaults: the default file exists, or the
/// default directory has an entry named like `HASH.N` (one hex digit string of 8, one digit).
fn defaults_hold_anything(reader: &Reader, rt: &Runtime) -> bool {
    if rt.cafile.as_ref().is_some_and(|f| reader.is_file(f)) {
        return true;
    }
    rt.capath.iter().any(|dir| {
        reader.list(dir).is_ok_and(|entries| {
            entries.iter().any(|(name, _)| {
                let name = name.to_string_lossy();
                let b = name.as_bytes();
                b.len() == 10
                    && b[..8].iter().all(u8::is_ascii_hexdigit)
                    && b[8] == b'.'
                    && b[9].is_ascii_digit()
            })
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_default_dir_counts_only_with_a_hash_named_entry() {
        let dir = tempfile::tempdir().unwrap();
        let mut rt = Runtime::new(crate::runtimes::python::PIP, "/p".into(), "p".into());
        rt.cafile = Some(dir.path().join("missing.pem"));
        rt.capath = vec![dir.path().to_path_buf()];
        let reader = Reader::host();
        std::fs::write(dir.path().join("corp.pem"), b"x").unwrap();
        std::fs::write(dir.path().join("abcdef01.10"), b"x").unwrap();
        assert!(!defaults_hold_anything(&reader, &rt));
        std::fs::write(dir.path().join("ABCDEF01.0"), b"x").unwrap();
        assert!(defaults_hold_anything(&reader, &rt));
    }
}
