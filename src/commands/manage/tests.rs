//! Unit tests of the OS-independent `add`/`remove` rules.

use super::*;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};

const NOW: i64 = 1_700_000_000; // 2023-11-14

/// A self-signed certificate valid for the given years; `ca` false gives a leaf.
fn make(cn: &str, ca: bool, from_year: i32, to_year: i32) -> (String, Certificate) {
    let mut params = CertificateParams::new(vec![]).unwrap();
    params.distinguished_name.push(DnType::CommonName, cn);
    if ca {
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    }
    params.not_before = rcgen::date_time_ymd(from_year, 1, 1);
    params.not_after = rcgen::date_time_ymd(to_year, 1, 1);
    let key = KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    (cert.pem(), Certificate::from_der(cert.der()).unwrap())
}

fn select(pem: &str, force: bool) -> Result<Selected, ManageError> {
    select_certificates(Path::new("corp.pem"), pem.as_bytes(), NOW, force)
}

#[test]
fn a_valid_ca_is_selected() {
    let (pem, c) = make("Corp Root", true, 2020, 2040);
    let s = select(&pem, false).unwrap();
    assert_eq!(s.certificates.len(), 1);
    assert_eq!(s.certificates[0].sha256, c.sha256);
    assert!(s.notes.is_empty());
    // The same CA twice is one CA.
    assert_eq!(
        select(&(pem.clone() + &pem), false)
            .unwrap()
            .certificates
            .len(),
        1
    );
}

#[test]
fn leaf_expired_and_future_need_force() {
    let (leaf, _) = make("www.example.test", false, 2020, 2040);
    let e = select(&leaf, false).unwrap_err();
    assert_eq!(e.code(), "not-a-ca", "{e}");
    assert!(e.is_refusal());
    let forced = select(&leaf, true).unwrap();
    assert!(forced.notes[0].contains("not a CA"), "{:?}", forced.notes);

    let (old, _) = make("Old Root", true, 2001, 2010);
    let e = select(&old, false).unwrap_err();
    assert_eq!(e.code(), "expired");
    assert!(e.to_string().contains("2010-01-01"), "{e}");
    assert!(select(&old, true).is_ok());

    let (future, _) = make("Future Root", true, 2030, 2040);
    assert_eq!(select(&future, false).unwrap_err().code(), "not-yet-valid");
    assert!(select(&future, true).is_ok());
}

#[test]
fn several_certificates_must_all_be_cas() {
    let (root, _) = make("Corp Root", true, 2020, 2040);
    let (issuing, _) = make("Corp Issuing", true, 2020, 2040);
    let (leaf, _) = make("www.example.test", false, 2020, 2040);
    let both = select(&(root.clone() + &issuing), false).unwrap();
    assert_eq!(both.certificates.len(), 2);
    // A chain with a leaf is refused, even with --force.
    for force in [false, true] {
        let e = select(&(leaf.clone() + &root), force).unwrap_err();
        assert_eq!(e.code(), "chain-with-non-ca", "{e}");
        assert!(e.to_string().contains("www.example.test"), "{e}");
    }
}

#[test]
fn unreadable_content_is_refused() {
    assert_eq!(
        select("hello\n", false).unwrap_err().code(),
        "no-certificate"
    );
    let (pem, _) = make("Corp Root", true, 2020, 2040);
    let broken = pem.clone() + "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    assert_eq!(select(&broken, false).unwrap_err().code(), "bad-entries");
}

#[test]
fn a_private_key_in_the_file_is_never_used() {
    let (pem, _) = make("Corp Root", true, 2020, 2040);
    let key = KeyPair::generate().unwrap().serialize_pem();
    let s = select(&(key + &pem), false).unwrap();
    assert_eq!(s.certificates.len(), 1);
    assert!(s.notes[0].contains("private key"), "{:?}", s.notes);
}

fn store(trusted: &[&Certificate], distrusted: &[&Certificate]) -> OsStore {
    OsStore {
        flavor: "debian".into(),
        trusted: trusted.iter().map(|c| (*c).clone()).collect(),
        locally_added: Default::default(),
        distrusted: distrusted.iter().map(|c| (*c).clone()).collect(),
        sources: vec![],
        bundle: None,
        directory: None,
        update_command: None,
        warnings: vec![],
    }
}

#[test]
fn already_trusted_and_distrusted() {
    let (_, a) = make("A", true, 2020, 2040);
    let (_, b) = make("B", true, 2020, 2040);
    assert_eq!(
        decide_add(&store(&[&a], &[]), &a).unwrap(),
        AddStep::AlreadyTrusted
    );
    assert_eq!(decide_add(&store(&[&a], &[]), &b).unwrap(), AddStep::Add);
    let e = decide_add(&store(&[], &[&b]), &b).unwrap_err();
    assert_eq!(e.code(), "distrusted");
}

#[test]
fn fingerprints_as_people_paste_them() {
    let want: [u8; 32] = core::array::from_fn(|i| i as u8 * 7);
    let hex = hex::encode(want);
    let colons = want
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":");
    for input in [
        hex.clone(),
        hex.to_uppercase(),
        colons.clone(),
        format!("sha256:{hex}"),
        format!("SHA256:{colons}"),
        format!("  {hex}\n"),
    ] {
        assert_eq!(parse_fingerprint(&input).unwrap(), want, "{input}");
    }
    for bad in [
        "",
        "abc",
        &hex[..62],
        &format!("{hex}00"),
        &hex.replace('0', "g"),
    ] {
        assert_eq!(
            parse_fingerprint(bad).unwrap_err().code(),
            "bad-fingerprint",
            "{bad}"
        );
    }
}

#[test]
fn sudo_hint_quotes_what_a_shell_would_interpret() {
    let args: Vec<String> = ["trustsync", "add", "my corp.pem", "--force", "it's"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(
        sudo_hint(&args),
        r"sudo trustsync add 'my corp.pem' --force 'it'\''s'"
    );
}

/// The Linux backend against a temp tree laid out like Debian, with the real engine and
/// journal; the distro's update command is simulated (the sandbox tests run the real
/// one): it rebuilds the bundle from the shipped CAs plus every anchor file.
#[cfg(all(unix, not(target_os = "macos")))]
mod linux {
    use super::*;
    use crate::apply::posix::Context;
    use std::cell::RefCell;
    use std::rc::Rc;
    use trustsync_platform::linux_anchors::UpdateRun;

    const ANCHORS: &str = "usr/local/share/ca-certificates";
    const BUNDLE: &str = "etc/ssl/certs/ca-certificates.crt";

    struct Tree {
        dir: tempfile::TempDir,
        shipped: String,
        mozilla: Certificate,
        runs: Rc<RefCell<Vec<Vec<String>>>>,
    }

    impl Tree {
        fn new() -> Tree {
            let dir = tempfile::tempdir().unwrap();
            let (shipped, mozilla) = make("Shipped Root", true, 2020, 2040);
            std::fs::create_dir_all(dir.path().join(ANCHORS)).unwrap();
            std::fs::create_dir_all(dir.path().join("etc/ssl/certs")).unwrap();
            std::fs::write(dir.path().join(BUNDLE), &shipped).unwrap();
            Tree {
                dir,
                shipped,
                mozilla,
                runs: Rc::default(),
            }
        }

        fn root(&self) -> &Path {
            self.dir.path()
        }

        fn backend(&self) -> LinuxBackend {
            let root = self.root().to_path_buf();
            let shipped = self.shipped.clone();
            let runs = self.runs.clone();
            let updater = move |cmd: &[String]| {
                runs.borrow_mut().push(cmd.to_vec());
                let mut bundle = shipped.clone();
                let mut names: Vec<_> = std::fs::read_dir(root.join(ANCHORS))
                    .unwrap()
                    .map(|e| e.unwrap().path())
                    .collect();
                names.sort();
                for p in names {
                    bundle.push_str(&std::fs::read_to_string(p).unwrap());
                }
                std::fs::write(root.join(BUNDLE), bundle).unwrap();
                Ok(UpdateRun {
                    argv: cmd.to_vec(),
                    output: "simulated".into(),
                })
            };
            LinuxBackend::new(Context::with_root(self.root()), Box::new(updater))
        }

        fn write_ca(&self, name: &str, pem: &str) -> PathBuf {
            let p = self.root().join(name);
            std::fs::write(&p, pem).unwrap();
            p
        }

        fn anchors(&self) -> Vec<String> {
            let mut v: Vec<String> = std::fs::read_dir(self.root().join(ANCHORS))
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            v.sort();
            v
        }
    }

    fn root_opts() -> Options {
        Options {
            force: false,
            now: unix_now(),
            is_root: true,
            sudo_command: "sudo trustsync add corp.pem".into(),
        }
    }

    #[test]
    fn add_then_remove_round_trip() {
        use std::os::unix::fs::PermissionsExt;
        let t = Tree::new();
        let (pem, ca) = make("Corp Root", true, 2020, 2040);
        let file = t.write_ca("corp.pem", &pem);

        let r = add(&file, &mut t.backend(), &root_opts());
        assert_eq!(r.outcome, Outcome::Added, "{r:?}");
        assert_eq!(r.exit_code, 0);
        let name = format!("trustsync-{}.crt", &ca.fingerprint()[..16]);
        assert_eq!(t.anchors(), vec![name.clone()]);
        let anchor = t.root().join(ANCHORS).join(&name);
        assert_eq!(std::fs::read_to_string(&anchor).unwrap(), pem);
        assert_eq!(
            std::fs::metadata(&anchor).unwrap().permissions().mode() & 0o777,
            0o644
        );
        assert_eq!(
            t.runs.borrow().as_slice(),
            &[vec!["update-ca-certificates".to_string()]]
        );
        assert_eq!(r.update.as_ref().unwrap().output, "simulated");
        assert!(r.next_step.as_deref().unwrap().contains("trustsync fix"));
        assert!(OsStore::read(t.root())
            .unwrap()
            .trusted
            .iter()
            .any(|c| c.sha256 == ca.sha256));

        // Again: already trusted, nothing written, no update run.
        let again = add(&file, &mut t.backend(), &root_opts());
        assert_eq!(again.outcome, Outcome::AlreadyTrusted, "{again:?}");
        assert_eq!(t.runs.borrow().len(), 1);

        let r = remove(&ca.fingerprint(), &mut t.backend(), &root_opts());
        assert_eq!(r.outcome, Outcome::Removed, "{r:?}");
        assert!(t.anchors().is_empty());
        // Debian: the removal rebuilds /etc/ssl/certs links with --fresh.
        assert_eq!(
            t.runs.borrow().last().unwrap(),
            &vec!["update-ca-certificates".to_string(), "--fresh".into()]
        );
        assert!(!OsStore::read(t.root())
            .unwrap()
            .trusted
            .iter()
            .any(|c| c.sha256 == ca.sha256));

        // Gone already: nothing to do.
        let r = remove(&ca.fingerprint(), &mut t.backend(), &root_opts());
        assert_eq!(r.outcome, Outcome::NotPresent, "{r:?}");
        assert_eq!(r.exit_code, 0);
    }

    #[test]
    fn remove_refuses_what_trustsync_did_not_add() {
        let t = Tree::new();
        // A shipped root: trusted, but not through anything trustsync wrote.
        let before = std::fs::read(t.root().join(BUNDLE)).unwrap();
        let r = remove(&t.mozilla.fingerprint(), &mut t.backend(), &root_opts());
        assert_eq!(r.outcome, Outcome::Refused, "{r:?}");
        assert_eq!(r.error.as_ref().unwrap().code, "not-added-by-trustsync");
        assert!(t.runs.borrow().is_empty(), "no update run");
        assert!(
            !t.root().join("var/lib/trustsync").exists(),
            "a refusal leaves no trace, not even the lock"
        );
        assert_eq!(std::fs::read(t.root().join(BUNDLE)).unwrap(), before);

        // A file under trustsync's name that trustsync did not write (no journal entry).
        let (pem, ca) = make("Planted", true, 2020, 2040);
        let name = format!("trustsync-{}.crt", &ca.fingerprint()[..16]);
        std::fs::write(t.root().join(ANCHORS).join(&name), &pem).unwrap();
        let r = remove(&ca.fingerprint(), &mut t.backend(), &root_opts());
        assert_eq!(
            r.error.as_ref().unwrap().code,
            "not-added-by-trustsync",
            "{r:?}"
        );
        assert_eq!(t.anchors(), vec![name]);

        // trustsync's own file, edited by someone since: not trustsync's any more.
        let t = Tree::new();
        let (pem, ca) = make("Corp Root", true, 2020, 2040);
        let file = t.write_ca("corp.pem", &pem);
        assert_eq!(add(&file, &mut t.backend(), &root_opts()).exit_code, 0);
        let anchor = t.root().join(ANCHORS).join(&t.anchors()[0]);
        std::fs::write(&anchor, format!("# edited\n{pem}")).unwrap();
        let r = remove(&ca.fingerprint(), &mut t.backend(), &root_opts());
        assert_eq!(
            r.error.as_ref().unwrap().code,
            "not-added-by-trustsync",
            "{r:?}"
        );
        assert!(anchor.exists());
    }

    #[test]
    fn not_root_writes_nothing() {
        let t = Tree::new();
        let (pem, ca) = make("Corp Root", true, 2020, 2040);
        let file = t.write_ca("corp.pem", &pem);
        let opts = Options {
            is_root: false,
            ..root_opts()
        };
        let r = add(&file, &mut t.backend(), &opts);
        assert_eq!(r.error.as_ref().unwrap().code, "needs-root");
        assert!(r
            .error
            .unwrap()
            .message
            .contains("sudo trustsync add corp.pem"));
        let r = remove(&ca.fingerprint(), &mut t.backend(), &opts);
        assert_eq!(r.error.unwrap().code, "needs-root");
        assert!(t.anchors().is_empty());
        assert!(t.runs.borrow().is_empty());
        assert!(
            !t.root().join("var/lib/trustsync").exists(),
            "no journal, no lock"
        );
    }

    #[test]
    fn undo_takes_an_add_back() {
        let t = Tree::new();
        let (pem, _) = make("Corp Root", true, 2020, 2040);
        let file = t.write_ca("corp.pem", &pem);
        assert_eq!(add(&file, &mut t.backend(), &root_opts()).exit_code, 0);
        let report = crate::apply::posix::undo(&Context::with_root(t.root())).unwrap();
        assert_eq!(report.removed.len(), 1, "{report:?}");
        assert!(t.anchors().is_empty());
    }

    #[test]
    fn a_missing_anchor_dir_is_created_and_refusals_write_nothing() {
        let t = Tree::new();
        std::fs::remove_dir(t.root().join(ANCHORS)).unwrap();
        let (leaf, _) = make("www.example.test", false, 2020, 2040);
        let file = t.write_ca("leaf.pem", &leaf);
        let r = add(&file, &mut t.backend(), &root_opts());
        assert_eq!(r.error.unwrap().code, "not-a-ca");
        assert!(!t.root().join(ANCHORS).exists());
        assert!(!t.root().join("var/lib/trustsync").exists());

        let (pem, _) = make("Corp Root", true, 2020, 2040);
        let file = t.write_ca("corp.pem", &pem);
        let r = add(&file, &mut t.backend(), &root_opts());
        assert_eq!(r.outcome, Outcome::Added, "{r:?}");
        assert_eq!(t.anchors().len(), 1);
    }

    #[test]
    fn an_update_that_does_not_take_is_a_failure() {
        let t = Tree::new();
        let (pem, _) = make("Corp Root", true, 2020, 2040);
        let file = t.write_ca("corp.pem", &pem);
        let mut backend = LinuxBackend::new(
            Context::with_root(t.root()),
            Box::new(|cmd: &[String]| {
                Ok(UpdateRun {
                    argv: cmd.to_vec(),
                    output: "0 added, 0 removed; done.".into(),
                })
            }),
        );
        let r = add(&file, &mut backend, &root_opts());
        assert_eq!(r.outcome, Outcome::Failed, "{r:?}");
        assert_eq!(r.error.unwrap().code, "not-trusted-after-update");
    }
}
