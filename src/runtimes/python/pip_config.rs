//! pip's configuration files, read the way pip reads them, for the two settings that decide
//! what pip trusts: `cert` (a CA file or directory, like `PIP_CERT`; what it does to pip's
//! row is [`super::pip`]'s rule) and `trusted-host` (hosts pip talks to without checking
//! their certificate).
//!
//! Why by hand: pip's own reader is Python, and running it would import code from the
//! interpreter's site-packages as root. What pip does (pip/_internal/configuration.py,
//! pip 23–25), mirrored here:
//! - `PIP_CONFIG_FILE=/dev/null` (os.devnull) loads no file at all;
//! - files load in this order, a later one overriding an earlier per `section.key`:
//!   global (`$XDG_CONFIG_DIRS` each `/pip/pip.conf`, default `/etc/xdg`, then
//!   `/etc/pip.conf`), user (`~/.pip/pip.conf`, then `$XDG_CONFIG_HOME/pip/pip.conf`,
//!   skipped when `PIP_CONFIG_FILE` names a file that exists), site (`sys.prefix/pip.conf`),
//!   then the `PIP_CONFIG_FILE` file;
//! - for `pip install`, a key in `[install]` beats the same key in `[global]`, whatever
//!   files they come from; `PIP_CERT` / `PIP_TRUSTED_HOST` beat both;
//! - keys are case-insensitive, `_` is `-`; values may continue on indented lines.
//!
//! The files are read, never run; a value found in a file another user can write is that
//! user's word, so `fix` only ever advises about it (see `commands::fix`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use trustsync_platform::read::Reader;

/// A value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub value: String,
    pub origin: Origin,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    File(PathBuf),
    /// `PIP_CERT`, `PIP_TRUSTED_HOST`.
    Variable(&'static str),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::File(p) => write!(f, "{}", p.display()),
            Origin::Variable(v) => write!(f, "${v}"),
        }
    }
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct PipSettings {
    pub cert: Option<Setting>,
    pub trusted_host: Option<Setting>,
}

/// The files pip reads, in load order (later ones override earlier ones).
pub fn config_files(
    env: &HashMap<String, String>,
    home: Option<&Path>,
    prefix: &Path,
) -> Vec<PathBuf> {
    let var = |k: &str| env.get(k).filter(|v| !v.is_empty());
    let env_file = env.get("PIP_CONFIG_FILE").map(PathBuf::from);
    if env_file.as_deref() == Some(Path::new("/dev/null")) {
        return Vec::new();
    }
    let mut files: Vec<PathBuf> = var("XDG_CONFIG_DIRS")
        .map(|v| v.as_str())
        .unwrap_or("/etc/xdg")
        .split(':')
        .filter(|d| !d.is_empty())
        .map(|d| Path::new(d).join("pip/pip.conf"))
        .collect();
    files.push("/etc/pip.conf".into());
    let env_file_exists = env_file
        .as_deref()
        .is_some_and(|f| Reader::host().is_file(f));
    if !env_file_exists {
        if let Some(home) = home {
            files.push(home.join(".pip/pip.conf"));
            let config_home = var("XDG_CONFIG_HOME")
                .map(PathBuf::from)
                .unwrap_or_else(|| home.join(".config"));
            files.push(config_home.join("pip/pip.conf"));
        }
    }
    files.push(prefix.join("pip.conf"));
    files.extend(env_file);
    files
}

/// pip's settings for `pip install` from `files` (as [`config_files`] lists them) and the
/// environment.
pub fn read(reader: &Reader, files: &[PathBuf], env: &HashMap<String, String>) -> PipSettings {
    let mut merged: HashMap<(String, String), Setting> = HashMap::new();
    for file in files {
        let Ok(text) = reader.read_to_string(file) else {
            continue;
        };
        for (section, key, value) in parse_ini(&text) {
            merged.insert(
                (section, key),
                Setting {
                    value,
                    origin: Origin::File(file.clone()),
                },
            );
        }
    }
    let pick = |key: &str, var: &'static str| -> Option<Setting> {
        if let Some(v) = env.get(var).filter(|v| !v.is_empty()) {
            return Some(Setting {
                value: v.clone(),
                origin: Origin::Variable(var),
            });
        }
        ["install", "global"]
            .iter()
            .find_map(|s| merged.get(&(s.to_string(), key.to_string())).cloned())
            .filter(|s| !s.value.is_empty())
    };
    PipSettings {
        cert: pick("cert", "PIP_CERT"),
        trusted_host: pick("trusted-host", "PIP_TRUSTED_HOST"),
    }
}

/// `configparser.RawConfigParser` as pip uses it, enough for `key = value` settings:
/// `[section]` headers, `=` or `:` separators, `#`/`;` comment lines, indented
/// continuation lines joined with a newline. Keys lower-cased, `_` read as `-`.
fn parse_ini(text: &str) -> Vec<(String, String, String)> {
    let mut out: Vec<(String, String, String)> = Vec::new();
    let mut section: Option<String> = None;
    let mut continuing = false;
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            continuing = continuing && !trimmed.is_empty();
            continue;
        }
        if line.starts_with([' ', '\t']) && continuing {
            if let Some(last) = out.last_mut() {
                last.2.push('\n');
                last.2.push_str(trimmed);
            }
            continue;
        }
        continuing = false;
        if let Some(name) = trimmed.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            section = Some(name.trim().to_string());
            continue;
        }
        let (Some(sec), Some(at)) = (&section, trimmed.find(['=', ':'])) else {
            continue;
        };
        let key = trimmed[..at].trim().to_lowercase().replace('_', "-");
        let key = key.trim_start_matches("--").to_string();
        out.push((sec.clone(), key, trimmed[at + 1..].trim().to_string()));
        continuing = true;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::discover::env_of as env;

    #[test]
    fn files_follow_pips_order_and_dev_null_loads_none() {
        let home = Path::new("/home/ann");
        let files = config_files(&env(&[]), Some(home), Path::new("/opt/venv"));
        let shown: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
        assert_eq!(
            shown,
            [
                "/etc/xdg/pip/pip.conf",
                "/etc/pip.conf",
                "/home/ann/.pip/pip.conf",
                "/home/ann/.config/pip/pip.conf",
                "/opt/venv/pip.conf"
            ]
        );
        let none = config_files(
            &env(&[("PIP_CONFIG_FILE", "/dev/null")]),
            Some(home),
            Path::new("/v"),
        );
        assert!(none.is_empty());
        // A PIP_CONFIG_FILE that does not exist leaves the user files in, and comes last.
        let missing = config_files(
            &env(&[("PIP_CONFIG_FILE", "/nonexistent/pip.conf")]),
            Some(home),
            Path::new("/v"),
        );
        assert_eq!(missing.last().unwrap(), Path::new("/nonexistent/pip.conf"));
        assert!(missing.contains(&home.join(".pip/pip.conf")));
    }

    #[test]
    fn install_beats_global_and_the_variable_beats_both() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.conf");
        let b = dir.path().join("b.conf");
        std::fs::write(&a, "[install]\ncert = /a/install.pem\n").unwrap();
        std::fs::write(
            &b,
            "[global]\nCERT: /b/global.pem\ntrusted_host = pypi.corp\n  files.corp\n# done\n",
        )
        .unwrap();
        let files = [a.clone(), b.clone()];
        let s = read(&Reader::host(), &files, &env(&[]));
        assert_eq!(s.cert.as_ref().unwrap().value, "/a/install.pem");
        assert_eq!(s.cert.unwrap().origin, Origin::File(a));
        assert_eq!(s.trusted_host.unwrap().value, "pypi.corp\nfiles.corp");
        let s = read(&Reader::host(), &files, &env(&[("PIP_CERT", "/env.pem")]));
        assert_eq!(s.cert.unwrap().value, "/env.pem");
    }

    #[test]
    fn hostile_or_odd_files_give_nothing_rather_than_failing() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("pip.conf");
        std::fs::write(
            &f,
            "cert = /outside/any/section.pem\n[global\n\u{1b}]52;x\n= /no-key\n",
        )
        .unwrap();
        let s = read(
            &Reader::host(),
            &[f, dir.path().join("missing.conf")],
            &env(&[]),
        );
        assert_eq!(s, PipSettings::default());
    }
}
