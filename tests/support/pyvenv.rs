//! The real Python clients for the S2 tests: `requests`, `certifi` and `urllib3` from PyPI,
//! installed by `scripts/setup.sh` into venvs of the system `python3` under
//! `~/.cache/trustsync/venvs/<name>` (a fixed path; `TRUSTSYNC_CACHE` moves the cache).
//!
//! Why not a stand-in: S2 is "requests does not trust the company CA". An emulation of
//! requests' lookup order (REQUESTS_CA_BUNDLE > CURL_CA_BUNDLE > certifi) tests what the
//! emulation's author believed, and a two-file certifi tests trustsync against a package
//! shape that real certifi does not have. So a test copies a cached venv's site-packages
//! into a sandbox venv ([`install`]): a root-owned tool venv whose real certifi lacks the
//! CA the OS trusts, exactly the machine users report. Under CI a missing venv fails the
//! test (scripts/setup.sh must have made it); elsewhere it is a loud skip.

use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::Output;

use super::report::{show, skip_unless_ci, text};
use super::sandbox::Sandbox;

/// Current requests + certifi + urllib3.
pub const REQUESTS: &str = "requests";
/// requests 2.27.1 with the urllib3 1.26 it pulls in: the older lookup code.
pub const REQUESTS_2_27: &str = "requests-2.27";
/// pip >= 24.2 (uses truststore, then its vendored certifi).
pub const PIP: &str = "pip";
/// requests with truststore and pip-system-certs, whose `.pth` injects truststore into
/// `ssl` at start-up.
pub const TRUSTSTORE: &str = "truststore";

/// Where scripts/setup.sh keeps the venv `name`.
pub fn cached_venv(name: &str) -> PathBuf {
    let root = match std::env::var_os("TRUSTSYNC_CACHE") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| "/root".into()))
            .join(".cache/trustsync"),
    };
    root.join("venvs").join(name)
}

/// A venv inside a sandbox holding a real client.
#[derive(Debug, Clone)]
pub struct RealPython {
    /// `<venv>/bin/python3`, inside the sandbox.
    pub python: String,
    /// Its site-packages, inside the sandbox.
    pub site: String,
    /// `certifi.where()` as the real certifi answers it (pip's vendored one in the [`PIP`]
    /// venv), inside the sandbox.
    pub certifi_bundle: String,
}

/// Makes a venv of `/usr/bin/python3` at `venv` inside the sandbox and copies the cached
/// venv `name`'s site-packages into it (pip and setuptools left out unless `name` is
/// [`PIP`]). `None` after a loud skip when the cache is missing; panics under CI.
#[track_caller]
pub fn install(sb: &Sandbox, name: &str, venv: &str) -> Option<RealPython> {
    let cached = cached_venv(name);
    let Some(cached_site) = cached_site_packages(&cached) else {
        skip_unless_ci(&format!(
            "the real-client venv {cached:?} is missing; run scripts/setup.sh"
        ));
        return None;
    };
    let site = sb.make_venv(venv);
    let keep_pip = name == PIP;
    sb.copy_tree(&cached_site, &site, |top: &OsStr| {
        let top = top.to_string_lossy();
        // pip itself, not pip_system_certs (whose .pth is what some tests are about).
        let tooling = top == "pip"
            || top.starts_with("pip-")
            || top.starts_with("setuptools")
            || top.starts_with("_distutils_hack")
            || top == "distutils-precedence.pth";
        tooling && !keep_pip
    });
    let python = format!("{venv}/bin/python3");
    // The pip venv has no certifi of its own: pip's vendored copy is its bundle.
    let ask = if keep_pip {
        "from pip._vendor import certifi; print(certifi.where())"
    } else {
        "import certifi; print(certifi.where())"
    };
    let out = sb.run(&[python.as_str(), "-c", ask], &[]);
    assert!(out.status.success(), "certifi in {venv}: {}", show(&out));
    let certifi_bundle = text(&out.stdout).trim().to_string();
    assert!(
        certifi_bundle.starts_with(&site),
        "certifi.where() {certifi_bundle:?} is not the venv's own (under {site:?})"
    );
    Some(RealPython {
        python,
        site,
        certifi_bundle,
    })
}

/// `lib/python3.X/site-packages` of a cached venv, if it is complete.
fn cached_site_packages(venv: &std::path::Path) -> Option<PathBuf> {
    if !venv.join(".trustsync-spec").is_file() {
        return None;
    }
    std::fs::read_dir(venv.join("lib"))
        .ok()?
        .flatten()
        .map(|e| e.path().join("site-packages"))
        .find(|p| p.is_dir())
}

/// `requests.get("https://127.0.0.1:PORT/")` with the real requests: prints `status N`, or
/// `SSLError <message>` and exits 3, or the traceback of anything else (exit 1).
pub const REQUESTS_GET: &str = "import sys, requests\nurl = 'https://127.0.0.1:%s/' % sys.argv[1]\ntry:\n    r = requests.get(url, timeout=10)\nexcept requests.exceptions.SSLError as e:\n    print('SSLError', e)\n    sys.exit(3)\nprint('status', r.status_code, requests.__version__)\n";

/// The run failed the way S2 users see it: the real requests raised `SSLError` with
/// OpenSSL's CERTIFICATE_VERIFY_FAILED (not a refused connection, not an import error).
#[track_caller]
pub fn assert_verify_failed(out: &Output) {
    let stdout = text(&out.stdout);
    assert!(
        out.status.code() == Some(3)
            && stdout.starts_with("SSLError")
            && stdout.contains("CERTIFICATE_VERIFY_FAILED"),
        "expected requests' SSLError CERTIFICATE_VERIFY_FAILED: {}",
        show(out)
    );
}

/// The run got the loopback server's `200 OK` through the real requests.
#[track_caller]
pub fn assert_ok_200(out: &Output) {
    assert!(
        out.status.success() && text(&out.stdout).starts_with("status 200 "),
        "expected HTTP 200 through requests: {}",
        show(out)
    );
}
