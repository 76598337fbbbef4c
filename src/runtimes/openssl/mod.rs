//! OpenSSL builds: every `openssl` binary, and where its OPENSSLDIR says it looks.
//!
//! A private build (`/usr/local/openssl111`) has its own OPENSSLDIR whose `certs/` is empty
//! and whose `cert.pem` is missing: the seed case S1. `openssl version -v -d` tells both the
//! version and the directory in one run.

use crate::discover::Options;
use crate::model::runtime::{Note, Repair, Runtime, RuntimeKind};
use crate::runtimes::exec;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// An `openssl` build (its OPENSSLDIR's `cert.pem` and `certs/`).
pub const KIND: RuntimeKind = RuntimeKind {
    name: "openssl",
    repair: Repair::HashedDir,
    variable: Some("SSL_CERT_FILE"),
    cafile_strict: false,
};

pub struct Openssl;

impl super::Family for Openssl {
    fn name(&self) -> &'static str {
        "openssl"
    }

    fn kinds(&self) -> &'static [RuntimeKind] {
        &[KIND]
    }

    fn discover(&self, opts: &Options) -> Vec<Runtime> {
        crate::discover::parallel_map(&candidates(opts), |path| probe(path, opts))
    }
}

pub fn candidates(opts: &Options) -> Vec<PathBuf> {
    let found = crate::discover::search_dirs(opts)
        .into_iter()
        .map(|d| {
            d.join(if cfg!(windows) {
                "openssl.exe"
            } else {
                "openssl"
            })
        })
        .chain(
            opts.runtimes
                .iter()
                .filter(|r| r.file_stem().is_some_and(|n| n == "openssl"))
                .cloned(),
        )
        .collect();
    crate::discover::unique_files(found)
}

/// Parses `openssl version -v -d` output: (version line, OPENSSLDIR).
pub fn parse_version_output(text: &str) -> (Option<String>, Option<PathBuf>) {
    let mut version = None;
    let mut dir = None;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("OPENSSLDIR:") {
            let d = rest.trim().trim_matches('"');
            dir = Some(PathBuf::from(d));
        } else if version.is_none() && !line.trim().is_empty() {
            version = Some(line.trim().to_string());
        }
    }
    (version, dir)
}

/// The runtime for one `openssl` binary; env vars override as in
/// `X509_STORE_set_default_paths`.
pub fn probe(binary: &Path, opts: &Options) -> Runtime {
    let mut rt = Runtime::new(KIND, binary.to_path_buf(), binary.display().to_string());
    let Some((program, _)) = exec::program_for_row(binary, &mut rt) else {
        return rt;
    };
    // Hermetic: `OPENSSL_CONF=/dev/null` (an openssl.cnf can load modules), no variables of
    // the caller's; `version -d` does not depend on them.
    let program = program.args(["version", "-v", "-d"]);
    match exec::run(program, opts.timeout) {
        Ok(text) => {
            let (version, dir) = parse_version_output(&text);
            rt.version = version;
            apply_dir(&mut rt, dir, opts);
        }
        Err(e) => rt.notes.push(Note::said(
            "probe-failed",
            msg!("note-probe-failed", error = e.to_string()),
            true,
        )),
    }
    rt
}

fn apply_dir(rt: &mut Runtime, dir: Option<PathBuf>, opts: &Options) {
    let Some(dir) = dir else {
        rt.notes
            .push(Note::said("probe-failed", msg!("note-no-openssldir"), true));
        return;
    };
    // `openssl version` prints "OpenSSL 3.0.2 15 Mar 2022 (Library: OpenSSL 3.0.19 …)"
    // when the binary and the library it loads differ: the library decides.
    let library = rt.version.as_deref().map(|v| {
        v.split_once("(Library: ")
            .map_or(v, |(_, lib)| lib.trim_end_matches(')'))
            .to_string()
    });
    apply_default_paths(
        rt,
        library.as_deref(),
        &opts.env,
        ("SSL_CERT_FILE", dir.join("cert.pem")),
        ("SSL_CERT_DIR", dir.join("certs")),
    );
}

/// OpenSSL's `X509_STORE_set_default_paths`: the CA file and the hashed directory a build
/// was compiled with, each replaced by its variable when that is set (the directory one is
/// a PATH-style list). Shared by `openssl` binaries and Python's `ssl` module, which
/// reports the variable names and defaults of the OpenSSL it links. `library` is the
/// version line of that OpenSSL (`OpenSSL 3.0.2 15 Mar 2022`, `LibreSSL 3.8.2`).
pub(crate) fn apply_default_paths(
    rt: &mut Runtime,
    library: Option<&str>,
    env: &HashMap<String, String>,
    (cafile_var, cafile): (&str, PathBuf),
    (capath_var, capath): (&str, PathBuf),
) {
    // OpenSSL tests `getenv() != NULL`: a variable set to "" still replaces the default,
    // with nothing (`X509_load_cert_crl_file("")` fails; an empty list names no directory).
    let empty = |rt: &mut Runtime, var: &str, default: &Path| {
        rt.overridden_by.push(var.to_string());
        rt.notes.push(Note::said(
            "empty-variable",
            msg!(
                "note-empty-variable",
                variable = var,
                default = default.display().to_string()
            ),
            false,
        ));
    };
    match env.get(cafile_var).map(String::as_str) {
        Some("") => {
            empty(rt, cafile_var, &cafile);
            rt.cafile = None;
        }
        Some(v) => {
            rt.cafile = Some(v.into());
            rt.overridden_by.push(cafile_var.to_string());
        }
        None => rt.cafile = Some(cafile),
    }
    match env.get(capath_var).map(String::as_str) {
        Some("") => {
            empty(rt, capath_var, &capath);
            rt.capath = Vec::new();
        }
        Some(v) => {
            rt.capath = std::env::split_paths(v)
                .filter(|p| !p.as_os_str().is_empty())
                .collect();
            rt.overridden_by.push(capath_var.to_string());
        }
        None => rt.capath = vec![capath],
    }
    let dir_var_set = env.get(capath_var).is_some_and(|v| !v.is_empty());
    rt.capath_store_lookup = library.is_some_and(|l| has_store_lookup(l, dir_var_set));
}

/// Whether `X509_STORE_set_default_paths` of this OpenSSL also hands the certificate
/// directory to the store lookup (`X509_LOOKUP_add_store_ex(lookup, NULL)`):
/// - 3.0 and 3.1 do, always (checked here with 3.0.19);
/// - 3.2 and 3.3 only when `SSL_CERT_DIR` is set (openssl/openssl#18070 dropped the
///   default directory as the default store URI; #21068 describes the variable case);
/// - 3.4 and later never (openssl/openssl#24140; checked here with 3.6.3);
/// - 1.1 and LibreSSL have no store lookup.
fn has_store_lookup(library: &str, dir_var_set: bool) -> bool {
    let mut parts = library
        .strip_prefix("OpenSSL ")
        .unwrap_or("")
        .split(|c: char| !c.is_ascii_digit())
        .map(|p| p.parse::<u32>().ok());
    match (parts.next().flatten(), parts.next().flatten()) {
        (Some(3), Some(0 | 1)) => true,
        (Some(3), Some(2 | 3)) => dir_var_set,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_lookup_comes_with_openssl_3() {
        assert!(has_store_lookup("OpenSSL 3.0.19 27 Jan 2026", false));
        assert!(has_store_lookup("OpenSSL 3.1.8 11 Feb 2025", false));
        assert!(!has_store_lookup("OpenSSL 3.2.4 11 Feb 2025", false));
        assert!(has_store_lookup("OpenSSL 3.3.3 11 Feb 2025", true));
        assert!(!has_store_lookup("OpenSSL 3.6.3 9 Jun 2026", true));
        assert!(!has_store_lookup("OpenSSL 1.1.1w  11 Sep 2023", true));
        assert!(!has_store_lookup("LibreSSL 3.8.2", true));
    }

    #[test]
    fn version_output() {
        let (v, d) = parse_version_output(
            "OpenSSL 1.1.1w  11 Sep 2023\nOPENSSLDIR: \"/usr/local/openssl111\"\n",
        );
        assert_eq!(v.as_deref(), Some("OpenSSL 1.1.1w  11 Sep 2023"));
        assert_eq!(d, Some(PathBuf::from("/usr/local/openssl111")));
    }
}
