//! One DER certificate (src/model/cert.rs `Certificate::from_der`, with the subject-name hashes).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(c) = trustsync::model::cert::Certificate::from_der(data) {
        assert_eq!(c.der, data);
        assert_eq!(
            trustsync_platform::bundle::first_der_element(data),
            Some(data.len())
        );
        let _ = (c.display_name(), c.subject_hash_hex(), c.anchor_key());
    }
});
