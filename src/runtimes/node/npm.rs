//! npm's own TLS settings, read from its configuration files (never by running npm):
//! `cafile` and `ca` *replace* node's roots for npm's requests (node's `ca` option; even
//! `NODE_EXTRA_CA_CERTS` no longer counts), and `strict-ssl=false` turns verification off.
//! npm reads, later winning: its builtin `npmrc` (`<prefix>/lib/node_modules/npm/npmrc`),
//! the global `<prefix>/etc/npmrc` (or `$NPM_CONFIG_GLOBALCONFIG`), the user's `~/.npmrc`
//! (or `$NPM_CONFIG_USERCONFIG`), then `npm_config_*` variables (any case). A project's
//! `.npmrc` depends on the directory npm runs in: not judged here.
//!
//! A row of kind `npm` appears only where one of those settings is in effect; otherwise
//! npm trusts exactly what its node does and the node row says it. The files are the
//! user's or the admin's: `fix` never edits them (advice `config-set-elsewhere`).
//! Hand-written parsing: npm's ini dialect (`key=value`, `key[]=value`, `;`/`#` comments,
//! `${VAR}` expansion) is small and no maintained crate reads it the way npm does.

use crate::model::runtime::{Note, Repair, Runtime, RuntimeKind};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// npm, where its configuration sets its own CAs or turns verification off.
pub const KIND: RuntimeKind = RuntimeKind {
    name: "npm",
    repair: Repair::Bundle,
    variable: None,
    cafile_strict: true,
};

/// The TLS settings in effect and where each came from.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct NpmTls {
    pub cafile: Option<(String, String)>,
    /// `ca` values (PEM text), and where they were set.
    pub ca: Option<(Vec<String>, String)>,
    pub strict_ssl: Option<(bool, String)>,
}

/// One npmrc's TLS keys, `${VAR}` expanded from `env` as npm does. Public for the fuzz
/// tests: the text is another user's.
#[doc(hidden)]
pub fn parse_npmrc(
    text: &str,
    env: &HashMap<String, String>,
) -> (Option<String>, Option<Vec<String>>, Option<bool>) {
    let (mut cafile, mut ca, mut strict) = (None, None::<Vec<String>>, None);
    for line in text.lines().take(10_000) {
        let line = line.trim();
        if line.starts_with(';') || line.starts_with('#') || line.starts_with('[') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = expand(value.trim().trim_matches('"'), env);
        match key.trim() {
            "cafile" => cafile = Some(value),
            "ca" => ca = Some(vec![value]),
            "ca[]" => ca.get_or_insert_with(Vec::new).push(value),
            "strict-ssl" => strict = Some(value != "false"),
            _ => {}
        }
    }
    (cafile, ca, strict)
}

/// npm's `${NAME}` expansion (a name that is not set stays as written).
fn expand(value: &str, env: &HashMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        let Some(len) = rest[start + 2..].find('}') else {
            break;
        };
        let name = &rest[start + 2..start + 2 + len];
        out.push_str(&rest[..start]);
        match env.get(name) {
            Some(v) => out.push_str(v),
            None => out.push_str(&rest[start..start + 3 + len]),
        }
        rest = &rest[start + 3 + len..];
    }
    out.push_str(rest);
    out
}

/// The npmrc files of the npm that ships with the node at `prefix`, in the order npm reads
/// them (later wins). `home` is the home of whoever runs that npm (the node's owner when
/// another user's node is judged as root, not root's own).
pub fn config_files(
    prefix: &Path,
    env: &HashMap<String, String>,
    home: Option<&Path>,
) -> Vec<PathBuf> {
    let var = |name: &str| {
        env.iter()
            .find(|(k, v)| k.eq_ignore_ascii_case(name) && !v.is_empty())
            .map(|(_, v)| PathBuf::from(v))
    };
    let mut files = vec![prefix.join("lib/node_modules/npm/npmrc")];
    files.push(var("npm_config_globalconfig").unwrap_or_else(|| prefix.join("etc/npmrc")));
    if let Some(user) = var("npm_config_userconfig").or_else(|| home.map(|h| h.join(".npmrc"))) {
        files.push(user);
    }
    files
}

/// What npm's files and variables say, reading each file with `read` (bounded, the
/// caller's reader).
pub fn settings(
    files: &[PathBuf],
    env: &HashMap<String, String>,
    read: impl Fn(&Path) -> Option<String>,
) -> NpmTls {
    let mut out = NpmTls::default();
    for file in files {
        let Some(text) = read(file) else { continue };
        let (cafile, ca, strict) = parse_npmrc(&text, env);
        let at = file.display().to_string();
        if let Some(f) = cafile {
            out.cafile = Some((f, at.clone()));
        }
        if let Some(c) = ca {
            out.ca = Some((c, at.clone()));
        }
        if let Some(s) = strict {
            out.strict_ssl = Some((s, at));
        }
    }
    // Sorted, so that two spellings of one key (`npm_config_cafile`, `NPM_CONFIG_CAFILE`)
    // settle the same way every run.
    let mut vars: Vec<(&String, &String)> = env.iter().collect();
    vars.sort();
    for (key, value) in vars {
        let key = key.to_ascii_lowercase().replace('_', "-");
        let from = format!("${}", key.to_ascii_uppercase().replace('-', "_"));
        match key.as_str() {
            "npm-config-cafile" if !value.is_empty() => out.cafile = Some((value.clone(), from)),
            "npm-config-ca" if !value.is_empty() => out.ca = Some((vec![value.clone()], from)),
            "npm-config-strict-ssl" => out.strict_ssl = Some((value != "false", from)),
            _ => {}
        }
    }
    out
}

/// The certificates of `ca` values (PEM text, `\n` escapes as npmrc files write them)
/// set in `at`.
pub fn ca_certificates(pems: &[String], at: &str) -> Vec<crate::model::cert::Certificate> {
    pems.iter()
        .flat_map(|p| {
            let text = p.replace("\\n", "\n");
            crate::model::load::parse_bytes(Path::new(at), text.as_bytes()).certificates
        })
        .collect()
}

/// The npm row for the node `node_row` (its trust when npm's settings say nothing), or
/// `None` when npm trusts just what that node does.
pub fn row(node_row: &Runtime, prefix: &Path, tls: &NpmTls) -> Option<Runtime> {
    if tls.cafile.is_none() && tls.ca.is_none() && !matches!(tls.strict_ssl, Some((false, _))) {
        return None;
    }
    let npm = prefix.join("bin/npm");
    let mut rt = Runtime::new(KIND, npm, format!("npm ({})", prefix.display()));
    rt.version = node_row.version.clone();
    rt.owner = node_row.owner.clone();
    rt.reported_by_uid = node_row.reported_by_uid;
    if let Some((false, at)) = &tls.strict_ssl {
        rt.notes.push(Note::said(
            "verification-off",
            msg!("note-npm-strict-ssl-off", at = at),
            true,
        ));
        return Some(rt);
    }
    match (&tls.ca, &tls.cafile) {
        // `ca` wins over `cafile` (npm reads the file into `ca` only when `ca` is unset).
        (Some((pems, at)), _) => {
            rt.configured_by = Some(format!("`ca` in {at}"));
            rt.builtin = ca_certificates(pems, at);
        }
        (None, Some((file, at))) => {
            rt.configured_by = Some(format!("`cafile` in {at}"));
            rt.cafile = Some(file.into());
        }
        (None, None) => {
            // strict-ssl=true said explicitly: the node's own set.
            return None;
        }
    }
    Some(rt)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::discover::env_of as env;

    #[test]
    fn later_files_and_variables_win_and_names_expand() {
        let files = vec![PathBuf::from("/g"), PathBuf::from("/u")];
        let read = |p: &Path| {
            Some(match p.to_str().unwrap() {
                "/g" => "cafile=/etc/corp.pem\nstrict-ssl=false\n".to_string(),
                _ => "; a comment\ncafile=${HOME}/ca.pem\nstrict-ssl = true\n".to_string(),
            })
        };
        let tls = settings(&files, &env(&[("HOME", "/home/ann")]), read);
        assert_eq!(tls.cafile, Some(("/home/ann/ca.pem".into(), "/u".into())));
        assert_eq!(tls.strict_ssl, Some((true, "/u".into())));
        let tls = settings(&files, &env(&[("NPM_CONFIG_STRICT_SSL", "false")]), read);
        assert_eq!(
            tls.strict_ssl,
            Some((false, "$NPM_CONFIG_STRICT_SSL".into()))
        );
        assert_eq!(expand("${NOPE}/x", &env(&[])), "${NOPE}/x");
    }
}
