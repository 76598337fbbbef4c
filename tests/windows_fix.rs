//! `trustsync.exe fix` / `undo` on Windows, against a real registry and crypt32 (Wine's in
//! CI, run by `scripts/windows-tests.sh` with a fresh WINEPREFIX per test binary).
//!
//! The drifting runtime: a CA `trustsync.exe add` put into the OS store, and a Python whose
//! certifi, vendored pip certifi and botocore bundles lack it. The interpreter is
//! `tests/wine/fake_python.c` (no CPython for Windows to install in CI): it prints a probe
//! answer in the shape `probe_python.py` prints; the bundles, the diff and the fix are real.
//! Each step is a separate `trustsync.exe` process, and what was persisted is read back
//! with `reg.exe` (another process): the managed bundle and the variables `fix` sets, a
//! dry run that equals the applied plan, an empty second plan, a variable the user set
//! (in either scope's key, or only in the process environment) never touched, the lock,
//! and `undo` restoring exactly what was there.
#![cfg(windows)]
#![forbid(unsafe_code)]

#[path = "support/certs.rs"]
#[allow(dead_code)]
mod certs;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use trustsync::apply::MANAGED_VARS;

const EXE: &str = env!("CARGO_BIN_EXE_trustsync");
const MACHINE_KEY: &str = r"HKLM\SYSTEM\CurrentControlSet\Control\Session Manager\Environment";
const USER_KEY: &str = r"HKCU\Environment";

/// Runs `trustsync.exe ARGS` with the inherited environment (crypt32 and the registry
/// need Wine's) minus every trust variable (the host's SSL_CERT_FILE and friends come
/// through Wine), plus `env`.
fn trustsync<S: AsRef<str>>(args: &[S], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(EXE);
    cmd.args(args.iter().map(AsRef::as_ref));
    for v in trustsync::runtimes::env_vars::TRUST_VARS {
        cmd.env_remove(v.name);
    }
    cmd.envs(env.iter().copied());
    cmd.output().expect("run trustsync.exe")
}

#[track_caller]
fn json<S: AsRef<str>>(args: &[S], env: &[(&str, &str)]) -> (Value, Output) {
    let mut all: Vec<&str> = args.iter().map(AsRef::as_ref).collect();
    all.push("--json");
    let out = trustsync(&all, env);
    (certs::json(&out), out)
}

/// `reg query KEY /v NAME` in another process: `(type, data)` as reg.exe prints them.
fn reg_query(key: &str, name: &str) -> Option<(String, String)> {
    let out = Command::new("reg")
        .args(["query", key, "/v", name])
        .output()
        .expect("run reg.exe");
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines().find_map(|line| {
        let fields: Vec<&str> = line
            .trim()
            .split("    ")
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .collect();
        match fields.as_slice() {
            [n, kind, data @ ..] if n.eq_ignore_ascii_case(name) => {
                Some((kind.to_string(), data.join("    ")))
            }
            _ => None,
        }
    })
}

fn reg_add(key: &str, name: &str, kind: &str, data: &str) {
    let out = Command::new("reg")
        .args(["add", key, "/v", name, "/t", kind, "/d", data, "/f"])
        .output()
        .expect("run reg.exe");
    assert!(out.status.success(), "reg add {key} {name}: {out:?}");
}

/// The names of the variables a plan sets, in order.
fn set_vars(actions: &Value) -> Vec<String> {
    actions
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["action"] == "set_env_var")
        .map(|a| a["name"].as_str().unwrap().to_string())
        .collect()
}

/// The advice messages of a plan, one a line.
fn messages(plan: &Value) -> String {
    plan["advice"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["message"].as_str().unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

fn verdict(status: &Value, kind: &str) -> String {
    status["runtimes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} row in {status:#}"))["verdict"]
        .as_str()
        .unwrap()
        .to_string()
}

/// A Python (the stand-in interpreter) whose certifi, vendored pip certifi and botocore
/// bundles hold one public root only.
fn fake_python(dir: &Path) -> PathBuf {
    let fake = std::env::var("TRUSTSYNC_FAKE_PYTHON_EXE")
        .expect("TRUSTSYNC_FAKE_PYTHON_EXE (set by scripts/windows-tests.sh)");
    let py = dir.join("py");
    let site = dir.join("site-packages");
    let public = std::fs::read("Z:\\etc\\ssl\\certs\\ISRG_Root_X1.pem").expect("host root");
    for bundle in [
        r"certifi\cacert.pem",
        r"pip\_vendor\certifi\cacert.pem",
        r"botocore\cacert.pem",
    ] {
        let p = site.join(bundle);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, &public).unwrap();
    }
    std::fs::create_dir_all(&py).unwrap();
    let exe = py.join("python.exe");
    std::fs::copy(&fake, &exe).expect("copy the stand-in python.exe");
    let s = |p: PathBuf| p.display().to_string();
    let answer = serde_json::json!({
        "executable": s(exe.clone()),
        "version": "3.12.1",
        "prefix": s(py.clone()),
        "platform": "win32",
        "openssl_version": "OpenSSL 3.0.13 30 Jan 2024",
        "verify_paths": {
            "cafile_env": "SSL_CERT_FILE", "cafile": s(py.join("cert.pem")),
            "capath_env": "SSL_CERT_DIR", "capath": s(py.join("certs")),
        },
        "certifi": {"path": s(site.join(r"certifi\cacert.pem")), "version": "2024.2.2"},
        "pip": {"version": "23.0", "bundle": s(site.join(r"pip\_vendor\certifi\cacert.pem"))},
        "requests": {"version": "2.31.0"},
        "site_dirs": [s(site)],
    });
    std::fs::write(py.join("probe-answer.json"), answer.to_string()).unwrap();
    exe
}

/// The one test of this binary: the steps share one registry and store, so they run in
/// order.
#[test]
fn fix_sets_the_bundle_and_variables_and_undo_restores_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let ca = certs::make_cert("trustsync Wine fix test CA", true, 2045);
    let corp = dir.path().join("corp.pem");
    std::fs::write(&corp, &ca.pem).unwrap();
    let (doc, out) = json(&["add", corp.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(0), "{doc:#}");

    let python = fake_python(dir.path());
    // Only this interpreter (and the trust variables), asked afresh every time.
    let with = |cmd: &[&str]| -> Vec<String> {
        let rt = ["--only", "--fresh", "--runtime", python.to_str().unwrap()];
        cmd.iter().chain(&rt).map(|s| s.to_string()).collect()
    };

    // The OS store has a CA certifi lacks: requests and pip drift.
    let (status, _) = json(&with(&["status"]), &[]);
    assert_eq!(verdict(&status, "requests"), "drift", "{status:#}");
    assert_eq!(verdict(&status, "pip"), "drift", "{status:#}");

    // Where this run works: HKLM when it may write it (a Wine process may), else HKCU.
    let (plan, out) = json(&with(&["fix", "--dry-run"]), &[]);
    assert_eq!(out.status.code(), Some(0), "{plan:#}");
    let (key, other_key) = match plan["scope"].as_str().unwrap() {
        "machine" => (MACHINE_KEY, USER_KEY),
        "user" => (USER_KEY, MACHINE_KEY),
        other => panic!("scope {other}"),
    };

    // Variables the user set: one in this scope's key (with a type trustsync never
    // writes), one in the other scope's key. Neither may be touched.
    reg_add(
        key,
        "AWS_CA_BUNDLE",
        "REG_EXPAND_SZ",
        r"%SystemRoot%\corp-aws.pem",
    );
    reg_add(other_key, "GIT_SSL_CAINFO", "REG_SZ", r"C:\corp\git-ca.pem");
    let user_values = [
        reg_query(key, "AWS_CA_BUNDLE").unwrap(),
        reg_query(other_key, "GIT_SSL_CAINFO").unwrap(),
    ];
    assert_eq!(user_values[0].0, "REG_EXPAND_SZ");

    // A variable set only in the environment `fix` runs in: advice, never a registry value.
    let certifi = dir.path().join(r"site-packages\certifi\cacert.pem");
    let (plan_env, out) = json(
        &with(&["fix", "--dry-run"]),
        &[("REQUESTS_CA_BUNDLE", certifi.to_str().unwrap())],
    );
    assert_eq!(out.status.code(), Some(0), "{plan_env:#}");
    assert!(!set_vars(&plan_env["actions"]).contains(&"REQUESTS_CA_BUNDLE".to_string()));
    let advice = messages(&plan_env);
    assert!(
        advice.contains(
            "$REQUESTS_CA_BUNDLE is set outside trustsync (in this process's environment only"
        ),
        "{plan_env:#}"
    );

    // The plan: the managed bundle, then every managed variable not set anywhere.
    let (plan, out) = json(&with(&["fix", "--dry-run"]), &[]);
    assert_eq!(out.status.code(), Some(0), "{plan:#}");
    assert_eq!(plan["dry_run"], true);
    let actions = plan["actions"].clone();
    assert_eq!(actions[0]["action"], "write_file", "{plan:#}");
    assert_eq!(actions[0]["current_digest"], "absent");
    let bundle = actions[0]["target"].as_str().unwrap().to_string();
    assert!(bundle.ends_with(r"\trustsync\ca-bundle.pem"), "{bundle}");
    let expected: Vec<String> = MANAGED_VARS
        .iter()
        .filter(|v| !["AWS_CA_BUNDLE", "GIT_SSL_CAINFO"].contains(v))
        .map(|v| v.to_string())
        .collect();
    assert_eq!(set_vars(&actions), expected);
    let advice = messages(&plan);
    assert!(
        advice.contains("$AWS_CA_BUNDLE is set outside trustsync"),
        "{advice}"
    );
    assert!(advice.contains(&format!("(in {other_key})")), "{advice}");
    assert!(!Path::new(&bundle).exists(), "a dry run writes nothing");

    // fix applies exactly the plan the dry run showed.
    let (applied, out) = json(&with(&["fix", "--yes"]), &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{applied:#}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(applied["applied"]["actions"], actions);

    // Read back by other processes: the bundle holds the CA, the variables name it.
    let text = std::fs::read_to_string(&bundle).unwrap();
    assert!(text.starts_with("# Generated by trustsync from the OS trust store ("));
    assert!(text.contains(&format!("# SHA-256: {}", ca.fingerprint)));
    for var in &expected {
        assert_eq!(
            reg_query(key, var),
            Some(("REG_SZ".to_string(), bundle.clone())),
            "{var}"
        );
    }
    assert_eq!(reg_query(key, "AWS_CA_BUNDLE").unwrap(), user_values[0]);
    assert_eq!(
        reg_query(other_key, "GIT_SSL_CAINFO").unwrap(),
        user_values[1]
    );

    // A process started before the fix still drifts, and status says why.
    let (status, _) = json(&with(&["status"]), &[]);
    let requests = status["runtimes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "requests")
        .unwrap();
    assert!(
        requests["problems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["code"] == "fixed-for-new-shells"),
        "{requests:#}"
    );

    // A process started now (with the variables as the registry holds them) trusts the CA.
    let new_env: Vec<(&str, &str)> = expected
        .iter()
        .map(|v| (v.as_str(), bundle.as_str()))
        .collect();
    let (status, _) = json(&with(&["status"]), &new_env);
    assert_eq!(verdict(&status, "requests"), "ok", "{status:#}");
    assert_eq!(verdict(&status, "pip"), "ok", "{status:#}");

    // Idempotent: the second plan is empty, seen from an old or a new process.
    for env in [&[][..], &new_env[..]] {
        let (again, out) = json(&with(&["fix", "--dry-run"]), env);
        assert_eq!(out.status.code(), Some(0), "{again:#}");
        assert_eq!(again["actions"], serde_json::json!([]), "{again:#}");
    }

    // One run at a time: while another holder has the lock, fix waits, then refuses.
    {
        use std::os::windows::fs::OpenOptionsExt;
        let lock_path = Path::new(&bundle).with_file_name("lock");
        let _held = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .share_mode(0)
            .open(&lock_path)
            .expect("the lock file fix left");
        let out = trustsync(&with(&["fix", "--yes"]), &[]);
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("holds the lock"), "{err}");
    }

    // undo: the bundle and every variable trustsync set are gone; the user's are intact,
    // type and bytes.
    let (report, out) = json(&["undo"], &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{report:#}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let removed: Vec<&str> = report["removed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert_eq!(removed.len(), 1 + expected.len(), "{report:#}");
    assert!(removed.contains(&bundle.as_str()));
    assert!(!Path::new(&bundle).exists());
    for var in &expected {
        assert_eq!(reg_query(key, var), None, "{var} left behind");
    }
    assert_eq!(reg_query(key, "AWS_CA_BUNDLE").unwrap(), user_values[0]);
    assert_eq!(
        reg_query(other_key, "GIT_SSL_CAINFO").unwrap(),
        user_values[1]
    );

    let (report, out) = json(&["undo"], &[]);
    assert_eq!(out.status.code(), Some(0), "{report:#}");
    assert_eq!(report["removed"], serde_json::json!([]));
    assert_eq!(report["restored"], serde_json::json!([]));

    // A machine state dir that others may write is refused before anything is written.
    // Under Wine the ACL is synthesized from the Unix mode: 0777 reads as Everyone full
    // control. (Wine's `start /unix` runs the host's chmod.)
    if let (Some(prefix), "machine") = (
        std::env::var_os("WINEPREFIX"),
        plan["scope"].as_str().unwrap(),
    ) {
        // A Unix path: joined by hand, `Path` would put a backslash in.
        let unix_dir = format!(
            "{}/drive_c/ProgramData/trustsync",
            prefix.to_str().unwrap().trim_end_matches('/')
        );
        let chmod = Command::new("start")
            .args(["/wait", "/unix", "/bin/chmod", "0777"])
            .arg(&unix_dir)
            .status()
            .expect("run the host's chmod");
        assert!(chmod.success());
        for args in [
            with(&["fix", "--dry-run"]),
            with(&["fix", "--yes"]),
            vec!["undo".to_string()],
        ] {
            let out = trustsync(&args, &[]);
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
            assert!(
                err.contains("refusing to use") && err.contains("S-1-1-0"),
                "{err}"
            );
        }
        assert!(!Path::new(&bundle).exists());
        assert_eq!(reg_query(key, "SSL_CERT_FILE"), None);
    }
}
