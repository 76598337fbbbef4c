//! Offline analysis (`trustsync probe --chain FILE --name HOST`) and the classification
//! rules that need a chosen clock or environment: clock skew, the inspection heuristic,
//! chains with no AIA, empty and unreadable input.

mod support;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use support::tls::{CaChain, ChainSpec};
use trustsync::commands::probe::{
    self, analyse, render_human, Code, NoteCode, ProbeError, TrustSetInput,
};

fn set(label: &str, roots: &[&CaChain]) -> TrustSetInput {
    TrustSetInput {
        label: label.to_string(),
        roots: roots.iter().map(|c| c.root_der()).collect(),
    }
}

fn year(y: u64) -> SystemTime {
    // Good enough for "some time in year y" (365.25-day years from 1970).
    UNIX_EPOCH + Duration::from_secs((y - 1970) * 31_557_600 + 86_400 * 180)
}

#[test]
fn saved_pem_chain_is_analysed_like_a_live_one() {
    let chain = CaChain::new(ChainSpec::default().names(&["intranet.example"]));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chain.pem");
    // As pasted from a browser: comments around the blocks, CRLF line ends.
    let pem = CaChain::pem_of(&chain.served_chain()).replace('\n', "\r\n");
    std::fs::write(&path, format!("# exported chain\r\n{pem}")).unwrap();
    let certs = probe::load_chain_file(&path).unwrap();
    assert_eq!(certs, chain.served_chain());
    let report = analyse(
        &certs,
        "intranet.example",
        &[set("OS store", &[&chain])],
        SystemTime::now(),
        false,
    );
    assert_eq!(report.overall, Code::Ok);
    assert!(report.connection.is_none());
    let human = render_human(&report, false);
    assert!(human.contains("saved chain"), "{human}");
    let report = analyse(
        &certs,
        "other.example",
        &[set("OS store", &[&chain])],
        SystemTime::now(),
        false,
    );
    assert_eq!(report.overall, Code::HostnameMismatch);
}

#[test]
fn unreadable_chain_files_are_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.pem");
    let err = probe::load_chain_file(&missing).unwrap_err();
    assert!(matches!(err, ProbeError::ChainFile { .. }));
    assert!(err.to_string().contains("nope.pem"), "{err}");
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "just text\n").unwrap();
    let err = probe::load_chain_file(&empty).unwrap_err();
    assert!(err.to_string().contains("no certificate"), "{err}");
    let broken = dir.path().join("broken.pem");
    std::fs::write(
        &broken,
        "-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let err = probe::load_chain_file(&broken).unwrap_err();
    assert!(err.to_string().contains("block 1"), "{err}");
    assert_eq!(probe::exit_code(&Err(err)), 2);
}

#[test]
fn clock_far_off_is_called_out() {
    let chain = CaChain::new(ChainSpec::default());
    let sets = [set("OS store", &[&chain])];
    // CAs are valid 2020..2050 and the leaf 2024..2045: in 2060 everything is expired.
    let report = analyse(&chain.served_chain(), "localhost", &sets, year(2060), false);
    assert_eq!(report.overall, Code::Expired);
    assert!(report.has_note(NoteCode::ClockSkew), "{:#?}", report.notes);
    let v = report.verdict("OS store").unwrap();
    assert!(v.next_step.as_deref().unwrap().contains("clock"), "{v:#?}");
    let human = render_human(&report, false);
    assert!(
        human.contains("clock-skew") && human.contains("2060-"),
        "{human}"
    );
    // In 2010 nothing is valid yet.
    let report = analyse(&chain.served_chain(), "localhost", &sets, year(2010), false);
    assert_eq!(report.overall, Code::NotYetValid);
    assert!(report.has_note(NoteCode::ClockSkew));
    // Now, with only the leaf expired, the clock is not blamed.
    let expired = CaChain::new(ChainSpec::default().expired_leaf());
    let report = analyse(
        &expired.served_chain(),
        "localhost",
        &[set("OS store", &[&expired])],
        SystemTime::now(),
        false,
    );
    assert_eq!(report.overall, Code::Expired);
    assert!(!report.has_note(NoteCode::ClockSkew));
}

#[test]
fn inspection_heuristic() {
    let public = CaChain::new(ChainSpec::default());
    let sets = [set("OS store", &[&public])];
    // An unknown root with a public CA's name and no proxy: untrusted, not "a proxy".
    let lookalike =
        CaChain::new(ChainSpec::default().root("DigiCert Test Root G9", Some("DigiCert Inc")));
    let r = analyse(
        &lookalike.chain_with_root(),
        "localhost",
        &sets,
        SystemTime::now(),
        false,
    );
    assert_eq!(r.overall, Code::UntrustedRoot);
    assert!(
        !r.has_note(NoteCode::TlsInspectionSuspected),
        "{:#?}",
        r.notes
    );
    // The same with HTTPS_PROXY set: suspected.
    let r = analyse(
        &lookalike.chain_with_root(),
        "localhost",
        &sets,
        SystemTime::now(),
        true,
    );
    assert!(r.has_note(NoteCode::TlsInspectionSuspected));
    assert!(render_human(&r, false).contains("a proxy is in use"));
    // A vendor's name, root not sent by the proxy: suspected, and the name is quoted.
    let vendor = CaChain::new(
        ChainSpec::default()
            .root("Zscaler Root CA", Some("Zscaler Inc."))
            .no_intermediate(),
    );
    let r = analyse(
        &vendor.served_chain(),
        "localhost",
        &sets,
        SystemTime::now(),
        false,
    );
    assert_eq!(r.overall, Code::UntrustedRoot);
    let note = r
        .notes
        .iter()
        .find(|n| n.code == NoteCode::TlsInspectionSuspected)
        .unwrap();
    assert!(note.message.contains("zscaler"), "{}", note.message);
    let v = r.verdict("OS store").unwrap();
    let ca = v.ca.as_ref().unwrap();
    assert_eq!(
        (ca.name.as_str(), ca.sent_by_server, ca.sha256.is_none()),
        ("Zscaler Root CA", false, true)
    );
    // If the OS trusts the proxy root but a runtime does not, it is a plain fix.
    let r = analyse(
        &vendor.served_chain(),
        "localhost",
        &[set("OS store", &[&vendor]), set("node", &[&public])],
        SystemTime::now(),
        false,
    );
    assert!(!r.has_note(NoteCode::TlsInspectionSuspected));
    assert!(r
        .verdict("node")
        .unwrap()
        .next_step
        .as_deref()
        .unwrap()
        .contains("sudo trustsync fix"));
}

#[test]
fn missing_issuer_without_aia_is_an_unknown_root() {
    let chain = CaChain::new(ChainSpec::default());
    let other = CaChain::new(ChainSpec::default());
    let r = analyse(
        &chain.leaf_only(),
        "localhost",
        &[set("OS store", &[&other])],
        SystemTime::now(),
        false,
    );
    let v = r.verdict("OS store").unwrap();
    assert_eq!(v.code, Code::UntrustedRoot);
    assert!(v.message.contains("did not send it"), "{}", v.message);
    assert_eq!(
        v.ca.as_ref().unwrap().name,
        chain.intermediate.as_ref().unwrap().common_name
    );
}

#[test]
fn ca_trusted_only_by_a_runtime_points_at_the_os_store() {
    let chain = CaChain::new(ChainSpec::default());
    let other = CaChain::new(ChainSpec::default());
    let r = analyse(
        &chain.served_chain(),
        "localhost",
        &[set("OS store", &[&other]), set("certifi", &[&chain])],
        SystemTime::now(),
        false,
    );
    let v = r.verdict("OS store").unwrap();
    assert_eq!(v.code, Code::UntrustedRoot);
    assert!(
        v.next_step
            .as_deref()
            .unwrap()
            .contains("not by the OS store"),
        "{v:#?}"
    );
    assert_eq!(r.verdict("certifi").unwrap().code, Code::Ok);
    assert_eq!(r.exit_code(), 1);
}

#[test]
fn empty_and_garbage_input() {
    let chain = CaChain::new(ChainSpec::default());
    let sets = [set("OS store", &[&chain])];
    let r = analyse(&[], "localhost", &sets, SystemTime::now(), false);
    assert_eq!(r.overall, Code::NoCertificate);
    assert_eq!(r.exit_code(), 1);
    let r = analyse(
        &[vec![0x30, 0x03, 1, 2, 3]],
        "localhost",
        &sets,
        SystemTime::now(),
        false,
    );
    assert_eq!(r.overall, Code::NoCertificate);
    assert!(r.chain[0].error.is_some());
    // Garbage among the roots is skipped and reported, the good root still works.
    let mut noisy = set("OS store", &[&chain]);
    noisy.roots.push(b"not a certificate".to_vec());
    let r = analyse(
        &chain.served_chain(),
        "localhost",
        &[noisy],
        SystemTime::now(),
        false,
    );
    assert_eq!(r.overall, Code::Ok);
    assert!(r.has_note(NoteCode::UnusableRoots));
    // No trust sets at all: nothing fails, nothing to report as verified either.
    let r = analyse(
        &chain.served_chain(),
        "localhost",
        &[],
        SystemTime::now(),
        false,
    );
    assert!(render_human(&r, false).contains("no trust sets given"));
}
