//! `probe`'s human output grouped by outcome, against a loopback server, compared with the
//! golden file `tests/golden/probe_grouped.txt`: the chain once, one line per distinct
//! outcome with the trust sets that share it counted (`pip ×3`), next steps once; `-v`
//! gives each trust set's own verdict; `--json` is unchanged by either. The trust sets come
//! from a `--root` tree of bundles (nothing is executed). The same run in Simplified
//! Chinese (`LANG=zh_CN.UTF-8`) is compared with `tests/golden/probe_grouped.zh-CN.txt`,
//! and its `--json` must be the English one. `UPDATE_GOLDEN=1` rewrites the golden files
//! from this run.
#![cfg(unix)]

mod support;
use support::certs::*;
use support::tls::{CaChain, ChainSpec, TlsServer};

const GOLDEN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/golden/probe_grouped.txt"
);
const GOLDEN_ZH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/golden/probe_grouped.zh-CN.txt"
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
            for checked in ["Checked at ", "检查时间 "] {
                if l.starts_with(checked) {
                    return format!("{checked}TIME");
                }
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
    let run_in = |lang: &str, extra: &[&str]| {
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
        let out = trustsync(&args, &[("LANG", lang)]);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            support::report::show(&out)
        );
        out
    };
    let run = |extra: &[&str]| run_in("C", extra);
    let matches_golden = |lang: &str, golden_file: &str| {
        let text = String::from_utf8(run_in(lang, &[]).stdout).unwrap();
        let grouped = normalise(&text, server.port());
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::create_dir_all(std::path::Path::new(golden_file).parent().unwrap()).unwrap();
            std::fs::write(golden_file, &grouped).unwrap();
        }
        let golden = std::fs::read_to_string(golden_file)
            .expect("the golden file (UPDATE_GOLDEN=1 makes it)");
        assert_eq!(
            grouped, golden,
            "LANG={lang}: grouped output differs from {golden_file}:\n{grouped}"
        );
        grouped
    };
    let grouped = matches_golden("C", GOLDEN);
    // The Chinese view: the same outcomes and codes, its own words.
    let chinese = matches_golden("zh_CN.UTF-8", GOLDEN_ZH);
    assert!(chinese.contains("各信任集的结果："), "{chinese}");
    assert!(
        chinese.contains("untrusted-root") && !chinese.contains("Outcome per trust set"),
        "{chinese}"
    );
    assert_eq!(
        json(&run_in("zh_CN.UTF-8", &["--json"]))["verdicts"],
        json(&run(&["--json"]))["verdicts"],
        "--json is English whatever the locale"
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
