//! `trustsync.exe add` / `remove` against a real crypt32 (Wine's in CI, run by
//! `scripts/windows-tests.sh` with a fresh WINEPREFIX per test binary; Windows' own when
//! run there). Each step is a separate `trustsync.exe` process, so what is checked is what
//! the store persisted: `add` puts a generated CA into the ROOT store the backend picks,
//! `status --json` in another process lists it as added locally, `remove` takes it out, and
//! removing a root trustsync did not add (one of the roots Wine copies from the host) is
//! refused and changes nothing.
#![cfg(windows)]
#![forbid(unsafe_code)]

#[path = "support/certs.rs"]
#[allow(dead_code)]
mod certs;

use std::process::{Command, Output};

const EXE: &str = env!("CARGO_BIN_EXE_trustsync");

/// Runs `trustsync.exe ARGS --json` (environment inherited: crypt32 needs the Wine/Windows
/// one) and parses its document.
#[track_caller]
fn trustsync_json(args: &[&str]) -> (serde_json::Value, Output) {
    let out = Command::new(EXE)
        .args(args)
        .arg("--json")
        .output()
        .expect("run trustsync.exe");
    (certs::json(&out), out)
}

fn status() -> serde_json::Value {
    let (doc, out) = trustsync_json(&["status", "--only", "--fresh"]);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "status failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(doc["system"]["flavor"], "windows", "{doc:#}");
    doc
}

fn fingerprints(doc: &serde_json::Value, list: &str) -> Vec<String> {
    doc["system"][list]
        .as_array()
        .unwrap_or_else(|| panic!("no system.{list} in {doc:#}"))
        .iter()
        .map(|c| c["sha256"].as_str().unwrap().to_string())
        .collect()
}

/// The one test of this binary: the steps share one store, so they run in order.
#[test]
fn add_status_remove_round_trip_and_refusals() {
    let dir = tempfile::tempdir().unwrap();
    let ca = certs::make_cert("trustsync Wine manage test CA", true, 2045);
    let corp = dir.path().join("corp.pem");
    std::fs::write(&corp, &ca.pem).unwrap();
    let corp = corp.to_str().unwrap();
    assert!(!fingerprints(&status(), "locally_added").contains(&ca.fingerprint));

    // add: the backend picks LocalMachine\ROOT when this process may write it (an
    // administrator, which a Wine process is), CurrentUser\ROOT otherwise; whichever it
    // reports must be where `status` then finds the CA.
    let (doc, out) = trustsync_json(&["add", corp]);
    assert_eq!(out.status.code(), Some(0), "{doc:#}");
    assert_eq!(doc["outcome"], "added", "{doc:#}");
    assert_eq!(doc["certificates"][0]["sha256"], ca.fingerprint.as_str());
    let location = doc["certificates"][0]["location"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        location == "CurrentUser\\ROOT" || location == "LocalMachine\\ROOT",
        "{location}"
    );
    assert!(doc["update"].is_null(), "no update command on Windows");

    let after_add = status();
    // trustsync's mark makes it "added locally" in either store.
    assert!(
        fingerprints(&after_add, "locally_added").contains(&ca.fingerprint),
        "{after_add:#}"
    );
    assert!(
        after_add["system"]["sources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s.as_str().unwrap().contains(&location)),
        "{after_add:#}"
    );

    // add again: already trusted, nothing written.
    let (doc, out) = trustsync_json(&["add", corp]);
    assert_eq!(out.status.code(), Some(0), "{doc:#}");
    assert_eq!(doc["outcome"], "already-trusted", "{doc:#}");

    // A non-CA is refused without --force.
    let leaf = certs::make_cert("www.example.test", false, 2045);
    let leaf_file = dir.path().join("leaf.pem");
    std::fs::write(&leaf_file, &leaf.pem).unwrap();
    let (doc, out) = trustsync_json(&["add", leaf_file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{doc:#}");
    assert_eq!(doc["error"]["code"], "not-a-ca", "{doc:#}");

    // A root trustsync did not add: ISRG Root X1, which Wine copies from the host's
    // /etc/ssl/certs into LocalMachine\ROOT (without trustsync's mark).
    let isrg_pem =
        std::fs::read("Z:\\etc\\ssl\\certs\\ISRG_Root_X1.pem").expect("host ISRG Root X1");
    let isrg =
        trustsync::model::load::parse_bytes(std::path::Path::new("ISRG_Root_X1.pem"), &isrg_pem)
            .certificates
            .remove(0);
    let before = status();
    let (doc, out) = trustsync_json(&["remove", &isrg.fingerprint()]);
    assert_eq!(out.status.code(), Some(1), "{doc:#}");
    assert_eq!(doc["outcome"], "refused", "{doc:#}");
    assert_eq!(doc["error"]["code"], "not-added-by-trustsync", "{doc:#}");
    assert!(
        doc["error"]["message"]
            .as_str()
            .unwrap()
            .contains("LocalMachine\\ROOT"),
        "{doc:#}"
    );
    let after = status();
    assert_eq!(
        after["system"]["certificates"], before["system"]["certificates"],
        "a refused remove changes nothing"
    );

    // remove: gone from the store, as a second process sees it.
    let (doc, out) = trustsync_json(&["remove", &ca.fingerprint]);
    assert_eq!(out.status.code(), Some(0), "{doc:#}");
    assert_eq!(doc["outcome"], "removed", "{doc:#}");
    assert_eq!(doc["certificates"][0]["location"], location.as_str());
    let after_remove = status();
    assert!(!fingerprints(&after_remove, "locally_added").contains(&ca.fingerprint));

    let (doc, out) = trustsync_json(&["remove", &ca.fingerprint]);
    assert_eq!(out.status.code(), Some(0), "{doc:#}");
    assert_eq!(doc["outcome"], "not-present", "{doc:#}");
}
