//! `trustsync fix --root DIR` on an offline tree (a container image being built): every
//! path read and written is under DIR, nothing in the tree is executed, and `undo --root`
//! puts the tree back.
#![cfg(unix)]

mod support;
use support::certs::*;
use support::trees::CERTIFI;

/// The seed-S2 tree (tests/support/trees.rs): the root and the company CA certifi lacks.
fn tree() -> (tempfile::TempDir, TestCa) {
    let tree = support::trees::corp_tree();
    (tree.root, tree.corp)
}

fn listing(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .flatten()
        // The journal (and the /var/lib it needs) stays: it is how undo knows what it did.
        .filter(|e| !e.path().starts_with(dir.join("var")))
        .map(|e| {
            (
                e.path().display().to_string(),
                if e.file_type().is_file() {
                    std::fs::read(e.path()).unwrap()
                } else {
                    vec![]
                },
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn env_strategy_writes_only_inside_the_tree_and_undoes() {
    let (root, corp) = tree();
    let r = root.path().to_str().unwrap();
    let before = listing(root.path());
    let out = trustsync(
        &["fix", "--yes", "--json", "--strategy", "env", "--root", r],
        &[("HOME", "/nonexistent")],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = json(&out);
    let targets: Vec<&str> = doc["applied"]["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["target"].as_str().unwrap())
        .collect();
    assert!(
        targets.contains(&"/etc/profile.d/trustsync.sh"),
        "logical targets: {targets:?}"
    );
    // The variables name the tree's own OS bundle (logical path), which holds the locally
    // added CA: no copy that could go stale is written.
    assert!(!under(root.path(), "/etc/trustsync/ca-bundle.pem").exists());
    let os_bundle =
        std::fs::read(under(root.path(), "/etc/ssl/certs/ca-certificates.crt")).unwrap();
    assert!(bundle_holds(&os_bundle, &corp.der));
    assert!(
        under(root.path(), "/var/lib/trustsync").is_dir(),
        "the journal lives in the tree"
    );
    assert!(
        std::fs::read_to_string(under(root.path(), "/etc/profile.d/trustsync.sh"))
            .unwrap()
            .contains("export REQUESTS_CA_BUNDLE='/etc/ssl/certs/ca-certificates.crt'")
    );
    // certifi itself is untouched by the env strategy.
    assert_eq!(
        std::fs::read(under(root.path(), CERTIFI)).unwrap(),
        before
            .iter()
            .find(|(p, _)| p.ends_with("certifi/cacert.pem"))
            .unwrap()
            .1
    );
    let again = trustsync(
        &[
            "fix",
            "--dry-run",
            "--json",
            "--strategy",
            "env",
            "--root",
            r,
        ],
        &[],
    );
    assert_eq!(json(&again)["actions"].as_array().unwrap().len(), 0);
    let undo = trustsync(&["undo", "--root", r], &[]);
    assert!(
        undo.status.success(),
        "{}",
        String::from_utf8_lossy(&undo.stderr)
    );
    assert_eq!(listing(root.path()), before, "undo restores the tree");
}

#[test]
fn patch_bundle_in_a_tree() {
    let (root, corp) = tree();
    let r = root.path().to_str().unwrap();
    let certifi = under(root.path(), CERTIFI);
    let original = std::fs::read(&certifi).unwrap();
    let out = trustsync(
        &["fix", "--yes", "--strategy", "patch-bundle", "--root", r],
        &[],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let patched = std::fs::read(&certifi).unwrap();
    assert!(
        String::from_utf8_lossy(&patched).contains("# BEGIN trustsync")
            && bundle_holds(&patched, &corp.der)
            && patched.starts_with(&original),
        "a marked block holding the company CA, appended to certifi's bytes"
    );
    assert!(
        !under(root.path(), "/etc/trustsync").exists(),
        "patch mode writes no managed bundle"
    );
    assert!(trustsync(&["undo", "--root", r], &[]).status.success());
    assert_eq!(std::fs::read(&certifi).unwrap(), original);
}

/// The default strategy (auto) in a tree: certifi there is root's to change, so its own
/// bundle gets the block (read in every context); when the OS drops the CA, the next fix
/// withdraws it, and no variable file was ever needed.
#[test]
fn the_default_fix_patches_the_trees_certifi_and_follows_a_ca_the_os_drops() {
    let (root, corp) = tree();
    let r = root.path().to_str().unwrap();
    let certifi = under(root.path(), CERTIFI);
    let original = std::fs::read(&certifi).unwrap();
    assert!(trustsync(&["fix", "--yes", "--root", r], &[])
        .status
        .success());
    assert!(bundle_holds(&std::fs::read(&certifi).unwrap(), &corp.der));
    assert!(
        !under(root.path(), "/etc/profile.d/trustsync.sh").exists(),
        "nothing needed the variables"
    );
    // The administrator removes the company CA from the OS store.
    support::trees::drop_corp_from_os_store(root.path(), &corp);
    let out = trustsync(&["fix", "--yes", "--root", r], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read(&certifi).unwrap(),
        original,
        "trust removed from the OS leaves certifi too"
    );
}

#[test]
fn a_patch_block_is_withdrawn_when_the_os_drops_its_ca() {
    let (root, corp) = tree();
    let r = root.path().to_str().unwrap();
    let certifi = under(root.path(), CERTIFI);
    let original = std::fs::read(&certifi).unwrap();
    assert!(trustsync(
        &["fix", "--yes", "--strategy", "patch-bundle", "--root", r],
        &[]
    )
    .status
    .success());
    assert!(bundle_holds(&std::fs::read(&certifi).unwrap(), &corp.der));
    support::trees::drop_corp_from_os_store(root.path(), &corp);
    let out = trustsync(
        &["fix", "--yes", "--strategy", "patch-bundle", "--root", r],
        &[],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read(&certifi).unwrap(),
        original,
        "the block is gone, the rest untouched"
    );
}

/// The plan a Chinese locale sees gives each change's reason in Chinese (the catalogue's
/// `reason-*` messages), for the default strategy and for `env`; `--json` keeps the
/// English reasons, identical to an English run's.
#[test]
fn a_chinese_plan_says_why_in_chinese_and_its_json_stays_english() {
    let (root, _) = tree();
    let r = root.path().to_str().unwrap();
    for strategy in ["auto", "env"] {
        let args = ["fix", "--dry-run", "--strategy", strategy, "--root", r];
        let zh = trustsync(&args, &[("LANG", "zh_CN.UTF-8")]);
        let text = String::from_utf8_lossy(&zh.stdout);
        let whys: Vec<&str> = text
            .lines()
            .filter(|l| l.trim_start().starts_with("原因："))
            .collect();
        assert!(!whys.is_empty(), "{strategy}: no Chinese why-line: {text}");
        assert!(!text.contains("why:"), "{strategy}: {text}");
        for why in &whys {
            assert!(
                why.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
                    && !why.contains(" lacks ")
                    && !why.contains("get the same variables"),
                "{strategy}: an English reason in a Chinese plan: {why}"
            );
        }
        let mut json_args = args.to_vec();
        json_args.push("--json");
        let zh_json = trustsync(&json_args, &[("LANG", "zh_CN.UTF-8")]);
        let en_json = trustsync(&json_args, &[("LANG", "C")]);
        let reasons = |out: &std::process::Output| -> Vec<String> {
            json(out)["actions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["reason"].as_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(reasons(&zh_json), reasons(&en_json));
        assert!(reasons(&en_json)
            .iter()
            .all(|r| r.is_ascii() || r.contains('…')));
    }
}
