//! pip's row: what pip's HTTPS session trusts, by pip version, from its vendored certifi,
//! its settings (`cert`, `trusted-host`, read by [`super::pip_config`]) and the requests
//! variables. Kept apart from the `ssl` and requests rows because pip changed its rule in
//! 24.2, and the two rules share nothing but their inputs.
//!
//! What pip does, mirrored here (pip/_internal/cli/index_command.py and network/session.py
//! of pip 24.2 to 26.3; checked against the real pip in tests/truth_variables.rs and
//! tests/truth_rules.rs):
//! - before 24.2, or on a Python before 3.10: requests with `verify` set to `cert` when
//!   given, else requests' own `REQUESTS_CA_BUNDLE` or `CURL_CA_BUNDLE`
//!   (`merge_environment_settings`), else pip's vendored certifi. One source replaces the rest.
//! - 24.2 and later on 3.10+: a `truststore.SSLContext`, which on Linux is OpenSSL's default
//!   paths (truststore's `_configure_context`, with its own list of bundles when those hold
//!   nothing), into which pip loads its certifi (`ctx.load_verify_locations(certifi.where())`)
//!   and requests then loads `cert` or the variable. Every source adds; a named file that
//!   is missing or holds no certificate raises before any connection.

use super::pip_config::{Origin, PipSettings};
use super::probe::{Pip, ProbeAnswer};
use crate::model::runtime::{version_key, Note, Runtime};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use trustsync_platform::read::Reader;

/// requests' variables, in the order `merge_environment_settings` reads them; `cert` (from
/// `PIP_CERT` or a configuration file) beats both, since it sets `verify` first.
const REQUESTS_VARS: &[&str] = &["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"];

/// pip 24.2+ on Python 3.10+ verifies through truststore.
pub(super) fn uses_truststore(pip_version: Option<&str>, python_version: &str) -> bool {
    let Some(pv) = pip_version else { return false };
    version_key(pv) >= vec![24, 2] && version_key(python_version) >= vec![3, 10]
}

/// The CA file or directory pip is told to use, and who said so.
struct UserCert {
    path: PathBuf,
    /// `Some("PIP_CERT")`, `Some("REQUESTS_CA_BUNDLE")`… for a variable; `None` for `cert`
    /// in a configuration file.
    variable: Option<&'static str>,
    /// For a configuration file: "`cert` in /etc/pip.conf".
    origin: String,
}

fn user_cert(settings: &PipSettings, env: &HashMap<String, String>) -> Option<UserCert> {
    if let Some(cert) = &settings.cert {
        return Some(UserCert {
            path: PathBuf::from(&cert.value),
            variable: match cert.origin {
                Origin::Variable(v) => Some(v),
                Origin::File(_) => None,
            },
            origin: format!("`cert` in {}", cert.origin),
        });
    }
    REQUESTS_VARS.iter().find_map(|var| {
        env.get(*var).filter(|v| !v.is_empty()).map(|v| UserCert {
            path: PathBuf::from(v),
            variable: Some(*var),
            origin: format!("${var}"),
        })
    })
}

/// pip's row. `ssl` is the same interpreter's `ssl` row: its default paths are what
/// truststore loads on Linux.
pub(super) fn runtime(
    binary: &Path,
    label: String,
    a: &ProbeAnswer,
    pip: &Pip,
    env: &HashMap<String, String>,
    settings: &PipSettings,
    ssl: &Runtime,
) -> Runtime {
    let mut p = Runtime::new(super::PIP, binary.to_path_buf(), label);
    p.version = pip.version.as_ref().map(|v| format!("pip {v}"));
    p.bundle_version = pip.certifi_version.clone();
    p.bundle_path = pip.bundle.as_ref().map(PathBuf::from);
    let cert = user_cert(settings, env);
    let truststore = uses_truststore(pip.version.as_deref(), &a.version);
    let reader = Reader::host();
    if truststore {
        super::truststore::verify_like_truststore(&mut p, ssl, a.platform.as_deref(), &reader);
        p.extra_cafiles.extend(p.bundle_path.clone());
        if let Some(cert) = &cert {
            super::truststore::load_verify_locations(&mut p, &cert.path, &reader);
        }
    } else {
        match &cert {
            // requests takes a directory as `ca_cert_dir`.
            Some(c) if reader.is_dir(&c.path) => p.capath.push(c.path.clone()),
            Some(c) => p.cafile = Some(c.path.clone()),
            None => p.cafile = p.bundle_path.clone(),
        }
    }
    if let Some(cert) = cert {
        match cert.variable {
            Some(var) => p.overridden_by.push(var.to_string()),
            None => {
                let how = if truststore {
                    "adds to what pip trusts"
                } else {
                    "decides what pip trusts"
                };
                p.notes.push(Note {
                    msg: None,
                    code: "pip-config",
                    message: format!("{} {how}: {}", cert.origin, cert.path.display()),
                    fatal: false,
                });
                p.configured_by = Some(cert.origin);
            }
        }
    }
    if let Some(hosts) = &settings.trusted_host {
        let list: Vec<&str> = hosts.value.split_whitespace().collect();
        p.notes.push(Note::said(
            "verification-off",
            msg!(
                "note-pip-trusted-host",
                hosts = list.join(", "),
                origin = hosts.origin.to_string()
            ),
            true,
        ));
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truststore_needs_pip_24_2_and_python_3_10() {
        assert!(uses_truststore(Some("24.2"), "3.10.0"));
        assert!(uses_truststore(Some("26.3"), "3.13.0"));
        assert!(!uses_truststore(Some("24.1.2"), "3.12.1"));
        assert!(!uses_truststore(Some("24.2"), "3.9.18"));
        assert!(!uses_truststore(None, "3.12.1"));
    }
}
