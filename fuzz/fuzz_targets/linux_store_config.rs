//! Debian's `/etc/ca-certificates.conf` `!` lines and p11-kit blocklist files
//! (platform/src/linux.rs), read through `read_system_store` on a Debian and a Fedora tree.
//! Input parts: the conf text, then the blocklist file.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::Path;

const CA: &str = include_str!("../seeds/ca.pem");

fuzz_target!(|data: &[u8]| {
    let parts = trustsync_fuzz::parts(data, 2);
    let debian = trustsync_fuzz::scratch().join("debian");
    trustsync_fuzz::put("debian/etc/ssl/certs/ca-certificates.crt", CA.as_bytes());
    trustsync_fuzz::put(
        "debian/usr/share/ca-certificates/mozilla/A.crt",
        CA.as_bytes(),
    );
    trustsync_fuzz::put("debian/etc/ca-certificates.conf", parts[0]);
    let store = trustsync_platform::linux::read_system_store(&debian).unwrap();
    for d in &store.distrusted {
        assert!(Path::new(&d.origin).starts_with(&debian), "{}", d.origin);
    }
    let fedora = trustsync_fuzz::scratch().join("fedora");
    trustsync_fuzz::put(
        "fedora/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
        CA.as_bytes(),
    );
    trustsync_fuzz::put(
        "fedora/etc/pki/ca-trust/source/blocklist/x.pem",
        parts.last().unwrap(),
    );
    let store = trustsync_platform::linux::read_system_store(&fedora).unwrap();
    for d in &store.distrusted {
        assert!(!store.trusted.iter().any(|t| t.der == d.der));
    }
});
