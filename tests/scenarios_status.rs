//! `trustsync status` against broken machines, with the real `openssl` and `python3`.
//! Each test runs in a private mount namespace with overlayfs over `/etc`, `/usr/local`,
//! `/opt`, `/var` and `/root` (and a fresh `/home`) (tests/support/sandbox.rs): the real clients see the
//! broken state, and nothing leaks to the machine. Not root: skipped loudly; `CI=true`: must run.
#![cfg(target_os = "linux")]

mod support;
use support::certs::{json, make_cert};
use support::pyvenv;
use support::report::{show, text};
use support::sandbox::{self, Sandbox};
use support::tls::{CaChain, ChainSpec, TlsServer};

/// The real `ssl` module's default context against 127.0.0.1:PORT (SNI localhost).
const PY_CONNECT: &str = "import socket, ssl, sys\nctx = ssl.create_default_context()\ns = ctx.wrap_socket(socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=10), server_hostname='localhost')\nprint('verified', s.version())\n";

const EXE: &str = env!("CARGO_BIN_EXE_trustsync");

/// `trustsync status --json` inside the sandbox, asking every interpreter afresh (the
/// probe cache lives outside the overlaid directories).
#[track_caller]
fn status(sb: &Sandbox, extra: &[&str], env: &[(&str, &str)]) -> (serde_json::Value, i32) {
    let mut argv = vec![EXE, "status", "--json", "--fresh"];
    argv.extend_from_slice(extra);
    let out = sb.run(&argv, env);
    (json(&out), out.status.code().unwrap_or(-1))
}

fn rows<'a>(doc: &'a serde_json::Value, kind: &str, path: &str) -> Vec<&'a serde_json::Value> {
    doc["runtimes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kind"] == kind && r["path"] == path)
        .collect()
}

fn codes(row: &serde_json::Value) -> Vec<String> {
    row["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap().to_string())
        .collect()
}

/// Seed case S1: a private OpenSSL whose OPENSSLDIR has an empty `certs/` and no
/// `cert.pem`. The real binary fails to verify; status must say why, with the count.
#[test]
fn s1_private_openssl_with_empty_certs_dir_is_broken() {
    let Some(sb) = Sandbox::new() else { return };
    if !sandbox::install_private_openssl(&sb) {
        return;
    }
    let (doc, code) = status(
        &sb,
        &[
            "--only",
            "--runtime",
            sandbox::PRIVATE_OPENSSL,
            "--runtime",
            "/usr/bin/openssl",
        ],
        &[],
    );
    assert_eq!(code, 1);
    let private = rows(&doc, "openssl", sandbox::PRIVATE_OPENSSL);
    assert_eq!(private.len(), 1, "{doc:#}");
    let r = private[0];
    assert_eq!(r["verdict"], "broken");
    assert_eq!(r["cafile"], "/usr/local/openssl111/cert.pem");
    assert_eq!(r["capath"][0], "/usr/local/openssl111/certs");
    assert_eq!(r["trusted"], 0);
    let c = codes(r);
    for expected in ["no-trust-anchors", "cafile-missing", "capath-empty"] {
        assert!(c.iter().any(|x| x == expected), "{expected} not in {c:?}");
    }
    let os_count = doc["system"]["certificates"].as_u64().unwrap();
    let why = r["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["code"] == "no-trust-anchors")
        .unwrap();
    assert!(
        why["message"]
            .as_str()
            .unwrap()
            .contains(&format!("the OS store has {os_count} CAs it cannot see")),
        "{why}"
    );
    // The system openssl in the same namespace is fine.
    assert_eq!(
        rows(&doc, "openssl", "/usr/bin/openssl")[0]["verdict"],
        "ok"
    );
}

/// A capath full of `*.pem` files without `HASH.N` names is empty to OpenSSL.
#[test]
fn s1_certs_dir_without_hash_links_counts_as_empty() {
    let Some(sb) = Sandbox::new() else { return };
    if !sandbox::install_private_openssl(&sb) {
        return;
    }
    let chain = CaChain::new(
        ChainSpec {
            root_name: Some("Copied Without Rehash".into()),
            ..ChainSpec::default()
        }
        .no_intermediate(),
    );
    sb.write("/usr/local/openssl111/certs/company.pem", chain.root_pem());
    let (doc, _) = status(&sb, &["--only", "--runtime", sandbox::PRIVATE_OPENSSL], &[]);
    let r = rows(&doc, "openssl", sandbox::PRIVATE_OPENSSL)[0];
    assert_eq!(r["trusted"], 0);
    assert!(
        codes(r).contains(&"capath-no-hash-links".to_string()),
        "{r:#}"
    );
    // And the real OpenSSL agrees: a leaf this very CA signed does not verify with that
    // directory as its only trust, although the CA file itself would verify it (control),
    // and giving the file its HASH.0 name is all it takes.
    let leaf = "/opt/leaf.pem";
    sb.write(leaf, CaChain::pem_of(&chain.leaf_only()));
    let verify = |sb: &Sandbox, extra: &[&str]| {
        let mut argv = vec![sandbox::PRIVATE_OPENSSL, "verify"];
        argv.extend_from_slice(extra);
        argv.push(leaf);
        sb.run(&argv, &[])
    };
    let unhashed = verify(&sb, &[]);
    assert!(
        !unhashed.status.success()
            && show(&unhashed).contains("unable to get local issuer certificate"),
        "{}",
        show(&unhashed)
    );
    let control = verify(&sb, &["-CAfile", "/usr/local/openssl111/certs/company.pem"]);
    assert!(
        control.status.success(),
        "the CA does sign the leaf: {}",
        show(&control)
    );
    let hash = sb.run(
        &[
            sandbox::PRIVATE_OPENSSL,
            "x509",
            "-noout",
            "-subject_hash",
            "-in",
            "/usr/local/openssl111/certs/company.pem",
        ],
        &[],
    );
    let hash = text(&hash.stdout).trim().to_string();
    assert_eq!(hash.len(), 8, "subject hash {hash:?}");
    sb.symlink(
        "company.pem",
        format!("/usr/local/openssl111/certs/{hash}.0"),
    );
    let hashed = verify(&sb, &[]);
    assert!(
        hashed.status.success(),
        "with the HASH.0 link: {}",
        show(&hashed)
    );
}

/// Seed case S2: a CA added the Debian way (`update-ca-certificates`) is in the OS store
/// but not in certifi's bundle, which requests and pip read.
#[test]
fn s2_locally_added_ca_missing_from_certifi_is_named_first() {
    let Some(sb) = Sandbox::new() else { return };
    let corp = make_cert("Corp TLS Inspection Root", true, 2099);
    sandbox::add_os_ca(&sb, "corp-proxy", &corp.pem);
    // A venv with the real requests and certifi from PyPI.
    let venv = "/opt/venv";
    let Some(real) = pyvenv::install(&sb, pyvenv::REQUESTS, venv) else {
        return;
    };
    let python = real.python;
    let (doc, code) = status(&sb, &["--only", "--runtime", venv], &[]);
    assert_eq!(code, 1);
    assert!(
        doc["system"]["locally_added"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["sha256"] == corp.fingerprint.as_str()),
        "{doc:#}"
    );
    let rq = rows(&doc, "requests", &python);
    assert_eq!(rq.len(), 1, "{doc:#}");
    assert_eq!(rq[0]["verdict"], "drift");
    assert_eq!(rq[0]["cafile"], real.certifi_bundle.as_str());
    assert_eq!(
        rq[0]["missing"][0],
        corp.fingerprint.as_str(),
        "the locally added CA comes first"
    );
    assert_eq!(
        rq[0]["missing_locally_added"][0]["subject"],
        "Corp TLS Inspection Root"
    );
    // The interpreter's ssl module reads the OS store, which has the new CA.
    let ssl = rows(&doc, "python-ssl", &python)[0];
    assert_eq!(ssl["verdict"], "ok", "{ssl:#}");
}

/// Seed case S6: variables naming missing or unparsable files.
#[test]
fn s6_broken_variables_are_named_with_who_they_affect() {
    let Some(sb) = Sandbox::new() else { return };
    sb.write("/etc/ssl/private-bundle.pem", "not a certificate\n");
    let env = [
        ("SSL_CERT_FILE", "/etc/ssl/gone.pem"),
        ("REQUESTS_CA_BUNDLE", "/etc/ssl/private-bundle.pem"),
    ];
    let (doc, code) = status(&sb, &["--only", "--runtime", "/usr/bin/python3"], &env);
    assert_eq!(code, 1);
    let ssl_var = rows(&doc, "env-var", "SSL_CERT_FILE")[0];
    assert_eq!(ssl_var["verdict"], "broken");
    let msg = ssl_var["problems"][0]["message"].as_str().unwrap();
    assert!(
        msg.contains("/etc/ssl/gone.pem")
            && msg.contains("does not exist")
            && msg.contains("python ssl"),
        "{msg}"
    );
    let rq_var = rows(&doc, "env-var", "REQUESTS_CA_BUNDLE")[0];
    assert!(rq_var["problems"][0]["message"]
        .as_str()
        .unwrap()
        .contains("holds no certificates"));
    // python3's ssl module still finds the OS CAs through its capath, as the real one does.
    let ssl = rows(&doc, "python-ssl", "/usr/bin/python3")[0];
    assert_eq!(ssl["cafile"], "/etc/ssl/gone.pem");
    assert!(ssl["overridden_by"]
        .as_array()
        .unwrap()
        .iter()
        .any(|v| v == "SSL_CERT_FILE"));
    assert_eq!(ssl["verdict"], "ok", "{ssl:#}");
    // The real python3 under the same variables verifies a server whose CA only the OS
    // store (its capath) has: the cafile is gone, the capath still works, as status says.
    let chain = CaChain::new(ChainSpec::default());
    sandbox::add_os_ca(&sb, "s6-root", &chain.root_pem());
    let server = TlsServer::for_chain(&chain);
    let real = sb.run(
        &[
            "/usr/bin/python3",
            "-c",
            PY_CONNECT,
            &server.port().to_string(),
        ],
        &env,
    );
    assert!(
        real.status.success() && text(&real.stdout).starts_with("verified"),
        "{}",
        show(&real)
    );
}

/// As root, an interpreter owned by another user runs as that user, and one whose
/// site-packages anyone can write is not run at all (its `.pth` files would run as root).
#[test]
fn root_never_runs_an_interpreter_another_user_controls_as_root() {
    let Some(sb) = Sandbox::new() else { return };
    let marker_dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(
        marker_dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .unwrap();
    // A real user (useradd inside the sandbox) owns the first venv.
    let nora = sb.add_user("nora");
    for (venv, owner, mode) in [
        ("/opt/nobody-venv", nora.uid, 0o755),
        ("/opt/open-venv", 0, 0o777),
    ] {
        let site = sb.make_venv(venv);
        let marker = marker_dir.path().join(venv.trim_start_matches("/opt/"));
        sb.write(
            format!("{site}/zz-marker.pth"),
            format!(
                "import os; open({:?}, 'w').write(str(os.getuid()))\n",
                marker.to_str().unwrap()
            ),
        );
        sb.run(&["chown", "-R", &format!("{owner}:{owner}"), venv], &[]);
        sb.run(&["chmod", &format!("{mode:o}"), &site], &[]);
    }
    let (doc, _) = status(
        &sb,
        &[
            "--only",
            "--runtime",
            "/opt/nobody-venv",
            "--runtime",
            "/opt/open-venv",
        ],
        &[],
    );
    let ran_as = std::fs::read_to_string(marker_dir.path().join("nobody-venv"))
        .expect("the user's venv was asked");
    assert_eq!(
        ran_as,
        nora.uid.to_string(),
        "ran as the venv's owner, not as root"
    );
    assert!(
        !marker_dir.path().join("open-venv").exists(),
        "nothing of a world-writable venv may run as root"
    );
    // Its interpreter and standard library are root's: asked as root without site (-S),
    // so its world-writable site-packages is read by path, never run.
    let open = rows(&doc, "python-ssl", "/opt/open-venv/bin/python3");
    assert_eq!(open.len(), 1, "{doc:#}");
    assert!(
        !codes(open[0]).contains(&"probe-failed".to_string()),
        "{doc:#}"
    );
    assert!(
        open[0]["version"]
            .as_str()
            .is_some_and(|v| v.starts_with('3')),
        "{doc:#}"
    );
}
