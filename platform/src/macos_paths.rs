//! Where TLS runtimes live on macOS, and the "Install Certificates.command" trap.
//!
//! Pure path logic, compiled and tested on every OS: `root` re-roots every absolute path
//! (as `--root DIR` does for Linux), so tests build a fake `/Library/Frameworks` tree in a
//! temp dir. The places are those the installers document: python.org's framework builds
//! under `/Library/Frameworks/Python.framework/Versions/X.Y`, Homebrew under `/opt/homebrew`
//! (Apple silicon) or `/usr/local` (Intel), pyenv under `$PYENV_ROOT` or `~/.pyenv`.
//!
//! python.org's Python links its own OpenSSL, whose OPENSSLDIR is the framework's
//! `etc/openssl`, empty after install. Its "Install Certificates.command" script fixes that
//! by making `etc/openssl/cert.pem` a symlink to certifi's `cacert.pem`, which is Mozilla's
//! list: the keychain's company and proxy roots vanish from that Python's view.
//! [`install_certificates_finding`] recognises that link; trustsync must point such a
//! Python at the system's store instead of repeating the script.
#![forbid(unsafe_code)]

use crate::linux::under;
use std::collections::HashSet;
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

/// python.org framework builds, one directory per `X.Y` (plus a `Current` symlink).
pub const FRAMEWORK_VERSIONS: &str = "/Library/Frameworks/Python.framework/Versions";
/// Homebrew's prefixes: Apple silicon first, then Intel.
pub const HOMEBREW_PREFIXES: &[&str] = &["/opt/homebrew", "/usr/local"];
/// CA bundles Homebrew's OpenSSL builds read, relative to a Homebrew prefix. The
/// `ca-certificates` formula writes the bundle; each OpenSSL's `cert.pem` links to it.
pub const HOMEBREW_BUNDLES: &[&str] = &[
    "etc/openssl@3/cert.pem",
    "etc/openssl@1.1/cert.pem",
    "etc/ca-certificates/cert.pem",
];

/// What kind of runtime a candidate path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RuntimeKind {
    /// A python.org framework interpreter.
    FrameworkPython,
    /// A Homebrew interpreter in `<prefix>/bin`.
    HomebrewPython,
    /// A pyenv-built interpreter.
    PyenvPython,
    /// A Homebrew OpenSSL's CA bundle (read by Homebrew's curl, git, Python, …).
    HomebrewOpenSslBundle,
}

/// A path that exists and is worth asking about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeCandidate {
    pub kind: RuntimeKind,
    /// The path as the user would call it (under `root`), symlinks not resolved.
    pub path: PathBuf,
}

/// `python3`, `python3.12`, `python3.13t` (free-threaded), `python3-intel64`,
/// `python3.12-intel64` (universal2 builds' x86_64 launcher); not `python3-config`,
/// `python3.12-gdb.py` and the like, which are not interpreters.
pub fn is_python_interpreter_name(name: &str) -> bool {
    let Some(rest) = name.strip_prefix("python3") else {
        return false;
    };
    let rest = rest.strip_suffix("-intel64").unwrap_or(rest);
    if rest.is_empty() {
        return true;
    }
    let Some(minor) = rest.strip_prefix('.') else {
        return false;
    };
    let minor = minor.strip_suffix('t').unwrap_or(minor);
    !minor.is_empty() && minor.chars().all(|c| c.is_ascii_digit())
}

/// Interpreters in one `bin` directory, sorted for stable output.
fn interpreters_in(bin: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(bin) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(is_python_interpreter_name)
        })
        .map(|e| e.path())
        // Follows symlinks on purpose: Homebrew's bin entries link into the Cellar.
        .filter(|p| p.is_file())
        .collect();
    found.sort();
    found
}

/// Subdirectories of `dir`, sorted, skipping symlinks (the framework's `Current` link and
/// pyenv's aliases would only list the same interpreters twice).
fn real_subdirectories(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .collect();
    dirs.sort();
    dirs
}

/// The framework's version directories (`…/Versions/3.12`), `Current` excluded.
pub fn framework_version_dirs(root: &Path) -> Vec<PathBuf> {
    real_subdirectories(&under(root, FRAMEWORK_VERSIONS))
}

/// `/Library/Frameworks/Python.framework/Versions/*/bin/python3*`.
pub fn framework_python_candidates(root: &Path) -> Vec<PathBuf> {
    framework_version_dirs(root)
        .iter()
        .flat_map(|version| interpreters_in(&version.join("bin")))
        .collect()
}

/// The OPENSSLDIR python.org compiles into a framework version's OpenSSL.
pub fn framework_openssl_dir(version_dir: &Path) -> PathBuf {
    version_dir.join("etc").join("openssl")
}

/// `<prefix>/bin/python3*` for each Homebrew prefix.
pub fn homebrew_python_candidates(root: &Path) -> Vec<PathBuf> {
    HOMEBREW_PREFIXES
        .iter()
        .flat_map(|prefix| interpreters_in(&under(root, prefix).join("bin")))
        .collect()
}

/// Existing Homebrew OpenSSL CA bundles (`<prefix>/etc/openssl@3/cert.pem`, …).
pub fn homebrew_bundles(root: &Path) -> Vec<PathBuf> {
    HOMEBREW_PREFIXES
        .iter()
        .flat_map(|prefix| {
            HOMEBREW_BUNDLES
                .iter()
                .map(move |b| under(root, prefix).join(b))
        })
        .filter(|p| p.is_file())
        .collect()
}

/// pyenv's root: `$PYENV_ROOT` if set, else `~/.pyenv`.
pub fn pyenv_root(pyenv_root_env: Option<&Path>, home: Option<&Path>) -> Option<PathBuf> {
    match pyenv_root_env {
        Some(dir) if !dir.as_os_str().is_empty() => Some(dir.to_path_buf()),
        _ => home.map(|h| h.join(".pyenv")),
    }
}

/// `<pyenv root>/versions/*/bin/python3*`.
pub fn pyenv_python_candidates(pyenv_root: &Path) -> Vec<PathBuf> {
    real_subdirectories(&pyenv_root.join("versions"))
        .iter()
        .flat_map(|version| interpreters_in(&version.join("bin")))
        .collect()
}

/// Every macOS-specific runtime location that exists under `root`. `home` and
/// `pyenv_root_env` are the user's `$HOME` and `$PYENV_ROOT` (absolute, re-rooted here).
pub fn macos_runtime_candidates(
    root: &Path,
    home: Option<&Path>,
    pyenv_root_env: Option<&Path>,
) -> Vec<RuntimeCandidate> {
    let mut out = Vec::new();
    let mut push = |kind, paths: Vec<PathBuf>| {
        for path in paths {
            if !out.iter().any(|c: &RuntimeCandidate| c.path == path) {
                out.push(RuntimeCandidate { kind, path });
            }
        }
    };
    push(
        RuntimeKind::FrameworkPython,
        framework_python_candidates(root),
    );
    push(
        RuntimeKind::HomebrewPython,
        homebrew_python_candidates(root),
    );
    push(RuntimeKind::HomebrewOpenSslBundle, homebrew_bundles(root));
    let rerooted = |p: &Path| under(root, &p.to_string_lossy());
    let home = home.map(rerooted);
    let env = pyenv_root_env.map(rerooted);
    if let Some(pyenv) = pyenv_root(env.as_deref(), home.as_deref()) {
        push(RuntimeKind::PyenvPython, pyenv_python_candidates(&pyenv));
    }
    out
}

/// Reads `cert.pem` in an OPENSSLDIR without following it: the raw link target if it is a
/// symlink, `None` if it is a regular file or absent.
pub fn read_cert_pem_link(openssl_dir: &Path) -> io::Result<Option<PathBuf>> {
    let cert_pem = openssl_dir.join("cert.pem");
    match fs::symlink_metadata(&cert_pem) {
        Ok(meta) if meta.file_type().is_symlink() => fs::read_link(&cert_pem).map(Some),
        Ok(_) => Ok(None),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Resolves a link target against the directory holding the link, lexically (`..` pops a
/// component), so the answer does not depend on what exists on disk.
pub fn resolve_link_target(link_dir: &Path, target: &Path) -> PathBuf {
    let joined = if target.is_absolute() {
        target.to_path_buf()
    } else {
        link_dir.join(target)
    };
    let mut out = PathBuf::new();
    for component in joined.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Whether a path is certifi's bundle: `…/certifi/cacert.pem` (pip's vendored copy,
/// `pip/_vendor/certifi/cacert.pem`, included).
pub fn is_certifi_bundle(path: &Path) -> bool {
    path.file_name().is_some_and(|n| n == "cacert.pem")
        && path
            .parent()
            .and_then(Path::file_name)
            .is_some_and(|n| n == "certifi")
}

/// A CA the OS trusts because someone on this machine added it (a company or proxy root).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalCa {
    /// How to name it to the user (subject, or origin).
    pub name: String,
    /// Lowercase hex SHA-256.
    pub fingerprint: String,
}

/// "This Python's OpenSSL reads certifi, so it misses these locally-added CAs."
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertifiLinkFinding {
    /// The `cert.pem` symlink.
    pub cert_pem: PathBuf,
    /// Where it points, resolved.
    pub certifi_bundle: PathBuf,
    /// Locally-added CAs the linked bundle lacks.
    pub missing: Vec<LocalCa>,
}

impl CertifiLinkFinding {
    /// One line for `trustsync status`.
    pub fn message(&self) -> String {
        let names: Vec<&str> = self.missing.iter().map(|ca| ca.name.as_str()).collect();
        format!(
            "{} links certifi's {} (as \"Install Certificates.command\" does), so this Python \
             does not trust the {} CA(s) added on this machine: {}",
            self.cert_pem.display(),
            self.certifi_bundle.display(),
            self.missing.len(),
            names.join(", ")
        )
    }
}

/// Recognises the "Install Certificates.command" case: `openssl_dir/cert.pem` is a link
/// (`link_target`, as read by [`read_cert_pem_link`]) into certifi's `cacert.pem`, and
/// locally-added CAs are missing from it. `certifi_fingerprints` is the SHA-256 set of the
/// linked bundle when the caller read it; without it every local CA counts as missing,
/// which is what certifi (Mozilla's public roots only) means for company roots. `None`
/// when the link is not certifi's or nothing is missing.
pub fn install_certificates_finding(
    openssl_dir: &Path,
    link_target: &Path,
    local_cas: &[LocalCa],
    certifi_fingerprints: Option<&HashSet<String>>,
) -> Option<CertifiLinkFinding> {
    let resolved = resolve_link_target(openssl_dir, link_target);
    if !is_certifi_bundle(&resolved) {
        return None;
    }
    let missing: Vec<LocalCa> = local_cas
        .iter()
        .filter(|ca| certifi_fingerprints.is_none_or(|set| !set.contains(&ca.fingerprint)))
        .cloned()
        .collect();
    if missing.is_empty() {
        return None;
    }
    Some(CertifiLinkFinding {
        cert_pem: openssl_dir.join("cert.pem"),
        certifi_bundle: resolved,
        missing,
    })
}

// Unix-only: the tests build real symlinks, as the installers do.
#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn touch(path: &Path) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, b"").unwrap();
    }

    fn company_ca() -> LocalCa {
        LocalCa {
            name: "Example Corp Proxy CA".to_string(),
            fingerprint: "ab".repeat(32),
        }
    }

    #[test]
    fn interpreter_names() {
        for yes in [
            "python3",
            "python3.12",
            "python3.13t",
            "python3-intel64",
            "python3.9-intel64",
        ] {
            assert!(is_python_interpreter_name(yes), "{yes}");
        }
        for no in [
            "python3-config",
            "python3.12-config",
            "python3.12-gdb.py",
            "python",
            "python2.7",
            "python3.",
            "python3.x",
        ] {
            assert!(!is_python_interpreter_name(no), "{no}");
        }
    }

    #[test]
    fn finds_framework_homebrew_and_pyenv_runtimes() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        let versions = r.join("Library/Frameworks/Python.framework/Versions");
        touch(&versions.join("3.12/bin/python3.12"));
        touch(&versions.join("3.12/bin/python3.12-config"));
        touch(&versions.join("3.11/bin/python3.11"));
        symlink("3.12", versions.join("Current")).unwrap();
        symlink("python3.12", versions.join("3.12/bin/python3")).unwrap();
        // Homebrew bin entries are symlinks into the Cellar.
        touch(&r.join("opt/homebrew/Cellar/python@3.13/3.13.1/bin/python3.13"));
        fs::create_dir_all(r.join("opt/homebrew/bin")).unwrap();
        symlink(
            "../Cellar/python@3.13/3.13.1/bin/python3.13",
            r.join("opt/homebrew/bin/python3.13"),
        )
        .unwrap();
        symlink(
            "../Cellar/missing/bin/python3",
            r.join("opt/homebrew/bin/python3"),
        )
        .unwrap();
        touch(&r.join("opt/homebrew/etc/ca-certificates/cert.pem"));
        fs::create_dir_all(r.join("opt/homebrew/etc/openssl@3")).unwrap();
        symlink(
            "../ca-certificates/cert.pem",
            r.join("opt/homebrew/etc/openssl@3/cert.pem"),
        )
        .unwrap();
        touch(&r.join("Users/ann/.pyenv/versions/3.10.14/bin/python3.10"));

        let found = macos_runtime_candidates(r, Some(Path::new("/Users/ann")), None);
        let rel: Vec<(RuntimeKind, String)> = found
            .iter()
            .map(|c| {
                (
                    c.kind,
                    c.path.strip_prefix(r).unwrap().display().to_string(),
                )
            })
            .collect();
        use RuntimeKind::*;
        let fw = "Library/Frameworks/Python.framework/Versions";
        assert_eq!(
            rel,
            vec![
                (FrameworkPython, format!("{fw}/3.11/bin/python3.11")),
                (FrameworkPython, format!("{fw}/3.12/bin/python3")),
                (FrameworkPython, format!("{fw}/3.12/bin/python3.12")),
                (HomebrewPython, "opt/homebrew/bin/python3.13".to_string()),
                (
                    HomebrewOpenSslBundle,
                    "opt/homebrew/etc/openssl@3/cert.pem".to_string()
                ),
                (
                    HomebrewOpenSslBundle,
                    "opt/homebrew/etc/ca-certificates/cert.pem".to_string()
                ),
                (
                    PyenvPython,
                    "Users/ann/.pyenv/versions/3.10.14/bin/python3.10".to_string()
                ),
            ]
        );

        // $PYENV_ROOT wins over ~/.pyenv.
        touch(&r.join("srv/pyenv/versions/3.9.1/bin/python3.9"));
        let found = macos_runtime_candidates(
            r,
            Some(Path::new("/Users/ann")),
            Some(Path::new("/srv/pyenv")),
        );
        let pyenv: Vec<_> = found.iter().filter(|c| c.kind == PyenvPython).collect();
        assert_eq!(pyenv.len(), 1);
        assert!(pyenv[0]
            .path
            .ends_with("srv/pyenv/versions/3.9.1/bin/python3.9"));
    }

    #[test]
    fn install_certificates_link_drops_company_roots() {
        // The exact link "Install Certificates.command" makes: a relative symlink from the
        // framework's OPENSSLDIR to certifi in site-packages.
        let root = tempfile::tempdir().unwrap();
        let version = root
            .path()
            .join("Library/Frameworks/Python.framework/Versions/3.12");
        let openssl_dir = framework_openssl_dir(&version);
        let certifi = version.join("lib/python3.12/site-packages/certifi/cacert.pem");
        touch(&certifi);
        fs::create_dir_all(&openssl_dir).unwrap();
        symlink(
            "../../lib/python3.12/site-packages/certifi/cacert.pem",
            openssl_dir.join("cert.pem"),
        )
        .unwrap();

        let target = read_cert_pem_link(&openssl_dir)
            .unwrap()
            .expect("cert.pem is a link");
        let finding = install_certificates_finding(&openssl_dir, &target, &[company_ca()], None)
            .expect("certifi link with a company root is a finding");
        assert_eq!(finding.certifi_bundle, certifi);
        assert_eq!(finding.missing, vec![company_ca()]);
        let message = finding.message();
        assert!(
            message.contains("Install Certificates.command"),
            "{message}"
        );
        assert!(message.contains("Example Corp Proxy CA"), "{message}");

        // Nothing local to miss, or certifi happens to hold it: no finding.
        assert!(install_certificates_finding(&openssl_dir, &target, &[], None).is_none());
        let holds: HashSet<String> = [company_ca().fingerprint].into_iter().collect();
        assert!(
            install_certificates_finding(&openssl_dir, &target, &[company_ca()], Some(&holds))
                .is_none()
        );
    }

    #[test]
    fn links_elsewhere_and_plain_files_are_not_the_certifi_case() {
        let root = tempfile::tempdir().unwrap();
        let openssl_dir = root.path().join("etc/openssl");
        fs::create_dir_all(&openssl_dir).unwrap();
        // trustsync's own fix: a link to the system store export is fine.
        let target = Path::new("/usr/local/share/trustsync/system.pem");
        assert!(
            install_certificates_finding(&openssl_dir, target, &[company_ca()], None).is_none()
        );
        // A regular cert.pem is not a link at all; a missing one neither.
        assert_eq!(read_cert_pem_link(&openssl_dir).unwrap(), None);
        touch(&openssl_dir.join("cert.pem"));
        assert_eq!(read_cert_pem_link(&openssl_dir).unwrap(), None);
        // A file merely named cacert.pem outside a certifi directory.
        assert!(!is_certifi_bundle(Path::new("/etc/ssl/cacert.pem")));
        assert!(is_certifi_bundle(Path::new(
            "/x/pip/_vendor/certifi/cacert.pem"
        )));
    }

    #[test]
    fn link_targets_resolve_lexically() {
        let dir = Path::new("/L/F/P.framework/Versions/3.12/etc/openssl");
        assert_eq!(
            resolve_link_target(dir, Path::new("../../lib/./certifi/cacert.pem")),
            PathBuf::from("/L/F/P.framework/Versions/3.12/lib/certifi/cacert.pem")
        );
        assert_eq!(
            resolve_link_target(dir, Path::new("/abs/certifi/cacert.pem")),
            PathBuf::from("/abs/certifi/cacert.pem")
        );
    }
}
