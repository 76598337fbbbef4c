//! `openssl version -v -d` output (src/runtimes/openssl/mod.rs `parse_version_output`).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (version, dir) = trustsync::runtimes::openssl::parse_version_output(&text);
    assert_eq!(
        dir.is_some(),
        text.lines().any(|l| l.starts_with("OPENSSLDIR:"))
    );
    assert!(version.is_none_or(|v| !v.is_empty()));
});
