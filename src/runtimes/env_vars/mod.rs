//! Environment variables that redirect trust, and which runtimes read each one.
//!
//! A variable naming a missing or empty file breaks every runtime that reads it (seed S6),
//! often long after someone set it in a shell profile. Each set variable becomes a row of
//! its own so the user sees it, what it overrides, and why it is broken.

use crate::discover::Options;
use crate::model::runtime::{Repair, Runtime, RuntimeKind};
use std::path::Path;
use std::path::PathBuf;

pub struct TrustVar {
    pub name: &'static str,
    /// Who reads it, in words for the report.
    pub affects: &'static [&'static str],
    /// A directory (colon-separated list) rather than a file.
    pub is_dir: bool,
    /// Replaces the runtime's defaults (so it must hold every OS CA), or adds to them.
    pub replaces: bool,
}

pub const TRUST_VARS: &[TrustVar] = &[
    TrustVar {
        name: "SSL_CERT_FILE",
        affects: &["OpenSSL-based clients: python ssl, openssl, curl, ruby, git (OpenSSL builds)"],
        is_dir: false,
        replaces: true,
    },
    TrustVar {
        name: "SSL_CERT_DIR",
        affects: &["OpenSSL-based clients: python ssl, openssl, curl, ruby"],
        is_dir: true,
        replaces: true,
    },
    TrustVar {
        name: "REQUESTS_CA_BUNDLE",
        affects: &["python requests", "pip"],
        is_dir: false,
        replaces: true,
    },
    TrustVar {
        name: "CURL_CA_BUNDLE",
        affects: &["curl", "python requests", "pip"],
        is_dir: false,
        replaces: true,
    },
    TrustVar {
        name: "PIP_CERT",
        affects: &["pip"],
        is_dir: false,
        replaces: true,
    },
    TrustVar {
        name: "NODE_EXTRA_CA_CERTS",
        affects: &["Node.js (added to its built-in roots)"],
        is_dir: false,
        replaces: false,
    },
    TrustVar {
        name: "AWS_CA_BUNDLE",
        affects: &["AWS CLI and SDKs"],
        is_dir: false,
        replaces: true,
    },
    TrustVar {
        name: "GIT_SSL_CAINFO",
        affects: &["git"],
        is_dir: false,
        replaces: true,
    },
    TrustVar {
        name: "HTTPLIB2_CA_CERTS",
        affects: &["python httplib2 (e.g. shotgun_api3, google-api-python-client)"],
        is_dir: false,
        replaces: true,
    },
    TrustVar {
        name: "GRPC_DEFAULT_SSL_ROOTS_FILE_PATH",
        affects: &["gRPC"],
        is_dir: false,
        replaces: true,
    },
];

/// An environment variable that redirects trust.
pub const KIND: RuntimeKind = RuntimeKind {
    name: "env-var",
    repair: Repair::Variable,
    variable: None,
    cafile_strict: false,
};

pub struct EnvVars;

impl super::Family for EnvVars {
    fn name(&self) -> &'static str {
        "trust variables"
    }

    fn kinds(&self) -> &'static [RuntimeKind] {
        &[KIND]
    }

    fn discover(&self, opts: &Options) -> Vec<Runtime> {
        runtimes(opts)
    }

    /// The variables count in a tree too (`--only` keeps them): they are this run's.
    fn discover_offline(&self, _root: &Path, opts: &Options, _scan: bool) -> Vec<Runtime> {
        runtimes(opts)
    }
}

/// One row per trust variable that is set (set to empty counts: it is usually a mistake).
pub fn runtimes(opts: &Options) -> Vec<Runtime> {
    TRUST_VARS
        .iter()
        .filter_map(|v| {
            let value = opts.env.get(v.name)?;
            let mut rt = Runtime::new(KIND, PathBuf::from(v.name), format!("${}", v.name));
            rt.affects = v.affects.iter().map(|s| s.to_string()).collect();
            rt.replaces_defaults = v.replaces;
            // OpenSSL reads a CA file *and* a directory: a variable replacing one of them
            // leaves the default of the other in use, so the file (or directory) alone
            // need not hold every OS CA. Whether the two together do is each OpenSSL
            // runtime's own row (seed S6: the verdict belongs to each runtime).
            let partner = match v.name {
                "SSL_CERT_FILE" => Some("SSL_CERT_DIR"),
                "SSL_CERT_DIR" => Some("SSL_CERT_FILE"),
                _ => None,
            };
            if partner.is_some_and(|p| !opts.env.contains_key(p)) {
                rt.replaces_defaults = false;
            }
            if v.is_dir {
                rt.capath = std::env::split_paths(value).collect();
            } else {
                rt.cafile = Some(PathBuf::from(value));
            }
            Some(rt)
        })
        .collect()
}
