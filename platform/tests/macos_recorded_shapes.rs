//! A whole Mac's trust settings, in the shapes the real tools leave behind, run through the
//! public decision API (`macos_trust`) the way `macos.rs` feeds it.
//!
//! The shapes are those `SecTrustSettingsCopyTrustSettings` returns after:
//! * `security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain`
//!   (what MDM scripts and proxy installers run): an empty array;
//! * `security add-trusted-cert -d -r trustAsRoot -p ssl …`: one SSL entry, TrustAsRoot;
//! * Keychain Access, "Secure Sockets Layer (SSL): Never Trust" in the login keychain: an
//!   `sslServer` entry with result Deny;
//! * Keychain Access, "S/MIME: Never Trust": an `smime` entry with result Deny;
//! * trustsync's own `add`: one `sslServer` entry, TrustRoot, on a labelled item.
//!
//! Certificates are stood in for by distinct byte strings: the decision code compares and
//! hashes DER, it never parses it.

use trustsync_platform::macos_trust::*;

const PROXY_ROOT: &[u8] = b"zscaler-root";
const INTRANET_INTERMEDIATE: &[u8] = b"intranet-issuing-ca";
const APPLE_ROOT_A: &[u8] = b"apple-root-a";
const APPLE_ROOT_B: &[u8] = b"apple-root-b";
const APPLE_DISTRUSTED: &[u8] = b"apple-distrusted-root";
const MAIL_ROOT: &[u8] = b"mail-only-root";
const BROKEN: &[u8] = b"broken-record-root";

fn policy(oid: &str) -> Option<PolicyInfo> {
    Some(PolicyInfo {
        oid: Some(oid.to_string()),
        match_name: None,
    })
}

fn entry(oid: &str, name: &str, result: i64) -> UsageConstraint {
    UsageConstraint {
        policy: policy(oid),
        policy_name: Some(name.to_string()),
        result: Some(result),
        ..UsageConstraint::default()
    }
}

fn record(domain: TrustDomain, der: &[u8], settings: RawTrustSettings) -> TrustRecord {
    TrustRecord {
        domain,
        der: der.to_vec(),
        settings,
    }
}

fn item(keychain: Keychain, der: &[u8]) -> KeychainCertificate {
    KeychainCertificate {
        keychain,
        der: der.to_vec(),
        label: None,
    }
}

fn a_mac() -> TrustSnapshot {
    use RawTrustSettings::{Constraints, Corrupt};
    use TrustDomain::{Admin, System, User};
    TrustSnapshot {
        records: vec![
            record(
                User,
                APPLE_ROOT_B,
                Constraints(vec![entry(SSL_POLICY_OID, "sslServer", RESULT_DENY)]),
            ),
            record(
                User,
                MAIL_ROOT,
                Constraints(vec![entry(SMIME_POLICY_OID, "smime", RESULT_DENY)]),
            ),
            record(Admin, PROXY_ROOT, Constraints(vec![])),
            record(
                Admin,
                INTRANET_INTERMEDIATE,
                Constraints(vec![UsageConstraint {
                    policy: policy(SSL_POLICY_OID),
                    result: Some(RESULT_TRUST_AS_ROOT),
                    ..UsageConstraint::default()
                }]),
            ),
            record(
                Admin,
                BROKEN,
                Corrupt("SecTrustSettingsCopyTrustSettings failed: OSStatus -67653".into()),
            ),
            record(System, APPLE_ROOT_A, Constraints(vec![])),
            record(System, APPLE_ROOT_B, Constraints(vec![])),
            record(
                System,
                APPLE_DISTRUSTED,
                Constraints(vec![
                    entry(SSL_POLICY_OID, "sslServer", RESULT_DENY),
                    entry("1.2.840.113635.100.1.2", "basicX509", RESULT_DENY),
                ]),
            ),
            record(System, MAIL_ROOT, Constraints(vec![])),
        ],
        keychain_certificates: vec![
            item(Keychain::System, PROXY_ROOT),
            item(Keychain::System, INTRANET_INTERMEDIATE),
            item(Keychain::System, BROKEN),
            item(Keychain::SystemRoots, APPLE_ROOT_A),
            item(Keychain::SystemRoots, APPLE_ROOT_B),
            item(Keychain::SystemRoots, APPLE_DISTRUSTED),
            item(Keychain::SystemRoots, MAIL_ROOT),
        ],
        read_errors: vec![],
    }
}

fn origins(list: &[trustsync_platform::StoreCertificate]) -> Vec<(String, String, bool)> {
    list.iter()
        .map(|c| {
            (
                String::from_utf8(c.der.clone()).unwrap(),
                c.origin.clone(),
                c.locally_added,
            )
        })
        .collect()
}

#[test]
fn a_whole_mac_decides_as_apple_does() {
    let store = decide(&a_mac());
    assert_eq!(store.flavor, "macos");
    let s = |a: &str, b: &str, c: bool| (a.to_string(), b.to_string(), c);
    assert_eq!(
        origins(&store.trusted),
        vec![
            // The S/MIME deny says nothing about TLS: Apple's root stays trusted.
            s(
                "mail-only-root",
                "system trust settings (SystemRootCertificates.keychain)",
                false
            ),
            s(
                "zscaler-root",
                "admin trust settings (System.keychain)",
                true
            ),
            s(
                "intranet-issuing-ca",
                "admin trust settings (System.keychain)",
                true
            ),
            s(
                "apple-root-a",
                "system trust settings (SystemRootCertificates.keychain)",
                false
            ),
        ]
    );
    assert_eq!(
        origins(&store.distrusted),
        vec![
            // The user's SSL "Never Trust" overrides Apple's trust.
            s(
                "apple-root-b",
                "user trust settings (SystemRootCertificates.keychain)",
                true
            ),
            s(
                "apple-distrusted-root",
                "system trust settings (SystemRootCertificates.keychain)",
                false
            ),
        ]
    );
    assert_eq!(store.warnings.len(), 1, "{:?}", store.warnings);
    assert!(store.warnings[0]
        .starts_with("admin trust settings (System.keychain): certificate SHA-256 "));
    assert!(store.warnings[0].contains(&sha256_hex(BROKEN)));
    assert!(store
        .sources
        .iter()
        .any(|s| s == "/Library/Keychains/System.keychain"));
}

#[test]
fn add_then_remove_round_trip_through_the_plans() {
    // Before: the company root is nowhere.
    let mut mac = a_mac();
    const COMPANY: &[u8] = b"company-root";
    let plan = plan_add(COMPANY, true, &mac.keychain_certificates, None).unwrap();
    let AddPlan::AddItemAndTrust { label, result } = plan else {
        panic!("expected a fresh add, got {plan:?}");
    };
    assert_eq!(result, RESULT_TRUST_ROOT);

    // What add_root then writes: the labelled item and one sslServer entry.
    let written = RawTrustSettings::Constraints(vec![entry(SSL_POLICY_OID, "sslServer", result)]);
    mac.keychain_certificates.push(KeychainCertificate {
        keychain: Keychain::System,
        der: COMPANY.to_vec(),
        label: Some(label),
    });
    mac.records
        .push(record(TrustDomain::Admin, COMPANY, written.clone()));
    let store = decide(&mac);
    let company = store
        .trusted
        .iter()
        .find(|c| c.der == COMPANY)
        .expect("trusted after add");
    assert!(company.locally_added);
    assert_eq!(company.origin, "admin trust settings (System.keychain)");

    // Adding again changes nothing.
    assert_eq!(
        plan_add(COMPANY, true, &mac.keychain_certificates, Some(&written)).unwrap(),
        AddPlan::AlreadyTrusted
    );

    // Remove finds exactly that item, and only it; the proxy root (not ours) is refused.
    let system: Vec<KeychainCertificate> = mac
        .keychain_certificates
        .iter()
        .filter(|i| i.keychain == Keychain::System)
        .cloned()
        .collect();
    let plan = plan_remove(&sha256_hex(COMPANY), &system, Some(&written)).unwrap();
    assert_eq!(system[plan.item_index].der, COMPANY);
    assert!(plan.remove_trust_settings);
    let refused = plan_remove(
        &sha256_hex(PROXY_ROOT),
        &system,
        Some(&RawTrustSettings::Constraints(vec![])),
    );
    assert!(matches!(refused, Err(ManageError::NotManaged { .. })));

    // After removal the machine is as before.
    mac.keychain_certificates.retain(|i| i.der != COMPANY);
    mac.records.retain(|r| r.der != COMPANY);
    let store = decide(&mac);
    assert!(store.trusted.iter().all(|c| c.der != COMPANY));
}
