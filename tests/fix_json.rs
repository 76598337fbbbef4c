//! The provisioning contract through the built binary: `status --quiet` answers with the
//! exit code alone, `fix --yes --quiet` says nothing unless it fails, and `fix --json`
//! reports an outcome per runtime (`would-change` on a dry run, `changed` then `unchanged`
//! on a second run, `advice` where trustsync leaves the change to the user). Every tree is a
//! `--root` directory; no system path is read or written.
#![cfg(unix)]

mod support;
use serde_json::Value;
use support::certs::*;
use support::trees::{corp_tree, CERTIFI};

const PIP_CERTIFI: &str = "/usr/lib/python3/dist-packages/pip/_vendor/certifi/cacert.pem";
/// The env strategy's first file: the profile snippet pointing runtimes at the OS bundle.
const SNIPPET: &str = "/etc/profile.d/trustsync.sh";
const ENVIRONMENT_D: &str = "/etc/environment.d/60-trustsync.conf";

/// The S2 tree (`support::trees`) with pip's vendored certifi holding only the public CA
/// too, so two runtimes drift and (with `--strategy env`) share the variables' files.
struct Tree {
    root: tempfile::TempDir,
    public: TestCa,
    corp_der: Vec<u8>,
}

impl Tree {
    fn path(&self) -> &str {
        self.root.path().to_str().unwrap()
    }

    /// Runs `trustsync ARGS --root TREE` with a clean environment plus `env`.
    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
        let mut argv = args.to_vec();
        argv.extend_from_slice(&["--root", self.path()]);
        let mut full = vec![("HOME", "/nonexistent")];
        full.extend_from_slice(env);
        trustsync(&argv, &full)
    }
}

fn drifting_tree() -> Tree {
    let tree = corp_tree();
    write(tree.root.path(), PIP_CERTIFI, tree.public.pem.as_bytes());
    Tree {
        root: tree.root,
        public: tree.public,
        corp_der: tree.corp.der.clone(),
    }
}

/// A trust variable set outside trustsync to a stale file (trustsync only advises), and an
/// empty directory for SSL_CERT_DIR: with both set, the stale file is all OpenSSL clients
/// read (alone, SSL_CERT_FILE would leave the default directory in use and the row would
/// not drift: S6, per runtime).
fn stale_variables(tree: &Tree) -> (std::path::PathBuf, std::path::PathBuf) {
    let stale = write(
        tree.root.path(),
        "/opt/stale.pem",
        tree.public.pem.as_bytes(),
    );
    let no_dir = tree.root.path().join("opt/no-certs");
    std::fs::create_dir_all(&no_dir).unwrap();
    (stale, no_dir)
}

fn runtime<'a>(doc: &'a Value, kind: &str) -> &'a Value {
    doc["runtimes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} runtime in {doc:#}"))
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect()
}

fn targets(actions: &Value) -> Vec<&str> {
    actions
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["target"].as_str().unwrap())
        .collect()
}

fn ok(out: &std::process::Output) {
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn silent(out: &std::process::Output) {
    assert!(
        out.stdout.is_empty() && out.stderr.is_empty(),
        "quiet printed something: stdout {:?}, stderr {:?}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn status_quiet_is_the_exit_code_alone() {
    let tree = drifting_tree();
    let drifting = tree.run(&["status", "--quiet"], &[]);
    assert_eq!(drifting.status.code(), Some(1));
    silent(&drifting);

    // Brought in sync (patch mode puts the missing CA into both bundles): exit 0, silent.
    ok(&tree.run(
        &["fix", "--yes", "--quiet", "--strategy", "patch-bundle"],
        &[],
    ));
    let in_sync = tree.run(&["status", "-q"], &[]);
    assert_eq!(in_sync.status.code(), Some(0));
    silent(&in_sync);

    // No OS store at all: exit 2 with exactly one line on stderr.
    let empty = tempfile::tempdir().unwrap();
    let out = trustsync(
        &[
            "status",
            "--quiet",
            "--root",
            empty.path().to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("cannot read the OS trust store"),
        "{stderr}"
    );
}

#[test]
fn quiet_and_json_are_refused_together() {
    let tree = drifting_tree();
    for args in [
        &["status", "--quiet", "--json"][..],
        &["fix", "--yes", "--quiet", "--json"][..],
    ] {
        let out = tree.run(args, &[]);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty());
        assert!(String::from_utf8_lossy(&out.stderr).contains("cannot be used with"));
    }
    assert!(
        !under(tree.root.path(), "/etc/trustsync").exists(),
        "a refused command line writes nothing"
    );
}

#[test]
fn fix_quiet_says_nothing_on_success_and_one_line_on_failure() {
    let tree = drifting_tree();
    let out = tree.run(&["fix", "--yes", "--quiet"], &[]);
    ok(&out);
    silent(&out);
    let certifi = std::fs::read(under(tree.root.path(), CERTIFI)).unwrap();
    assert!(
        bundle_holds(&certifi, &tree.corp_der),
        "it did apply the fix (auto: the tree's root-controlled certifi is patched)"
    );
    // Nothing left to do: still silent, still 0.
    let again = tree.run(&["fix", "--yes", "--quiet"], &[]);
    ok(&again);
    silent(&again);

    // A profile snippet trustsync did not write: the run refuses, says why in one line.
    let refused = drifting_tree();
    write(
        refused.root.path(),
        "/etc/profile.d/trustsync.sh",
        b"# the admin's own\n",
    );
    let out = refused.run(&["fix", "--yes", "--quiet", "--strategy", "env"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("not created by trustsync"), "{stderr}");
}

#[test]
fn per_runtime_outcomes_over_dry_run_fix_and_second_fix() {
    let tree = drifting_tree();
    let (stale, no_dir) = stale_variables(&tree);
    let env = [
        ("SSL_CERT_FILE", stale.to_str().unwrap()),
        ("SSL_CERT_DIR", no_dir.to_str().unwrap()),
    ];
    let file_var = |doc: &Value| -> Value {
        doc["runtimes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["label"] == "$SSL_CERT_FILE")
            .unwrap_or_else(|| panic!("no $SSL_CERT_FILE row in {doc:#}"))
            .clone()
    };

    let dry = tree.run(&["fix", "--dry-run", "--json", "--strategy", "env"], &env);
    ok(&dry);
    let dry = json(&dry);
    assert_eq!(dry["schema_version"], 1);
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["changed"], false);
    assert!(dry.get("applied").is_none(), "a dry run applies nothing");
    let planned = targets(&dry["actions"]);
    for kind in ["requests", "pip"] {
        let r = runtime(&dry, kind);
        assert_eq!(r["outcome"], "would-change", "{r:#}");
        assert_eq!(r["verdict_before"], "drift");
        let mine = strings(&r["actions"]);
        // The snippet is planned once and serves both.
        assert!(mine.contains(&SNIPPET), "{kind}: {mine:?}");
        assert!(mine.iter().all(|t| planned.contains(t)), "{mine:?}");
    }
    assert_eq!(
        planned.iter().filter(|t| **t == SNIPPET).count(),
        1,
        "{planned:?}"
    );
    let var = file_var(&dry);
    assert_eq!(var["outcome"], "advice");
    assert_eq!(strings(&var["advice"]), ["variable-set-elsewhere"]);
    assert!(strings(&var["actions"]).is_empty());
    assert!(
        !under(tree.root.path(), "/etc/trustsync").exists(),
        "the dry run wrote nothing"
    );

    let first = tree.run(&["fix", "--yes", "--json", "--strategy", "env"], &env);
    ok(&first);
    let first = json(&first);
    assert_eq!(first["dry_run"], false);
    assert_eq!(first["changed"], true);
    // The real run applied the dry run's plan: each planned action holds on disk now.
    support::ondisk::assert_applied(tree.root.path(), &dry["actions"]);
    assert_eq!(first["actions"], first["applied"]["actions"]);
    for kind in ["requests", "pip"] {
        let r = runtime(&first, kind);
        assert_eq!(r["outcome"], "changed", "{r:#}");
        assert!(strings(&r["actions"]).contains(&SNIPPET));
    }
    assert_eq!(file_var(&first)["outcome"], "advice");

    let second = tree.run(&["fix", "--yes", "--json", "--strategy", "env"], &env);
    ok(&second);
    let second = json(&second);
    assert_eq!(second["changed"], false);
    assert_eq!(second["applied"]["actions"], serde_json::json!([]));
    for kind in ["requests", "pip"] {
        let r = runtime(&second, kind);
        assert_eq!(r["outcome"], "unchanged", "{r:#}");
        assert!(strings(&r["actions"]).is_empty());
    }
    assert_eq!(file_var(&second)["outcome"], "advice");
}

#[test]
fn patch_mode_lists_each_runtime_its_own_bundle() {
    let tree = drifting_tree();
    let out = tree.run(
        &["fix", "--yes", "--json", "--strategy", "patch-bundle"],
        &[],
    );
    ok(&out);
    let doc = json(&out);
    assert_eq!(doc["changed"], true);
    assert_eq!(strings(&runtime(&doc, "requests")["actions"]), [CERTIFI]);
    assert_eq!(strings(&runtime(&doc, "pip")["actions"]), [PIP_CERTIFI]);
}

#[test]
fn a_failed_run_marks_the_runtimes_it_would_have_fixed() {
    let tree = drifting_tree();
    write(
        tree.root.path(),
        "/etc/profile.d/trustsync.sh",
        b"# the admin's own\n",
    );
    let out = tree.run(&["fix", "--yes", "--json", "--strategy", "env"], &[]);
    assert_eq!(out.status.code(), Some(1));
    let doc = json(&out);
    assert_eq!(doc["changed"], false);
    assert_eq!(runtime(&doc, "requests")["outcome"], "failed");
    let error = doc["error"].as_str().unwrap();
    assert!(error.contains("not created by trustsync"), "{error}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(error),
        "the same line on stderr"
    );
    assert!(!under(tree.root.path(), ENVIRONMENT_D).exists());
}

/// `--only` on a tree: the trust variables and nothing found by looking around, so the
/// tree's drifting certifi is not judged (and a provisioning check can scope itself).
#[test]
fn only_judges_no_runtime_found_by_looking_around_a_tree() {
    let tree = drifting_tree();
    let all = tree.run(&["status", "--json"], &[]);
    assert_eq!(all.status.code(), Some(1));
    let doc: Value = serde_json::from_slice(&all.stdout).unwrap();
    assert!(doc["runtimes"].to_string().contains(CERTIFI), "{doc:#}");
    let only = tree.run(&["status", "--json", "--only"], &[]);
    let doc: Value = serde_json::from_slice(&only.stdout).unwrap();
    assert_eq!(only.status.code(), Some(0), "{doc:#}");
    assert!(!doc["runtimes"].to_string().contains("certifi"), "{doc:#}");
}

/// The hint under each row of `status` follows the plan the default `fix` would make: "run
/// fix" only where fix would change something, the advice where it would only advise, and
/// after the fix no row tells the user to run it again.
#[test]
fn status_hints_run_fix_only_where_fix_would_change_something() {
    let tree = drifting_tree();
    let (stale, no_dir) = stale_variables(&tree);
    let env = [
        ("SSL_CERT_FILE", stale.to_str().unwrap()),
        ("SSL_CERT_DIR", no_dir.to_str().unwrap()),
    ];
    let hints = |out: &std::process::Output| -> Vec<String> {
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.trim_start().strip_prefix("fix: ").map(str::to_string))
            .collect()
    };
    let before = tree.run(&["status"], &env);
    let before = hints(&before);
    assert_eq!(
        before
            .iter()
            .filter(|h| h.starts_with("sudo trustsync fix"))
            .count(),
        1,
        "certifi and pip drift and fix would patch them: said once, at the end: {before:?}"
    );
    tree.run(&["fix", "--yes", "--quiet"], &env);
    let after = tree.run(&["status"], &env);
    assert_eq!(
        after.status.code(),
        Some(1),
        "the stale variable still drifts"
    );
    let after = hints(&after);
    assert!(!after.is_empty(), "the variable's row still has a hint");
    assert!(
        after.iter().all(|h| !h.starts_with("sudo trustsync fix")),
        "nothing is left for fix, and no row says to run it: {after:?}"
    );
}

/// A failure before planning (README: another run holds the lock) prints the error
/// document with fix's documented exit code 1, and the same line on stderr; the run wrote
/// nothing.
#[test]
fn a_held_lock_prints_the_error_document() {
    let tree = drifting_tree();
    let ctx = trustsync::apply::posix::Context::with_root(tree.root.path());
    let _held = trustsync::apply::posix::StateLock::acquire(&ctx).unwrap();
    // The binary waits for the lock (up to its 10 s), then gives up.
    let out = tree.run(&["fix", "--yes", "--json"], &[]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        support::report::show(&out)
    );
    let doc = json(&out);
    assert_eq!(doc["schema"], "trustsync-error/1", "{doc:#}");
    assert_eq!(doc["command"], "fix");
    assert_eq!(doc["error"], "lock-held");
    assert_eq!(doc["exit_code"], 1);
    let message = doc["message"].as_str().unwrap();
    assert!(message.contains("holds the lock"), "{message}");
    assert!(String::from_utf8_lossy(&out.stderr).contains(message));
    assert!(!under(tree.root.path(), SNIPPET).exists());
    assert!(!support::certs::bundle_holds(
        &std::fs::read(under(tree.root.path(), CERTIFI)).unwrap(),
        &tree.corp_der
    ));
}
