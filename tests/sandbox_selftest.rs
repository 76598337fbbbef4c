//! Self-test of the test sandbox (`tests/support/sandbox.rs`).
//!
//! Every runtime scenario test trusts the sandbox to (a) show real binaries a changed
//! machine and (b) never change the real one. If either failed silently, scenario tests
//! would pass or fail for the wrong reason, so both are proved here with real commands, and
//! with hashes of the real files before and after. The last test proves the S1 precondition
//! with the real private OpenSSL build and the real system `openssl`.
#![cfg(target_os = "linux")]
#![forbid(unsafe_code)]

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sha2::{Digest, Sha256};
use support::sandbox::{self, Sandbox, BASE_ENV};

const HOST_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// SHA-256 of a host file, or None if absent: "unchanged" means equal before and after.
fn host_digest(path: &str) -> Option<String> {
    fs::read(path)
        .ok()
        .map(|bytes| hex::encode(Sha256::digest(bytes)))
}

fn stdout_text(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Asserts success, showing both streams otherwise.
fn assert_ok(output: &Output, what: &str) {
    assert!(
        output.status.success(),
        "{what} failed ({}):\nstdout: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn writes_are_seen_inside_and_never_reach_the_machine() {
    let Some(sb) = Sandbox::new() else { return };
    let local_ca = "/usr/local/share/ca-certificates/trustsync-sandbox-selftest-x.crt";
    assert!(
        !Path::new(local_ca).exists(),
        "{local_ca} exists on this machine"
    );
    let bundle_before = host_digest(HOST_BUNDLE);

    let fake_bundle = b"-----not a real bundle, written by the sandbox self-test-----\n";
    sb.write(HOST_BUNDLE, fake_bundle);
    sb.write(local_ca, b"local CA placeholder\n");

    let inside = sb.run(&["cat", HOST_BUNDLE, local_ca], &[]);
    assert_ok(&inside, "cat inside the sandbox");
    assert_eq!(
        inside.stdout,
        [&fake_bundle[..], b"local CA placeholder\n"].concat(),
        "the inner cat must see the sandbox's files"
    );
    // Directories created for the write keep the real directories' attributes.
    let modes = sb.run(&["stat", "-c", "%a %u %g", "/etc", "/usr/local/share"], &[]);
    let host_modes = Command::new("stat")
        .args(["-c", "%a %u %g", "/etc", "/usr/local/share"])
        .output()
        .expect("stat on the host");
    assert_eq!(stdout_text(&modes), stdout_text(&host_modes));

    assert_eq!(
        host_digest(HOST_BUNDLE),
        bundle_before,
        "host bundle changed"
    );
    assert!(
        !Path::new(local_ca).exists(),
        "{local_ca} leaked to the machine"
    );
    assert_eq!(sb.read(HOST_BUNDLE).as_deref(), Some(&fake_bundle[..]));
}

#[test]
fn a_commands_changes_persist_across_runs_and_stay_inside() {
    let Some(sb) = Sandbox::new() else { return };
    let created = "/etc/trustsync-sandbox-selftest-created";
    let journal = "/var/lib/trustsync-sandbox-selftest/journal";
    assert!(!Path::new(created).exists() && !Path::new(journal).exists());

    // The file names reach the inner shell as arguments, never inside the script text.
    let script = r#"printf 'made inside' > "$1" && mkdir -p "$(dirname "$2")" && echo j > "$2""#;
    let first = sb.run(&["sh", "-c", script, "sh", created, journal], &[]);
    assert_ok(&first, "writing inside");
    let second = sb.run(&["cat", created], &[]);
    assert_ok(&second, "reading in a second run");
    assert_eq!(stdout_text(&second), "made inside");

    assert!(
        !Path::new(created).exists(),
        "{created} leaked to the machine"
    );
    assert!(
        !Path::new(journal).exists(),
        "{journal} leaked to the machine"
    );
    assert_eq!(sb.read(created).as_deref(), Some(&b"made inside"[..]));
    assert_eq!(
        sb.changed_paths(),
        vec![
            PathBuf::from(created),
            PathBuf::from("/var/lib/trustsync-sandbox-selftest"),
            PathBuf::from(journal),
        ]
    );
}

#[test]
fn remove_hides_a_machine_file_inside_only() {
    let Some(sb) = Sandbox::new() else { return };
    let before = host_digest(HOST_BUNDLE);
    assert!(
        before.is_some(),
        "this test needs {HOST_BUNDLE} on the machine"
    );

    // Removing what exists nowhere leaves no trace (no stray parent directories).
    sb.remove("/etc/trustsync-sandbox-selftest-nowhere/x");
    assert!(sb.changed_paths().is_empty(), "{:?}", sb.changed_paths());

    sb.remove(HOST_BUNDLE);
    assert!(sb.is_removed(HOST_BUNDLE));
    let test = sb.run(&["test", "-e", HOST_BUNDLE], &[]);
    assert!(!test.status.success(), "{HOST_BUNDLE} still visible inside");
    let listing = sb.run(&["ls", "-A", "/etc/ssl/certs"], &[]);
    assert_ok(&listing, "ls inside");
    assert!(!stdout_text(&listing)
        .lines()
        .any(|name| name == "ca-certificates.crt"));
    assert_eq!(sb.read_inside(HOST_BUNDLE), None);

    assert_eq!(host_digest(HOST_BUNDLE), before, "host bundle changed");
    // Writing it again replaces the whiteout.
    sb.write(HOST_BUNDLE, b"back\n");
    assert_eq!(sb.read_inside(HOST_BUNDLE).as_deref(), Some(&b"back\n"[..]));
}

#[test]
fn replace_with_empty_dir_hides_the_machines_directory_contents() {
    let Some(sb) = Sandbox::new() else { return };
    let host_entries = fs::read_dir("/etc/ssl/certs")
        .map(|d| d.count())
        .unwrap_or(0);
    assert!(
        host_entries > 0,
        "this test needs a non-empty /etc/ssl/certs"
    );

    sb.replace_with_empty_dir("/etc/ssl/certs");
    let listing = sb.run(&["ls", "-A", "/etc/ssl/certs"], &[]);
    assert_ok(&listing, "ls inside");
    assert_eq!(
        stdout_text(&listing),
        "",
        "the emptied directory shows entries"
    );

    // mkdir on an existing directory merges instead: the machine's entries stay visible.
    let merged = Sandbox::new().expect("root was available a moment ago");
    merged.mkdir("/etc/ssl/certs");
    let listing = merged.run(&["ls", "-A", "/etc/ssl/certs"], &[]);
    assert_eq!(stdout_text(&listing).lines().count(), host_entries);
    assert!(
        merged.changed_paths().is_empty(),
        "a merged dir is not a change"
    );
}

#[test]
fn symlink_chmod_and_chown_are_seen_inside() {
    let Some(sb) = Sandbox::new() else { return };
    let link = "/usr/local/share/ca-certificates/trustsync-sandbox-selftest-link.crt";
    sb.symlink(HOST_BUNDLE, link);
    assert_eq!(sb.read_link(link), Some(PathBuf::from(HOST_BUNDLE)));
    let read_through = sb.read_inside(link).expect("link readable inside");
    assert_eq!(read_through, fs::read(HOST_BUNDLE).expect("host bundle"));

    let dir = "/opt/trustsync-sandbox-selftest";
    if sb.layers().contains(&Path::new("/opt")) {
        sb.mkdir(dir);
        sb.chmod(dir, 0o777);
        sb.chown(dir, 65534, 65534);
        let stat = sb.run(&["stat", "-c", "%a %u %g", dir], &[]);
        assert_ok(&stat, "stat inside");
        assert_eq!(stdout_text(&stat), "777 65534 65534\n");
        assert!(!Path::new(dir).exists(), "{dir} leaked to the machine");
    }
    // chmod of a machine file copies it up; the real one keeps its mode.
    let host_mode = fs::metadata("/etc/hostname").map(|m| m.permissions());
    if let Ok(host_mode) = host_mode {
        sb.chmod("/etc/hostname", 0o600);
        let stat = sb.run(&["stat", "-c", "%a", "/etc/hostname"], &[]);
        assert_eq!(stdout_text(&stat), "600\n");
        assert_eq!(
            fs::metadata("/etc/hostname").unwrap().permissions(),
            host_mode
        );
    }
}

#[test]
fn two_sandboxes_are_independent() {
    let Some(first) = Sandbox::new() else { return };
    let second = Sandbox::new().expect("root was available a moment ago");
    let path = "/root/trustsync-sandbox-selftest-independent";
    first.write(path, b"first");
    second.write(path, b"second");
    assert_eq!(first.read_inside(path).as_deref(), Some(&b"first"[..]));
    assert_eq!(second.read_inside(path).as_deref(), Some(&b"second"[..]));

    let third = Sandbox::new().expect("root was available a moment ago");
    assert_eq!(
        third.read_inside(path),
        None,
        "a fresh sandbox sees another's file"
    );
    assert!(!Path::new(path).exists());
}

#[test]
fn the_environment_is_clean_and_documented() {
    let Some(sb) = Sandbox::new() else { return };
    let output = sb.run(&["/usr/bin/env"], &[("TRUSTSYNC_SELFTEST", "a b $(c)")]);
    assert_ok(&output, "env inside");
    let mut seen: Vec<String> = stdout_text(&output).lines().map(String::from).collect();
    seen.sort();
    let mut expected: Vec<String> = BASE_ENV
        .iter()
        .map(|(key, value)| format!("{key}={value}"))
        .chain(["TRUSTSYNC_SELFTEST=a b $(c)".to_string()])
        .collect();
    expected.sort();
    assert_eq!(
        seen, expected,
        "SSL_CERT_FILE & co. of the host must not leak in"
    );

    let cwd = sb.run(&["pwd", "-P"], &[]);
    assert_eq!(stdout_text(&cwd), "/\n");
    // A test may replace a base variable.
    let home = sb.run(&["sh", "-c", "echo $HOME"], &[("HOME", "/tmp")]);
    assert_eq!(stdout_text(&home), "/tmp\n");
}

#[test]
fn missing_layer_directories_are_skipped() {
    let Some(sb) = Sandbox::with_layers(&["/etc", "/trustsync-sandbox-selftest-missing"]) else {
        return;
    };
    assert_eq!(sb.layers(), vec![Path::new("/etc")]);
    assert_ok(&sb.run(&["true"], &[]), "run with one layer");
}

/// A CA and a leaf it signs, both generated now, so the machine cannot already trust it.
fn generate_ca_and_leaf(common_name: &str) -> (rcgen::Certificate, rcgen::Certificate) {
    let ca_key = rcgen::KeyPair::generate().expect("CA key");
    let mut ca_params = rcgen::CertificateParams::new(Vec::new()).expect("CA params");
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, common_name);
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
    ];
    let ca = ca_params.self_signed(&ca_key).expect("self-sign CA");
    let leaf_key = rcgen::KeyPair::generate().expect("leaf key");
    let leaf_params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    let leaf = leaf_params
        .signed_by(&leaf_key, &ca, &ca_key)
        .expect("sign leaf");
    (ca, leaf)
}

/// Seed case S1, precondition: a private OpenSSL whose certs dir is empty does not trust a
/// CA that the OS store (bundle and hashed directory) trusts, while the system OpenSSL
/// does. Everything here is the real binaries on a sandboxed /etc and /usr/local.
#[test]
fn s1_private_openssl_cannot_see_a_ca_the_os_store_trusts() {
    let Some(sb) = Sandbox::new() else { return };
    if !sandbox::install_private_openssl(&sb) {
        return;
    }

    let (ca, leaf) = generate_ca_and_leaf("trustsync sandbox self-test CA");

    // The leaf lives in a plain temp dir: not overlaid, so inside sees it as it is.
    let files = tempfile::tempdir().expect("temp dir");
    let leaf_file = files.path().join("leaf.pem");
    let ca_file = files.path().join("ca.pem");
    fs::write(&leaf_file, leaf.pem()).unwrap();
    fs::write(&ca_file, ca.pem()).unwrap();
    let leaf_arg = leaf_file.to_str().expect("UTF-8 temp path");

    // Add the CA to the sandbox's OS store the Debian way: the file under
    // /usr/local/share/ca-certificates, a .pem link and a HASH.N link in /etc/ssl/certs,
    // and the bundle extended.
    let hash = support::certs::openssl_subject_hash(&ca_file);
    let local_ca = "/usr/local/share/ca-certificates/trustsync-sandbox-selftest-ca.crt";
    let pem_link = "/etc/ssl/certs/trustsync-sandbox-selftest-ca.pem";
    let hash_link = (0..10)
        .map(|n| format!("/etc/ssl/certs/{hash}.{n}"))
        .find(|candidate| fs::symlink_metadata(candidate).is_err())
        .expect("a free HASH.N slot");
    sb.write(local_ca, ca.pem());
    sb.symlink(local_ca, pem_link);
    sb.symlink("trustsync-sandbox-selftest-ca.pem", &hash_link);
    let mut bundle = fs::read(HOST_BUNDLE).expect("host bundle");
    bundle.extend_from_slice(ca.pem().as_bytes());
    sb.write(HOST_BUNDLE, bundle);

    let private = sandbox::PRIVATE_OPENSSL;
    let version = sb.run(&[private, "version", "-d"], &[]);
    assert_ok(&version, "private openssl version -d");
    assert_eq!(
        stdout_text(&version).trim(),
        format!("OPENSSLDIR: \"{}\"", sandbox::PRIVATE_OPENSSL_DIR)
    );
    let empty = sb.run(&["ls", "-A", "/usr/local/openssl111/certs"], &[]);
    assert_ok(&empty, "ls the private certs dir");
    assert_eq!(stdout_text(&empty), "", "the S1 certs dir must be empty");

    // The private OpenSSL (default paths only) fails exactly as in the field reports.
    let private_verify = sb.run(&[private, "verify", leaf_arg], &[]);
    let text = format!(
        "{}{}",
        stdout_text(&private_verify),
        String::from_utf8_lossy(&private_verify.stderr)
    );
    assert!(
        !private_verify.status.success(),
        "private openssl verified: {text}"
    );
    assert!(
        text.contains("unable to get local issuer certificate"),
        "unexpected failure: {text}"
    );

    // The system OpenSSL trusts it through the hashed directory alone …
    let by_dir = sb.run(
        &[
            "/usr/bin/openssl",
            "verify",
            "-no-CAfile",
            "-no-CAstore",
            "-CApath",
            "/etc/ssl/certs",
            leaf_arg,
        ],
        &[],
    );
    assert_ok(&by_dir, "system openssl verify -CApath /etc/ssl/certs");
    assert_eq!(stdout_text(&by_dir).trim(), format!("{leaf_arg}: OK"));
    // … and through the bundle alone.
    let by_bundle = sb.run(
        &[
            "/usr/bin/openssl",
            "verify",
            "-no-CApath",
            "-no-CAstore",
            "-CAfile",
            HOST_BUNDLE,
            leaf_arg,
        ],
        &[],
    );
    assert_ok(&by_bundle, "system openssl verify -CAfile bundle");

    // Outside the sandbox the machine does not trust the CA: the sandbox made the difference.
    let on_host = Command::new("/usr/bin/openssl")
        .args(["verify", "-CApath", "/etc/ssl/certs", leaf_arg])
        .env_clear()
        .output()
        .expect("run openssl on the host");
    assert!(
        !on_host.status.success(),
        "the machine itself trusts the test CA"
    );
    assert!(!Path::new(local_ca).exists() && fs::symlink_metadata(&hash_link).is_err());
}

/// The S2 starting point: a CA added the Debian way (`update-ca-certificates`, run for real
/// inside) is trusted by the system OpenSSL's default paths inside, and nowhere else.
#[test]
fn add_os_ca_trusts_a_ca_inside_only() {
    let Some(sb) = Sandbox::new() else { return };
    let (ca, leaf) = generate_ca_and_leaf("trustsync sandbox self-test local CA");
    let files = tempfile::tempdir().expect("temp dir");
    let leaf_file = files.path().join("leaf.pem");
    fs::write(&leaf_file, leaf.pem()).unwrap();
    let leaf_arg = leaf_file.to_str().expect("UTF-8 temp path");
    let host_listing = || {
        let mut names: Vec<_> = fs::read_dir("/etc/ssl/certs")
            .expect("host /etc/ssl/certs")
            .map(|entry| entry.expect("dir entry").file_name())
            .collect();
        names.sort();
        names
    };
    let listing_before = host_listing();
    let bundle_before = host_digest(HOST_BUNDLE);

    let verify = ["/usr/bin/openssl", "verify", leaf_arg];
    let before = sb.run(&verify, &[]);
    assert!(!before.status.success(), "trusted before it was added");

    let output = sandbox::add_os_ca(&sb, "trustsync-sandbox-selftest-local", &ca.pem());
    // Not "1 added": the machine's own store may be behind its local CAs (this one is).
    assert!(
        stdout_text(&output).contains("added"),
        "{}",
        stdout_text(&output)
    );
    assert_eq!(
        sb.read_link("/etc/ssl/certs/trustsync-sandbox-selftest-local.pem"),
        Some(PathBuf::from(
            "/usr/local/share/ca-certificates/trustsync-sandbox-selftest-local.crt"
        ))
    );
    let after = sb.run(&verify, &[]);
    assert_ok(&after, "system openssl verify after update-ca-certificates");

    assert_eq!(
        host_listing(),
        listing_before,
        "host /etc/ssl/certs changed"
    );
    assert_eq!(
        host_digest(HOST_BUNDLE),
        bundle_before,
        "host bundle changed"
    );
    let on_host = Command::new("/usr/bin/openssl")
        .args(verify.iter().skip(1))
        .env_clear()
        .output()
        .expect("run openssl on the host");
    assert!(
        !on_host.status.success(),
        "the machine itself trusts the test CA"
    );
}

/// `command()` runs the program itself (unshare and sh exec into it, no intermediate
/// process), in its own mount namespace, so a test's kill -9 reaches exactly it.
#[test]
fn command_spawns_the_program_itself_in_its_own_mount_namespace() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;

    let Some(sb) = Sandbox::new() else { return };
    // The inner shell prints its pid, then becomes `cat`, which waits on our pipe.
    let mut child = sb
        .command(["/bin/sh", "-c", "echo $$; exec cat"], &[])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn in sandbox");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("read pid");
    assert_eq!(
        line.trim(),
        child.id().to_string(),
        "an extra process sits in between"
    );

    let namespace_of = |pid: &str| fs::read_link(format!("/proc/{pid}/ns/mnt")).expect("ns");
    assert_ne!(namespace_of(line.trim()), namespace_of("self"));

    child.kill().expect("kill -9");
    let status = child.wait().expect("wait");
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(9));
}

/// The real system `python3` sees the sandbox's trust store, not the machine's: with the
/// OS bundle replaced by one generated CA, its default context loads exactly that CA.
#[test]
fn python3_sees_the_sandboxed_trust_store() {
    let Some(sb) = Sandbox::new() else { return };
    let (ca, _leaf) = generate_ca_and_leaf("trustsync sandbox self-test python CA");
    let count_loaded_cas = "import ssl; \
        print(len(ssl.create_default_context().get_ca_certs()))";
    let argv = ["/usr/bin/python3", "-c", count_loaded_cas];

    let before = sb.run(&argv, &[]);
    assert_ok(&before, "python3 before");
    let machine_count: usize = stdout_text(&before).trim().parse().expect("a count");
    assert!(
        machine_count > 1,
        "the machine's bundle has {machine_count} CAs"
    );

    sb.write(HOST_BUNDLE, ca.pem());
    let after = sb.run(&argv, &[]);
    assert_ok(&after, "python3 after");
    assert_eq!(stdout_text(&after).trim(), "1");
    // A variable the test passes does reach the runtime (S6 tests rely on it).
    let with_override = sb.run(&argv, &[("SSL_CERT_FILE", "/usr/lib/ssl/nonexistent.pem")]);
    assert_eq!(stdout_text(&with_override).trim(), "0");
}

#[test]
fn home_is_fresh_and_add_user_makes_a_real_user_inside_only() {
    let Some(sb) = Sandbox::new() else { return };
    assert_eq!(sb.fresh_dirs(), vec![Path::new("/home")]);
    let machine_passwd = host_digest("/etc/passwd");
    // The machine's /home entries are out of sight: the sandbox's /home starts empty.
    let listing = sb.run(&["/bin/ls", "-A", "/home"], &[]);
    assert_ok(&listing, "ls /home inside");
    assert_eq!(
        stdout_text(&listing),
        "",
        "the machine's /home shows through"
    );

    let alice = sb.add_user("ts-selftest-alice");
    assert_ne!(alice.uid, 0);
    assert_eq!(alice.home, "/home/ts-selftest-alice");
    let who = sb.run_as(
        &alice,
        &["/bin/sh", "-c", "id -u; id -g; echo $HOME; touch ~/mine"],
        &[],
    );
    assert_ok(&who, "id as alice");
    assert_eq!(
        stdout_text(&who),
        format!("{}\n{}\n/home/ts-selftest-alice\n", alice.uid, alice.gid)
    );
    // The file she made is hers, and the test can see it from outside through the layer.
    let mine = fs::metadata(sb.upper_path("/home/ts-selftest-alice/mine")).expect("her file");
    use std::os::unix::fs::MetadataExt;
    assert_eq!((mine.uid(), mine.gid()), (alice.uid, alice.gid));
    // She cannot write root's files: the uid change is real, not a label.
    let denied = sb.run_as(
        &alice,
        &["/bin/sh", "-c", "echo x > /etc/trustsync-selftest"],
        &[],
    );
    assert!(!denied.status.success(), "alice wrote to /etc");
    if Path::new("/usr/bin/sudo").exists() {
        let via_sudo = sb.sudo_as(&alice, &["/usr/bin/id", "-un"], &[]);
        assert_ok(&via_sudo, "sudo -u alice id");
        assert_eq!(stdout_text(&via_sudo), "ts-selftest-alice\n");
    } else {
        support::report::skip_unless_ci("sudo is not installed (scripts/setup.sh installs it)");
    }

    // Nothing of her reached the machine, and a second sandbox does not know her.
    assert_eq!(host_digest("/etc/passwd"), machine_passwd);
    assert!(!Path::new("/home/ts-selftest-alice").exists());
    let other = Sandbox::new().expect("root a moment ago");
    let unknown = other.run(&["/usr/bin/id", "-u", "ts-selftest-alice"], &[]);
    assert!(
        !unknown.status.success(),
        "the user leaked into another sandbox"
    );
}

#[test]
fn var_is_overlaid_so_caches_and_logs_stay_inside() {
    let Some(sb) = Sandbox::new() else { return };
    let cache = "/var/cache/trustsync-sandbox-selftest/probe.json";
    assert_ok(
        &sb.run(
            &[
                "/bin/sh",
                "-c",
                "mkdir -p \"${0%/*}\" && echo {} > \"$0\"",
                cache,
            ],
            &[],
        ),
        "write under /var/cache",
    );
    assert_eq!(sb.read(cache).as_deref(), Some(&b"{}\n"[..]));
    assert!(!Path::new(cache).exists(), "{cache} leaked to the machine");
}

/// A command inside the sandbox that writes under `/usr/lib` (as `fix` does when it patches
/// the bundle of the machine's own Debian pip) writes into the sandbox only: a run of the
/// suite once left a managed block in the machine's
/// `/usr/lib/python3/dist-packages/pip/_vendor/certifi/cacert.pem` when only `/usr/local`
/// was overlaid.
#[test]
fn a_command_writing_under_usr_lib_leaves_the_machine_alone() {
    let Some(sb) = Sandbox::new() else { return };
    let target = "/usr/lib/trustsync-sandbox-selftest-usr-lib.pem";
    assert!(
        !Path::new(target).exists(),
        "{target} exists on this machine"
    );
    let out = sb.run(&["/bin/sh", "-c", &format!("echo inside > {target}")], &[]);
    assert_ok(&out, "write under /usr/lib inside the sandbox");
    assert_eq!(stdout_text(&sb.run(&["cat", target], &[])), "inside\n");
    assert!(
        !Path::new(target).exists(),
        "the write reached the machine's {target}"
    );
}
