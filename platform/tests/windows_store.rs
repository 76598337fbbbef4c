//! The Windows store reader and add/remove backend against a real crypt32: Wine's in CI
//! (`scripts/windows-tests.sh`), Windows' own when run there.
//!
//! Every change is checked from a second process (this test binary run again, see
//! [`read_in_second_process`]), because what matters is what the store persisted, not what
//! one process's open handles remember. Certificates are generated per test, so tests do not
//! see each other's; tests that write take [`STORE_WRITES`] so that two store handles in this
//! process never write at the same time.
#![cfg(windows)]
#![forbid(unsafe_code)]

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use schannel::cert_context::CertContext;
use schannel::cert_store::{CertAdd, CertStore};
use std::collections::HashMap;
use std::process::Command;
use std::sync::Mutex;
use trustsync_platform::windows;
use trustsync_platform::windows_store::{self, AddTarget, StoreEditError, StoreId};
use trustsync_platform::windows_store::{StoreLocation, StoreName};

static STORE_WRITES: Mutex<()> = Mutex::new(());

/// Set in the child process: print the store instead of testing.
const DUMP_ENV: &str = "TRUSTSYNC_TEST_DUMP_STORE";

fn generated_ca(name: &str) -> Vec<u8> {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(DnType::CommonName, format!("trustsync Wine test {name}"));
    let key = KeyPair::generate().expect("key");
    params
        .self_signed(&key)
        .expect("self-signed")
        .der()
        .to_vec()
}

fn fingerprint(der: &[u8]) -> String {
    hex::encode(windows_store::sha256(der))
}

/// What a second process sees: fingerprint -> (list, origin, locally_added) for every
/// trusted and distrusted certificate.
#[derive(Debug)]
struct SeenEntry {
    list: String,
    origin: String,
    locally_added: bool,
}

fn read_in_second_process() -> HashMap<String, SeenEntry> {
    let output = Command::new(std::env::current_exe().expect("current exe"))
        .args([
            "--exact",
            "second_process_dump",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(DUMP_ENV, "1")
        .output()
        .expect("run the test binary again");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "second process failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut seen = HashMap::new();
    for line in stdout.lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        if let ["STORE", list, fp, origin, local] = fields[..] {
            let previous = seen.insert(
                fp.to_string(),
                SeenEntry {
                    list: list.to_string(),
                    origin: origin.to_string(),
                    locally_added: local == "true",
                },
            );
            // Trusted and distrusted at once, or listed twice, would be a reader bug.
            assert!(previous.is_none(), "{fp} listed twice: {stdout}");
        }
    }
    assert!(
        !seen.is_empty(),
        "second process printed no store: {stdout}"
    );
    seen
}

/// The child half of [`read_in_second_process`]. Run normally, it checks that reading the
/// store twice in one process gives the same answer.
#[test]
fn second_process_dump() {
    let dump = std::env::var_os(DUMP_ENV).is_some();
    // Only the in-process check needs the lock; the child is another process.
    let _guard = (!dump).then(|| STORE_WRITES.lock().unwrap_or_else(|e| e.into_inner()));
    // The crate's entry point, as the core calls it.
    let store = trustsync_platform::read_system_store(std::path::Path::new("/"))
        .expect("read the Windows store");
    if dump {
        for (list, certs) in [
            ("trusted", &store.trusted),
            ("distrusted", &store.distrusted),
        ] {
            for cert in certs {
                println!(
                    "STORE\t{list}\t{}\t{}\t{}",
                    fingerprint(&cert.der),
                    cert.origin,
                    cert.locally_added
                );
            }
        }
        return;
    }
    assert_eq!(store.flavor, "windows");
    let direct = windows::read_system_store().expect("read through windows.rs");
    assert_eq!(store.trusted, direct.trusted);
    assert_eq!(store.distrusted, direct.distrusted);
}

#[test]
fn reads_the_roots_wine_imported_from_the_host() {
    let trust = windows::read_trust();
    assert!(
        trust.store.trusted.len() > 100,
        "only {} trusted roots; warnings: {:?}",
        trust.store.trusted.len(),
        trust.store.warnings
    );
    assert!(
        !trust
            .store
            .warnings
            .iter()
            .any(|w| w.contains("could not be read")),
        "{:?}",
        trust.store.warnings
    );
    assert!(trust
        .store
        .sources
        .contains(&"LocalMachine\\ROOT".to_string()));
    // Wine copies the host's /etc/ssl/certs into LocalMachine\ROOT: ISRG Root X1 (Let's
    // Encrypt) is in Debian's ca-certificates, so it must be here, from that store.
    let pem = std::fs::read("Z:\\etc\\ssl\\certs\\ISRG_Root_X1.pem").expect("host ISRG Root X1");
    let isrg = trustsync_platform::bundle::decode(&pem)
        .certificates
        .remove(0);
    let found = trust
        .store
        .trusted
        .iter()
        .find(|c| c.der == isrg)
        .expect("ISRG Root X1 trusted");
    assert_eq!(found.origin, "LocalMachine\\ROOT");
    assert!(!found.locally_added);
}

#[test]
fn added_root_is_seen_by_another_process_and_removed_again() {
    let _guard = STORE_WRITES.lock().unwrap_or_else(|e| e.into_inner());
    let der = generated_ca("added");
    let fp = fingerprint(&der);

    let outcome = windows::add_root_to(&der, AddTarget::CurrentUser).expect("add");
    assert!(outcome.added && outcome.marked_by_trustsync);
    assert_eq!(outcome.store.origin(), "CurrentUser\\ROOT");
    assert_eq!(outcome.fingerprint, fp);

    let seen = read_in_second_process();
    let entry = seen
        .get(&fp)
        .expect("added root visible to another process");
    assert_eq!(entry.list, "trusted");
    assert_eq!(entry.origin, "CurrentUser\\ROOT");
    assert!(entry.locally_added);

    // Adding again writes nothing and reports the existing, marked copy.
    let again = windows::add_root_to(&der, AddTarget::CurrentUser).expect("add again");
    assert!(!again.added && again.marked_by_trustsync);

    let removed = windows::remove_root(&fp.to_uppercase()).expect("remove ours");
    assert_eq!(
        removed.iter().map(|id| id.origin()).collect::<Vec<_>>(),
        ["CurrentUser\\ROOT"]
    );
    assert!(
        !read_in_second_process().contains_key(&fp),
        "removed root still visible to another process"
    );
    assert!(matches!(
        windows::remove_root(&fp),
        Err(StoreEditError::NotFound { .. })
    ));
}

#[test]
fn remove_refuses_a_root_trustsync_did_not_add() {
    let _guard = STORE_WRITES.lock().unwrap_or_else(|e| e.into_inner());
    let der = generated_ca("users-own");
    let fp = fingerprint(&der);
    // The user's own root, added the way any other tool would: no trustsync mark.
    CertStore::open_current_user("Root")
        .expect("open CurrentUser\\ROOT")
        .add_cert(&CertContext::new(&der).expect("decode"), CertAdd::New)
        .expect("add without trustsync");

    let outcome = windows::add_root_to(&der, AddTarget::CurrentUser).expect("add");
    assert!(!outcome.added, "an existing root must not be re-added");
    assert!(!outcome.marked_by_trustsync, "nor taken over");

    let refusal = windows::remove_root(&fp).expect_err("must refuse");
    assert!(
        matches!(refusal, StoreEditError::NotAddedByTrustsync { .. }),
        "{refusal}"
    );
    assert!(
        refusal.to_string().contains("CurrentUser\\ROOT"),
        "{refusal}"
    );
    let seen = read_in_second_process();
    let entry = seen.get(&fp).expect("the user's root is still there");
    assert_eq!(
        (entry.list.as_str(), entry.origin.as_str()),
        ("trusted", "CurrentUser\\ROOT")
    );
}

#[test]
fn a_root_also_in_disallowed_is_distrusted() {
    let _guard = STORE_WRITES.lock().unwrap_or_else(|e| e.into_inner());
    let der = generated_ca("disallowed");
    let fp = fingerprint(&der);
    let cert = CertContext::new(&der).expect("decode");
    for store in ["Root", "Disallowed"] {
        CertStore::open_current_user(store)
            .unwrap_or_else(|e| panic!("open CurrentUser\\{store}: {e}"))
            .add_cert(&cert, CertAdd::New)
            .unwrap_or_else(|e| panic!("add to CurrentUser\\{store}: {e}"));
    }
    let seen = read_in_second_process();
    let entry = seen.get(&fp).expect("listed");
    assert_eq!(entry.list, "distrusted");
    assert_eq!(entry.origin, "CurrentUser\\Disallowed");

    let raw = windows::read_stores(&[StoreId::new(
        windows_store::StoreLocation::CurrentUser,
        windows_store::StoreName::Disallowed,
    )]);
    assert!(raw.entries.iter().any(|e| e.der == der));
}

#[test]
fn automatic_add_uses_local_machine_only_when_it_is_writable() {
    let _guard = STORE_WRITES.lock().unwrap_or_else(|e| e.into_inner());
    let der = generated_ca("automatic");
    let fp = fingerprint(&der);
    // Wine does not enforce registry ACLs, so there LocalMachine\ROOT is writable, as for an
    // elevated administrator on Windows; a non-elevated Windows run takes the other branch.
    let expected = if windows::local_machine_root_writable() {
        "LocalMachine\\ROOT"
    } else {
        "CurrentUser\\ROOT"
    };
    let outcome = windows::add_root(&der).expect("add");
    assert_eq!(outcome.store.origin(), expected);
    assert!(outcome.added);

    let seen = read_in_second_process();
    let entry = seen.get(&fp).expect("visible to another process");
    assert_eq!(entry.origin, expected);
    assert!(
        entry.locally_added,
        "trustsync's own root is a local addition"
    );

    assert_eq!(
        windows::remove_root(&fp)
            .expect("remove")
            .iter()
            .map(|id| id.origin())
            .collect::<Vec<_>>(),
        [expected]
    );
    assert!(!read_in_second_process().contains_key(&fp));
}

#[test]
fn company_roots_from_policy_stores_keep_their_origin_and_count_as_local() {
    let _guard = STORE_WRITES.lock().unwrap_or_else(|e| e.into_inner());
    let mut expected = Vec::new();
    // LocalMachine\Enterprise is left out: Wine 8.0's registry provider cannot open that
    // location at all (CertOpenStore fails without an error code). Its naming and
    // local-addition rule are unit-tested in windows_store.rs.
    for location in [
        StoreLocation::LocalMachineGroupPolicy,
        StoreLocation::CurrentUserGroupPolicy,
    ] {
        let id = StoreId::new(location, StoreName::Root);
        let der = generated_ca(location.display_name());
        // Staged the way Group Policy / Active Directory would: straight into the store.
        windows::open_physical_store(id, windows::Access::Create)
            .unwrap_or_else(|e| panic!("create {id}: {e}"))
            .unwrap_or_else(|| panic!("{id} not created"))
            .add_cert(&CertContext::new(&der).expect("decode"), CertAdd::New)
            .unwrap_or_else(|e| panic!("add to {id}: {e}"));
        expected.push((fingerprint(&der), id.origin()));
    }
    let seen = read_in_second_process();
    for (fp, origin) in expected {
        let entry = seen
            .get(&fp)
            .unwrap_or_else(|| panic!("{origin} root not read"));
        assert_eq!(
            (entry.list.as_str(), entry.origin.as_str()),
            ("trusted", origin.as_str())
        );
        assert!(entry.locally_added, "{origin} roots are company roots");
        // Not trustsync's to remove, and the policy stores are not where it removes from.
        assert!(matches!(
            windows::remove_root(&fp),
            Err(StoreEditError::NotFound { .. })
        ));
    }
}
