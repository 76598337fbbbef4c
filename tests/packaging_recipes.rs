//! The package recipes other than Debian's, proven on the artifacts CI builds into
//! `${CARGO_TARGET_DIR:-target}/packages` (scripts/build-rpm.sh, build-musl.sh,
//! build-windows-zip.sh, release-manifests.sh), with the real tools:
//! - the RPM (packaging/rpm/trustsync.spec, built by the real rpmbuild): `rpm -qp` shows the
//!   binary, every man page the binary generates, the bash/zsh/fish completions, sane
//!   metadata, and requirements naming no libc (it ships the static musl binary, byte for
//!   byte, so RHEL 7/8 and Amazon Linux 2 install it); rpmlint reports nothing; its scriptlets, run with `sh` exactly as rpm would, install
//!   the hooks on install and upgrade and remove them on erase only, and never fail the
//!   transaction; as root, `rpm -i --root` into a private tree gives a binary that runs;
//! - the static musl binary: no ELF interpreter, no shared library, and it runs, as root even
//!   inside a chroot holding nothing but itself and a CA bundle (a `FROM scratch` image);
//! - the Windows zip holds a PE x86-64 `trustsync.exe` that needs no MinGW DLL;
//! - the Scoop, winget and Homebrew manifests: the checked-in templates parse, and the filled
//!   copies carry this version, the URLs of the built artifacts' names and their SHA-256;
//!   the formula passes `ruby -c`;
//! - the shell scripts pass shellcheck; Dockerfile.static copies what build-musl.sh writes.
//!
//! A missing artifact or tool fails the test under CI=true (scripts/setup-packaging.sh and
//! the build scripts provide them there) and otherwise skips it with a loud SKIPPED banner.
#![cfg(target_os = "linux")]
#![forbid(unsafe_code)]

mod support;

use sha2::Digest;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use support::certs::{json, make_cert, write};
use support::report::{show, skip_unless_ci, text};

const REPO: &str = env!("CARGO_MANIFEST_DIR");
const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The `cargo test` build of trustsync: the man pages the packages must hold are the ones
/// this binary generates.
const EXE: &str = env!("CARGO_BIN_EXE_trustsync");
const MUSL_TRIPLE: &str = "x86_64-unknown-linux-musl";
const WINDOWS_TRIPLE: &str = "x86_64-pc-windows-gnu";
/// Where every release artifact is downloaded from (the templates' URLs).
const RELEASE_URL: &str = "https://github.com/trustsync/trustsync/releases/download";

// ---------------------------------------------------------------------------------------
// Finding artifacts and tools, skipping loudly

/// `${CARGO_TARGET_DIR:-target}/packages`, the convention the build scripts follow (a
/// relative CARGO_TARGET_DIR is relative to the checkout, where the scripts run cargo).
fn packages_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target"));
    Path::new(REPO).join(target).join("packages")
}

/// The artifact at `packages/NAME`, or None after [`missing`].
fn artifact(name: &str, built_by: &str) -> Option<PathBuf> {
    let path = packages_dir().join(name);
    if path.is_file() {
        Some(path)
    } else {
        skip_unless_ci(&format!("{} is missing: run {built_by}", path.display()));
        None
    }
}

/// Whether `tool` is on PATH; if not, [`missing`] says so.
fn tool(tool: &str, package: &str) -> bool {
    let found = std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(tool).is_file()));
    if !found {
        skip_unless_ci(&format!(
            "`{tool}` is not installed (Debian package {package}; scripts/setup-packaging.sh)"
        ));
    }
    found
}

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

// ---------------------------------------------------------------------------------------
// Running things

fn run(program: impl AsRef<std::ffi::OsStr>, args: &[&str]) -> Output {
    let program = program.as_ref();
    Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program:?}: {e}"))
}

/// Runs and asserts success; returns stdout.
fn ok(program: impl AsRef<std::ffi::OsStr>, args: &[&str]) -> String {
    let program = program.as_ref().to_owned();
    let out = run(&program, args);
    assert!(out.status.success(), "{program:?} {args:?}: {}", show(&out));
    text(&out.stdout)
}

fn sha256_hex(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    hex::encode(sha2::Sha256::digest(bytes))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

fn repo_file(relative: &str) -> PathBuf {
    Path::new(REPO).join(relative)
}

/// The names of the man pages trustsync generates (trustsync.1, trustsync-fix.1, ...),
/// from the binary under test: a package must ship every one of them.
fn generated_man_pages() -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    ok(EXE, &["man", dir.path().to_str().unwrap()]);
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.contains(&"trustsync.1".to_string()), "{names:?}");
    names
}

/// An OS tree holding only a CA bundle with two generated CAs, at the path Debian and
/// Alpine use.
fn tree_with_ca_bundle() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let bundle = format!(
        "{}{}",
        make_cert("Recipes Root A", true, 2099).pem,
        make_cert("Recipes Root B", true, 2099).pem
    );
    write(
        root.path(),
        "/etc/ssl/certs/ca-certificates.crt",
        bundle.as_bytes(),
    );
    root
}

// ---------------------------------------------------------------------------------------
// RPM

/// The one trustsync-VERSION-*.rpm build-rpm.sh leaves in packages/.
fn rpm_package() -> Option<PathBuf> {
    if !tool("rpm", "rpm") {
        return None;
    }
    let dir = packages_dir();
    let prefix = format!("trustsync-{VERSION}-");
    let found: Vec<PathBuf> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            let name = path.file_name().unwrap().to_string_lossy();
            name.starts_with(&prefix) && name.ends_with(".rpm")
        })
        .collect();
    match found.as_slice() {
        [one] => Some(one.clone()),
        [] => {
            skip_unless_ci(&format!(
                "no {prefix}*.rpm in {}: run scripts/build-rpm.sh",
                dir.display()
            ));
            None
        }
        many => panic!("more than one trustsync {VERSION} rpm: {many:?}"),
    }
}

fn rpm_query(rpm: &Path, args: &[&str]) -> String {
    let mut all = vec!["-qp"];
    all.extend_from_slice(args);
    all.push(rpm.to_str().unwrap());
    ok("rpm", &all)
}

#[test]
fn rpm_holds_the_binary_every_generated_man_page_and_the_completions() {
    let Some(rpm) = rpm_package() else { return };
    let listed = rpm_query(&rpm, &["--list"]);
    let mut files: Vec<&str> = listed.lines().collect();
    files.sort();

    let mut expected = vec![
        "/usr/bin/trustsync".to_string(),
        "/usr/share/bash-completion/completions/trustsync".to_string(),
        "/usr/share/zsh/site-functions/_trustsync".to_string(),
        "/usr/share/fish/vendor_completions.d/trustsync.fish".to_string(),
        "/usr/share/licenses/trustsync".to_string(),
        "/usr/share/licenses/trustsync/LICENSE-APACHE".to_string(),
        "/usr/share/licenses/trustsync/LICENSE-MIT".to_string(),
    ];
    expected.extend(
        generated_man_pages()
            .iter()
            .map(|page| format!("/usr/share/man/man1/{page}.gz")),
    );
    expected.sort();
    // Exactly these: no build-id links, no stray directories of other packages.
    assert_eq!(files, expected, "rpm -qpl {rpm:?}");

    // Mode and owner of what gets installed (--dump: path size mtime digest mode owner ...).
    let dump = rpm_query(&rpm, &["--dump"]);
    for line in dump.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        let (path, mode, owner, group) = (fields[0], fields[4], fields[5], fields[6]);
        let want = if path == "/usr/bin/trustsync" {
            "0100755"
        } else if path == "/usr/share/licenses/trustsync" {
            "040755"
        } else {
            "0100644"
        };
        assert_eq!((mode, owner, group), (want, "root", "root"), "{line}");
    }
}

#[test]
fn rpm_metadata_and_requirements_are_sane() {
    let Some(rpm) = rpm_package() else { return };
    let info = rpm_query(
        &rpm,
        &[
            "--queryformat",
            "%{NAME}|%{VERSION}|%{RELEASE}|%{ARCH}|%{LICENSE}|%{URL}|%{SUMMARY}",
        ],
    );
    let fields: Vec<&str> = info.split('|').collect();
    assert_eq!(
        fields[..5],
        ["trustsync", VERSION, "1", "x86_64", "MIT OR Apache-2.0"]
    );
    assert_eq!(fields[5], "https://github.com/trustsync/trustsync");
    assert!(fields[6].contains("trust store"), "summary: {}", fields[6]);

    let requires = rpm_query(&rpm, &["--requires"]);
    let requires: Vec<&str> = requires.lines().map(str::trim).collect();
    assert!(requires.contains(&"ca-certificates"), "{requires:?}");
    assert!(requires.contains(&"/bin/sh"), "{requires:?}");
    // The binary is the static musl build: rpm's ELF dependency generator finds no
    // library, so nothing ties the package to a glibc (RHEL 7/8, Amazon Linux 2 install
    // it). A GLIBC_2.x at most 2.17 would still be fine; there is none at all.
    for requirement in &requires {
        assert!(
            !requirement.contains("libc.so") && !requirement.contains("ld-linux"),
            "the rpm requires a libc: {requirement:?} in {requires:?}"
        );
        if let Some(at) = requirement.find("GLIBC_2.") {
            let minor: u32 = requirement[at + "GLIBC_2.".len()..]
                .split(|c: char| !c.is_ascii_digit())
                .next()
                .and_then(|digits| digits.parse().ok())
                .unwrap_or(u32::MAX);
            assert!(minor <= 17, "{requirement:?} in {requires:?}");
        }
    }
    // TLS is rustls: the package must not pull in OpenSSL (nor anything else unexpected).
    // rtld(GNU_HASH): the static-pie's own symbol table format, which every glibc-era
    // rpm system provides.
    for requirement in &requires {
        let known = ["rtld(GNU_HASH)", "rpmlib("]
            .iter()
            .any(|prefix| requirement.starts_with(prefix))
            || ["ca-certificates", "/bin/sh"].contains(requirement);
        assert!(
            known,
            "unexpected requirement {requirement:?} in {requires:?}"
        );
    }

    // The binary it ships is byte for byte the static build that musl_binary_is_static
    // checks (no ELF interpreter, no shared library).
    let Some(musl) = musl_binary() else { return };
    let dump = rpm_query(&rpm, &["--dump"]);
    let binary = dump
        .lines()
        .find(|line| line.starts_with("/usr/bin/trustsync "))
        .unwrap_or_else(|| panic!("no /usr/bin/trustsync in {dump}"));
    let digest = binary.split(' ').nth(3).unwrap();
    assert_eq!(digest, sha256_hex(&musl), "{binary}");
}

/// rpmlint finds no error and no warning in the package, with the settings of
/// packaging/rpm/rpmlint.toml (the distributions' gzip man pages and SPDX licences, and
/// the few filters, each with why); and each filter still silences something, so the list
/// cannot outlive its reasons.
#[test]
fn rpmlint_reports_no_error_and_no_warning() {
    let Some(rpm) = rpm_package() else { return };
    if !tool("rpmlint", "rpmlint") {
        return;
    }
    let config = repo_file("packaging/rpm/rpmlint.toml");
    let out = run(
        "rpmlint",
        &["--config", config.to_str().unwrap(), rpm.to_str().unwrap()],
    );
    let report = text(&out.stdout);
    assert!(
        report.contains(" 1 packages and 0 specfiles checked; 0 errors, 0 warnings"),
        "{}",
        show(&out)
    );
    assert!(out.status.success(), "{}", show(&out));
    let flagged: Vec<&str> = report
        .lines()
        .filter(|l| l.contains(": E: ") || l.contains(": W: "))
        .collect();
    assert!(flagged.is_empty(), "{flagged:#?}");

    // The same settings without the filters: every filter matches a line there (they are
    // plain text, no regex metacharacters).
    let settings = read(&config);
    let (unfiltered, filters) = settings
        .split_once("Filters = [")
        .expect("rpmlint.toml has Filters");
    let dir = tempfile::tempdir().unwrap();
    let bare = dir.path().join("rpmlint.toml");
    std::fs::write(&bare, unfiltered).unwrap();
    let out = run(
        "rpmlint",
        &["--config", bare.to_str().unwrap(), rpm.to_str().unwrap()],
    );
    let unfiltered_report = text(&out.stdout);
    let filters: Vec<&str> = filters
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with('\''))
        .map(|l| l.trim_end_matches(',').trim_matches('\''))
        .collect();
    assert!(filters.len() >= 3, "{filters:?}");
    for filter in filters {
        assert!(
            unfiltered_report.contains(filter),
            "rpmlint filter {filter:?} silences nothing any more: {unfiltered_report}"
        );
    }
}

/// The body of one scriptlet of `rpm -qp --scripts` ("postinstall scriptlet (using
/// /bin/sh):" up to the next header).
fn scriptlet(scripts: &str, name: &str) -> String {
    let header = format!("{name} scriptlet (using /bin/sh):\n");
    let start = scripts
        .find(&header)
        .unwrap_or_else(|| panic!("no {name} scriptlet in:\n{scripts}"))
        + header.len();
    let rest = &scripts[start..];
    let end = rest.find(" scriptlet (using ").map_or(rest.len(), |at| {
        rest[..at].rfind('\n').map_or(0, |newline| newline + 1)
    });
    rest[..end].to_string()
}

/// Runs a scriptlet the way rpm does (`/bin/sh -c BODY` with the package count as $1),
/// with `/usr/bin/trustsync` replaced by a stand-in that records its arguments and exits
/// with `exit_code`. Returns the scriptlet's status and the recorded calls.
fn run_scriptlet(body: &str, count: &str, exit_code: i32) -> (i32, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("calls");
    let stand_in = dir.path().join("trustsync");
    std::fs::write(
        &stand_in,
        format!(
            "#!/bin/sh\necho \"$*\" >>'{}'\nexit {exit_code}\n",
            log.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(
        &stand_in,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    assert!(
        body.contains("/usr/bin/trustsync "),
        "the scriptlet must call the packaged binary by its path:\n{body}"
    );
    let body = body.replace("/usr/bin/trustsync ", &format!("{} ", stand_in.display()));
    let out = Command::new("/bin/sh")
        .args(["-c", &body, "scriptlet", count])
        .output()
        .unwrap();
    let calls = std::fs::read_to_string(&log).unwrap_or_default();
    (
        out.status.code().expect("exited"),
        calls.lines().map(str::to_string).collect(),
    )
}

#[test]
fn rpm_scriptlets_install_hooks_and_remove_them_on_erase_only_never_failing() {
    let Some(rpm) = rpm_package() else { return };
    let scripts = rpm_query(&rpm, &["--scripts"]);
    let post = scriptlet(&scripts, "postinstall");
    let preun = scriptlet(&scripts, "preuninstall");
    assert!(
        post.contains("/usr/bin/trustsync hook install --quiet || :"),
        "{post}"
    );
    assert!(
        preun.contains("/usr/bin/trustsync hook remove --quiet || :")
            && preun.contains("/usr/bin/trustsync undo ||"),
        "{preun}"
    );
    assert!(
        !scripts.contains("postuninstall scriptlet"),
        "nothing to do after erase:\n{scripts}"
    );

    // %post: first install ($1 = 1) and upgrade ($1 = 2) install the hooks; a failing
    // trustsync does not fail the transaction.
    for count in ["1", "2"] {
        for exit_code in [0, 1] {
            let (status, calls) = run_scriptlet(&post, count, exit_code);
            assert_eq!(
                status, 0,
                "%post with $1={count}, trustsync exit {exit_code}"
            );
            assert_eq!(calls, ["hook install --quiet"], "%post with $1={count}");
        }
    }
    // %preun: erase ($1 = 0) undoes every change and removes the hooks, an upgrade
    // ($1 = 1, the new version stays) does neither; never a failure.
    for exit_code in [0, 1] {
        let (status, calls) = run_scriptlet(&preun, "0", exit_code);
        assert_eq!(
            (status, calls.as_slice()),
            (
                0,
                &["undo".to_string(), "hook remove --quiet".to_string()][..]
            )
        );
        let (status, calls) = run_scriptlet(&preun, "1", exit_code);
        assert_eq!(
            (status, calls),
            (0, Vec::<String>::new()),
            "%preun on upgrade"
        );
    }
}

#[test]
fn rpm_installs_into_a_private_root_and_the_binary_runs() {
    let Some(rpm) = rpm_package() else { return };
    if !is_root() {
        skip_unless_ci("`rpm -i --root` chroots, which needs root");
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let root_arg = root.path().to_str().unwrap();
    // --dbpath inside the root: Debian's rpm defaults to ~/.rpmdb. --noscripts: the
    // scriptlets are proven above; the private root holds no /bin/sh to run them.
    let common = ["--root", root_arg, "--dbpath", "/var/lib/rpm"];
    let mut install = vec!["-i", "--nodeps", "--noscripts"];
    install.extend_from_slice(&common);
    install.push(rpm.to_str().unwrap());
    ok("rpm", &install);

    let mut query = vec!["-q"];
    query.extend_from_slice(&common);
    query.push("trustsync");
    assert_eq!(
        ok("rpm", &query).trim(),
        format!("trustsync-{VERSION}-1.x86_64")
    );

    let installed = root.path().join("usr/bin/trustsync");
    assert_eq!(
        ok(&installed, &["--version"]).trim(),
        format!("trustsync {VERSION}")
    );
    let completion = read(
        &root
            .path()
            .join("usr/share/bash-completion/completions/trustsync"),
    );
    assert!(completion.contains("complete -F"), "{completion}");
    assert!(root
        .path()
        .join("usr/share/man/man1/trustsync.1.gz")
        .is_file());

    let mut erase = vec!["-e", "--noscripts"];
    erase.extend_from_slice(&common);
    erase.push("trustsync");
    ok("rpm", &erase);
    assert!(!installed.exists(), "rpm -e left {installed:?}");
}

/// The real scriptlets, run by the real rpm in a sandbox (tests/support/sandbox.rs): `rpm -i`
/// runs %post, which installs the update-ca-certificates hook with the packaged binary; a
/// CA added afterwards reaches a private hashed directory through that hook; `rpm -e` runs
/// %preun, which undoes what the hook did and takes the hook out.
#[cfg(target_os = "linux")]
#[test]
fn rpm_scriptlets_run_for_real_install_the_hook_and_erase_undoes_everything() {
    let Some(rpm) = rpm_package() else { return };
    let Some(sb) = support::sandbox::Sandbox::new() else {
        return;
    };
    let hook = "/etc/ca-certificates/update.d/trustsync";
    let db = ["--dbpath", "/var/lib/rpm"];
    let rpm_in = |args: &[&str]| {
        let mut argv = vec!["rpm"];
        argv.extend_from_slice(args);
        argv.extend_from_slice(&db);
        let out = sb.run(&argv, &[]);
        assert!(out.status.success(), "rpm {args:?}: {}", show(&out));
        out
    };
    rpm_in(&["--initdb"]);
    // --nodeps: Debian's rpm database knows none of the glibc packages it requires.
    let install = rpm_in(&["-i", "--nodeps", rpm.to_str().unwrap()]);
    let script = sb
        .read_inside(hook)
        .unwrap_or_else(|| panic!("%post installed no hook: {}", show(&install)));
    assert!(
        text(&script).contains("/usr/bin/trustsync hook run store"),
        "{}",
        text(&script)
    );
    // A CA added the Debian way: the hook runs the default fix, which journals each change.
    let ca = make_cert("RPM Hook Test Root", true, 2099);
    let added = support::sandbox::add_os_ca(&sb, "rpm-hook-test", &ca.pem);
    assert!(
        text(&added.stderr).contains("trustsync hook run store: "),
        "the hook ran: {}",
        show(&added)
    );
    let entries = |sb: &support::sandbox::Sandbox| -> usize {
        sb.read_inside("/var/lib/trustsync/journal.json")
            .map(|bytes| {
                let doc: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
                doc["entries"].as_array().map_or(0, Vec::len)
            })
            .unwrap_or(0)
    };
    assert!(entries(&sb) > 0, "the hook and its fix are journaled");
    let erase = rpm_in(&["-e", "trustsync"]);
    assert!(
        sb.read_inside(hook).is_none(),
        "%preun left the hook: {}",
        show(&erase)
    );
    assert!(sb.read_inside("/usr/bin/trustsync").is_none());
    assert_eq!(
        entries(&sb),
        0,
        "%preun undid every journaled change: {}",
        show(&erase)
    );
}

// ---------------------------------------------------------------------------------------
// The static musl binary

fn musl_binary() -> Option<PathBuf> {
    artifact(&format!("trustsync-{MUSL_TRIPLE}"), "scripts/build-musl.sh")
}

#[test]
fn musl_binary_is_static() {
    let Some(binary) = musl_binary() else { return };
    if !tool("readelf", "binutils") {
        return;
    }
    let path = binary.to_str().unwrap();
    let header = ok("readelf", &["--file-header", "--wide", path]);
    assert!(header.contains("ELF64"), "{header}");
    assert!(header.contains("X86-64"), "{header}");
    // A dynamically linked program names its loader in a PT_INTERP header; a static one
    // (static-pie included) has none, and needs no shared library.
    let program_headers = ok("readelf", &["--program-headers", "--wide", path]);
    assert!(program_headers.contains("LOAD"), "{program_headers}");
    assert!(
        !program_headers.contains("INTERP"),
        "the musl build has an ELF interpreter:\n{program_headers}"
    );
    let dynamic = ok("readelf", &["--dynamic", "--wide", path]);
    assert!(
        !dynamic.contains("(NEEDED)"),
        "the musl build needs shared libraries:\n{dynamic}"
    );
}

#[test]
fn musl_binary_runs_and_reports_a_store_as_json() {
    let Some(binary) = musl_binary() else { return };
    let version = Command::new(&binary)
        .arg("--version")
        .env_clear()
        .output()
        .unwrap();
    assert!(version.status.success(), "{}", show(&version));
    assert_eq!(text(&version.stdout).trim(), format!("trustsync {VERSION}"));

    let tree = tree_with_ca_bundle();
    let out = Command::new(&binary)
        .args(["status", "--json", "--only", "--root"])
        .arg(tree.path())
        .env_clear()
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let doc = json(&out);
    assert_eq!(doc["system"]["certificates"], 2, "{doc:#}");
}

#[test]
fn musl_binary_runs_alone_in_a_chroot_like_a_scratch_image() {
    let Some(binary) = musl_binary() else { return };
    if !is_root() {
        skip_unless_ci("chroot needs root");
        return;
    }
    // The image: the binary and a CA bundle, nothing else (no libc, no loader, no shell).
    let tree = tree_with_ca_bundle();
    let inside = tree.path().join("trustsync");
    std::fs::copy(&binary, &inside).unwrap();
    let chroot = |args: &[&str]| {
        let out = // Absolute: env_clear() leaves no PATH to search.
        Command::new("/usr/sbin/chroot")
            .arg(tree.path())
            .arg("/trustsync")
            .args(args)
            .env_clear()
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "chroot /trustsync {args:?}: {}",
            show(&out)
        );
        out.stdout
    };
    assert_eq!(
        text(&chroot(&["--version"])).trim(),
        format!("trustsync {VERSION}")
    );
    let doc: serde_json::Value =
        serde_json::from_slice(&chroot(&["status", "--json", "--only"])).unwrap();
    assert_eq!(doc["system"]["certificates"], 2, "{doc:#}");
}

#[test]
fn static_dockerfile_copies_what_build_musl_writes() {
    let dockerfile = read(&repo_file("packaging/docker/Dockerfile.static"));
    let copies: Vec<&str> = dockerfile
        .lines()
        .filter(|line| line.starts_with("COPY --from=trustsync "))
        .collect();
    assert_eq!(
        copies,
        [format!(
            "COPY --from=trustsync trustsync-{MUSL_TRIPLE} /usr/local/bin/trustsync"
        )],
        "Dockerfile.static must copy the file scripts/build-musl.sh writes"
    );
    let script = read(&repo_file("scripts/build-musl.sh"));
    assert!(script.contains("triple=x86_64-unknown-linux-musl"));
    assert!(script.contains("out=\"$packages_dir/trustsync-$triple\""));
}

// ---------------------------------------------------------------------------------------
// The Windows zip, Scoop and winget

fn windows_zip() -> Option<PathBuf> {
    artifact(
        &format!("trustsync-{VERSION}-{WINDOWS_TRIPLE}.zip"),
        "scripts/build-windows-zip.sh",
    )
}

fn windows_zip_url() -> String {
    format!("{RELEASE_URL}/v{VERSION}/trustsync-{VERSION}-{WINDOWS_TRIPLE}.zip")
}

/// A filled manifest in packages/manifests/, written by release-manifests.sh.
fn filled_manifest(relative: &str) -> Option<PathBuf> {
    artifact(
        &format!("manifests/{relative}"),
        "scripts/build-windows-zip.sh, then scripts/release-manifests.sh",
    )
}

/// The zip's member names and, extracted into `into`, its files (python3's zipfile: the
/// same module that wrote it, and what is installed everywhere the tests run).
fn unzip(zip: &Path, into: &Path) -> Vec<String> {
    let listing = ok(
        "python3",
        &[
            "-c",
            "import sys, zipfile\n\
             archive = zipfile.ZipFile(sys.argv[1])\n\
             archive.extractall(sys.argv[2])\n\
             print('\\n'.join(archive.namelist()))",
            zip.to_str().unwrap(),
            into.to_str().unwrap(),
        ],
    );
    listing.lines().map(str::to_string).collect()
}

#[test]
fn windows_zip_holds_a_64_bit_trustsync_exe_needing_no_mingw_dll() {
    let Some(zip) = windows_zip() else { return };
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(unzip(&zip, dir.path()), ["trustsync.exe"]);
    let exe = dir.path().join("trustsync.exe");
    if !tool("objdump", "binutils") {
        return;
    }
    let exe_arg = exe.to_str().unwrap();
    let format = ok("objdump", &["-f", exe_arg]);
    assert!(format.contains("file format pei-x86-64"), "{format}");
    // The zip ships the .exe alone: it must import only DLLs every Windows has, none of
    // MinGW's runtime (libgcc_s_seh-1.dll, libwinpthread-1.dll, libstdc++-6.dll).
    let private = ok("objdump", &["-p", exe_arg]);
    let imports: Vec<&str> = private
        .lines()
        .filter_map(|line| line.trim().strip_prefix("DLL Name: "))
        .collect();
    assert!(
        imports
            .iter()
            .any(|dll| dll.eq_ignore_ascii_case("kernel32.dll")),
        "{imports:?}"
    );
    let mingw: Vec<&&str> = imports
        .iter()
        .filter(|dll| dll.to_ascii_lowercase().starts_with("lib"))
        .collect();
    assert!(mingw.is_empty(), "MinGW runtime DLLs imported: {mingw:?}");
}

fn json_file(path: &Path) -> serde_json::Value {
    serde_json::from_str(&read(path)).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

#[test]
fn scoop_manifest_is_filled_from_the_built_zip() {
    let template = json_file(&repo_file("packaging/scoop/trustsync.json"));
    assert_eq!(template["version"], "@VERSION@");
    assert_eq!(template["architecture"]["64bit"]["hash"], "@SHA256@");

    let Some(zip) = windows_zip() else { return };
    let Some(filled) = filled_manifest("scoop/trustsync.json") else {
        return;
    };
    let manifest = json_file(&filled);
    assert_eq!(manifest["version"], VERSION);
    let x64 = &manifest["architecture"]["64bit"];
    assert_eq!(x64["url"], windows_zip_url().as_str());
    assert_eq!(
        x64["hash"],
        sha256_hex(&zip).as_str(),
        "the zip changed after release-manifests.sh"
    );
    assert_eq!(manifest["license"], "MIT|Apache-2.0");
    // Scoop puts `bin` on PATH from the unpacked zip: it must be in there.
    let dir = tempfile::tempdir().unwrap();
    let members = unzip(&zip, dir.path());
    assert!(
        members.iter().any(|m| manifest["bin"] == m.as_str()),
        "bin {} not in {members:?}",
        manifest["bin"]
    );
    // `scoop update` recomputes the URL from the autoupdate pattern: it must give this one.
    let pattern = manifest["autoupdate"]["architecture"]["64bit"]["url"]
        .as_str()
        .unwrap();
    assert_eq!(pattern.replace("$version", VERSION), windows_zip_url());
    // Everything but the comment is the template's, placeholders filled.
    let mut expected = template.clone();
    expected["version"] = VERSION.into();
    expected["architecture"]["64bit"]["hash"] = sha256_hex(&zip).into();
    expected["architecture"]["64bit"]["url"] = windows_zip_url().into();
    let (mut got, mut want) = (manifest.clone(), expected);
    got.as_object_mut().unwrap().remove("##");
    want.as_object_mut().unwrap().remove("##");
    assert_eq!(got, want, "scoop manifest differs from its template");
}

/// A YAML file as JSON, parsed by PyYAML (as winget's own validator would read YAML 1.2
/// scalars like 1.6.0 as strings, so does PyYAML).
fn yaml_file(path: &Path) -> Option<serde_json::Value> {
    let out = run(
        "python3",
        &[
            "-c",
            "import json, sys\n\
             try:\n    import yaml\n\
             except ImportError:\n    sys.exit(3)\n\
             print(json.dumps(yaml.safe_load(open(sys.argv[1], encoding='utf-8'))))",
            path.to_str().unwrap(),
        ],
    );
    if out.status.code() == Some(3) {
        skip_unless_ci("PyYAML is not installed (python3-yaml)");
        return None;
    }
    assert!(out.status.success(), "{path:?}: {}", show(&out));
    Some(serde_json::from_slice(&out.stdout).unwrap())
}

const WINGET_FILES: [&str; 3] = [
    "Trustsync.Trustsync.yaml",
    "Trustsync.Trustsync.installer.yaml",
    "Trustsync.Trustsync.locale.en-US.yaml",
];

#[test]
fn winget_templates_parse_and_have_the_required_keys() {
    for name in WINGET_FILES {
        let Some(doc) = yaml_file(&repo_file(&format!("packaging/winget/{name}"))) else {
            return;
        };
        assert_eq!(doc["PackageVersion"], "@VERSION@", "{name}");
        assert_eq!(doc["PackageIdentifier"], "Trustsync.Trustsync", "{name}");
    }
    let listed: Vec<String> = std::fs::read_dir(repo_file("packaging/winget"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(listed.len(), WINGET_FILES.len(), "{listed:?}");
}

#[test]
fn winget_manifests_are_filled_from_the_built_zip() {
    let Some(zip) = windows_zip() else { return };
    let mut docs = Vec::new();
    for name in WINGET_FILES {
        let Some(path) = filled_manifest(&format!("winget/{name}")) else {
            return;
        };
        let Some(doc) = yaml_file(&path) else { return };
        // Required of every winget manifest, identical across the three files.
        assert_eq!(doc["PackageIdentifier"], "Trustsync.Trustsync", "{name}");
        assert_eq!(doc["PackageVersion"], VERSION, "{name}");
        assert_eq!(doc["ManifestVersion"], "1.6.0", "{name}");
        // winget-pkgs names the files after the identifier and the manifest type.
        let identifier = doc["PackageIdentifier"].as_str().unwrap();
        let expected_name = match doc["ManifestType"].as_str() {
            Some("version") => format!("{identifier}.yaml"),
            Some("installer") => format!("{identifier}.installer.yaml"),
            Some("defaultLocale") => format!(
                "{identifier}.locale.{}.yaml",
                doc["PackageLocale"].as_str().unwrap()
            ),
            other => panic!("{name}: ManifestType {other:?}"),
        };
        assert_eq!(name, expected_name);
        docs.push(doc);
    }
    let [version, installer, locale] = &docs[..] else {
        unreachable!()
    };
    assert_eq!(version["DefaultLocale"], locale["PackageLocale"]);
    for key in ["Publisher", "PackageName", "License", "ShortDescription"] {
        assert!(locale[key].is_string(), "defaultLocale lacks {key}");
    }

    assert_eq!(installer["InstallerType"], "zip");
    assert_eq!(installer["NestedInstallerType"], "portable");
    let installers = installer["Installers"].as_array().unwrap();
    assert_eq!(installers.len(), 1, "{installer:#}");
    assert_eq!(installers[0]["Architecture"], "x64");
    assert_eq!(installers[0]["InstallerUrl"], windows_zip_url().as_str());
    let digest = installers[0]["InstallerSha256"].as_str().unwrap();
    assert_eq!(
        digest.to_ascii_lowercase(),
        sha256_hex(&zip),
        "the zip changed after release-manifests.sh"
    );
    // The nested portable winget links as `trustsync` must be in the zip.
    let dir = tempfile::tempdir().unwrap();
    let members = unzip(&zip, dir.path());
    let nested = &installer["NestedInstallerFiles"][0];
    assert!(
        members
            .iter()
            .any(|m| nested["RelativeFilePath"] == m.as_str()),
        "{nested} not in {members:?}"
    );
    assert_eq!(nested["PortableCommandAlias"], "trustsync");
}

// ---------------------------------------------------------------------------------------
// Homebrew

fn formula_url() -> String {
    format!("{RELEASE_URL}/v{VERSION}/trustsync-{VERSION}.tar.gz")
}

/// The lines of a Ruby or YAML file that are not comments.
fn code_lines(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .collect()
}

#[test]
fn brew_formula_is_the_template_with_the_source_tarballs_url_and_sha256() {
    let template = read(&repo_file("packaging/homebrew/trustsync.rb"));
    let Some(tarball) = artifact(
        &format!("trustsync-{VERSION}.tar.gz"),
        "scripts/release-manifests.sh",
    ) else {
        return;
    };
    let Some(formula_path) = filled_manifest("homebrew/trustsync.rb") else {
        return;
    };
    let formula = read(&formula_path);
    let digest = sha256_hex(&tarball);
    let lines: Vec<&str> = formula.lines().map(str::trim).collect();
    assert!(
        lines.contains(&format!("url \"{}\"", formula_url()).as_str()),
        "{formula}"
    );
    assert!(
        lines.contains(&format!("sha256 \"{digest}\"").as_str()),
        "the formula's sha256 is not the tarball's ({digest}):\n{formula}"
    );
    // Nothing else differs from the checked-in template (a stale generated copy would).
    let filled = template
        .replace("@VERSION@", VERSION)
        .replace("@SHA256@", &digest);
    assert_eq!(code_lines(&formula), code_lines(&filled));

    // The tarball is what `cargo install --locked` builds: trustsync's sources at this
    // version under trustsync-VERSION/, from a commit of this repository.
    let listing = ok("tar", &["-tzf", tarball.to_str().unwrap()]);
    let prefix = format!("trustsync-{VERSION}/");
    for needed in [
        "Cargo.toml",
        "Cargo.lock",
        "src/main.rs",
        "platform/Cargo.toml",
    ] {
        assert!(
            listing.lines().any(|l| l == format!("{prefix}{needed}")),
            "{needed} missing from the source tarball"
        );
    }
    let manifest = ok(
        "tar",
        &[
            "-xzOf",
            tarball.to_str().unwrap(),
            &format!("{prefix}Cargo.toml"),
        ],
    );
    assert!(
        manifest.contains(&format!("version = \"{VERSION}\"")),
        "{manifest}"
    );
    if !tool("git", "git") {
        return;
    }
    // `git archive` records its commit in the tar header: it must be one of ours.
    let out = Command::new("sh")
        .args(["-c", "gzip -dc \"$1\" | git get-tar-commit-id", "sh"])
        .arg(&tarball)
        .current_dir(REPO)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", show(&out));
    let commit = text(&out.stdout).trim().to_string();
    let known = Command::new("git")
        .args(["cat-file", "-e", &format!("{commit}^{{commit}}")])
        .current_dir(REPO)
        .status()
        .unwrap();
    assert!(
        known.success(),
        "tarball commit {commit} is not in this repository"
    );
}

#[test]
fn brew_formula_template_and_generated_formula_pass_ruby_syntax_check() {
    if !tool("ruby", "ruby") {
        return;
    }
    let mut formulas = vec![repo_file("packaging/homebrew/trustsync.rb")];
    let generated = packages_dir().join("manifests/homebrew/trustsync.rb");
    if generated.is_file() {
        formulas.push(generated);
    }
    for formula in formulas {
        let out = run("ruby", &["-c", formula.to_str().unwrap()]);
        assert!(out.status.success(), "ruby -c {formula:?}: {}", show(&out));
        assert!(text(&out.stdout).contains("Syntax OK"), "{}", show(&out));
    }
}

// ---------------------------------------------------------------------------------------
// The scripts

#[test]
fn packaging_scripts_pass_shellcheck() {
    if !tool("shellcheck", "shellcheck") {
        return;
    }
    let scripts = [
        "scripts/packaging-lib.sh",
        "scripts/setup-packaging.sh",
        "scripts/build-rpm.sh",
        "scripts/build-musl.sh",
        "scripts/build-windows-zip.sh",
        "scripts/release-manifests.sh",
    ];
    let out = Command::new("shellcheck")
        .arg("--external-sources")
        .args(scripts)
        .current_dir(REPO)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", show(&out));
}

/// Cargo.toml's "MIT OR Apache-2.0" has both texts beside it, as distributions require.
#[test]
fn both_license_texts_ship_with_the_source() {
    let cargo = read(&repo_file("Cargo.toml"));
    assert!(cargo.contains("license = \"MIT OR Apache-2.0\""), "{cargo}");
    let mit = read(&repo_file("LICENSE-MIT"));
    assert!(mit.starts_with("MIT License") && mit.contains("Permission is hereby granted"));
    let apache = read(&repo_file("LICENSE-APACHE"));
    assert!(apache.contains("Apache License") && apache.contains("Version 2.0, January 2004"));
    assert!(apache.contains("END OF TERMS AND CONDITIONS"));
}

// ---------------------------------------------------------------------------------------
// README's install section

/// README's "## Install" section shows one command per package, each naming the artifact
/// the build script really makes (with VERSION for this version), and is followed by the
/// two commands of the checkout, unchanged.
#[test]
fn readme_install_section_names_the_artifacts_the_scripts_build() {
    let readme = read(&repo_file("README.md"));
    let start = readme
        .find("\n## Install\n")
        .expect("README has ## Install");
    let then = readme[start..]
        .find("\nThen, from this checkout:\n")
        .expect("the install section ends with the checkout's commands")
        + start;
    let install = &readme[start..then];
    let after = &readme[then..];
    assert!(
        after.contains("\ncargo run --release -- status\n")
            && after.contains("\n./scripts/test.sh\n"),
        "the two commands follow the install section: {after}"
    );
    let debs = Path::new(REPO).join("target/packages");
    let packages = packages_dir();
    // (the line a user types, where the artifact it names is built, its name there)
    let commands = [
        (
            "sudo apt install ./trustsync_VERSION-1_amd64.deb",
            &debs,
            "trustsync_VERSION-1_amd64.deb",
        ),
        (
            "sudo dnf install ./trustsync-VERSION-1.x86_64.rpm",
            &packages,
            "trustsync-VERSION-1.x86_64.rpm",
        ),
        (
            "sudo install -m 0755 trustsync-x86_64-unknown-linux-musl /usr/local/bin/trustsync",
            &packages,
            "trustsync-x86_64-unknown-linux-musl",
        ),
        (
            "cp manifests/homebrew/trustsync.rb ",
            &packages,
            "manifests/homebrew/trustsync.rb",
        ),
        (
            "scoop install ./manifests/scoop/trustsync.json",
            &packages,
            "manifests/scoop/trustsync.json",
        ),
        (
            "winget install --manifest ./manifests/winget",
            &packages,
            "manifests/winget",
        ),
    ];
    for (line, dir, name) in commands {
        assert!(
            install.contains(line),
            "README's install section lacks {line:?}"
        );
        let built = dir.join(name.replace("VERSION", VERSION));
        if !built.exists() {
            skip_unless_ci(&format!(
                "{} is missing: run the build scripts",
                built.display()
            ));
        }
    }
    assert!(
        install.contains("\ncargo install --locked --path .\n"),
        "{install}"
    );
}
