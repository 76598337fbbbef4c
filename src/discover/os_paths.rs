//! Where runtimes live beyond PATH on Windows and macOS. Pure path logic and output
//! parsing, compiled on every OS and unit-tested on Linux; discovery calls it only on the
//! OS it is about.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Windows: per-user and all-users python.org installs, and Git for Windows, whose
/// `openssl.exe` (and libcurl) read its own `mingw64/etc/ssl/certs/ca-bundle.crt`.
pub fn windows_dirs(env: &HashMap<String, String>) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let subdirs = |base: &Path, prefix: &str| -> Vec<PathBuf> {
        let Ok(entries) = std::fs::read_dir(base) else {
            return Vec::new();
        };
        let mut v: Vec<PathBuf> = entries
            .flatten()
            .filter(|e| {
                e.file_name()
                    .to_string_lossy()
                    .to_ascii_lowercase()
                    .starts_with(prefix)
            })
            .map(|e| e.path())
            .collect();
        v.sort();
        v
    };
    if let Some(local) = env.get("LOCALAPPDATA") {
        out.extend(subdirs(
            &Path::new(local).join("Programs").join("Python"),
            "python",
        ));
    }
    for var in ["ProgramFiles", "ProgramFiles(x86)", "PROGRAMFILES"] {
        if let Some(pf) = env.get(var) {
            let pf = Path::new(pf);
            out.extend(subdirs(pf, "python"));
            out.push(pf.join("Git").join("usr").join("bin"));
            out.push(pf.join("Git").join("mingw64").join("bin"));
        }
    }
    out
}

/// Interpreter paths from `py -0p` (the Windows launcher lists every registered Python):
/// lines like ` -V:3.12 *        C:\Program Files\Python312\python.exe`.
pub fn parse_py_launcher_list(text: &str) -> Vec<PathBuf> {
    text.lines()
        .filter_map(|line| {
            let bytes = line.as_bytes();
            // The path starts at a drive letter followed by `:\`.
            let start = (0..bytes.len().saturating_sub(2)).find(|&i| {
                bytes[i].is_ascii_alphabetic() && bytes[i + 1] == b':' && bytes[i + 2] == b'\\'
            })?;
            Some(PathBuf::from(line[start..].trim()))
        })
        .collect()
}

/// macOS: python.org framework builds, Homebrew and pyenv interpreters (the platform crate
/// knows the layouts), plus Homebrew's keg-only OpenSSL builds.
pub fn macos_pythons(home: Option<&Path>, pyenv_root: Option<&Path>) -> Vec<PathBuf> {
    use trustsync_platform::macos_paths::{macos_runtime_candidates, RuntimeKind};
    macos_runtime_candidates(Path::new("/"), home, pyenv_root)
        .into_iter()
        .filter(|c| c.kind != RuntimeKind::HomebrewOpenSslBundle)
        .map(|c| c.path)
        .collect()
}

pub fn macos_openssl_dirs() -> Vec<PathBuf> {
    ["/opt/homebrew/opt", "/usr/local/opt"]
        .iter()
        .flat_map(|p| {
            ["openssl@3", "openssl@1.1", "openssl"].map(|k| Path::new(p).join(k).join("bin"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn py_launcher_output() {
        let text = " -V:3.12 *        C:\\Program Files\\Python312\\python.exe\n -V:3.11          C:\\Users\\ann\\AppData\\Local\\Programs\\Python\\Python311\\python.exe\n\n";
        assert_eq!(
            parse_py_launcher_list(text),
            vec![
                PathBuf::from("C:\\Program Files\\Python312\\python.exe"),
                PathBuf::from(
                    "C:\\Users\\ann\\AppData\\Local\\Programs\\Python\\Python311\\python.exe"
                )
            ]
        );
        assert!(parse_py_launcher_list("No installed Pythons found!\n").is_empty());
    }

    #[test]
    fn windows_install_dirs() {
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(t.path().join("Programs/Python/Python312")).unwrap();
        let env: HashMap<String, String> =
            [("LOCALAPPDATA".to_string(), t.path().display().to_string())]
                .into_iter()
                .collect();
        let dirs = windows_dirs(&env);
        assert_eq!(
            dirs,
            vec![t.path().join("Programs").join("Python").join("Python312")]
        );
    }
}
