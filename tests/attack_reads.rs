//! Attack tests for trustsync's reads (it runs as root and reads files other users choose):
//! a trust variable or `add FILE` naming a FIFO, `/dev/zero` or a 65 MiB file must give one
//! line naming the file while the rest of the run goes on (a hang is a failure: every child
//! runs under a deadline and is killed past it), and `status --root TREE` must read only
//! inside TREE, whatever absolute or `..` symlinks the tree holds.
//!
//! The live-system runs (`status` without `--root`, `add`) happen in a private mount
//! namespace (tests/support/sandbox.rs); the `--root` runs need no sandbox, as the tree is
//! a temp dir.
#![cfg(target_os = "linux")]

mod support;
use std::io::Read;
use std::os::unix::fs::symlink;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;
use support::certs::{json, make_cert, under, write, TestCa};
use support::report::show;
use support::sandbox::Sandbox;
use wait_timeout::ChildExt;

const EXE: &str = env!("CARGO_BIN_EXE_trustsync");

/// Generous: a status run takes well under a second; only a hang reaches this.
const DEADLINE: Duration = Duration::from_secs(120);

/// Runs `command` to its own exit, or kills its whole process group at [`DEADLINE`] and
/// fails the test (a blocked read is exactly the bug these tests look for).
#[track_caller]
fn run_with_deadline(mut command: Command) -> Output {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut child = command.spawn().expect("spawn");
    // Drain both pipes on threads so a large document cannot block the child on a full pipe.
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = r.read_to_end(&mut v);
            v
        })
    };
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    let status = match child.wait_timeout(DEADLINE).expect("wait") {
        Some(status) => status,
        None => {
            let pgid = rustix::process::Pid::from_child(&child);
            let _ = rustix::process::kill_process_group(pgid, rustix::process::Signal::KILL);
            let _ = child.wait();
            panic!("trustsync did not finish within {DEADLINE:?}: a read blocked");
        }
    };
    Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

fn mkfifo(path: &Path) {
    rustix::fs::mkfifoat(
        rustix::fs::CWD,
        path,
        rustix::fs::Mode::from_raw_mode(0o644),
    )
    .unwrap();
}

/// A temp dir holding a FIFO and a 65 MiB file that takes no space (one byte over the cap
/// would do; the real worry is a hostile multi-gigabyte one).
fn hostile_files() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let files = tempfile::tempdir().unwrap();
    let fifo = files.path().join("ca.fifo");
    mkfifo(&fifo);
    let big = files.path().join("huge.pem");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(65 * 1024 * 1024)
        .unwrap();
    (files, fifo, big)
}

fn row<'a>(doc: &'a serde_json::Value, label: &str) -> &'a serde_json::Value {
    doc["runtimes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["label"] == label)
        .unwrap_or_else(|| panic!("no row {label} in {doc:#}"))
}

fn first_problem(doc: &serde_json::Value, label: &str) -> String {
    row(doc, label)["problems"][0]["message"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn status_with_variables_naming_a_fifo_dev_zero_and_a_huge_file_finishes() {
    let Some(sb) = Sandbox::new() else { return };
    let (files, fifo, big) = hostile_files();
    let good = files.path().join("good.pem");
    let ca = make_cert("Fine Root", true, 2099);
    std::fs::write(&good, &ca.pem).unwrap();
    let (fifo_s, big_s, good_s) = (
        fifo.to_str().unwrap(),
        big.to_str().unwrap(),
        good.to_str().unwrap(),
    );
    let env = [
        ("SSL_CERT_FILE", "/dev/zero"),
        ("REQUESTS_CA_BUNDLE", fifo_s),
        ("CURL_CA_BUNDLE", big_s),
        ("SSL_CERT_DIR", "/dev/null"),
        ("NODE_EXTRA_CA_CERTS", good_s),
    ];
    let out = run_with_deadline(sb.command([EXE, "status", "--only", "--json"], &env));
    let doc = json(&out);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    for (label, path, words) in [
        ("$SSL_CERT_FILE", "/dev/zero", "character device"),
        ("$REQUESTS_CA_BUNDLE", fifo_s, "FIFO"),
        ("$CURL_CA_BUNDLE", big_s, "65 MiB"),
    ] {
        assert_eq!(row(&doc, label)["verdict"], "broken", "{label}");
        let msg = first_problem(&doc, label);
        assert!(
            msg.contains(path) && msg.contains(words) && !msg.contains('\n'),
            "{label}: {msg}"
        );
    }
    assert_eq!(row(&doc, "$SSL_CERT_DIR")["verdict"], "broken");
    // The other rows are still judged: the additive variable's good file was read.
    assert_eq!(row(&doc, "$NODE_EXTRA_CA_CERTS")["trusted"], 1);
    assert!(doc["system"]["certificates"].as_u64().unwrap() > 0);

    // The human report says the same, one line per file.
    let env_human = env;
    let out = run_with_deadline(sb.command([EXE, "status", "--only"], &env_human));
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in ["/dev/zero", fifo_s, big_s] {
        let lines: Vec<&str> = text.lines().filter(|l| l.contains(needle)).collect();
        assert!(!lines.is_empty(), "{needle} not named:\n{text}");
    }
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
}

#[test]
fn add_of_dev_zero_a_fifo_or_a_huge_file_is_a_one_line_error() {
    let Some(sb) = Sandbox::new() else { return };
    let (_files, fifo, big) = hostile_files();
    for (file, words) in [
        ("/dev/zero", "character device"),
        (fifo.to_str().unwrap(), "FIFO"),
        (big.to_str().unwrap(), "65 MiB"),
    ] {
        let out = run_with_deadline(sb.command([EXE, "add", file], &[]));
        assert!(!out.status.success(), "{file}: {}", show(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        let lines: Vec<&str> = err.lines().filter(|l| l.contains(file)).collect();
        assert_eq!(lines.len(), 1, "{file}: {}", show(&out));
        assert!(lines[0].contains(words), "{file}: {}", lines[0]);
        // Nothing was added to the sandbox's store.
        assert!(
            sb.changed_paths().is_empty(),
            "{file}: {:?}",
            sb.changed_paths()
        );
    }
}

/// A Debian-style tree whose OS bundle is `bundle_link` (a symlink), with `tree_ca` as a
/// locally added anchor so the report names it by fingerprint.
struct Tree {
    _dir: tempfile::TempDir,
    root: PathBuf,
    /// A directory outside the tree, standing for the host (`/root`, `/etc/shadow`, …).
    host: PathBuf,
    tree_ca: TestCa,
    canary: TestCa,
}

const OS_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

fn tree() -> Tree {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("tree");
    let host = dir.path().join("host");
    let tree_ca = make_cert("Tree Root", true, 2099);
    let canary = make_cert("Host Canary Root", true, 2099);
    write(&host, "/bundle.pem", canary.pem.as_bytes());
    write(
        &root,
        "/usr/local/share/ca-certificates/tree.crt",
        tree_ca.pem.as_bytes(),
    );
    std::fs::create_dir_all(under(&root, "/etc/ssl/certs")).unwrap();
    Tree {
        _dir: dir,
        root,
        host,
        tree_ca,
        canary,
    }
}

fn status_root(t: &Tree, env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(EXE);
    c.args([
        "status",
        "--only",
        "--json",
        "--root",
        t.root.to_str().unwrap(),
    ])
    .env_clear()
    .env("PATH", "/usr/bin:/bin")
    .envs(env.iter().copied());
    run_with_deadline(c)
}

#[track_caller]
fn assert_no_canary(t: &Tree, out: &Output) {
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !all.contains(&t.canary.fingerprint) && !all.contains("Host Canary Root"),
        "the host's canary CA leaked into the report:\n{all}"
    );
}

#[test]
fn root_absolute_symlink_to_a_host_file_resolves_inside_the_tree() {
    let t = tree();
    let host_bundle = t.host.join("bundle.pem");
    // The tree's bundle is an absolute link to the host file holding the canary.
    symlink(&host_bundle, under(&t.root, OS_BUNDLE)).unwrap();

    // The tree lacks that path: no OS store in the tree, and the host's is never read.
    let out = status_root(&t, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no system CA bundle found"),
        "{}",
        show(&out)
    );
    assert_no_canary(&t, &out);

    // The same path inside the tree holds the tree's bundle: that is what is read.
    write(
        &t.root,
        host_bundle.to_str().unwrap(),
        t.tree_ca.pem.as_bytes(),
    );
    let out = status_root(&t, &[("SSL_CERT_FILE", host_bundle.to_str().unwrap())]);
    let doc = json(&out);
    assert_no_canary(&t, &out);
    assert_eq!(doc["system"]["certificates"], 1, "{doc:#}");
    assert_eq!(
        doc["system"]["locally_added"][0]["sha256"],
        t.tree_ca.fingerprint.as_str()
    );
    for s in doc["system"]["sources"].as_array().unwrap() {
        assert!(
            s.as_str().unwrap().starts_with(t.root.to_str().unwrap()),
            "a source outside the tree: {s}"
        );
    }
    // A variable naming the host path is read inside the tree too (nothing outside DIR).
    assert_eq!(row(&doc, "$SSL_CERT_FILE")["trusted"], 1);
    assert_eq!(row(&doc, "$SSL_CERT_FILE")["verdict"], "ok", "{doc:#}");
}

#[test]
fn root_dotdot_symlinks_and_directory_links_never_leave_the_tree() {
    let t = tree();
    let rel_host = t.host.strip_prefix("/").unwrap().display().to_string();
    // `../` far more often than the tree is deep, then the host path.
    let up = "../".repeat(t.root.components().count() + 4);
    write(&t.root, "/srv/real.pem", t.tree_ca.pem.as_bytes());
    symlink(format!("{up}srv/real.pem"), under(&t.root, OS_BUNDLE)).unwrap();
    // An anchor dir link, a site-packages link and a variable link, all aimed at the host.
    symlink(
        &t.host,
        under(&t.root, "/usr/local/share/ca-certificates/host"),
    )
    .unwrap();
    write(&t.host, "/site/certifi/cacert.pem", t.canary.pem.as_bytes());
    std::fs::create_dir_all(under(&t.root, "/usr/lib/python3")).unwrap();
    symlink(
        t.host.join("site"),
        under(&t.root, "/usr/lib/python3/dist-packages"),
    )
    .unwrap();
    let var_link = under(&t.root, "/etc/var.pem");
    symlink(format!("{up}{rel_host}/bundle.pem"), &var_link).unwrap();

    let mut c = Command::new(EXE);
    c.args(["status", "--json", "--root", t.root.to_str().unwrap()])
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("SSL_CERT_FILE", var_link.to_str().unwrap());
    let out = run_with_deadline(c);
    let doc = json(&out);
    assert_no_canary(&t, &out);
    // The `..` chain clamped at the tree's root: the tree's own /srv/real.pem is the store.
    assert_eq!(doc["system"]["certificates"], 1, "{doc:#}");
    // The host's certifi behind the dist-packages link is not listed as a runtime.
    assert!(
        !doc["runtimes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["kind"] == "requests"),
        "{doc:#}"
    );
    // The variable's link does not resolve in the tree: it does not exist, one line.
    let msg = first_problem(&doc, "$SSL_CERT_FILE");
    assert!(
        msg.contains("does not exist") && !msg.contains('\n'),
        "{msg}"
    );
}

#[test]
fn root_tree_with_a_fifo_for_the_profile_snippet_does_not_hang_status() {
    let t = tree();
    write(&t.root, OS_BUNDLE, t.tree_ca.pem.as_bytes());
    std::fs::create_dir_all(under(&t.root, "/etc/profile.d")).unwrap();
    // `status` looks at the snippet `fix` writes (to say a login is pending): a FIFO there.
    mkfifo(&under(&t.root, "/etc/profile.d/trustsync.sh"));
    let out = status_root(&t, &[]);
    let doc = json(&out);
    assert_eq!(doc["system"]["certificates"], 1, "{}", show(&out));
}
