//! Certificates from a CA file (src/model/load.rs `parse_bytes`): each re-encodes and re-parses
//! to itself; each bad entry names the file.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let loaded = trustsync::model::load::parse_bytes(Path::new("/f.pem"), data);
    assert!(loaded.bad_entries.iter().all(|l| l.starts_with("/f.pem: ")));
    for c in &loaded.certificates {
        let again = trustsync::model::load::parse_bytes(Path::new("/f.pem"), c.to_pem().as_bytes());
        assert_eq!(again.certificates.len(), 1);
        assert_eq!(again.certificates[0].fingerprint(), c.fingerprint());
    }
});
