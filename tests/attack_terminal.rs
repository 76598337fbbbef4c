//! Attack: text other people control must not reach root's terminal raw.
//!
//! A local user plants a CA whose common name carries an OSC 52 clipboard write, a clear
//! screen, a bidi override, a C1 CSI and a newline followed by a forged `ok` status row,
//! in a bundle whose file name carries ESC, CR and a newline too; a server presents such a
//! chain to `probe`; a package directory in site-packages has such a name. Through the
//! real binary, each human output (status and its table, probe, fix --dry-run, an error
//! line naming the file; stdout and stderr) must show all of it as visible escapes, and
//! each `--json` output must carry the exact hostile strings (serde's escaping only).
//! No sandbox: temp dirs, `--root` trees and a cleared environment are enough.
#![cfg(unix)]

mod support;

use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use support::certs::{json, make_cert, trustsync, write};
use support::report::show;
use support::tls::{CaChain, ChainSpec, TlsServer};

/// A row of `trustsync status` as the attacker would like root to see it.
const FORGED: &str = "env-var     SSL_CERT_FILE      1  ok";

/// The hostile common name: OSC 52 (BEL-terminated) writing `rm -rf ~` to the clipboard,
/// CSI clear screen, a right-to-left override, a newline and the forged row, then a C1 CSI.
fn hostile_cn() -> String {
    format!("Evil CA\x1b]52;c;cm0gLXJmIH4=\x07\x1b[2J\u{202e}\n{FORGED}\u{9b}31m")
}

/// What the hostile name looks like once escaped: proof that it was shown at all.
const SHOWN: &[&str] = &[
    r"Evil CA\x1b]52;c;cm0gLXJmIH4=\x07\x1b[2J\u{202e}\n",
    r"\u{9b}31m",
];

/// The hostile bundle's file name: ESC (an OSC 8 link, ST-terminated), CR and a newline.
const FILE_NAME: &str = "bundle\x1b]8;;mailto:x@evil.example\x1b\\\r\nfile.pem";
const ESCAPED_FILE_NAME: &str = r"bundle\x1b]8;;mailto:x@evil.example\x1b\\r\nfile.pem";

/// Fails when `bytes` hold anything a terminal would act on, or a line the attacker wrote.
#[track_caller]
fn assert_inert(what: &str, bytes: &[u8], out: &Output) {
    assert!(!bytes.contains(&0x1b), "{what}: raw ESC\n{}", show(out));
    assert!(!bytes.contains(&b'\r'), "{what}: raw CR\n{}", show(out));
    let text = std::str::from_utf8(bytes).unwrap_or_else(|e| panic!("{what}: not UTF-8: {e}"));
    for c in text.chars() {
        let bad = ('\u{80}'..='\u{9f}').contains(&c)
            || ('\u{202a}'..='\u{202e}').contains(&c)
            || ('\u{2066}'..='\u{2069}').contains(&c)
            || matches!(c, '\u{200e}' | '\u{200f}' | '\u{61c}' | '\u{7}');
        assert!(!bad, "{what}: raw {:?}\n{}", c, show(out));
    }
    for line in text.lines() {
        assert!(
            !line.trim_start().starts_with(FORGED),
            "{what}: forged line {line:?}\n{}",
            show(out)
        );
    }
}

/// Both streams of a human-output run.
#[track_caller]
fn assert_output_inert(out: &Output) {
    assert_inert("stdout", &out.stdout, out);
    assert_inert("stderr", &out.stderr, out);
}

/// The hostile CA, PEM.
fn hostile_ca_pem() -> String {
    make_cert(&hostile_cn(), true, 2099).pem
}

/// A `--root` tree whose OS store holds one ordinary CA.
fn os_tree() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let os_ca = make_cert("Public Root", true, 2099);
    write(
        root.path(),
        "/etc/ssl/certs/ca-certificates.crt",
        os_ca.pem.as_bytes(),
    );
    root
}

/// The string `key` of each object in the array `list`.
fn strings<'a>(list: &'a serde_json::Value, key: &str) -> Vec<&'a str> {
    list.as_array()
        .unwrap_or_else(|| panic!("not an array: {list:#}"))
        .iter()
        .map(|o| o[key].as_str().unwrap())
        .collect()
}

/// A `--root` tree with a one-CA OS store, and in it (in a directory of its own, as a
/// user's file would be) the hostile bundle holding only the hostile CA. `bundle` is its
/// path inside the tree: under `--root`, what a variable names is read inside the tree.
struct Planted {
    root: tempfile::TempDir,
    bundle: PathBuf,
}

fn planted() -> Planted {
    let root = os_tree();
    let dir = root.path().join("home/eve");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(FILE_NAME), hostile_ca_pem()).unwrap();
    Planted {
        root,
        bundle: Path::new("/home/eve").join(FILE_NAME),
    }
}

fn path_str(p: &Path) -> &str {
    std::str::from_utf8(p.as_os_str().as_bytes()).unwrap()
}

#[test]
fn status_shows_a_planted_bundle_and_its_subject_escaped() {
    let p = planted();
    let root = path_str(p.root.path());
    // With SSL_CERT_DIR set too, the planted file is all OpenSSL clients read for a file,
    // so its row's drift names it (with only SSL_CERT_FILE set, the default directory
    // still counts and the row does not drift).
    let env = [
        ("SSL_CERT_FILE", path_str(&p.bundle)),
        ("SSL_CERT_DIR", "/etc/ssl/certs"),
        ("HOME", "/nonexistent"),
    ];
    let human = trustsync(&["status", "--only", "--root", root], &env);
    assert_output_inert(&human);
    let text = String::from_utf8_lossy(&human.stdout);
    for shown in SHOWN {
        assert!(text.contains(shown), "{shown} not shown:\n{}", show(&human));
    }
    assert!(
        text.contains(ESCAPED_FILE_NAME),
        "file name not shown escaped:\n{}",
        show(&human)
    );

    // The JSON document carries the real strings.
    let out = trustsync(&["status", "--json", "--only", "--root", root], &env);
    let doc = json(&out);
    let row = doc["runtimes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["label"] == "$SSL_CERT_FILE")
        .unwrap_or_else(|| panic!("no SSL_CERT_FILE row: {doc:#}"));
    assert_eq!(row["cafile"], path_str(&p.bundle), "{doc:#}");
    let messages = strings(&row["problems"], "message");
    assert!(
        messages.iter().any(|m| m.contains(&hostile_cn())),
        "no message quotes the subject exactly: {messages:#?}"
    );
}

#[test]
fn probe_shows_a_hostile_server_chain_escaped() {
    // Root and intermediate named by the attacker; a leaf SAN with ESC and a newline too
    // (SANs are IA5: ASCII only).
    let hostile_san = "evil\x1b[2J\nOS store: ok";
    let chain = CaChain::new(ChainSpec::default().root(&hostile_cn(), None).names(&[
        "localhost",
        "127.0.0.1",
        hostile_san,
    ]));
    let server = TlsServer::start(chain.chain_with_root(), chain.leaf_key());
    let target = format!("127.0.0.1:{}", server.port());
    let root = os_tree();
    let args = |json: bool| {
        let mut a = vec![
            "probe",
            &target,
            "--servername",
            "localhost",
            "--only",
            "--root",
            path_str(root.path()),
        ];
        if json {
            a.push("--json");
        }
        a.into_iter().map(str::to_string).collect::<Vec<_>>()
    };
    let run = |json: bool| {
        let a = args(json);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        trustsync(&a, &[("HOME", "/nonexistent")])
    };

    let human = run(false);
    assert_eq!(human.status.code(), Some(1), "{}", show(&human));
    assert_output_inert(&human);
    let text = String::from_utf8_lossy(&human.stdout);
    for shown in SHOWN {
        assert!(text.contains(shown), "{shown} not shown:\n{}", show(&human));
    }
    // The chain's names are shown with -v (the grouped default shows each certificate's
    // subject, issuer and expiry only): escaped there too.
    let mut verbose = args(false);
    verbose.push("-v".into());
    let verbose: Vec<&str> = verbose.iter().map(String::as_str).collect();
    let detailed = trustsync(&verbose, &[("HOME", "/nonexistent")]);
    assert_output_inert(&detailed);
    assert!(
        String::from_utf8_lossy(&detailed.stdout).contains(r"evil\x1b[2J\nOS store: ok"),
        "SAN not shown escaped:\n{}",
        show(&detailed)
    );

    let out = run(true);
    let doc = json(&out);
    let entries = doc["chain"].as_array().unwrap();
    let sent_root = entries.last().unwrap();
    assert_eq!(sent_root["name"], hostile_cn(), "{doc:#}");
    assert_eq!(
        sent_root["subject"],
        format!("CN={}", hostile_cn()),
        "{doc:#}"
    );
    assert_eq!(entries[1]["issuer"], format!("CN={}", hostile_cn()));
    assert!(
        entries[0]["names"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n == hostile_san),
        "{doc:#}"
    );
}

/// A package directory a user with write access to site-packages named: ESC, bidi
/// override, CR and a newline before the forged row.
const PACKAGE_DIR: &str = "evil\x1b[2J\u{202e}\r\nenv-var     SSL_CERT_FILE      1  ok";
const ESCAPED_PACKAGE_DIR: &str = r"evil\x1b[2J\u{202e}\r\nenv-var     SSL_CERT_FILE      1  ok";

/// An offline tree: the OS store, and a package's bundle (holding only the hostile CA) in
/// a directory with the hostile name. Returns the tree and the bundle's path as the plan
/// names it (on the machine the tree is: `--root` stripped).
fn hostile_package_tree() -> (tempfile::TempDir, String) {
    let root = os_tree();
    let bundle = format!("/usr/local/lib/python3.12/site-packages/{PACKAGE_DIR}/cacert.pem");
    write(root.path(), &bundle, hostile_ca_pem().as_bytes());
    (root, bundle)
}

#[test]
fn status_table_stays_aligned_around_a_hostile_label() {
    let (root, _) = hostile_package_tree();
    let out = trustsync(
        &["status", "--root", path_str(root.path())],
        &[("HOME", "/nonexistent")],
    );
    assert_output_inert(&out);
    let text = String::from_utf8_lossy(&out.stdout);
    let header = text
        .lines()
        .find(|l| l.starts_with("KIND "))
        .unwrap_or_else(|| panic!("no table:\n{}", show(&out)));
    let column = |line: &str, word: &str| line.find(word).map(|b| line[..b].chars().count());
    let verdict_at = column(header, "VERDICT");
    let row = text
        .lines()
        .find(|l| l.starts_with("bundled "))
        .unwrap_or_else(|| panic!("no row for the package's bundle:\n{}", show(&out)));
    assert!(row.contains(r"evil\x1b[2J\u{202e}\r\n"), "{row}");
    assert_eq!(column(row, "drift"), verdict_at, "misaligned:\n{text}");
}

/// `fix --dry-run` plans a block for the hostile bundle (patch-bundle) and names it.
#[test]
fn fix_dry_run_shows_a_hostile_path_escaped() {
    let (root, bundle) = hostile_package_tree();
    let r = path_str(root.path());
    let env = [("HOME", "/nonexistent")];
    let args = [
        "fix",
        "--dry-run",
        "--strategy",
        "patch-bundle",
        "--root",
        r,
    ];

    let human = trustsync(&args, &env);
    assert!(human.status.success(), "{}", show(&human));
    assert_output_inert(&human);
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.contains(&format!("{ESCAPED_PACKAGE_DIR}/cacert.pem")),
        "path not shown escaped:\n{}",
        show(&human)
    );

    let out = trustsync(&[&args[..], &["--json"]].concat(), &env);
    let doc = json(&out);
    let targets = strings(&doc["actions"], "target");
    assert!(
        targets.contains(&bundle.as_str()),
        "no action on the exact path: {doc:#}"
    );
    let label = doc["runtimes"][0]["label"].as_str().unwrap();
    assert!(
        label.starts_with(&format!("{PACKAGE_DIR}/cacert.pem")),
        "{doc:#}"
    );
}

/// An error line on stderr names the file: escaped there, exact in `--json`.
#[test]
fn an_error_naming_a_hostile_file_is_escaped_on_stderr() {
    let root = os_tree();
    let dir = tempfile::tempdir().unwrap();
    let chain = dir.path().join(FILE_NAME);
    std::fs::write(&chain, "no certificate here\n").unwrap();
    let args = |json: &'static [&'static str]| {
        let base = [
            "probe",
            "--chain",
            path_str(&chain),
            "--name",
            "localhost",
            "--only",
            "--root",
            path_str(root.path()),
        ];
        trustsync(&[&base[..], json].concat(), &[("HOME", "/nonexistent")])
    };

    let human = args(&[]);
    assert_eq!(human.status.code(), Some(2), "{}", show(&human));
    assert_output_inert(&human);
    let err = String::from_utf8_lossy(&human.stderr);
    assert!(err.contains(ESCAPED_FILE_NAME), "{}", show(&human));
    assert_eq!(err.lines().count(), 1, "one error line: {}", show(&human));

    let doc = json(&args(&["--json"]));
    let message = doc["message"].as_str().unwrap();
    assert!(message.contains(path_str(&chain)), "{doc:#}");
}

/// A pip configuration file is the writer's word: its `cert` and `trusted-host` values
/// reach the pip row's notes, escaped like every other hostile text. Debian's own pip
/// (in `/usr/bin/python3`) reads the file named by PIP_CONFIG_FILE.
#[test]
fn a_hostile_pip_config_value_is_shown_escaped() {
    if !Path::new("/usr/lib/python3/dist-packages/pip").is_dir() {
        support::report::skip_unless_ci("Debian's python3-pip");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("pip.conf");
    let evil = hostile_cn().replace('\n', " ");
    std::fs::write(
        &conf,
        format!("[global]\ncert = /tmp/{evil}.pem\ntrusted-host = {evil}\n"),
    )
    .unwrap();
    let env = [
        ("PIP_CONFIG_FILE", conf.to_str().unwrap()),
        ("HOME", "/nonexistent"),
        ("PATH", "/usr/bin:/bin"),
    ];
    let out = trustsync(
        &[
            "status",
            "--fresh",
            "--only",
            "--runtime",
            "/usr/bin/python3",
        ],
        &env,
    );
    assert_output_inert(&out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("pip-config"), "{}", show(&out));
    assert!(
        stdout.contains(r"\x1b]52;c;"),
        "the value was shown, escaped: {}",
        show(&out)
    );
}
