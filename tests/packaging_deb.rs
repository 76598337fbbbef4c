//! The Debian package as a user gets it: built by `scripts/build-deb.sh` (cargo-deb) into
//! `target/packages/`, installed with the real `dpkg -i` in a private mount namespace
//! whose `/etc`, `/usr`, `/var`, `/opt` and `/root` are throw-away overlays
//! (tests/support/sandbox.rs). Then, with no trustsync command typed, adding a company CA
//! the Debian way (`update-ca-certificates`) makes a private OpenSSL build with an empty
//! `certs` directory (seed case S1) verify a loopback server whose chain ends at that CA:
//! the package's postinst installed the hook, and the hook re-synced.
//!
//! Also: the man pages the package ships render with `man -l`, the bash completion it
//! ships loads and completes, and `dpkg -r` takes the hook out again.
//!
//! The package is looked up in `TRUSTSYNC_DEB`, else the newest `target/packages/
//! trustsync_*.deb`. Missing: a loud SKIPPED banner, or a failure under `CI=true`
//! (`.ci/run` builds it first).
#![cfg(target_os = "linux")]

mod support;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::report::{show, skip_unless_ci, text};
use support::sandbox::{self, Sandbox};
use support::tls::{CaChain, ChainSpec, TlsServer};

const HOOK: &str = "/etc/ca-certificates/update.d/trustsync";

/// The package under test: `TRUSTSYNC_DEB`, else the newest one scripts/build-deb.sh made.
fn deb() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("TRUSTSYNC_DEB") {
        return Some(PathBuf::from(path));
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/packages");
    let newest = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("trustsync_") && n.ends_with(".deb"))
        })
        .max_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
    if newest.is_none() {
        skip_unless_ci(&format!(
            "no Debian package in {} (run scripts/build-deb.sh)",
            dir.display()
        ));
    }
    newest
}

/// Contents of the package (`dpkg-deb --contents`), one path per line.
fn package_files(deb: &Path) -> String {
    let out = Command::new("dpkg-deb")
        .arg("--contents")
        .arg(deb)
        .output()
        .expect("dpkg-deb");
    assert!(out.status.success(), "{}", show(&out));
    text(&out.stdout)
}

#[test]
fn package_ships_binary_man_pages_completions_and_maintainer_scripts() {
    let Some(deb) = deb() else { return };
    let files = package_files(&deb);
    for wanted in [
        "./usr/bin/trustsync",
        "./usr/share/man/man1/trustsync.1.gz",
        "./usr/share/man/man1/trustsync-hook-install.1.gz",
        "./usr/share/man/man1/trustsync-status.1.gz",
        "./usr/share/bash-completion/completions/trustsync",
        "./usr/share/zsh/vendor-completions/_trustsync",
        "./usr/share/fish/vendor_completions.d/trustsync.fish",
        "./etc/default/trustsync",
    ] {
        assert!(files.contains(wanted), "{wanted} missing from {files}");
    }
    let control = Command::new("dpkg-deb")
        .args(["--field"])
        .arg(&deb)
        .output()
        .unwrap();
    let control = text(&control.stdout);
    assert!(control.contains("Package: trustsync"), "{control}");
    assert!(control.contains("ca-certificates"), "{control}");
    let scripts = tempfile::tempdir().unwrap();
    let out = Command::new("dpkg-deb")
        .arg("--control")
        .arg(&deb)
        .arg(scripts.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", show(&out));
    let postinst = std::fs::read_to_string(scripts.path().join("postinst")).unwrap();
    assert!(postinst.contains("/usr/bin/trustsync hook install --quiet"));
    let prerm = std::fs::read_to_string(scripts.path().join("prerm")).unwrap();
    assert!(prerm.contains("/usr/bin/trustsync hook remove --quiet"));
    assert!(prerm.contains("/usr/bin/trustsync undo ||"), "{prerm}");
    let conffiles = std::fs::read_to_string(scripts.path().join("conffiles")).unwrap();
    assert_eq!(conffiles.trim(), "/etc/default/trustsync");
}

/// The acceptance test of issue 7: `dpkg -i`, then a CA added with
/// `update-ca-certificates`, and the S1 private OpenSSL verifies a loopback server whose
/// chain ends at that CA; no trustsync command is typed. `dpkg -r` undoes every change
/// (the hook's fix and the hook), so nothing stays frozen at the store of that day.
#[test]
fn installed_package_keeps_a_private_openssl_in_sync_with_no_command_typed() {
    let Some(deb) = deb() else { return };
    let Some(sb) = Sandbox::with_layers(&["/etc", "/usr", "/opt", "/var", "/root"]) else {
        return;
    };
    if !sandbox::install_private_openssl(&sb) {
        return;
    }
    // A root-owned tool venv with the real certifi from PyPI, which lacks the company CA.
    let Some(venv) = support::pyvenv::install(&sb, support::pyvenv::REQUESTS, "/opt/tool/venv")
    else {
        return;
    };
    let certifi_original = sb.read_inside(&venv.certifi_bundle).unwrap();
    let chain = CaChain::new(ChainSpec {
        root_name: Some("Company Root CA".into()),
        ..ChainSpec::default()
    });
    let server = TlsServer::for_chain(&chain);
    let s_client = |sb: &Sandbox| sandbox::private_openssl_s_client(sb, server.port());
    let before = s_client(&sb);
    assert!(
        !before.status.success()
            && text(&before.stderr).contains("unable to get local issuer certificate"),
        "the private OpenSSL trusts nothing before: {}",
        show(&before)
    );

    let install = sb.run(&["dpkg", "-i", deb.to_str().unwrap()], &[]);
    assert!(install.status.success(), "{}", show(&install));
    assert!(
        text(&install.stdout).contains("Setting up trustsync"),
        "{}",
        show(&install)
    );
    assert!(
        !text(&install.stderr).contains("hooks not installed"),
        "{}",
        show(&install)
    );
    let hook = text(&sb.read(HOOK).expect("the postinst installed the hook"));
    assert!(hook.contains("/usr/bin/trustsync hook run store"), "{hook}");
    let certs_dir = format!("{}/certs", sandbox::PRIVATE_OPENSSL_DIR);
    let listing = sb.run(&["ls", "-A", certs_dir.as_str()], &[]);
    assert!(
        sb.read("/etc/trustsync/ca-bundle.pem").is_none() && listing.stdout.is_empty(),
        "installing the package changed no runtime by itself: {}",
        show(&listing)
    );
    assert!(
        !s_client(&sb).status.success(),
        "and the private OpenSSL still fails"
    );

    // The administrator adds the company CA the Debian way. Nothing else.
    let added = sandbox::add_os_ca(&sb, "company-root", &chain.root_pem());
    assert!(
        text(&added.stderr).contains("trustsync hook run store: applied"),
        "{}",
        show(&added)
    );
    let after = s_client(&sb);
    assert!(after.status.success(), "{}", show(&after));
    assert!(
        text(&after.stderr).contains("Verification: OK"),
        "{}",
        show(&after)
    );
    let status = sb.run(&["/usr/bin/trustsync", "hook", "status"], &[]);
    assert_eq!(status.status.code(), Some(0), "{}", show(&status));
    // The hook's default fix put the CA in the venv's certifi too (its own file: every
    // context reads it).
    let patched = sb.read_inside(&venv.certifi_bundle).unwrap();
    assert!(
        support::certs::bundle_holds(&patched, &chain.root_der()),
        "{}",
        show(&added)
    );

    // Removing the package undoes what trustsync did: the hook and the links it made are
    // gone, the private OpenSSL is back to trusting nothing (no copy left to go stale).
    let remove = sb.run(&["dpkg", "-r", "trustsync"], &[]);
    assert!(remove.status.success(), "{}", show(&remove));
    assert!(sb.read_inside(HOOK).is_none(), "{}", show(&remove));
    assert!(sb.read_inside("/usr/bin/trustsync").is_none());
    let listing = sb.run(&["ls", "-A", certs_dir.as_str()], &[]);
    assert!(
        listing.status.success() && listing.stdout.is_empty(),
        "{}",
        show(&listing)
    );
    let gone = sb.run(&["test", "-e", "/etc/trustsync"], &[]);
    assert!(
        !gone.status.success(),
        "trustsync's own directory is gone: {}",
        show(&remove)
    );
    assert!(!s_client(&sb).status.success(), "{}", show(&remove));
    assert_eq!(
        sb.read_inside(&venv.certifi_bundle).unwrap(),
        certifi_original,
        "certifi is PyPI's again, byte for byte"
    );
}

/// man's output without its overstrike bold/underline (`X\x08X`), as a person reads it.
fn plain(bytes: &[u8]) -> String {
    let mut out = String::new();
    for c in text(bytes).chars() {
        if c == '\u{8}' {
            out.pop();
        } else {
            out.push(c);
        }
    }
    out
}

/// The man pages render without a single troff warning, and the bash completion loads
/// and completes subcommands (both as the package installs them).
#[test]
fn man_pages_render_and_bash_completion_completes() {
    let Some(deb) = deb() else { return };
    let unpacked = tempfile::tempdir().unwrap();
    let out = Command::new("dpkg-deb")
        .arg("--extract")
        .arg(&deb)
        .arg(unpacked.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", show(&out));
    let man_dir = unpacked.path().join("usr/share/man/man1");
    let mut pages: Vec<PathBuf> = std::fs::read_dir(&man_dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    pages.sort();
    assert!(pages.len() >= 10, "{pages:?}");
    for page in &pages {
        let out = Command::new("man")
            .args(["--warnings", "-l"])
            .arg(page)
            .env("MANWIDTH", "80")
            .output()
            .expect("man (apt-get install man-db)");
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "{page:?}: {}",
            show(&out)
        );
        let name = page
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .trim_end_matches(".1.gz");
        let rendered = plain(&out.stdout);
        assert!(
            rendered.contains("NAME") && rendered.contains(name),
            "{page:?}: {rendered}"
        );
    }
    let top = plain(
        &Command::new("man")
            .arg("-l")
            .arg(man_dir.join("trustsync.1.gz"))
            .output()
            .unwrap()
            .stdout,
    );
    for sub in ["status", "fix", "undo", "hook", "probe"] {
        assert!(top.contains(&format!("trustsync-{sub}(1)")), "{top}");
    }

    let completion = unpacked
        .path()
        .join("usr/share/bash-completion/completions/trustsync");
    let script = format!(
        r#"source {completion}
complete -p trustsync
COMP_WORDS=(trustsync ho); COMP_CWORD=1; COMP_LINE="trustsync ho"; COMP_POINT=${{#COMP_LINE}}
_trustsync trustsync ho trustsync
echo "first: ${{COMPREPLY[*]}}"
COMP_WORDS=(trustsync hook ""); COMP_CWORD=2; COMP_LINE="trustsync hook "; COMP_POINT=${{#COMP_LINE}}
_trustsync trustsync "" hook
echo "hook: ${{COMPREPLY[*]}}"
"#,
        completion = completion.display()
    );
    let out = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &script])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", show(&out));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("-F _trustsync trustsync"), "{stdout}");
    assert!(stdout.contains("first: hook"), "{stdout}");
    for sub in ["install", "remove", "status", "run"] {
        assert!(
            stdout
                .lines()
                .any(|l| l.starts_with("hook: ") && l.split(' ').any(|w| w == sub)),
            "{sub}: {stdout}"
        );
    }
}
