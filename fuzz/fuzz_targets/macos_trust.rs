//! macOS trust-settings data (platform/src/macos_trust.rs): policy OIDs from on-disk plists,
//! fingerprints, and `decide` over constraint arrays built from the input bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use trustsync_platform::macos_trust::*;

fuzz_target!(|data: &[u8]| {
    let _ = oid_from_der_content(data);
    let _ = normalize_fingerprint(&String::from_utf8_lossy(data));
    let mut snapshot = TrustSnapshot::default();
    for chunk in data.chunks(6) {
        let b = |i: usize| chunk.get(i).copied().unwrap_or(0);
        let constraint = UsageConstraint {
            policy: (b(0) & 1 == 1).then(|| PolicyInfo {
                oid: oid_from_der_content(&chunk[1.min(chunk.len())..]),
                match_name: (b(0) & 2 == 2).then(|| "h".into()),
            }),
            policy_name: (b(0) & 4 == 4)
                .then(|| ["sslServer", "sslClient"][usize::from(b(1) & 1)].into()),
            policy_string: (b(0) & 8 == 8).then(|| "a".into()),
            application: (b(0) & 16 == 16).then(|| "app".into()),
            result: (b(0) & 32 == 32).then(|| i64::from(b(2) as i8)),
            allowed_error: None,
            key_usage: (b(0) & 64 == 64)
                .then(|| i64::from(i32::from_le_bytes([b(3), b(4), b(5), b(2)]))),
        };
        snapshot.records.push(TrustRecord {
            domain: TrustDomain::PRECEDENCE[usize::from(b(1) % 3)],
            der: vec![b(5) % 4],
            settings: if b(0) & 128 == 128 {
                RawTrustSettings::Corrupt("x".into())
            } else {
                RawTrustSettings::Constraints(vec![constraint])
            },
        });
        snapshot.keychain_certificates.push(KeychainCertificate {
            keychain: Keychain::ALL[usize::from(b(2) % 3)],
            der: vec![b(4) % 4],
            label: None,
        });
    }
    let store = decide(&snapshot);
    for d in &store.distrusted {
        assert!(!store.trusted.iter().any(|t| t.der == d.der));
    }
});
