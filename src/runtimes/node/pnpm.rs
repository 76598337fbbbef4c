//! pnpm's TLS settings, read from its npmrc files and the environment (never by running
//! pnpm). pnpm reads npm's files with its own `@pnpm/npm-conf` (pnpm 10's
//! `config/config`, bundled in `dist/pnpm.cjs`; measured with pnpm 10.34.9), first
//! setting winning: `npm_config_*` variables, the project's `.npmrc` (depends on the
//! directory pnpm runs in: not judged here), the user's `~/.npmrc` (or
//! `$npm_config_userconfig`), the global `<prefix>/etc/npmrc` (or
//! `$npm_config_globalconfig`), then pnpm's own global rc, `$XDG_CONFIG_HOME/pnpm/rc` or
//! `~/.config/pnpm/rc`. `cafile` is read into `ca` before that rc is added, so a `cafile`
//! there does nothing (measured), while its `ca` and `strict-ssl` count. The CA file
//! replaces node's roots (`NODE_EXTRA_CA_CERTS` too) and wins over `ca`; a missing one is
//! skipped silently. `strict-ssl=false` turns verification off. `pnpm_config_*` variables
//! and `/etc/npmrc` are not read (measured). The per-registry `//host/:cafile=` keys apply
//! to that registry only and are said, not judged.
//!
//! The npmrc syntax is [`super::npm::parse_npmrc`]'s (hand-written there, with why).

use super::clients::{with_home, ClientTls, Person};
use crate::model::runtime::{Repair, RuntimeKind};
use std::path::{Path, PathBuf};

/// pnpm, where its settings set its own CAs or turn verification off.
pub const KIND: RuntimeKind = RuntimeKind {
    name: "pnpm",
    repair: Repair::Bundle,
    variable: None,
    cafile_strict: false,
};

/// The files pnpm reads for `person` on the node installed at `prefix`, in its order
/// (first wins), each with whether its `cafile` counts.
pub fn config_files(person: &Person, prefix: &Path) -> Vec<(PathBuf, bool)> {
    let var = |name: &str| {
        let mut vars: Vec<(&String, &String)> = person.env.iter().collect();
        vars.sort();
        vars.into_iter()
            .find(|(k, v)| k.eq_ignore_ascii_case(name) && !v.is_empty())
            .map(|(_, v)| PathBuf::from(v))
    };
    let mut files = Vec::new();
    if let Some(user) =
        var("npm_config_userconfig").or_else(|| person.home.as_ref().map(|h| h.join(".npmrc")))
    {
        files.push((user, true));
    }
    files.push((
        var("npm_config_globalconfig").unwrap_or_else(|| prefix.join("etc/npmrc")),
        true,
    ));
    let config_dir = person
        .var("XDG_CONFIG_HOME")
        .map(|x| Path::new(x).join("pnpm"))
        .or_else(|| person.home.as_ref().map(|h| h.join(".config/pnpm")));
    if let Some(dir) = config_dir {
        files.push((dir.join("rc"), false));
    }
    files
}

/// pnpm's settings for `person` on the node at `prefix`.
pub fn settings(
    person: &Person,
    prefix: &Path,
    read: impl Fn(&Path) -> Option<String>,
) -> ClientTls {
    let env = &person.env;
    let mut out = ClientTls::default();
    let mut strict: Option<(bool, String)> = None;
    let mut vars: Vec<(&String, &String)> = env.iter().collect();
    vars.sort();
    for (key, value) in vars {
        let from = format!("${key}");
        match key.to_ascii_lowercase().as_str() {
            "npm_config_cafile" if !value.is_empty() && out.cafile.is_none() => {
                out.cafile = Some((value.clone(), from))
            }
            "npm_config_ca" if !value.is_empty() && out.ca.is_none() => {
                out.ca = Some((vec![value.clone()], from))
            }
            "npm_config_strict_ssl" if strict.is_none() => {
                strict = Some((value != "false", format!("{from}={value}")))
            }
            _ => {}
        }
    }
    for (file, cafile_counts) in config_files(person, prefix) {
        let Some(text) = read(&file) else { continue };
        let at = file.display().to_string();
        let (cafile, ca, s) = super::npm::parse_npmrc(&text, env);
        match cafile {
            Some(f) if cafile_counts && out.cafile.is_none() => {
                out.cafile = Some((with_home(&f, person.home.as_deref()), at.clone()))
            }
            Some(f) if !cafile_counts => out.notes.push(format!(
                "cafile={f} in {at} is not used: pnpm reads CA files only from npmrc files"
            )),
            _ => {}
        }
        if let (Some(c), None) = (ca, &out.ca) {
            out.ca = Some((c, at.clone()));
        }
        if let (Some(s), None) = (s, &strict) {
            strict = Some((s, format!("strict-ssl={s} in {at}")));
        }
        for line in text.lines().take(10_000) {
            let line = line.trim();
            if line.starts_with("//") && line.contains(":cafile=") {
                let host = line.split(":cafile=").next().unwrap_or_default();
                out.notes.push(format!(
                    "{at} sets a cafile for {host} only: that registry is verified with it instead"
                ));
            }
        }
    }
    if let Some((false, at)) = strict {
        out.verify_off = Some(at);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pnpm_takes_the_first_npmrc_setting_and_no_cafile_from_its_own_rc() {
        let person = Person {
            uid: 1000,
            name: None,
            home: Some("/home/ann".into()),
            env: crate::discover::env_of(&[]),
        };
        let files = |p: &Path| -> Option<String> {
            Some(match p.to_str()? {
                "/home/ann/.config/pnpm/rc" => "cafile=/rc.pem\nstrict-ssl=false\n".into(),
                "/usr/etc/npmrc" => "cafile=/prefix.pem\n".into(),
                _ => return None,
            })
        };
        let tls = settings(&person, Path::new("/usr"), files);
        assert_eq!(tls.cafile.as_ref().unwrap().0, "/prefix.pem");
        assert!(tls.verify_off.is_some(), "strict-ssl in pnpm's rc counts");
        assert_eq!(tls.notes.len(), 1);
        let mut env_person = person.clone();
        env_person.env = crate::discover::env_of(&[("npm_config_cafile", "/env.pem")]);
        let tls = settings(&env_person, Path::new("/usr"), files);
        assert_eq!(tls.cafile.unwrap().0, "/env.pem");
    }
}
