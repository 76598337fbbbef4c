//! Python interpreters: find them, ask each one where it looks, and model what its `ssl`
//! module, `requests` and `pip` each trust.
//!
//! The interpreter itself is the only reliable source (`ssl.get_default_verify_paths()`
//! names the OpenSSL it was built against; `certifi.where()` may be Debian's patched one
//! pointing at the OS bundle), so the probe script in `probe_python.py` is embedded in the
//! binary and run by each interpreter, under the [`ExecPolicy`] that keeps root safe.

use crate::discover::{env_value, glob_dirs, os_paths, search_dirs, Options};
use crate::model::runtime::{version_key, Note, Runtime};
use crate::runtimes::exec::{self, ExecError, ExecPolicy};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

pub const PROBE: &str = include_str!("probe_python.py");

#[derive(Debug, Deserialize, Serialize)]
pub struct ProbeAnswer {
    pub executable: String,
    pub version: String,
    pub prefix: String,
    /// `sys.platform`: on `win32` the ssl module also loads the Windows certificate stores.
    #[serde(default)]
    pub platform: Option<String>,
    #[serde(default)]
    pub openssl_version: Option<String>,
    #[serde(default)]
    pub verify_paths: Option<VerifyPaths>,
    #[serde(default)]
    pub ssl_error: Option<String>,
    #[serde(default)]
    pub certifi: Option<Certifi>,
    #[serde(default)]
    pub pip: Option<Pip>,
    #[serde(default)]
    pub requests: Option<Requests>,
    /// The urllib3 requests would import (its `_version.py`).
    #[serde(default)]
    pub urllib3: Option<String>,
    /// `ssl.create_default_context()` sets `VERIFY_X509_STRICT` (Python 3.13+).
    #[serde(default)]
    pub x509_strict: bool,
    /// `module.Class` behind `ssl.SSLContext` after site ran (`truststore._api.SSLContext`
    /// once `inject_into_ssl()` ran).
    #[serde(default)]
    pub ssl_context_class: Option<String>,
    /// The function behind `ssl._create_default_https_context` (urllib's context).
    #[serde(default)]
    pub https_context_factory: Option<String>,
    /// The `sitecustomize.py` and `usercustomize.py` site imports (the first of each on the
    /// path).
    #[serde(default)]
    pub customize: Vec<String>,
    /// The ssl module has RHEL's PEP 493 patch: `PYTHONHTTPSVERIFY=0` turns urllib's
    /// checks off.
    #[serde(default)]
    pub pep493: bool,

    /// site-packages / dist-packages directories on sys.path.
    #[serde(default)]
    pub site_dirs: Vec<String>,
    /// The user's site-packages path, whether or not it exists yet (installing there
    /// changes what this interpreter sees, so the probe cache watches it).
    #[serde(default)]
    pub user_site: Option<String>,
    /// True when the probe ran with `-S` (site files not all root's): nothing from
    /// site-packages was imported, certifi was found by path.
    #[serde(default)]
    pub no_site: bool,
    /// Bundles found under each site dir (filled in by trustsync, not the script, and
    /// remembered with the answer): site dir -> bundle files.
    #[serde(default)]
    pub bundles: Option<std::collections::BTreeMap<String, Vec<PathBuf>>>,
}

impl ProbeAnswer {
    /// Walks the site dirs for shipped bundles, once, so a remembered answer carries them.
    pub fn find_bundles(&mut self) {
        if self.bundles.is_none() {
            self.bundles = Some(
                self.site_dirs
                    .iter()
                    .map(|d| {
                        (
                            d.clone(),
                            crate::runtimes::bundled::find_paths(Path::new(d)),
                        )
                    })
                    .collect(),
            );
        }
    }
}

#[derive(Debug, Deserialize, Serialize)]
pub struct VerifyPaths {
    pub cafile_env: String,
    pub cafile: String,
    pub capath_env: String,
    pub capath: String,
}

#[derive(Debug, Deserialize, Serialize)]
pub struct Certifi {
    pub path: String,
    pub version: Option<String>,
}

#[derive(Debug, Deserialize, Serialize)]
pub struct Pip {
    pub version: Option<String>,
    pub bundle: Option<String>,
    /// Version of pip's vendored certifi (its release date, `YYYY.MM.DD`).
    #[serde(default)]
    pub certifi_version: Option<String>,
}

#[derive(Debug, Deserialize, Serialize)]
pub struct Requests {
    pub version: Option<String>,
}

/// `python`, `python3`, `python3.11`, `python2.7`; not `python3-config` or `python3.11m`.
fn is_python_name(name: &str) -> bool {
    let name = name.strip_suffix(".exe").unwrap_or(name);
    let Some(rest) = name.strip_prefix("python") else {
        return false;
    };
    rest.is_empty()
        || (rest.bytes().all(|b| b.is_ascii_digit() || b == b'.')
            && rest.starts_with(|c: char| c.is_ascii_digit())
            && !rest.ends_with('.'))
}

/// Candidate interpreters in the usual places plus `--runtime` paths, without duplicates:
/// two paths resolving to one file are one interpreter, unless one is a venv's (whose
/// prefix differs although its `python` links to the base interpreter).
pub fn candidates(opts: &Options) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = search_dirs(opts);
    if opts.scan_common_dirs {
        // This run's own PYENV_ROOT; every covered home's default one.
        if let Some(root) = env_value(opts, "PYENV_ROOT") {
            dirs.extend(glob_dirs(&Path::new(&root).join("versions"), "bin"));
        }
        for home in opts.home_dirs() {
            dirs.extend(super::homes::interpreter_dirs(&home));
        }
        dirs.extend(super::homes::SHARED_DIRS.iter().map(PathBuf::from));
        for conda in ["miniconda3", "anaconda3", "miniforge3", "mambaforge"] {
            let base = PathBuf::from("/opt").join(conda);
            dirs.push(base.join("bin"));
            dirs.extend(glob_dirs(&base.join("envs"), "bin"));
        }
        dirs.extend(super::homes::venv_dirs(&opts.home_dirs(), opts));
    }
    let mut found: Vec<PathBuf> = Vec::new();
    if opts.scan_common_dirs && cfg!(target_os = "macos") {
        let pyenv = env_value(opts, "PYENV_ROOT").map(PathBuf::from);
        found.extend(os_paths::macos_pythons(
            opts.home.as_deref(),
            pyenv.as_deref(),
        ));
    }
    if opts.scan_common_dirs && cfg!(windows) {
        // The launcher knows every registered Python, wherever it was installed.
        // Only the all-users launcher in the Windows directory: never one found on PATH.
        if let Some(py) = std::env::var_os("SystemRoot").map(|r| PathBuf::from(r).join("py.exe")) {
            let program = trustsync_platform::spawn::Program::new(py).arg("-0p");
            if let Ok(text) = exec::run(program, opts.timeout) {
                found.extend(os_paths::parse_py_launcher_list(&text));
            }
        }
    }
    // The paths the user named first: when a scan reaches the same interpreter, the row
    // keeps the name they gave.
    for r in &opts.runtimes {
        if r.is_dir() {
            // A venv or prefix: its bin/python.
            for name in ["bin/python3", "bin/python", "Scripts/python.exe"] {
                if r.join(name).exists() {
                    found.push(r.join(name));
                    break;
                }
            }
        } else if is_python_name(&r.file_name().unwrap_or_default().to_string_lossy()) {
            found.push(r.clone());
        }
    }
    for dir in dirs {
        // pyenv's shims are shell scripts choosing a version: the versions are listed anyway.
        if dir.ends_with("shims") {
            continue;
        }
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut names: Vec<_> = entries
            .flatten()
            .filter(|e| e.file_name().to_str().is_some_and(is_python_name))
            .map(|e| e.path())
            .collect();
        // `python3` names a row best (a venv's bin has `python` and `python3.X` too).
        names.sort_by_key(|p| (p.file_name().is_none_or(|n| n != "python3"), p.clone()));
        found.extend(names);
    }
    let mut seen = HashSet::new();
    found
        .into_iter()
        .filter(|p| is_executable(p))
        .filter(|p| {
            let venv = p
                .parent()
                .and_then(Path::parent)
                .filter(|r| r.join("pyvenv.cfg").is_file());
            let key = (
                std::fs::canonicalize(p).unwrap_or_else(|_| p.clone()),
                venv.map(Path::to_path_buf),
            );
            seen.insert(key)
        })
        .collect()
}

fn is_executable(p: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        p.is_file()
    }
}

/// Runs the probe in one interpreter.
pub fn ask(binary: &Path, policy: &ExecPolicy, opts: &Options) -> Result<ProbeAnswer, String> {
    parse_answer(&ask_raw(binary, policy, opts)?)
}

pub fn parse_answer(text: &str) -> Result<ProbeAnswer, String> {
    serde_json::from_str(text.trim()).map_err(|e| format!("unexpected probe output ({e})"))
}

/// Runs the probe and returns its raw JSON answer.
pub fn ask_raw(binary: &Path, policy: &ExecPolicy, opts: &Options) -> Result<String, String> {
    let Some(program) = exec::program_for(binary, policy) else {
        return Err("not executed".into());
    };
    let program = program
        .args(probe_flags(binary, policy))
        .arg("-c")
        .arg(PROBE);
    exec::run(program, opts.timeout).map_err(|e| match e {
        ExecError::Failed { stderr, status, .. } => {
            format!("the probe failed ({status}): {stderr}")
        }
        other => other.to_string(),
    })
}

/// The interpreter flags for the probe. As root: `-I` (no `PYTHON*` variables, no user
/// site, no script or working directory on `sys.path`; Python 2 lacks it: `-E -s` there,
/// and the working directory is `/` anyway), plus `-S` when a site file is not root's.
/// Run as its owner: `-E` only, so the owner's user site counts as it does for them.
fn probe_flags(binary: &Path, policy: &ExecPolicy) -> Vec<&'static str> {
    let py2 = is_python2(binary);
    let mut flags = match policy {
        ExecPolicy::RunAs { .. } => vec!["-E"],
        _ if py2 => vec!["-E", "-s"],
        _ => vec!["-I"],
    };
    if matches!(policy, ExecPolicy::RunWithoutSite { .. }) {
        flags.push("-S");
    }
    flags
}

/// Python 2 has no `-I`: told by the name the binary resolves to (`python2.7`), or by a
/// prefix whose lib holds only `python2.*`.
fn is_python2(binary: &Path) -> bool {
    let real = std::fs::canonicalize(binary).unwrap_or_else(|_| binary.to_path_buf());
    if real
        .file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with("python2"))
    {
        return true;
    }
    let Some(lib) = real.parent().and_then(Path::parent).map(|p| p.join("lib")) else {
        return false;
    };
    let names: Vec<String> = std::fs::read_dir(lib)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("python"))
        .collect();
    names.iter().any(|n| n.starts_with("python2"))
        && !names.iter().any(|n| n.starts_with("python3"))
}

/// Which environment variables a consumer reads, in precedence order.
const REQUESTS_VARS: &[&str] = &["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"];

fn label_for(binary: &Path, answer_prefix: Option<&str>) -> String {
    let name = binary
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .to_string();
    match answer_prefix {
        Some(p) => format!("{name} ({p})"),
        None => binary.display().to_string(),
    }
}

/// Applies an env var chain: the first set variable wins over `default`.
/// requests before 2.28 computes `verify = REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE` (sessions.py
/// `merge_environment_settings`) and keeps the result even when it is `""`: an empty
/// `CURL_CA_BUNDLE` (with `REQUESTS_CA_BUNDLE` unset or empty) turns verification off.
/// 2.28 added `or verify`, so the empty value falls back to certifi.
pub fn requests_verification_off(version: Option<&str>, env: &HashMap<String, String>) -> bool {
    let old = version.is_some_and(|v| version_key(v) < vec![2, 28]);
    old && env.get("REQUESTS_CA_BUNDLE").is_none_or(|v| v.is_empty())
        && env.get("CURL_CA_BUNDLE").is_some_and(|v| v.is_empty())
}

fn with_override(
    rt: &mut Runtime,
    vars: &[&str],
    env: &HashMap<String, String>,
    default: Option<PathBuf>,
) {
    for var in vars {
        if let Some(v) = env.get(*var).filter(|v| !v.is_empty()) {
            let p = PathBuf::from(v);
            rt.overridden_by.push(var.to_string());
            // requests accepts a directory here and uses it as a capath.
            if p.is_dir() {
                rt.capath.push(p);
            } else {
                rt.cafile = Some(p);
            }
            return;
        }
    }
    rt.cafile = default;
}

/// urllib3 2.3 and later add `VERIFY_X509_STRICT` to the contexts they make on Python 3.13+
/// (checked with requests 2.34 / urllib3 2.8 on 3.13.0); 1.26, which pip vendors, never
/// does, and pip's truststore path did not either (pip 24.2 on 3.13.0).
fn urllib3_is_strict(a: &ProbeAnswer) -> bool {
    let at_least = |v: &str, min: &[u32]| version_key(v).as_slice() >= min;
    a.urllib3.as_deref().is_some_and(|v| at_least(v, &[2, 3])) && at_least(&a.version, &[3, 13])
}

/// What the start files do, as the interpreter reported it when site ran in the probe, or
/// as their text says when it could not (`-S`); each names who did it.
struct StartEffects {
    truststore: Option<String>,
    unverified: Option<String>,
}

impl StartEffects {
    fn of(a: &ProbeAnswer, read: &super::start_files::StartHooks) -> StartEffects {
        let name = |f: &Option<PathBuf>| {
            f.as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "a start file of site (a .pth or sitecustomize)".into())
        };
        if a.no_site {
            return StartEffects {
                truststore: read.truststore.as_ref().map(|p| p.display().to_string()),
                unverified: read.unverified.as_ref().map(|p| p.display().to_string()),
            };
        }
        let injected = a
            .ssl_context_class
            .as_deref()
            .is_some_and(|c| c.contains("truststore"));
        let unverified = a.https_context_factory.as_deref() == Some("_create_unverified_context");
        StartEffects {
            truststore: injected.then(|| name(&read.truststore)),
            unverified: unverified.then(|| name(&read.unverified)),
        }
    }
}

/// The runtimes one interpreter contributes: its `ssl` module, and `requests` and `pip`
/// where installed.
pub fn runtimes_from_answer(
    binary: &Path,
    a: &ProbeAnswer,
    env: &HashMap<String, String>,
    pip_settings: &super::pip_config::PipSettings,
) -> Vec<Runtime> {
    let mut out = Vec::new();
    let label = label_for(binary, Some(&a.prefix));
    let mut ssl = Runtime::new(
        crate::runtimes::python::SSL,
        binary.to_path_buf(),
        label.clone(),
    );
    ssl.version = Some(a.version.clone());
    match (&a.verify_paths, &a.ssl_error) {
        (Some(vp), _) => crate::runtimes::openssl::apply_default_paths(
            &mut ssl,
            a.openssl_version.as_deref(),
            env,
            (&vp.cafile_env, vp.cafile.clone().into()),
            (&vp.capath_env, vp.capath.clone().into()),
        ),
        (None, err) => ssl.notes.push(Note::said(
            "no-ssl-module",
            msg!(
                "note-no-ssl-module",
                error = err.as_deref().unwrap_or("unknown error")
            ),
            true,
        )),
    }
    if let Some(v) = &a.openssl_version {
        ssl.version = Some(format!("{} / {v}", a.version));
    }
    // CPython on Windows adds the system ROOT and CA stores (ssl.enum_certificates) to
    // whatever its OpenSSL paths hold.
    ssl.adds_os_store = a.platform.as_deref() == Some("win32");
    ssl.x509_strict = a.x509_strict;
    let reader = trustsync_platform::read::Reader::host();
    // Read afresh on every run (a .pth edited in place changes no stamp the cache watches).
    let effects = StartEffects::of(
        a,
        &super::start_files::scan(&reader, &a.site_dirs, &a.customize),
    );
    let plain_ssl = ssl.clone();
    if let Some(by) = &effects.truststore {
        super::truststore::verify_like_truststore(
            &mut ssl,
            &plain_ssl,
            a.platform.as_deref(),
            &reader,
        );
        ssl.notes.push(Note::said(
            "truststore-injected",
            msg!("note-truststore-injected", by = by),
            false,
        ));
    }
    if let Some(by) = &effects.unverified {
        ssl.notes.push(Note::said(
            "verification-off",
            msg!("note-unverified-context", by = by),
            true,
        ));
    }
    if a.pep493 && env.get("PYTHONHTTPSVERIFY").is_some_and(|v| v == "0") {
        ssl.notes.push(Note::said(
            "verification-off",
            msg!("note-pythonhttpsverify"),
            true,
        ));
    }
    out.push(ssl);

    if a.requests.is_some() || a.certifi.is_some() {
        let mut rq = Runtime::new(
            crate::runtimes::python::REQUESTS,
            binary.to_path_buf(),
            label.clone(),
        );
        rq.version = a
            .requests
            .as_ref()
            .and_then(|r| r.version.clone())
            .map(|v| format!("requests {v}"));
        rq.bundle_version = a.certifi.as_ref().and_then(|c| c.version.clone());
        rq.bundle_path = a.certifi.as_ref().map(|c| PathBuf::from(&c.path));
        let certifi = a.certifi.as_ref().map(|c| PathBuf::from(&c.path));
        if certifi.is_none() && rq.version.is_some() {
            rq.notes.push(Note::said(
                "certifi-missing",
                msg!("note-certifi-missing"),
                false,
            ));
        }
        with_override(&mut rq, REQUESTS_VARS, env, certifi);
        if effects.truststore.is_some() {
            // urllib3 builds its context from the injected class and loads certifi (or the
            // variable's file or directory) into it: they add to truststore's sources.
            let chosen = rq.cafile.take();
            let dirs = std::mem::take(&mut rq.capath);
            super::truststore::verify_like_truststore(
                &mut rq,
                &plain_ssl,
                a.platform.as_deref(),
                &reader,
            );
            rq.extra_cafiles.extend(chosen);
            rq.capath.extend(dirs);
        }
        rq.x509_strict = urllib3_is_strict(a);
        let requests_version = a.requests.as_ref().and_then(|r| r.version.as_deref());
        if requests_verification_off(requests_version, env) {
            rq.notes.push(Note::said(
                "verification-off",
                msg!(
                    "note-requests-curl-empty",
                    version = requests_version.unwrap_or("?")
                ),
                true,
            ));
        }
        out.push(rq);
    }

    if let Some(pip) = &a.pip {
        out.push(super::pip::runtime(
            binary,
            label,
            a,
            pip,
            env,
            pip_settings,
            &out[0],
        ));
    }
    for dir in &a.site_dirs {
        let site = Path::new(dir);
        let found = match a.bundles.as_ref().and_then(|b| b.get(dir)) {
            Some(paths) => crate::runtimes::bundled::runtimes_for(site, paths, binary),
            None => crate::runtimes::bundled::find(site, binary),
        };
        for mut rt in found {
            // A package with its own variable (AWS_CA_BUNDLE for botocore) reads that
            // file instead of its bundled one when the variable is set.
            let package = crate::apply::package_of(&rt.label)
                .unwrap_or_default()
                .to_string();
            if let Some(var) = crate::runtimes::bundled::variable_for(&package) {
                let bundled = rt.cafile.clone();
                with_override(&mut rt, &[var], env, bundled);
            }
            out.push(rt);
        }
    }
    out
}

/// What can be learnt about an interpreter without running it: its bundled certifi files.
pub fn runtimes_without_running(binary: &Path, reason: &str) -> Vec<Runtime> {
    let mut rt = Runtime::new(
        crate::runtimes::python::SSL,
        binary.to_path_buf(),
        label_for(binary, None),
    );
    rt.notes.push(Note::said(
        "not-executed",
        msg!("note-not-executed-user", reason = reason),
        false,
    ));
    let mut out = vec![rt];
    if let Some(prefix) = binary.parent().and_then(Path::parent) {
        for site in super::site::site_dirs_of_prefix(prefix) {
            out.extend(super::site::bundle_runtimes(&site, binary));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_names() {
        for ok in ["python", "python3", "python3.11", "python2.7"] {
            assert!(is_python_name(ok), "{ok}");
        }
        for bad in [
            "python3-config",
            "python3.11m",
            "pythonw",
            "python3.",
            "ipython",
        ] {
            assert!(!is_python_name(bad), "{bad}");
        }
    }

    fn answer(json: &str) -> ProbeAnswer {
        serde_json::from_str(json).unwrap()
    }

    const BASE: &str = r#"{"executable":"/x/bin/python3","version":"3.11.7","prefix":"/x",
        "openssl_version":"OpenSSL 3.0.2",
        "verify_paths":{"cafile_env":"SSL_CERT_FILE","cafile":"/usr/local/ssl/cert.pem","capath_env":"SSL_CERT_DIR","capath":"/usr/local/ssl/certs"},
        "certifi":{"path":"/x/certifi/cacert.pem","version":"2024.2.2"},
        "pip":{"version":"23.2.1","bundle":"/x/pip/_vendor/certifi/cacert.pem"},
        "requests":{"version":"2.31.0"}}"#;

    /// The rows for `a` in `env`, pip's settings from `env` alone (no configuration file).
    fn rows(a: &ProbeAnswer, env: &HashMap<String, String>) -> Vec<Runtime> {
        let settings =
            super::super::pip_config::read(&trustsync_platform::read::Reader::host(), &[], env);
        runtimes_from_answer(Path::new("/x/bin/python3"), a, env, &settings)
    }

    #[test]
    fn defaults_without_env() {
        let rts = rows(&answer(BASE), &HashMap::new());
        assert_eq!(rts.len(), 3);
        assert_eq!(
            rts[0].cafile.as_deref(),
            Some(Path::new("/usr/local/ssl/cert.pem"))
        );
        assert_eq!(rts[0].capath, vec![PathBuf::from("/usr/local/ssl/certs")]);
        assert_eq!(
            rts[1].cafile.as_deref(),
            Some(Path::new("/x/certifi/cacert.pem"))
        );
        assert_eq!(
            rts[2].cafile.as_deref(),
            Some(Path::new("/x/pip/_vendor/certifi/cacert.pem"))
        );
    }

    #[test]
    fn env_precedence() {
        let env: HashMap<String, String> = [
            ("SSL_CERT_FILE", "/e/ssl.pem"),
            ("CURL_CA_BUNDLE", "/e/curl.pem"),
            ("PIP_CERT", "/e/pip.pem"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        let rts = rows(&answer(BASE), &env);
        assert_eq!(rts[0].cafile.as_deref(), Some(Path::new("/e/ssl.pem")));
        assert_eq!(
            rts[0].capath,
            vec![PathBuf::from("/usr/local/ssl/certs")],
            "SSL_CERT_FILE leaves the capath"
        );
        assert_eq!(rts[1].cafile.as_deref(), Some(Path::new("/e/curl.pem")));
        assert_eq!(rts[1].overridden_by, vec!["CURL_CA_BUNDLE"]);
        assert_eq!(rts[2].cafile.as_deref(), Some(Path::new("/e/pip.pem")));
    }

    #[test]
    fn new_pip_uses_the_os_store() {
        // truststore reads the default file only when it exists (else its fallback list).
        let dir = tempfile::tempdir().unwrap();
        let cert = dir.path().join("cert.pem");
        std::fs::write(&cert, b"").unwrap();
        let a = answer(
            &BASE
                .replace("23.2.1", "24.2")
                .replace("/usr/local/ssl/cert.pem", cert.to_str().unwrap()),
        );
        let rts = rows(&a, &HashMap::new());
        assert_eq!(rts[2].cafile, rts[0].cafile);
        assert_eq!(rts[2].capath, rts[0].capath);
        // pip loads its certifi into the truststore context too.
        assert_eq!(
            rts[2].extra_cafiles,
            vec![PathBuf::from("/x/pip/_vendor/certifi/cacert.pem")]
        );
        // A named file adds to the defaults instead of replacing them.
        let env: HashMap<String, String> =
            [("REQUESTS_CA_BUNDLE".to_string(), "/e/rq.pem".to_string())].into();
        let rts = rows(&a, &env);
        assert_eq!(rts[2].cafile, rts[0].cafile);
        assert_eq!(rts[2].extra_cafiles.last().unwrap(), Path::new("/e/rq.pem"));
        assert_eq!(rts[2].overridden_by, vec!["REQUESTS_CA_BUNDLE"]);
    }
}
