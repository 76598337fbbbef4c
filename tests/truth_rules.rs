//! Rules of the trust model checked against the real clients (issue "Truth"): for each, a
//! loopback server whose chain ends in a generated root, the real client's verdict, and
//! what `trustsync status --json` says about the same runtime in the same environment.
//! The client decides; each test fails when the model says otherwise.

mod support;
use std::path::Path;
use std::process::{Command, Output};
use support::certs::{json, trustsync};
use support::pyvenv::{self, REQUESTS_GET};
use support::report::{show, skip_unless_ci, text};
use support::tls::{CaChain, ChainSpec, TlsServer};

/// Python `ssl`'s default context against the server: `ok` or the error.
const SSL_GET: &str = "import socket, ssl, sys\nctx = ssl.create_default_context()\ntry:\n    with socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=10) as s:\n        with ctx.wrap_socket(s, server_hostname='localhost'):\n            print('ok')\nexcept ssl.SSLError as e:\n    print('SSLError', e)\n    sys.exit(3)\n";

fn run_python(python: &str, script: &str, port: u16, env: &[(&str, &str)]) -> Output {
    Command::new(python)
        .args(["-I", "-c", script, &port.to_string()])
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .envs(env.iter().copied())
        .current_dir("/")
        .output()
        .unwrap()
}

/// `status --json` for one interpreter only, asked afresh, in `env`.
fn status_of(python: &str, env: &[(&str, &str)]) -> serde_json::Value {
    let mut all = vec![("PATH", "/usr/bin:/bin")];
    all.extend_from_slice(env);
    let out = trustsync(
        &["status", "--json", "--fresh", "--only", "--runtime", python],
        &all,
    );
    json(&out)
}

fn row<'a>(doc: &'a serde_json::Value, kind: &str) -> &'a serde_json::Value {
    doc["runtimes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} row: {doc:#}"))
}

fn codes(row: &serde_json::Value) -> Vec<String> {
    row["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap().to_string())
        .collect()
}

/// The cached venv with the real `name` client, or `None` after a skip (a failure in CI).
fn venv_python(name: &str) -> Option<String> {
    let python = pyvenv::cached_venv(name).join("bin/python3");
    if !python.exists() {
        skip_unless_ci(&format!(
            "{} is missing; run scripts/setup.sh",
            python.display()
        ));
        return None;
    }
    Some(python.display().to_string())
}

/// A CA file with one corrupt block between two good ones: OpenSSL's PEM reader gives up
/// on the whole file, so neither good root counts (python `ssl` ignores the error and
/// trusts nothing from it; requests raises on loading it).
#[test]
fn a_corrupt_block_makes_openssl_load_nothing_from_the_file() {
    let chain = CaChain::new(ChainSpec::default());
    let server = TlsServer::for_chain(&chain);
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("mixed.pem");
    let other = CaChain::new(ChainSpec::default());
    std::fs::write(
        &bundle,
        format!(
            "{}-----BEGIN CERTIFICATE-----\nMIIBroken!!notbase64\n-----END CERTIFICATE-----\n{}",
            chain.root_pem(),
            other.root_pem()
        ),
    )
    .unwrap();
    let empty = dir.path().join("nodir");
    let b = bundle.to_str().unwrap();
    let env = [
        ("SSL_CERT_FILE", b),
        ("SSL_CERT_DIR", empty.to_str().unwrap()),
    ];

    // The oracle: the real ssl module does not verify a server whose root is in the file.
    let real = run_python("/usr/bin/python3", SSL_GET, server.port(), &env);
    assert_eq!(real.status.code(), Some(3), "{}", show(&real));
    // The same file, without the corrupt block, verifies: the block is what breaks it.
    let good = dir.path().join("good.pem");
    std::fs::write(&good, chain.root_pem()).unwrap();
    let fine = run_python(
        "/usr/bin/python3",
        SSL_GET,
        server.port(),
        &[("SSL_CERT_FILE", good.to_str().unwrap()), env[1]],
    );
    assert_eq!(text(&fine.stdout).trim(), "ok", "{}", show(&fine));

    let doc = status_of("/usr/bin/python3", &env);
    let ssl = row(&doc, "python-ssl");
    assert_eq!(ssl["trusted"], 0, "{doc:#}");
    assert_eq!(ssl["verdict"], "broken", "{doc:#}");
    assert!(codes(ssl).contains(&"bundle-unloadable".into()), "{doc:#}");

    // requests: loading the file raises, for every host.
    let Some(py) = venv_python(pyvenv::REQUESTS) else {
        return;
    };
    let renv = [("REQUESTS_CA_BUNDLE", b)];
    let real = run_python(&py, REQUESTS_GET, server.port(), &renv);
    assert!(
        !real.status.success(),
        "requests verified with it: {}",
        show(&real)
    );
    let doc = status_of(&py, &renv);
    let rq = row(&doc, "requests");
    assert_eq!(rq["verdict"], "broken", "{doc:#}");
    assert!(codes(rq).contains(&"bundle-unloadable".into()), "{doc:#}");
}

/// `SSL_CERT_FILE=""` is not "unset" to OpenSSL: it replaces the default CA file with
/// nothing, and only the directory counts.
#[test]
fn an_empty_ssl_cert_file_replaces_the_default_file_with_nothing() {
    let chain = CaChain::new(ChainSpec::default());
    let server = TlsServer::for_chain(&chain);
    let dir = tempfile::tempdir().unwrap();
    // A hashed directory holding just this root.
    let hash = Command::new("/usr/bin/openssl")
        .args(["x509", "-noout", "-subject_hash"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin
                .take()
                .unwrap()
                .write_all(chain.root_pem().as_bytes())?;
            c.wait_with_output()
        })
        .unwrap();
    let certs = dir.path().join("certs");
    std::fs::create_dir(&certs).unwrap();
    std::fs::write(
        certs.join(format!("{}.0", text(&hash.stdout).trim())),
        chain.root_pem(),
    )
    .unwrap();
    let c = certs.to_str().unwrap();

    // Oracle: the directory alone verifies; with the directory emptied too, nothing does.
    let with_dir = [("SSL_CERT_FILE", ""), ("SSL_CERT_DIR", c)];
    let real = run_python("/usr/bin/python3", SSL_GET, server.port(), &with_dir);
    assert_eq!(text(&real.stdout).trim(), "ok", "{}", show(&real));
    let neither = [("SSL_CERT_FILE", ""), ("SSL_CERT_DIR", "")];
    let real = run_python("/usr/bin/python3", SSL_GET, server.port(), &neither);
    assert_eq!(real.status.code(), Some(3), "{}", show(&real));

    let doc = status_of("/usr/bin/python3", &with_dir);
    let ssl = row(&doc, "python-ssl");
    assert_eq!(
        ssl["trusted"], 1,
        "only the directory's root counts: {doc:#}"
    );
    assert!(codes(ssl).contains(&"empty-variable".into()), "{doc:#}");
    assert_eq!(ssl["cafile"], serde_json::Value::Null, "{doc:#}");

    let doc = status_of("/usr/bin/python3", &neither);
    let ssl = row(&doc, "python-ssl");
    assert_eq!(ssl["trusted"], 0, "{doc:#}");
    assert_eq!(ssl["verdict"], "broken", "{doc:#}");
}

/// requests before 2.28 takes `CURL_CA_BUNDLE=""` as `verify=False`: the real client
/// accepts a server no one trusts. Current requests falls back to certifi and refuses it.
#[test]
fn an_empty_curl_ca_bundle_turns_verification_off_in_requests_2_27_only() {
    let (Some(old), Some(new)) = (
        venv_python(pyvenv::REQUESTS_2_27),
        venv_python(pyvenv::REQUESTS),
    ) else {
        return;
    };
    let chain = CaChain::new(ChainSpec::default()); // its root is in no store
    let server = TlsServer::for_chain(&chain);
    let env = [("CURL_CA_BUNDLE", "")];

    let real_old = run_python(&old, REQUESTS_GET, server.port(), &env);
    pyvenv::assert_ok_200(&real_old);
    let real_new = run_python(&new, REQUESTS_GET, server.port(), &env);
    pyvenv::assert_verify_failed(&real_new);

    let doc = status_of(&old, &env);
    let rq = row(&doc, "requests");
    assert_eq!(rq["verdict"], "broken", "{doc:#}");
    assert!(codes(rq).contains(&"verification-off".into()), "{doc:#}");
    let doc = status_of(&new, &env);
    assert!(
        !codes(row(&doc, "requests")).contains(&"verification-off".into()),
        "{doc:#}"
    );
}

/// An Alpine image has Debian's bundle path but is not Debian: the flavor comes from its
/// `os-release`.
#[test]
fn the_distro_is_named_from_os_release() {
    let chain = CaChain::new(ChainSpec::default());
    let root = tempfile::tempdir().unwrap();
    let put = |rel: &str, data: &str| {
        let p = root.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, data).unwrap();
    };
    put("etc/ssl/certs/ca-certificates.crt", &chain.root_pem());
    let status = |root: &Path| {
        json(&trustsync(
            &["status", "--json", "--root", root.to_str().unwrap()],
            &[],
        ))
    };
    assert_eq!(status(root.path())["system"]["flavor"], "debian");
    put(
        "etc/os-release",
        "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.20.3\n",
    );
    assert_eq!(status(root.path())["system"]["flavor"], "alpine");
}

/// Seed S6, per runtime: `SSL_CERT_FILE` and `REQUESTS_CA_BUNDLE` naming the same bundle
/// that lacks the company CA. OpenSSL clients still read the OS directory (the real
/// python `ssl` verifies), requests reads only the file (the real requests fails): the
/// `SSL_CERT_FILE` row is not a drift, the requests row is.
#[test]
fn a_bundle_lacking_a_ca_harms_only_the_runtimes_that_read_nothing_else() {
    use support::sandbox::{self, Sandbox};
    let Some(sb) = Sandbox::new() else { return };
    let Some(real) = pyvenv::install(&sb, pyvenv::REQUESTS, "/opt/tool/venv") else {
        return;
    };
    let chain = CaChain::new(ChainSpec::default());
    sandbox::add_os_ca(&sb, "s6-corp", &chain.root_pem());
    let server = TlsServer::for_chain(&chain);
    // A copy of a public bundle: every public root, not the company's.
    sb.write(
        "/etc/ssl/public-only.pem",
        std::fs::read("/etc/ssl/certs/ca-certificates.crt").unwrap(),
    );
    let env = [
        ("SSL_CERT_FILE", "/etc/ssl/public-only.pem"),
        ("REQUESTS_CA_BUNDLE", "/etc/ssl/public-only.pem"),
    ];
    let port = server.port().to_string();
    let ssl = sb.run(&["/usr/bin/python3", "-I", "-c", SSL_GET, &port], &env);
    assert_eq!(text(&ssl.stdout).trim(), "ok", "{}", show(&ssl));
    let rq = sb.run(
        &[real.python.as_str(), "-I", "-c", REQUESTS_GET, &port],
        &env,
    );
    pyvenv::assert_verify_failed(&rq);

    let out = sb.run(
        &[
            env!("CARGO_BIN_EXE_trustsync"),
            "status",
            "--json",
            "--fresh",
            "--only",
            "--runtime",
            real.python.as_str(),
        ],
        &env,
    );
    let doc = json(&out);
    let rows = doc["runtimes"].as_array().unwrap();
    let find = |kind: &str, label: &str| {
        rows.iter()
            .find(|r| r["kind"] == kind && r["label"].as_str().unwrap().contains(label))
            .unwrap_or_else(|| panic!("no {kind} {label}: {doc:#}"))
    };
    assert_eq!(find("python-ssl", "")["verdict"], "ok", "{doc:#}");
    assert_eq!(find("env-var", "SSL_CERT_FILE")["verdict"], "ok", "{doc:#}");
    let requests = find("requests", "");
    assert_eq!(requests["verdict"], "drift", "{doc:#}");
    assert!(
        requests["missing_locally_added"].as_array().unwrap().len() == 1,
        "{doc:#}"
    );
    assert_eq!(
        find("env-var", "REQUESTS_CA_BUNDLE")["verdict"],
        "drift",
        "{doc:#}"
    );
}
