//! Apply → undo gives back byte-identical trees (content, mode, owner, link text), a second
//! fix plans nothing, the dry-run plan is the list the real run applies, awkward file names
//! survive, and a hashed directory built by the planner is one real OpenSSL can use.
#![cfg(unix)]
#![forbid(unsafe_code)]

mod apply_support;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use apply_support::*;
use trustsync::apply::posix::hashdir::{self, HashDirMode, HashEntry};
use trustsync::apply::posix::{self as apply, ActionKind, Plan, Planner};

const PEM_A: &str = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";

/// A tree with things trustsync must preserve exactly: a patched file with an odd mode and
/// owner, a file it replaces later, and names full of shell metacharacters.
fn seed(root: &Path) {
    std::fs::create_dir_all(root.join("etc/ssl")).unwrap();
    std::fs::create_dir_all(root.join("usr/lib/python3/certifi")).unwrap();
    std::fs::create_dir_all(root.join("usr/local")).unwrap();
    let certifi = root.join("usr/lib/python3/certifi/cacert.pem");
    std::fs::write(&certifi, PEM_A.repeat(3)).unwrap();
    std::fs::set_permissions(&certifi, std::fs::Permissions::from_mode(0o640)).unwrap();
    if is_root() {
        std::os::unix::fs::lchown(&certifi, Some(65534), Some(65534)).unwrap();
    }
}

fn awkward_names() -> Vec<String> {
    vec![
        "a b c.pem".into(),
        "it's \"quoted\".pem".into(),
        "$(touch pwned).pem".into(),
        "line\nbreak.pem".into(),
        "-rf".into(),
        "`id`;rm -rf x".into(),
    ]
}

fn full_plan(planner: &Planner<'_>) -> Plan {
    let mut plan = Plan::default();
    plan.push(
        planner
            .create_dir(Path::new("/usr/local/ssl"), 0o755, "capath parent")
            .unwrap(),
    );
    plan.push(
        planner
            .create_dir(Path::new("/usr/local/ssl/we ird $(dir)"), 0o750, "odd dir")
            .unwrap(),
    );
    plan.push(
        planner
            .write_bundle(
                Path::new("/etc/ssl/trustsync-bundle.pem"),
                PEM_A.repeat(5).into_bytes(),
                0o644,
                "managed bundle with the OS store",
            )
            .unwrap(),
    );
    plan.push(
        planner
            .symlink(
                Path::new("/usr/local/ssl/cert.pem"),
                Path::new("/etc/ssl/trustsync-bundle.pem"),
                "cafile missing",
            )
            .unwrap(),
    );
    plan.push(
        planner
            .append_marked_block(
                Path::new("/usr/lib/python3/certifi/cacert.pem"),
                "local-cas",
                PEM_A,
                "certifi lacks a locally trusted CA",
            )
            .unwrap(),
    );
    for (i, name) in awkward_names().iter().enumerate() {
        let path = PathBuf::from("/usr/local/ssl/we ird $(dir)").join(name);
        plan.push(
            planner
                .write_file(&path, format!("file {i}\n").into_bytes(), 0o600, name)
                .unwrap(),
        );
    }
    plan.without_satisfied()
}

#[test]
fn apply_then_undo_is_byte_identical_and_second_fix_plans_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    let state = tmp.path().join("state");
    seed(&root);
    let before = snapshot(&root, None);
    let ctx = context(&root, &state);

    let planner = Planner::new(&ctx).unwrap();
    let plan = full_plan(&planner);
    assert_eq!(plan.len(), 5 + awkward_names().len());
    apply::preflight(&plan, &ctx).unwrap();
    assert!(!state.exists(), "a dry run creates no state directory");
    let dry_run_json = plan.to_json();
    assert_eq!(snapshot(&root, None), before, "planning must not write");

    apply::apply(&plan, &ctx).unwrap();
    // What the dry run showed is what is on disk now, action by action (digests computed
    // from the files, not taken from the engine's report, which is a copy of the plan).
    let dry_run: serde_json::Value = serde_json::from_str(&dry_run_json).unwrap();
    ondisk::assert_applied(&root, &dry_run["actions"]);

    let after = snapshot(&root, None);
    assert_ne!(after, before);
    // The patched file kept its mode and owner, and has exactly one block.
    let certifi = root.join("usr/lib/python3/certifi/cacert.pem");
    let meta = std::fs::metadata(&certifi).unwrap();
    assert_eq!(meta.mode() & 0o7777, 0o640);
    if is_root() {
        assert_eq!((meta.uid(), meta.gid()), (65534, 65534));
    }
    let text = std::fs::read_to_string(&certifi).unwrap();
    assert!(text.starts_with(&PEM_A.repeat(3)));
    assert_eq!(text.matches("# BEGIN trustsync local-cas").count(), 1);
    let odd_dir = root.join("usr/local/ssl/we ird $(dir)");
    assert_eq!(std::fs::metadata(&odd_dir).unwrap().mode() & 0o7777, 0o750);
    for (i, name) in awkward_names().iter().enumerate() {
        assert_eq!(
            std::fs::read_to_string(odd_dir.join(name)).unwrap(),
            format!("file {i}\n")
        );
    }
    assert_eq!(
        std::fs::read_link(root.join("usr/local/ssl/cert.pem")).unwrap(),
        Path::new("/etc/ssl/trustsync-bundle.pem")
    );

    // Idempotence: a second fix plans 0 actions, and applying an empty plan changes nothing.
    let again = full_plan(&Planner::new(&ctx).unwrap());
    assert!(again.is_empty(), "{}", again.render_human());
    assert!(again.render_human().starts_with("Nothing to do"));
    let applied_again = apply::apply(&again, &ctx).unwrap();
    assert_eq!(applied_again.run, None);
    assert_eq!(snapshot(&root, None), after);

    let report = apply::undo(&ctx).unwrap();
    assert_eq!(snapshot(&root, None), before, "undo must restore exactly");
    assert_eq!(report.restored.len(), 1);
    assert!(report.kept_nonempty_dirs.is_empty());
    // Nothing was ever run through a shell.
    assert!(!tmp.path().join("pwned").exists() && !root.join("pwned").exists());
    // A second undo has nothing left to do.
    let report = apply::undo(&ctx).unwrap();
    assert_eq!(report, Default::default());
}

#[test]
fn replacing_a_managed_file_twice_then_undo_restores_the_original_state() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    let state = tmp.path().join("state");
    seed(&root);
    let before = snapshot(&root, None);
    let ctx = context(&root, &state);
    let target = Path::new("/etc/ssl/trustsync-bundle.pem");
    for n in [4, 6] {
        let planner = Planner::new(&ctx).unwrap();
        let plan = Plan::new(vec![planner
            .write_bundle(target, PEM_A.repeat(n).into_bytes(), 0o644, "bundle")
            .unwrap()])
        .without_satisfied();
        assert_eq!(plan.len(), 1);
        apply::apply(&plan, &ctx).unwrap();
    }
    // Block contents change between runs: the block is replaced in place, not appended.
    for contents in ["one\n", "two\n"] {
        let planner = Planner::new(&ctx).unwrap();
        let plan = Plan::new(vec![planner
            .append_marked_block(
                Path::new("/usr/lib/python3/certifi/cacert.pem"),
                "b",
                contents,
                "r",
            )
            .unwrap()]);
        apply::apply(&plan, &ctx).unwrap();
    }
    let text = std::fs::read_to_string(root.join("usr/lib/python3/certifi/cacert.pem")).unwrap();
    assert_eq!(text.matches("# BEGIN trustsync b ").count(), 1);
    assert!(text.contains("\ntwo\n") && !text.contains("\none\n"));
    apply::undo(&ctx).unwrap();
    assert_eq!(snapshot(&root, None), before);
}

#[test]
fn root_option_keeps_every_path_and_the_journal_under_the_tree() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("image");
    seed(&root);
    let ctx = apply::Context::with_root(&root);
    assert_eq!(ctx.state_dir, root.join("var/lib/trustsync"));
    let planner = Planner::new(&ctx).unwrap();
    // A file in a missing directory plans as "absent"; the plan creates the directory first.
    let plan = Plan::new(vec![
        planner
            .create_dir(Path::new("/etc/profile.d"), 0o755, "profile dir")
            .unwrap(),
        planner
            .write_file(
                Path::new("/etc/profile.d/trustsync.sh"),
                b"export X=1\n".to_vec(),
                0o644,
                "env",
            )
            .unwrap(),
    ]);
    assert_eq!(plan.actions[1].current_digest, "absent");
    apply::apply(&plan, &ctx).unwrap();
    assert_eq!(
        std::fs::read(root.join("etc/profile.d/trustsync.sh")).unwrap(),
        b"export X=1\n"
    );
    assert!(root.join("var/lib/trustsync/journal.json").is_file());
    apply::undo(&ctx).unwrap();
    assert!(!root.join("etc/profile.d").exists());
}

/// Makes a CA with the given common name; returns (PEM, key, cert).
fn make_ca(cn: &str) -> (String, rcgen::KeyPair, rcgen::Certificate) {
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, cn);
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
    ];
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    (cert.pem(), key, cert)
}

fn openssl(args: &[&std::ffi::OsStr]) -> std::process::Output {
    Command::new("openssl")
        .args(args)
        .output()
        .expect("openssl CLI")
}

fn subject_hash(pem_path: &Path) -> String {
    let out = openssl(&[
        "x509".as_ref(),
        "-noout".as_ref(),
        "-subject_hash".as_ref(),
        "-in".as_ref(),
        pem_path.as_os_str(),
    ]);
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn verify(capath: &Path, leaf: &Path) -> (bool, String) {
    let out = openssl(&[
        "verify".as_ref(),
        "-no-CAfile".as_ref(),
        "-CApath".as_ref(),
        capath.as_os_str(),
        leaf.as_os_str(),
    ]);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// S1 in miniature with the real OpenSSL: two CAs with the same subject (so the same hash);
/// the leaf is signed by the second, so OpenSSL only verifies it if `HASH.1` exists.
#[test]
fn hashed_dir_built_by_the_planner_is_usable_by_openssl_including_collisions() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store");
    let capath = tmp.path().join("openssl111/certs");
    let state = tmp.path().join("state");
    std::fs::create_dir_all(&store).unwrap();
    let (pem1, _key1, _cert1) = make_ca("trustsync collision CA");
    let (pem2, key2, cert2) = make_ca("trustsync collision CA");
    let ca1 = store.join("ca one.pem");
    let ca2 = store.join("ca-two.pem");
    std::fs::write(&ca1, &pem1).unwrap();
    std::fs::write(&ca2, &pem2).unwrap();
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let mut leaf_params = rcgen::CertificateParams::new(vec!["leaf.test".to_string()]).unwrap();
    // As real leaves do: the AKI tells OpenSSL which same-named CA signed it.
    leaf_params.use_authority_key_identifier_extension = true;
    let leaf = leaf_params.signed_by(&leaf_key, &cert2, &key2).unwrap();
    let leaf_path = tmp.path().join("leaf.pem");
    std::fs::write(&leaf_path, leaf.pem()).unwrap();

    let h1 = subject_hash(&ca1);
    assert_eq!(h1, subject_hash(&ca2), "same subject, same hash");
    let entries: Vec<HashEntry> = [&ca1, &ca2]
        .iter()
        .map(|p| HashEntry {
            subject_hash: h1.clone(),
            source: p.to_path_buf(),
            sha256: hashdir::certificate_sha256(&std::fs::read(p).unwrap()).unwrap(),
        })
        .collect();

    // Root "/" with every target inside the temp dir: OpenSSL on the host then resolves the
    // links exactly as a runtime would.
    let ctx = context(Path::new("/"), &state);
    std::fs::create_dir_all(capath.parent().unwrap()).unwrap();
    let empty = tmp.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let (ok, text) = verify(&empty, &leaf_path);
    assert!(
        !ok && text.contains("unable to get local issuer certificate"),
        "{text}"
    );
    assert!(!verify(&capath, &leaf_path).0);

    let planner = Planner::new(&ctx).unwrap();
    let plan = Plan::new(
        hashdir::plan_dir(&planner, &capath, 0o755, &entries, HashDirMode::Symlink).unwrap(),
    )
    .without_satisfied();
    assert_eq!(plan.len(), 3, "{}", plan.render_human());
    assert!(matches!(plan.actions[0].kind, ActionKind::CreateDir { .. }));
    apply::apply(&plan, &ctx).unwrap();
    let mut names: Vec<String> = std::fs::read_dir(&capath)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, [format!("{h1}.0"), format!("{h1}.1")]);
    let (ok, text) = verify(&capath, &leaf_path);
    assert!(ok, "{text}");

    // Idempotent, and stable whatever order the store lists its CAs in.
    let mut reversed = entries.clone();
    reversed.reverse();
    let planner = Planner::new(&ctx).unwrap();
    let again = Plan::new(
        hashdir::plan_dir(&planner, &capath, 0o755, &reversed, HashDirMode::Symlink).unwrap(),
    );
    assert!(again.without_satisfied().is_empty());

    // Copy mode replaces our links with copies; OpenSSL still verifies.
    let planner = Planner::new(&ctx).unwrap();
    let copy = Plan::new(
        hashdir::plan_dir(&planner, &capath, 0o755, &entries, HashDirMode::Copy).unwrap(),
    )
    .without_satisfied();
    assert_eq!(copy.len(), 2);
    apply::apply(&copy, &ctx).unwrap();
    assert!(std::fs::symlink_metadata(capath.join(format!("{h1}.1")))
        .unwrap()
        .is_file());
    assert!(verify(&capath, &leaf_path).0);

    apply::undo(&ctx).unwrap();
    assert!(!capath.exists());
}

#[test]
fn non_utf8_file_names_survive_the_plan_json_and_the_journal() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    let state = tmp.path().join("state");
    seed(&root);
    let before = snapshot(&root, None);
    let ctx = context(&root, &state);
    let name = OsStr::from_bytes(b"latin1-\xe9\xff.pem");
    let target = Path::new("/etc/ssl").join(name);
    let planner = Planner::new(&ctx).unwrap();
    let plan = Plan::new(vec![planner
        .write_file(&target, b"x\n".to_vec(), 0o644, "odd name")
        .unwrap()]);
    let json: serde_json::Value = serde_json::from_str(&plan.to_json()).unwrap();
    assert_eq!(
        json["actions"][0]["target"]["bytes_hex"],
        hex::encode(target.as_os_str().as_bytes())
    );
    assert!(plan.render_human().contains("\\xE9") || plan.render_human().contains("\\xe9"));
    apply::apply(&plan, &ctx).unwrap();
    assert_eq!(
        std::fs::read(root.join("etc/ssl").join(name)).unwrap(),
        b"x\n"
    );
    apply::undo(&ctx).unwrap();
    assert_eq!(snapshot(&root, None), before);
}
