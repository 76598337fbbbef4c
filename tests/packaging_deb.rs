//! The Debian package as a user gets it: built by `scripts/build-deb.sh` (cargo-deb) into
//! `target/packages/`, installed with the real `dpkg -i` in a private mount namespace
//! whose `/etc`, `/usr`, `/var`, `/opt` and `/root` are throw-away overlays
//! (tests/support/sandbox.rs). Then, with no trustsync command typed, adding a company CA
//! the Debian way (`update-ca-certificates`) makes a private OpenSSL build with an empty
//! `certs` directory (seed case S1) verify a loopback server whose chain ends at that CA:
//! the package's postinst installed the hook, and the hook re-synced.
//!
//! Also: the man pages the package ships render with `man -l`, the bash completion it
//! ships loads and completes, and `dpkg -r` takes the hook out again. And what a
//! distribution asks of a package: `dpkg-deb -I` shows no libc6 dependency and the binary
//! is static (no PT_INTERP, no DT_NEEDED), so it installs on glibc 2.17-era systems;
//! lintian reports no error and no warning; the changelog is this version's; the
//! copyright is DEP-5 with LICENSE-MIT's text.
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

/// The package's files, unpacked (`dpkg-deb --extract`) into a temporary directory.
fn extract(deb: &Path) -> tempfile::TempDir {
    let unpacked = tempfile::tempdir().unwrap();
    let out = Command::new("dpkg-deb")
        .arg("--extract")
        .arg(deb)
        .arg(unpacked.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", show(&out));
    unpacked
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
        "./usr/share/doc/trustsync/changelog.Debian.gz",
        "./usr/share/doc/trustsync/copyright",
        "./usr/share/lintian/overrides/trustsync",
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
    // By name, not /usr/bin/trustsync: dpkg sets PATH (lintian:
    // command-with-path-in-maintainer-script).
    let postinst = std::fs::read_to_string(scripts.path().join("postinst")).unwrap();
    assert!(postinst.contains("    trustsync hook install --quiet ||"));
    let prerm = std::fs::read_to_string(scripts.path().join("prerm")).unwrap();
    assert!(prerm.contains("    trustsync hook remove --quiet ||"));
    assert!(prerm.contains("    trustsync undo ||"), "{prerm}");
    for script in [&postinst, &prerm] {
        assert!(!script.contains("/usr/bin/trustsync"), "{script}");
    }
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

/// Every man page the package ships, rendered by `man -l` at 80 columns as a person reads
/// it (asserting not a single troff warning), with the unpacked package they came from.
fn rendered_man_pages(deb: &Path) -> (tempfile::TempDir, Vec<(PathBuf, String)>) {
    let unpacked = extract(deb);
    let man_dir = unpacked.path().join("usr/share/man/man1");
    let mut pages: Vec<PathBuf> = std::fs::read_dir(&man_dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    pages.sort();
    assert!(pages.len() >= 10, "{pages:?}");
    let rendered = pages
        .into_iter()
        .map(|page| {
            let out = Command::new("man")
                .args(["--warnings", "-l"])
                .arg(&page)
                .env("MANWIDTH", "80")
                .output()
                .expect("man (apt-get install man-db)");
            assert!(
                out.status.success() && out.stderr.is_empty(),
                "{page:?}: {}",
                show(&out)
            );
            let text = plain(&out.stdout);
            (page, text)
        })
        .collect();
    (unpacked, rendered)
}

/// The man pages render without a single troff warning, and the bash completion loads
/// and completes subcommands (both as the package installs them).
#[test]
fn man_pages_render_and_bash_completion_completes() {
    let Some(deb) = deb() else { return };
    let (unpacked, pages) = rendered_man_pages(&deb);
    for (page, rendered) in &pages {
        let name = page
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .trim_end_matches(".1.gz");
        assert!(
            rendered.contains("NAME") && rendered.contains(name),
            "{page:?}: {rendered}"
        );
    }
    let top = &pages
        .iter()
        .find(|(page, _)| page.ends_with("trustsync.1.gz"))
        .unwrap()
        .1;
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

/// `dpkg-deb --field PACKAGE FIELD`, trimmed.
fn control_field(deb: &Path, field: &str) -> String {
    let out = Command::new("dpkg-deb")
        .arg("--field")
        .arg(deb)
        .arg(field)
        .output()
        .expect("dpkg-deb");
    assert!(out.status.success(), "{}", show(&out));
    text(&out.stdout).trim().to_string()
}

/// The package depends on no libc (it ships the static musl binary), so it installs on
/// Debian 11, Ubuntu 20.04 and older; and the binary it ships really is static: no ELF
/// interpreter (PT_INTERP), no shared library (DT_NEEDED), whatever `dpkg-deb -I` says.
#[test]
fn package_needs_no_glibc_and_ships_a_static_binary() {
    let Some(deb) = deb() else { return };
    let info = Command::new("dpkg-deb")
        .arg("-I")
        .arg(&deb)
        .output()
        .unwrap();
    assert!(info.status.success(), "{}", show(&info));
    let depends = control_field(&deb, "Depends");
    assert!(
        text(&info.stdout).contains(&format!(" Depends: {depends}\n")),
        "{}",
        show(&info)
    );
    assert_eq!(depends, "ca-certificates", "dpkg-deb -I: {}", show(&info));
    assert_eq!(control_field(&deb, "Pre-Depends"), "");
    assert_eq!(control_field(&deb, "Architecture"), "amd64");

    let unpacked = extract(&deb);
    let binary = unpacked.path().join("usr/bin/trustsync");
    let readelf = |what: &str| {
        let out = Command::new("readelf")
            .args([what, "--wide"])
            .arg(&binary)
            .output()
            .expect("readelf (apt-get install binutils)");
        assert!(out.status.success(), "{}", show(&out));
        text(&out.stdout)
    };
    let program_headers = readelf("--program-headers");
    assert!(program_headers.contains("LOAD"), "{program_headers}");
    assert!(
        !program_headers.contains("INTERP"),
        "the packaged binary has an ELF interpreter (not the static build):\n{program_headers}"
    );
    let dynamic = readelf("--dynamic");
    assert!(
        !dynamic.contains("(NEEDED)"),
        "the packaged binary needs shared libraries:\n{dynamic}"
    );
    // And it runs on its own (as the installed-package test does inside the sandbox).
    let version = Command::new(&binary).arg("--version").output().unwrap();
    assert!(version.status.success(), "{}", show(&version));
    assert!(
        text(&version.stdout).contains(env!("CARGO_PKG_VERSION")),
        "{}",
        show(&version)
    );
}

/// lintian, Debian's own package checker, finds no error and no warning in the package
/// (pedantic and info tags shown too, so that a new one is seen in the output). The only
/// silenced tags are in packaging/debian/lintian-overrides, each with why; an override
/// that no longer matches anything is itself a failure, so the file cannot rot.
#[test]
fn lintian_reports_no_error_and_no_warning() {
    let Some(deb) = deb() else { return };
    let out = match Command::new("lintian")
        .args(["--pedantic", "--info", "--display-experimental"])
        .arg(&deb)
        .output()
    {
        Ok(out) => out,
        Err(e) => {
            skip_unless_ci(&format!(
                "lintian: {e} (apt-get install lintian; scripts/setup.sh)"
            ));
            return;
        }
    };
    let report = text(&out.stdout);
    // lintian exits 2 on a run-time failure (not a tag); 0 or 1 depend on --fail-on.
    assert_ne!(out.status.code(), Some(2), "{}", show(&out));
    let bad: Vec<&str> = report
        .lines()
        .filter(|l| l.starts_with("E:") || l.starts_with("W:"))
        .collect();
    assert!(bad.is_empty(), "lintian: {bad:#?}\n{}", show(&out));
    assert!(
        !report.contains("unused-override") && !report.contains("mismatched-override"),
        "{}",
        show(&out)
    );

    // The changelog lintian read is the one for this version: a version bump without a
    // changelog entry fails here.
    let unpacked = extract(&deb);
    let gunzip = Command::new("gzip")
        .arg("-dc")
        .arg(
            unpacked
                .path()
                .join("usr/share/doc/trustsync/changelog.Debian.gz"),
        )
        .output()
        .unwrap();
    assert!(gunzip.status.success(), "{}", show(&gunzip));
    let changelog_file = unpacked.path().join("changelog");
    std::fs::write(&changelog_file, &gunzip.stdout).unwrap();
    let changelog = Command::new("dpkg-parsechangelog")
        .args(["--show-field", "Version", "-l"])
        .arg(&changelog_file)
        .output()
        .expect("dpkg-parsechangelog (apt-get install dpkg-dev)");
    assert!(changelog.status.success(), "{}", show(&changelog));
    assert_eq!(
        text(&changelog.stdout).trim(),
        control_field(&deb, "Version"),
        "packaging/debian/changelog's top entry is not this package's version"
    );

    // The copyright is machine-readable (DEP-5) and carries the MIT text of LICENSE-MIT.
    let copyright =
        std::fs::read_to_string(unpacked.path().join("usr/share/doc/trustsync/copyright")).unwrap();
    assert!(copyright.starts_with(
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
    ));
    assert!(
        copyright.contains("\nLicense: MIT or Apache-2.0\n"),
        "{copyright}"
    );
    let mit =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("LICENSE-MIT")).unwrap();
    let holder = mit
        .lines()
        .find(|l| l.starts_with("Copyright (c) "))
        .unwrap();
    assert!(
        copyright.contains(&format!(
            "\nCopyright: {}\n",
            holder.trim_start_matches("Copyright (c) ")
        )),
        "{copyright}"
    );
    let body: Vec<&str> = mit
        .lines()
        .skip_while(|l| !l.starts_with("Permission"))
        .collect();
    let dep5: String = body
        .iter()
        .map(|l| {
            if l.is_empty() {
                " .\n".to_string()
            } else {
                format!(" {l}\n")
            }
        })
        .collect();
    assert!(copyright.contains(&dep5), "{copyright}");
}

/// The `\fBX\fR` words of the `.TP` tags in one section of packaging/man/common.roff.
fn tagged_words(roff: &str, section: &str) -> Vec<String> {
    let body = roff
        .split(".SH ")
        .find(|part| part.starts_with(section))
        .unwrap_or_else(|| panic!("no .SH {section} in common.roff"));
    let lines: Vec<&str> = body.lines().collect();
    let mut words = Vec::new();
    for pair in lines.windows(2) {
        if pair[0] == ".TP" {
            for piece in pair[1].split("\\fB").skip(1) {
                let word = piece.split("\\fR").next().unwrap().replace("\\%", "");
                words.push(word);
            }
        }
    }
    assert!(!words.is_empty(), "{section}: {body}");
    words
}

/// Every page the package ships has EXIT STATUS, ENVIRONMENT, FILES and EXAMPLES
/// sections (scripts/build-assets.sh adds them from packaging/man/), trustsync(1) gives
/// the three exit codes, and every file and variable those sections name is one the code
/// uses (a string literal in src/), so the page cannot drift into fiction.
#[test]
fn man_pages_have_exit_status_environment_files_and_examples() {
    let Some(deb) = deb() else { return };
    let (_unpacked, pages) = rendered_man_pages(&deb);
    for (page, rendered) in &pages {
        let headings: Vec<&str> = rendered
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with(' '))
            .collect();
        for section in [
            "EXIT STATUS",
            "ENVIRONMENT",
            "FILES",
            "EXAMPLES",
            "SEE ALSO",
        ] {
            assert!(
                headings.contains(&section),
                "{page:?} has no {section}: {headings:?}"
            );
        }
        assert!(
            rendered.contains("/var/lib/trustsync/journal.json"),
            "{page:?}"
        );
        assert!(rendered.contains("SSL_CERT_FILE"), "{page:?}");
    }
    let top = &pages
        .iter()
        .find(|(page, _)| page.ends_with("trustsync.1.gz"))
        .unwrap()
        .1;
    let exit_status = top
        .split("EXIT STATUS")
        .nth(1)
        .and_then(|rest| rest.split("ENVIRONMENT").next())
        .unwrap();
    // Each code's paragraph, its words joined by single spaces (man justifies lines).
    let paragraphs: Vec<String> = exit_status
        .split("\n\n")
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    for (code, says) in [
        ("0", "All in sync"),
        ("1", "Some runtime drifts or is broken (status)"),
        ("2", "Usage error"),
    ] {
        assert!(
            paragraphs
                .iter()
                .any(|p| p.starts_with(&format!("{code} ")) && p.contains(says)),
            "{code} {says}: {paragraphs:#?}"
        );
    }
    assert!(
        paragraphs
            .iter()
            .any(|p| p.starts_with("2 ") && p.contains("could not connect")),
        "{paragraphs:#?}"
    );

    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let roff = std::fs::read_to_string(repo.join("packaging/man/common.roff")).unwrap();
    let mut source = String::new();
    for entry in walkdir::WalkDir::new(repo.join("src")) {
        let entry = entry.unwrap();
        if entry.path().extension().is_some_and(|e| e == "rs") {
            source.push_str(&std::fs::read_to_string(entry.path()).unwrap());
        }
    }
    for path in tagged_words(&roff, "FILES") {
        let name = path.rsplit('/').next().unwrap();
        assert!(
            source.contains(&format!("\"{path}\"")) || source.contains(&format!("\"{name}\"")),
            "FILES names {path}, which no string in src/ is"
        );
    }
    for variable in tagged_words(&roff, "ENVIRONMENT") {
        assert!(
            source.contains(&format!("\"{variable}\"")),
            "ENVIRONMENT names {variable}, which src/ never reads"
        );
    }
}
