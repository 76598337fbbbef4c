//! `probe`'s human output grouped by outcome, against a loopback server, compared with the
//! golden file `tests/golden/probe_grouped.txt`: the chain once, one line per distinct
//! outcome with the trust sets that share it counted (`pip ×3`), next steps once; `-v`
//! gives each trust set's own verdict; `--json` is unchanged by either. The trust sets come
//! from a `--root` tree of bundles (nothing is executed). `UPDATE_GOLDEN=1` rewrites the
//! golden file from this run.
#![cfg(unix)]

mod support;
use support::certs::*;
use support::tls::{CaChain, ChainSpec, TlsServer};

const GOLDEN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/golden/probe_grouped.txt"
);

/// An OS store that trusts the chain's root, and bundles that mostly do not: pip's
/// vendored certifi in three prefixes, requests' certifi in one, botocore's own bundle;
/// one more certifi that has the root.
fn tree(chain: &CaChain, other: &TestCa) -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let site = "lib/python3.11/site-packages";
    write(
        root.path(),
        "/etc/ssl/certs/ca-certificates.crt",
        chain.root_pem().as_bytes(),
    );
    for app in ["a", "b", "c"] {
        write(
            root.path(),
            &format!("/opt/{app}/{site}/pip/_vendor/certifi/cacert.pem"),
            other.pem.as_bytes(),
        );
    }
    write(
        root.path(),
        &format!("/opt/d/{site}/certifi/cacert.pem"),
        other.pem.as_bytes(),
    );
    write(
        root.path(),
        &format!("/opt/e/{site}/botocore/cacert.pem"),
        other.pem.as_bytes(),
    );
    write(
        root.path(),
        &format!("/opt/f/{site}/certifi/cacert.pem"),
        chain.root_pem().as_bytes(),
    );
    root
}

/// The run's variable parts (port, time, the per-process CA names) as fixed words.
fn normalise(text: &str, port: u16) -> String {
    text.lines()
        .map(|l| {
            if l.starts_with("Checked at ") {
                return "Checked at TIME".to_string();
            }
            let l = l.replace(&format!(":{port}"), ":PORT");
            // `trustsync test PID-N Intermediate CA`
            match l.find("trustsync test ") {
                Some(at) => {
                    let rest = &l[at + "trustsync test ".len()..];
                    let end = rest.find(' ').unwrap_or(rest.len());
                    format!("{}trustsync test ID{}", &l[..at], &rest[end..])
                }
                None => l,
            }
        })
        .map(|l| l + "\n")
        .collect()
}

#[test]
fn probe_groups_outcomes_and_matches_the_golden_file() {
    let chain = CaChain::new(ChainSpec::default().root("Golden Root CA", None));
    let other = make_cert("Some Other Root", true, 2099);
    let server = TlsServer::for_chain(&chain);
    let root = tree(&chain, &other);
    let target = format!("127.0.0.1:{}", server.port());
    let run = |extra: &[&str]| {
        let mut args = vec![
            "probe",
            &target,
            "--servername",
            "localhost",
            "--root",
            root.path().to_str().unwrap(),
            "--color",
            "never",
        ];
        args.extend_from_slice(extra);
        let out = trustsync(&args, &[]);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            support::report::show(&out)
        );
        out
    };
    let grouped = normalise(&String::from_utf8(run(&[]).stdout).unwrap(), server.port());
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(std::path::Path::new(GOLDEN).parent().unwrap()).unwrap();
        std::fs::write(GOLDEN, &grouped).unwrap();
    }
    let golden =
        std::fs::read_to_string(GOLDEN).expect("the golden file (UPDATE_GOLDEN=1 makes it)");
    assert_eq!(
        grouped, golden,
        "grouped output differs from {GOLDEN}:\n{grouped}"
    );
    // Each outcome once: the six failing bundles on one line, counted.
    assert_eq!(grouped.matches("untrusted-root").count(), 2, "{grouped}"); // line + result
    assert!(
        grouped.contains(
            "fails in 5 trust sets: pip ×3, requests, botocore — they lack 'Golden Root CA'"
        ),
        "{grouped}"
    );

    // -v: every trust set's verdict on its own (the OS store, 6 bundles).
    let verbose = String::from_utf8(run(&["-v"]).stdout).unwrap();
    assert_eq!(
        verbose.matches(": untrusted-root\n").count(),
        5,
        "{verbose}"
    );
    assert!(verbose.lines().count() > grouped.lines().count());

    // JSON: the same verdicts with or without -v.
    let doc = json(&run(&["--json"]));
    let doc_v = json(&run(&["--json", "-v"]));
    assert_eq!(doc["verdicts"].as_array().unwrap().len(), 7, "{doc:#}");
    assert_eq!(doc["verdicts"], doc_v["verdicts"]);
}
