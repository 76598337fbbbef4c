//! The CLI wiring of `probe` (trust sets from the OS store under `--root`, exit codes)
//! and of `fix`'s advice for variables set outside trustsync, through the real binary.
#![cfg(unix)]

mod support;
use support::certs::*;
use support::tls::{closed_port, CaChain, ChainSpec, TlsServer};

fn store_with(pem: &str) -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    write(
        root.path(),
        "/etc/ssl/certs/ca-certificates.crt",
        pem.as_bytes(),
    );
    root
}

/// `trustsync probe TARGET --json --only --root ROOT`, naming `localhost` to the server.
fn probe_localhost(target: &str, root: &tempfile::TempDir) -> std::process::Output {
    trustsync(
        &[
            "probe",
            target,
            "--servername",
            "localhost",
            "--json",
            "--only",
            "--root",
            root.path().to_str().unwrap(),
        ],
        &[],
    )
}

#[test]
fn probe_verifies_against_the_os_store_and_exits_by_outcome() {
    let chain = CaChain::new(ChainSpec::default());
    let server = TlsServer::for_chain(&chain);
    let target = format!("127.0.0.1:{}", server.port());

    let trusting = store_with(&chain.root_pem());
    let out = probe_localhost(&target, &trusting);
    let doc = json(&out);
    assert_eq!(out.status.code(), Some(0), "{doc:#}");
    assert_eq!(doc["verdicts"][0]["trust_set"], "OS store");
    assert_eq!(doc["verdicts"][0]["code"], "ok");

    let other = make_cert("Some Other Root", true, 2099);
    let lacking = store_with(&other.pem);
    let out = probe_localhost(&target, &lacking);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["verdicts"][0]["code"], "untrusted-root");

    let out = trustsync(
        &[
            "probe",
            &format!("127.0.0.1:{}", closed_port()),
            "--json",
            "--only",
            "--root",
            lacking.path().to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json(&out)["error"], "connect-failed");
}

#[test]
fn fix_says_where_a_foreign_variable_is_set_and_leaves_it() {
    let ca = make_cert("Store Root", true, 2099);
    let root = store_with(&ca.pem);
    write(
        root.path(),
        "/etc/profile.d/corp.sh",
        b"# corp settings\nexport REQUESTS_CA_BUNDLE=/opt/corp/missing.pem\n",
    );
    let out = trustsync(
        &[
            "fix",
            "--dry-run",
            "--json",
            "--only",
            "--root",
            root.path().to_str().unwrap(),
        ],
        &[
            ("REQUESTS_CA_BUNDLE", "/opt/corp/missing.pem"),
            ("HOME", "/nonexistent"),
        ],
    );
    let doc = json(&out);
    assert_eq!(
        doc["actions"].as_array().unwrap().len(),
        0,
        "a foreign variable is never edited: {doc:#}"
    );
    let advice = doc["advice"].as_array().unwrap();
    let a = advice
        .iter()
        .find(|a| {
            a["runtime"]
                .as_str()
                .unwrap()
                .contains("REQUESTS_CA_BUNDLE")
        })
        .expect("advice for the variable");
    assert_eq!(a["code"], "variable-set-elsewhere");
    assert!(
        a["message"]
            .as_str()
            .unwrap()
            .contains("set in /etc/profile.d/corp.sh line 2"),
        "{a}"
    );
}

#[test]
fn one_interpreter_reached_by_several_paths_is_listed_once() {
    // The live machine (an offline `--root` tree runs nothing); /bin is /usr/bin on
    // merged-usr systems, and python3 is a link to python3.X.
    let real = std::fs::canonicalize("/usr/bin/python3").unwrap();
    let real = real.to_str().unwrap();
    let out = trustsync(
        &[
            "status",
            "--json",
            "--fresh",
            "--only",
            "--runtime",
            "/usr/bin/python3",
            "--runtime",
            real,
            "--runtime",
            "/bin/python3",
        ],
        &[],
    );
    let doc = json(&out);
    let rows = doc["runtimes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kind"] == "python-ssl")
        .count();
    assert_eq!(rows, 1, "{doc:#}");
}
