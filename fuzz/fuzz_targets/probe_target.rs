//! `trustsync probe` targets and proxy URLs (src/commands/probe/mod.rs, src/commands/probe/proxy.rs).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(t) = trustsync::commands::probe::Target::parse(&text) {
        assert!(t.port != 0 && !t.host.is_empty());
    }
    let _ = text.parse::<trustsync::commands::probe::ProxyUrl>();
});
