//! Helpers shared by the fuzz targets: splitting one fuzz input into several parts, and a
//! scratch directory reused across runs (a fresh one per input would dominate the time).
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// `data` split at `0xff 0x00` pairs (bytes rare in every format here), at most `max` parts.
pub fn parts(data: &[u8], max: usize) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    while out.len() + 1 < max {
        match rest.windows(2).position(|w| w == [0xff, 0x00]) {
            Some(i) => {
                out.push(&rest[..i]);
                rest = &rest[i + 2..];
            }
            None => break,
        }
    }
    out.push(rest);
    out
}

/// A private scratch directory for this fuzzing process.
pub fn scratch() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("a temp dir"))
        .path()
}

/// Writes `bytes` to `rel` under [`scratch`], creating parents; returns the path.
pub fn put(rel: &str, bytes: &[u8]) -> PathBuf {
    let path = scratch().join(rel);
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
    std::fs::write(&path, bytes).expect("write");
    path
}
