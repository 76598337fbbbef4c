//! PEM/DER bundle decoding (platform/src/bundle.rs) and the hashed-dir planner's identity.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let decoded = trustsync_platform::bundle::decode(data);
    if let Some(len) = trustsync_platform::bundle::first_der_element(data) {
        assert!(len <= data.len());
    }
    assert_eq!(
        trustsync::apply::posix::hashdir::certificate_sha256(data).is_some(),
        !decoded.certificates.is_empty()
    );
    let _ = trustsync::apply::posix::safe_fs::count_certificates(data);
});
