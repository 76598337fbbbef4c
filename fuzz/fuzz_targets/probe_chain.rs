//! What a TLS server sends (src/commands/probe/: certificate info, path analysis, the report):
//! input parts are the chain's DER certificates, the last one the trust set's root.
#![no_main]
use libfuzzer_sys::fuzz_target;
use trustsync::commands::probe::{analyse, render_human, TrustSetInput};

fuzz_target!(|data: &[u8]| {
    let mut parts: Vec<Vec<u8>> = trustsync_fuzz::parts(data, 5)
        .iter()
        .map(|p| p.to_vec())
        .collect();
    let root = parts.pop().unwrap_or_default();
    let sets = [TrustSetInput {
        label: "OS store".into(),
        roots: vec![root],
    }];
    let now = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_800_000_000);
    let report = analyse(&parts, "leaf.test", &sets, now, false);
    assert_eq!(report.chain.len(), parts.len());
    serde_json::to_string(&report).unwrap();
    let _ = render_human(&report, false);
});
