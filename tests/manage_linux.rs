//! `trustsync add` / `remove` on Linux, end to end, each test in a private mount namespace
//! (tests/support/sandbox.rs) where the real `update-ca-certificates` runs: the CA lands in
//! `/usr/local/share/ca-certificates`, the system `openssl verify` accepts a leaf it signs,
//! `status` lists it as added locally, `remove` takes it out of the bundle again, and every
//! refusal (a root trustsync did not add, a non-CA, an expired CA, not root) changes nothing.
#![cfg(target_os = "linux")]

mod support;
use std::path::{Path, PathBuf};
use support::certs::make_cert;
use support::sandbox::{self, Sandbox};
use support::tls::{CaChain, ChainSpec};

const EXE: &str = env!("CARGO_BIN_EXE_trustsync");
const ANCHORS: &str = "/usr/local/share/ca-certificates";
const BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// Files the test hands to the sandbox live in a temp dir outside the overlaid layers
/// (the sandbox sees it as it is).
struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    fn new() -> Files {
        Files {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn put(&self, name: &str, text: &str) -> String {
        let p: PathBuf = self.dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    }
}

fn system_openssl_verifies(sb: &Sandbox, leaf: &str) -> bool {
    let out = sb.run(&["openssl", "verify", leaf], &[]);
    out.status.success()
}

fn locally_added(sb: &Sandbox) -> Vec<String> {
    let (doc, out) = sb.trustsync_json(&["status", "--fresh", "--only"]);
    assert!(out.status.code().is_some());
    doc["system"]["locally_added"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["sha256"].as_str().unwrap().to_string())
        .collect()
}

fn bundle_holds(sb: &Sandbox, pem: &str) -> bool {
    let bundle = String::from_utf8(sb.read_inside(BUNDLE).unwrap()).unwrap();
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    bundle
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<String>()
        .contains(&body)
}

#[test]
fn add_and_remove_round_trip_with_the_real_update_command() {
    let Some(sb) = Sandbox::new() else { return };
    let chain = CaChain::new(ChainSpec::default().no_intermediate());
    let files = Files::new();
    let corp = files.put("corp.pem", &chain.root_pem());
    let leaf = files.put("leaf.pem", &chain.leaf.pem());
    let fingerprint = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(chain.root_der()))
    };
    let anchor = format!("{ANCHORS}/trustsync-{}.crt", &fingerprint[..16]);
    assert!(!system_openssl_verifies(&sb, &leaf), "not trusted before");

    let (doc, out) = sb.trustsync_json(&["add", &corp]);
    assert_eq!(out.status.code(), Some(0), "{doc:#}");
    assert_eq!(doc["outcome"], "added", "{doc:#}");
    assert_eq!(doc["certificates"][0]["sha256"], fingerprint.as_str());
    assert_eq!(doc["certificates"][0]["location"], anchor.as_str());
    assert_eq!(
        doc["update"]["command"][0],
        "/usr/sbin/update-ca-certificates"
    );
    assert!(
        doc["update"]["output"]
            .as_str()
            .unwrap()
            .contains(" added, 0 removed; done."),
        "{doc:#}"
    );
    assert!(doc["next_step"].as_str().unwrap().contains("trustsync fix"));

    // The anchor file: exactly the CA, mode 0644, root-owned; nothing else in the anchors dir.
    let written = sb.read(&anchor).expect("anchor file written");
    assert_eq!(String::from_utf8(written).unwrap(), chain.root_pem());
    let meta = std::fs::metadata(sb.upper_path(&anchor)).unwrap();
    use std::os::unix::fs::MetadataExt;
    assert_eq!(
        (meta.mode() & 0o7777, meta.uid(), meta.gid()),
        (0o644, 0, 0)
    );
    // What the real update-ca-certificates made of it.
    assert!(bundle_holds(&sb, &chain.root_pem()), "CA in the bundle");
    assert!(sb
        .read_link(format!(
            "/etc/ssl/certs/trustsync-{}.pem",
            &fingerprint[..16]
        ))
        .is_some());
    assert!(
        system_openssl_verifies(&sb, &leaf),
        "system openssl trusts it now"
    );
    assert!(locally_added(&sb).contains(&fingerprint));

    // Adding it again changes nothing.
    let (doc, out) = sb.trustsync_json(&["add", &corp]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(doc["outcome"], "already-trusted", "{doc:#}");
    assert!(doc["update"].is_null());

    // Remove, by a fingerprint pasted the way `openssl x509 -fingerprint` prints it.
    let colons = fingerprint
        .as_bytes()
        .chunks(2)
        .map(|p| std::str::from_utf8(p).unwrap().to_uppercase())
        .collect::<Vec<_>>()
        .join(":");
    let (doc, out) = sb.trustsync_json(&["remove", &colons]);
    assert_eq!(out.status.code(), Some(0), "{doc:#}");
    assert_eq!(doc["outcome"], "removed", "{doc:#}");
    assert_eq!(doc["certificates"][0]["location"], anchor.as_str());
    assert_eq!(
        doc["update"]["command"],
        serde_json::json!(["/usr/sbin/update-ca-certificates", "--fresh"])
    );
    assert!(sb.read(&anchor).is_none(), "anchor file gone");
    assert!(
        !bundle_holds(&sb, &chain.root_pem()),
        "CA out of the bundle"
    );
    // --fresh: no dangling link left in /etc/ssl/certs.
    let dangling = sb.run(&["find", "/etc/ssl/certs", "-xtype", "l", "-print"], &[]);
    assert_eq!(
        String::from_utf8_lossy(&dangling.stdout),
        "",
        "dangling links"
    );
    assert!(
        !system_openssl_verifies(&sb, &leaf),
        "not trusted after remove"
    );
    assert!(!locally_added(&sb).contains(&fingerprint));

    // Removing it again: nothing there, nothing to do.
    let (doc, out) = sb.trustsync_json(&["remove", &fingerprint]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(doc["outcome"], "not-present", "{doc:#}");
}

/// One of the machine's own (Mozilla) roots: trusted, but not through trustsync.
#[test]
fn removing_a_root_trustsync_did_not_add_is_refused_and_changes_nothing() {
    let Some(sb) = Sandbox::new() else { return };
    let bundle = std::fs::read(BUNDLE).unwrap();
    let shipped = trustsync::model::load::parse_bytes(Path::new(BUNDLE), &bundle).certificates;
    let mozilla = shipped.first().expect("the machine's store has roots");
    let before = sb.changed_paths();

    let (doc, out) = sb.trustsync_json(&["remove", &mozilla.fingerprint()]);
    assert_eq!(out.status.code(), Some(1), "{doc:#}");
    assert_eq!(doc["outcome"], "refused");
    assert_eq!(doc["error"]["code"], "not-added-by-trustsync", "{doc:#}");
    assert!(doc["update"].is_null(), "no update command ran");
    assert_eq!(
        sb.changed_paths(),
        before,
        "nothing changed, not even the journal"
    );
    assert_eq!(sb.read_inside(BUNDLE).unwrap(), bundle);

    // Human output: the refusal in words on stderr, exit 1.
    let out = sb.run(&[EXE, "remove", &mozilla.fingerprint()], &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("remove refused") && stderr.contains("trustsync only removes CAs it added"),
        "{stderr}"
    );

    // A locally added CA an administrator put there by hand is refused just the same.
    let admin = make_cert("Admin Root", true, 2045);
    sandbox::add_os_ca(&sb, "admin-root", &admin.pem);
    let before = sb.changed_paths();
    let (doc, out) = sb.trustsync_json(&["remove", &admin.fingerprint]);
    assert_eq!(out.status.code(), Some(1), "{doc:#}");
    assert_eq!(doc["error"]["code"], "not-added-by-trustsync", "{doc:#}");
    assert_eq!(sb.changed_paths(), before);
    assert!(locally_added(&sb).contains(&admin.fingerprint));
}

#[test]
fn non_ca_and_expired_certificates_need_force() {
    let Some(sb) = Sandbox::new() else { return };
    let files = Files::new();
    let chain = CaChain::new(ChainSpec::default().no_intermediate());
    let leaf = files.put("leaf.pem", &chain.leaf.pem());
    let expired = make_cert("Expired Root", true, 2010);
    let expired_file = files.put("expired.pem", &expired.pem);
    let server_chain = files.put("chain.pem", &(chain.leaf.pem() + &chain.root_pem()));
    let before = sb.changed_paths();

    for (file, code) in [
        (&leaf, "not-a-ca"),
        (&expired_file, "expired"),
        (&server_chain, "chain-with-non-ca"),
    ] {
        let (doc, out) = sb.trustsync_json(&["add", file]);
        assert_eq!(out.status.code(), Some(1), "{doc:#}");
        assert_eq!(doc["outcome"], "refused");
        assert_eq!(doc["error"]["code"], code, "{doc:#}");
        assert!(doc["update"].is_null());
        assert_eq!(sb.changed_paths(), before, "{file}: nothing written");
    }
    // --force does not make a server chain acceptable.
    let (doc, _) = sb.trustsync_json(&["add", &server_chain, "--force"]);
    assert_eq!(doc["error"]["code"], "chain-with-non-ca");
    assert_eq!(sb.changed_paths(), before);

    // --force adds the expired CA, and says what that means.
    let (doc, out) = sb.trustsync_json(&["add", &expired_file, "--force"]);
    assert_eq!(out.status.code(), Some(0), "{doc:#}");
    assert_eq!(doc["outcome"], "added");
    assert!(
        doc["notes"][0].as_str().unwrap().contains("expired"),
        "{doc:#}"
    );
    assert!(locally_added(&sb).contains(&expired.fingerprint));

    // Usage errors are exit 2.
    let out = sb.run(&[EXE, "add"], &[]);
    assert_eq!(out.status.code(), Some(2));
    let out = sb.run(&[EXE, "remove", "not-a-fingerprint"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a SHA-256 fingerprint"));
}

#[test]
fn not_root_is_told_to_use_sudo_and_writes_nothing() {
    let Some(sb) = Sandbox::new() else { return };
    let files = Files::new();
    let ca = make_cert("Corp Root", true, 2045);
    let corp = files.put("corp.pem", &ca.pem);
    let before = sb.changed_paths();
    let as_nobody = |args: &[&str]| {
        let mut argv = vec![
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            EXE,
        ];
        argv.extend_from_slice(args);
        sb.run(&argv, &[("HOME", "/tmp")])
    };
    let out = as_nobody(&["add", &corp]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("sudo {EXE} add {corp}")),
        "{stderr}"
    );
    let out = as_nobody(&["remove", &ca.fingerprint, "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["error"]["code"], "needs-root");
    assert_eq!(sb.changed_paths(), before);
}

/// `add --fix` runs the same flow as `fix --yes`: the private OpenSSL of seed case S1 (an
/// empty certs/ dir) ends up trusting the CA just added.
#[test]
fn add_with_fix_brings_a_private_openssl_along() {
    let Some(sb) = Sandbox::new() else { return };
    if !sandbox::install_private_openssl(&sb) {
        return;
    }
    let chain = CaChain::new(ChainSpec::default().no_intermediate());
    let files = Files::new();
    let corp = files.put("corp.pem", &chain.root_pem());
    let leaf = files.put("leaf.pem", &chain.leaf.pem());
    let private_verifies = || {
        sb.run(&[sandbox::PRIVATE_OPENSSL, "verify", &leaf], &[])
            .status
            .success()
    };
    assert!(!private_verifies());

    let out = sb.run(&[EXE, "add", &corp, "--fix"], &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("added "), "{stdout}");
    assert!(stdout.contains("Applied."), "the fix ran: {stdout}");
    assert!(private_verifies(), "the private OpenSSL trusts the new CA");

    // `remove --fix`: the private OpenSSL stops trusting it again.
    let fingerprint = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(chain.root_der()))
    };
    let out = sb.run(&[EXE, "remove", &fingerprint, "--fix"], &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("removed "), "{stdout}");
    assert!(
        !private_verifies(),
        "trust is gone for the private OpenSSL too"
    );

    // `undo` then puts every path back to how it was before the first change: the fix's
    // files go, and the anchor file (added, then removed) stays absent.
    let out = sb.run(&[EXE, "undo"], &[]);
    assert!(out.status.success());
    let undo = String::from_utf8_lossy(&out.stdout);
    assert!(
        undo.contains("removed  /usr/local/openssl111/certs/"),
        "{undo}"
    );
    let anchor = format!("{ANCHORS}/trustsync-{}.crt", &fingerprint[..16]);
    assert!(sb.read_inside(&anchor).is_none());
}

/// `undo` after `add` takes the CA out of the OS bundle too, not only its anchor file.
#[test]
fn undo_of_an_add_rebuilds_the_os_store() {
    let Some(sb) = Sandbox::new() else { return };
    let files = Files::new();
    let ca = make_cert("Undone Corp Root", true, 2099);
    let path = files.put("undone.pem", &ca.pem);
    let (_, out) = sb.trustsync_json(&["add", &path]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(bundle_holds(&sb, &ca.pem));
    let out = sb.run(&[EXE, "undo"], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !bundle_holds(&sb, &ca.pem),
        "undo re-ran update-ca-certificates"
    );
    assert!(!locally_added(&sb).contains(&ca.fingerprint));
}
