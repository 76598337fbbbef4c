//! What a Python's start files do to TLS: the `.pth` lines `site` runs, `sitecustomize` and
//! `usercustomize`. Two things there change what clients trust without any file or
//! variable trustsync otherwise reads:
//! - `truststore.inject_into_ssl()` (pip-system-certs' `.pth`, or one a user wrote): `ssl`
//!   and requests then verify with a truststore context ([`super::truststore`]);
//! - `ssl._create_default_https_context = ssl._create_unverified_context` (a common "fix"
//!   copied from the web): urllib and http.client then check no certificate at all.
//!
//! When the probe ran with `site`, the interpreter itself says what happened (the class
//! behind `ssl.SSLContext`, the function behind `_create_default_https_context`); this
//! module reads the files (never runs them) to name the file, and to say it at all when
//! the probe had to skip `site` (`-S`, a site file not root's).

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use trustsync_platform::read::Reader;

/// The start files that change TLS, found by reading them.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartHooks {
    /// A file that injects truststore, when the truststore it needs is installed.
    pub truststore: Option<PathBuf>,
    /// A file that installs the unverified context as urllib's default.
    pub unverified: Option<PathBuf>,
}

/// Reads the `.pth` files of `site_dirs` and the `customize` modules the probe found (the
/// first `sitecustomize.py` and `usercustomize.py` on the path: on Debian the system's own
/// hides a venv's, so the venv's never runs).
pub fn scan(reader: &Reader, site_dirs: &[String], customize: &[String]) -> StartHooks {
    let mut hooks = StartHooks::default();
    let has_truststore = site_dirs.iter().any(|d| {
        let d = Path::new(d);
        reader.is_file(&d.join("truststore/__init__.py"))
            || reader.is_file(&d.join("pip/_vendor/truststore/__init__.py"))
    });
    let mut files: Vec<(PathBuf, bool)> = Vec::new();
    for dir in site_dirs.iter().map(Path::new) {
        let Ok(entries) = reader.list(dir) else {
            continue;
        };
        let mut names: Vec<String> = entries
            .into_iter()
            .map(|(n, _)| n.to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".pth"))
            .collect();
        // site.py runs a directory's .pth files in sorted order.
        names.sort();
        files.extend(names.into_iter().map(|n| (dir.join(n), true)));
    }
    // The paths come from the probe's answer, which may be another user's word: only
    // files with the names site imports are read.
    files.extend(
        customize
            .iter()
            .map(PathBuf::from)
            .filter(|f| {
                f.file_name()
                    .is_some_and(|n| n == "sitecustomize.py" || n == "usercustomize.py")
            })
            .map(|f| (f, false)),
    );
    for (file, is_pth) in files {
        let Ok(text) = reader.read_to_string(&file) else {
            continue;
        };
        let code = text.lines().filter(|l| {
            if is_pth {
                // Only lines that start with `import` are run (site.addpackage).
                l.starts_with("import ") || l.starts_with("import\t")
            } else {
                !l.trim_start().starts_with('#')
            }
        });
        for line in code {
            let injects = line.contains("pip_system_certs")
                || (line.contains("truststore") && line.contains("inject_into_ssl"))
                || line.contains("inject_into_ssl()");
            if injects && has_truststore && hooks.truststore.is_none() {
                hooks.truststore = Some(file.clone());
            }
            if line.contains("_create_unverified_context")
                && line.contains("_create_default_https_context")
                && hooks.unverified.is_none()
            {
                hooks.unverified = Some(file.clone());
            }
        }
    }
    hooks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_injection_and_the_unverified_context_only_where_site_would_run_them() {
        let dir = tempfile::tempdir().unwrap();
        let site = dir.path().join("site-packages");
        std::fs::create_dir_all(site.join("pip/_vendor/truststore")).unwrap();
        let write = |name: &str, text: &str| std::fs::write(site.join(name), text).unwrap();
        let dirs = [site.to_str().unwrap().to_string()];
        let custom = [site.join("sitecustomize.py").to_str().unwrap().to_string()];
        let reader = Reader::host();
        // A path line and a comment mentioning the names are not run.
        write(
            "a.pth",
            "/opt/pip_system_certs\n# import truststore; truststore.inject_into_ssl()\n",
        );
        write(
            "sitecustomize.py",
            "# ssl._create_default_https_context = ssl._create_unverified_context\n",
        );
        assert_eq!(scan(&reader, &dirs, &custom), StartHooks::default());
        // Without a truststore to import, the injection fails and changes nothing.
        write("pip_system_certs.pth", "import os, sys; __import__('pip_system_certs.bootstrap') and sys.modules['pip_system_certs.bootstrap'].bootstrap()\n");
        assert_eq!(scan(&reader, &dirs, &custom).truststore, None);
        std::fs::write(site.join("pip/_vendor/truststore/__init__.py"), "").unwrap();
        assert_eq!(
            scan(&reader, &dirs, &custom).truststore,
            Some(site.join("pip_system_certs.pth"))
        );
        write(
            "sitecustomize.py",
            "import ssl\nssl._create_default_https_context = ssl._create_unverified_context\n",
        );
        assert_eq!(
            scan(&reader, &dirs, &custom).unverified,
            Some(site.join("sitecustomize.py"))
        );
        // A sitecustomize that another one earlier on the path hides is never run.
        assert_eq!(scan(&reader, &dirs, &[]).unverified, None);
    }
}
