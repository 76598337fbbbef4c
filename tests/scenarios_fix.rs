//! `trustsync fix` and `undo` end to end, with real clients against a real TLS server on
//! 127.0.0.1, each test in a private mount namespace (tests/support/sandbox.rs). A client
//! fails before the fix with the error users report, verifies after it, a second fix
//! plans nothing, the dry run is the applied plan, and undo puts back every byte.
#![cfg(target_os = "linux")]

mod support;
use support::pyvenv;
use support::sandbox::{self, Sandbox, DEFAULT_LAYERS};
use support::tls::{CaChain, ChainSpec, TlsServer};

const EXE: &str = env!("CARGO_BIN_EXE_trustsync");

fn run_ok(sb: &Sandbox, argv: &[&str]) -> std::process::Output {
    sb.run(argv, &[])
}

/// Every path under `dirs` with its type, mode, owner, link text and content hash, as
/// seen inside the sandbox: the before/after picture for "undo is exact".
fn snapshot(sb: &Sandbox, dirs: &[&str]) -> String {
    let mut argv = vec!["find"];
    argv.extend_from_slice(dirs);
    argv.extend_from_slice(&["-printf", "%p|%y|%m|%U|%G|%l\\n"]);
    let listing = String::from_utf8(sb.run(&argv, &[]).stdout).unwrap();
    let mut lines: Vec<String> = listing
        .lines()
        .map(|l| {
            let path = l.split('|').next().unwrap();
            let hash = if l.split('|').nth(1) == Some("f") {
                let out = sb.run(&["sha256sum", path], &[]);
                String::from_utf8_lossy(&out.stdout)
                    .split(' ')
                    .next()
                    .unwrap_or("")
                    .to_string()
            } else {
                String::new()
            };
            format!("{l}|{hash}")
        })
        .collect();
    lines.sort();
    lines.join("\n")
}

fn actions(doc: &serde_json::Value) -> Vec<(String, String, String)> {
    doc["actions"]
        .as_array()
        .unwrap_or_else(|| panic!("no actions in {doc:#}"))
        .iter()
        .map(|a| {
            (
                a["target"].as_str().unwrap().to_string(),
                a["action"].as_str().unwrap().to_string(),
                a["result_digest"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

const PY_CONNECT: &str = "import socket, ssl, sys\nctx = ssl.create_default_context()\ns = ctx.wrap_socket(socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=10), server_hostname='localhost')\nprint('verified', s.version())\n";

/// Seed case S1: the private OpenSSL's empty `certs/` and a Python whose OpenSSL dir was
/// emptied; the server's CA is only in the OS store.
#[test]
fn s1_empty_openssl_dirs_are_filled_and_both_clients_verify() {
    let mut layers = DEFAULT_LAYERS.to_vec();
    layers.push("/usr/lib/ssl");
    let Some(sb) = Sandbox::with_layers(&layers) else {
        return;
    };
    if !sandbox::install_private_openssl(&sb) {
        return;
    }
    let chain = CaChain::new(ChainSpec::default());
    sandbox::add_os_ca(&sb, "s1-root", &chain.root_pem());
    let server = TlsServer::for_chain(&chain);
    let port = server.port().to_string();
    // Python's OpenSSL looks in /usr/lib/ssl: make it look into nothing, as in S1.
    sb.replace_with_empty_dir("/usr/lib/ssl/certs");
    sb.remove("/usr/lib/ssl/cert.pem");

    let s_client = |sb: &Sandbox| sandbox::private_openssl_s_client(sb, server.port());
    let before = s_client(&sb);
    assert!(!before.status.success());
    assert!(
        String::from_utf8_lossy(&before.stderr).contains("unable to get local issuer certificate"),
        "{}",
        String::from_utf8_lossy(&before.stderr)
    );
    let py_before = run_ok(&sb, &["/usr/bin/python3", "-c", PY_CONNECT, &port]);
    assert!(
        String::from_utf8_lossy(&py_before.stderr).contains("CERTIFICATE_VERIFY_FAILED"),
        "{}",
        String::from_utf8_lossy(&py_before.stderr)
    );

    let watched = [
        "/usr/local/openssl111",
        "/usr/lib/ssl",
        "/etc/ssl",
        "/etc/trustsync",
        "/etc/profile.d",
    ];
    let picture_before = snapshot(&sb, &watched);
    let runtimes = [
        "--fresh",
        "--only",
        "--runtime",
        sandbox::PRIVATE_OPENSSL,
        "--runtime",
        "/usr/bin/python3",
    ];
    let (dry, _) = sb.trustsync_json(&[&["fix", "--dry-run"][..], &runtimes[..]].concat());
    assert_eq!(
        snapshot(&sb, &watched),
        picture_before,
        "a dry run changes nothing"
    );
    let planned = actions(&dry);
    assert!(
        planned
            .iter()
            .any(|(t, a, _)| t.starts_with("/usr/local/openssl111/certs/") && a == "symlink"),
        "{planned:?}"
    );
    assert!(
        planned.iter().any(|(t, _, _)| t == "/usr/lib/ssl/cert.pem"),
        "the missing CA file is linked: {planned:?}"
    );

    let (applied, out) = sb.trustsync_json(&[&["fix", "--yes"][..], &runtimes[..]].concat());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        actions(&applied["applied"]),
        planned,
        "the dry run is exactly what was applied"
    );

    let after = s_client(&sb);
    assert!(
        after.status.success(),
        "{}",
        String::from_utf8_lossy(&after.stderr)
    );
    let py_after = run_ok(&sb, &["/usr/bin/python3", "-c", PY_CONNECT, &port]);
    assert!(
        String::from_utf8_lossy(&py_after.stdout).contains("verified"),
        "{}",
        String::from_utf8_lossy(&py_after.stderr)
    );
    let (status, _) = sb.trustsync_json(&[&["status"][..], &runtimes[..]].concat());
    for r in status["runtimes"].as_array().unwrap() {
        if r["kind"] == "openssl" || r["kind"] == "python-ssl" {
            assert_eq!(r["verdict"], "ok", "{r:#}");
        }
    }

    let (again, _) = sb.trustsync_json(&[&["fix", "--dry-run"][..], &runtimes[..]].concat());
    assert_eq!(
        again["actions"].as_array().unwrap().len(),
        0,
        "idempotent: {again:#}"
    );

    let (_, out) = sb.trustsync_json(&["undo"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        snapshot(&sb, &watched),
        picture_before,
        "undo restores every byte, mode and owner"
    );
    assert!(
        !s_client(&sb).status.success(),
        "and the broken state is back"
    );
}

fn s2_setup() -> Option<S2> {
    s2_setup_with(pyvenv::REQUESTS)
}

struct S2 {
    sb: Sandbox,
    python: String,
    /// certifi's bundle in the venv.
    certifi: String,
    _server: TlsServer,
    port: String,
    root_fingerprint: String,
}

/// Seed case S2 on a machine as users have it: a root-owned tool venv at /opt/tool-venv
/// with the real requests, certifi and urllib3 from PyPI (`client`: a
/// [`pyvenv`] cache name), the company's TLS-inspection root added to the OS store with the
/// real `update-ca-certificates`, and a loopback HTTPS server whose chain ends at that root.
fn s2_setup_with(client: &str) -> Option<S2> {
    let sb = Sandbox::new()?;
    let real = pyvenv::install(&sb, client, "/opt/tool-venv")?;
    let (python, certifi) = (real.python, real.certifi_bundle);
    let chain = CaChain::new(ChainSpec {
        root_name: Some("Corp TLS Inspection Root".into()),
        ..ChainSpec::default()
    });
    sandbox::add_os_ca(&sb, "corp-proxy", &chain.root_pem());
    use sha2::Digest;
    let root_fingerprint = hex::encode(sha2::Sha256::digest(chain.root_der()));
    let server = TlsServer::for_chain(&chain);
    let port = server.port().to_string();
    Some(S2 {
        sb,
        python,
        certifi,
        _server: server,
        port,
        root_fingerprint,
    })
}

fn login_shell(s: &S2) -> std::process::Output {
    // A fresh login shell reads /etc/profile and so /etc/profile.d/*.sh.
    run_ok(
        &s.sb,
        &[
            "bash",
            "-l",
            "-c",
            "exec \"$0\" -c \"$1\" \"$2\"",
            &s.python,
            pyvenv::REQUESTS_GET,
            &s.port,
        ],
    )
}

/// Seed case S2, `--strategy env`: the variables, naming the OS's own bundle, in the
/// profile snippet and every other file a context reads; certifi untouched.
#[test]
fn s2_env_strategy_fixes_requests_in_a_fresh_login_shell() {
    let Some(s) = s2_setup() else { return };
    pyvenv::assert_verify_failed(&login_shell(&s));
    let runtimes = ["--fresh", "--only", "--runtime", &s.python];
    let (status, _) =
        s.sb.trustsync_json(&[&["status"][..], &runtimes[..]].concat());
    let rq = status["runtimes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "requests")
        .expect("a requests row");
    assert_eq!(rq["missing"][0], s.root_fingerprint.as_str(), "{rq:#}");

    let certifi_before = s.sb.read_inside(&s.certifi).unwrap();
    let env_fix = [&["fix", "--yes", "--strategy", "env"][..], &runtimes[..]].concat();
    let (applied, out) = s.sb.trustsync_json(&env_fix);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let targets: Vec<String> = actions(&applied["applied"])
        .into_iter()
        .map(|a| a.0)
        .collect();
    for t in [
        "/etc/profile.d/trustsync.sh",
        "/etc/environment.d/60-trustsync.conf",
        "/etc/systemd/system.conf.d/60-trustsync.conf",
        "/etc/sudoers.d/trustsync",
    ] {
        assert!(targets.contains(&t.to_string()), "{t} in {targets:?}");
    }
    assert!(
        !targets.contains(&"/etc/trustsync/ca-bundle.pem".to_string()),
        "the variables name the OS bundle, no copy: {targets:?}"
    );
    pyvenv::assert_ok_200(&login_shell(&s));
    // The user's certifi file itself was not touched.
    assert_eq!(s.sb.read_inside(&s.certifi).unwrap(), certifi_before);
    let (again, _) = s.sb.trustsync_json(
        &[
            &["fix", "--dry-run", "--strategy", "env"][..],
            &runtimes[..],
        ]
        .concat(),
    );
    assert_eq!(again["actions"].as_array().unwrap().len(), 0, "{again:#}");
}

/// Seed case S2 with requests 2.27.1 and its urllib3 1.26 (older lookup code, still common
/// in pinned tool venvs): the same fix makes it verify in a fresh login shell.
#[test]
fn s2_old_requests_2_27_is_fixed_by_the_env_strategy_too() {
    let Some(s) = s2_setup_with(pyvenv::REQUESTS_2_27) else {
        return;
    };
    let before = login_shell(&s);
    pyvenv::assert_verify_failed(&before);
    let runtimes = ["--fresh", "--only", "--runtime", &s.python];
    let (_, out) =
        s.sb.trustsync_json(&[&["fix", "--yes"][..], &runtimes[..]].concat());
    assert!(out.status.success(), "{}", support::report::show(&out));
    let after = login_shell(&s);
    pyvenv::assert_ok_200(&after);
    assert!(
        support::report::text(&after.stdout).contains(" 2.27.1"),
        "the old requests answered: {}",
        support::report::show(&after)
    );
}

/// Seed case S2 with `--strategy patch-bundle`: a marked block in certifi's own bundle,
/// which undo removes to the byte.
#[test]
fn s2_patch_bundle_strategy_and_exact_undo() {
    let Some(s) = s2_setup() else { return };
    let certifi = String::from_utf8(
        run_ok(
            &s.sb,
            &[&s.python, "-c", "import certifi; print(certifi.where())"],
        )
        .stdout,
    )
    .unwrap()
    .trim()
    .to_string();
    let original = s.sb.read_inside(&certifi).expect("certifi bundle");
    let direct = |s: &S2| run_ok(&s.sb, &[&s.python, "-c", pyvenv::REQUESTS_GET, &s.port]);
    pyvenv::assert_verify_failed(&direct(&s));
    let runtimes = ["--fresh", "--only", "--runtime", &s.python];
    let (_, out) = s.sb.trustsync_json(
        &[
            &["fix", "--yes", "--strategy", "patch-bundle"][..],
            &runtimes[..],
        ]
        .concat(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let patched = String::from_utf8(s.sb.read_inside(&certifi).unwrap()).unwrap();
    assert!(
        patched.starts_with(std::str::from_utf8(&original).unwrap()),
        "the block is appended, the rest untouched"
    );
    assert!(patched.contains("# BEGIN trustsync") && patched.contains("Corp TLS Inspection Root"));
    pyvenv::assert_ok_200(&direct(&s));
    let (again, _) = s.sb.trustsync_json(
        &[
            &["fix", "--dry-run", "--strategy", "patch-bundle"][..],
            &runtimes[..],
        ]
        .concat(),
    );
    assert_eq!(again["actions"].as_array().unwrap().len(), 0, "{again:#}");
    let (_, out) = s.sb.trustsync_json(&["undo"]);
    assert!(out.status.success());
    let restored = s.sb.read_inside(&certifi).unwrap();
    let first_diff = restored
        .iter()
        .zip(&original)
        .position(|(a, b)| a != b)
        .unwrap_or(original.len().min(restored.len()));
    assert!(
        restored == original,
        "undo gives the original bytes back: {} bytes, was {}; first difference at {first_diff}: {:?}",
        restored.len(),
        original.len(),
        String::from_utf8_lossy(&restored[first_diff.saturating_sub(100)..(first_diff + 300).min(restored.len())])
    );
}

/// Not root: trustsync says `sudo trustsync fix` and writes nothing at all.
#[test]
fn not_root_writes_nothing() {
    let Some(sb) = Sandbox::new() else { return };
    if !sandbox::install_private_openssl(&sb) {
        return;
    }
    // A real unprivileged user (useradd inside the sandbox), through the real sudo -u.
    let bob = sb.add_user("bob");
    let before = sb.changed_paths();
    let out = sb.sudo_as(
        &bob,
        &[
            EXE,
            "fix",
            "--yes",
            "--fresh",
            "--only",
            "--runtime",
            sandbox::PRIVATE_OPENSSL,
        ],
        &[],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("sudo trustsync fix"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(sb.changed_paths(), before);
}

/// As root, a bundle inside another user's venv is theirs: patch mode leaves it alone with
/// advice (and fixes everything else); `--allow-user-dirs` lets it through.
#[test]
fn a_users_venv_is_theirs_unless_allowed() {
    let Some(sb) = Sandbox::new() else { return };
    let chain = CaChain::new(ChainSpec::default());
    sandbox::add_os_ca(&sb, "corp-root", &chain.root_pem());
    // A real user with her own venv of the real requests in her home, owned by her.
    let ann = sb.add_user("ann");
    let venv = format!("{}/venv", ann.home);
    let Some(real) = pyvenv::install(&sb, pyvenv::REQUESTS, &venv) else {
        return;
    };
    let owner = format!("{}:{}", ann.uid, ann.gid);
    let chown = run_ok(&sb, &["chown", "-R", &owner, &venv]);
    assert!(chown.status.success(), "{}", support::report::show(&chown));
    let venv = venv.as_str();
    let bundle = real.certifi_bundle;
    let original = sb.read_inside(&bundle).unwrap();
    let args = [
        "fix",
        "--yes",
        "--strategy",
        "patch-bundle",
        "--fresh",
        "--only",
        "--runtime",
        venv,
    ];
    let (doc, out) = sb.trustsync_json(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        doc["advice"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["code"] == "user-owned-bundle"),
        "{doc:#}"
    );
    assert_eq!(
        sb.read_inside(&bundle).unwrap(),
        original,
        "the user's bundle is untouched"
    );
    let (_, out) = sb.trustsync_json(&[&args[..], &["--allow-user-dirs"][..]].concat());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8(sb.read_inside(&bundle).unwrap())
        .unwrap()
        .contains("# BEGIN trustsync"));
}
