//! Profile and environment files `fix` reads to say where a variable is set (src/commands/fix/posix/managed.rs).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Some(n) = trustsync::commands::fix::posix::assignment_line(&text, "SSL_CERT_FILE") {
        assert!(text.lines().nth(n - 1).unwrap().contains("SSL_CERT_FILE="));
    }
});
