//! yarn's TLS settings, for yarn 1 (classic) and yarn 2+ (berry), read from their files and
//! the environment (never by running yarn). Both give node a `ca` that *replaces* its roots
//! (`NODE_EXTRA_CA_CERTS` too) when a CA file is set, and can turn verification off.
//!
//! **yarn 1** (yarnpkg/yarn `src/registries/{base,npm,yarn}-registry.js`, `src/config.js`,
//! `src/util/request-manager.js`; measured with yarn 1.22.22): two configurations, each
//! merged *earlier wins*: the yarn one (`YARN_*` variables, then `.yarnrc` files) and the
//! npm one (`npm_config_*`, then `.npmrc` files). The files of each, in order: the project's
//! (the directory yarn runs in: not judged here), `$YARN_USERCONFIG`/`$npm_config_userconfig`
//! or the user's home file, `<prefix>/etc/yarnrc` / `<prefix>/etc/npmrc` (prefix: `$PREFIX`,
//! else the node's), and, for root only, whose "user home" is `/usr/local/share`, `$HOME`'s
//! file after the prefix's. `/etc/npmrc` is npm's, not yarn's (measured: it is not read).
//! `cafile` and `ca` come from yarn's configuration, else npm's; a `cafile` wins over `ca`
//! (the opposite of npm) and one that cannot be read is skipped with an error line.
//! `strict-ssl` is yarn's alone: its defaults set it, so npm's `strict-ssl=false` never
//! counts (measured); `strict-ssl false` in a `.yarnrc` or `YARN_STRICT_SSL=false` does,
//! while the quoted `"false"` is a string, which yarn takes as true. The `.yarnrc` `--flag`
//! lines (`src/rc.js`, later files win) are command-line options, not read here.
//!
//! **yarn berry** (yarnpkg/berry `packages/yarnpkg-core/sources/Configuration.ts`,
//! `httpUtils.ts`; measured with 4.18.1): `.yarnrc.yml` in the home and the project (the
//! project's wins; not judged here), `YARN_*` variables over both. `httpsCaFilePath`
//! (`caFilePath` before 3.0, which 3.0+ refuse to start with: "Unrecognized or legacy
//! configuration settings") becomes node's `ca`; a file that cannot be read fails every
//! request. `enableStrictSsl: false` turns verification off. `networkSettings` per host
//! pattern override the global file for the hosts they match. npmrc is never read.
//!
//! Parsing: `.yarnrc` is yarn's own lockfile syntax, hand-read here for its top-level
//! `key value` lines (no crate parses it); `.yarnrc.yml` through `yaml-rust2`.

use super::clients::{with_home, ClientTls, Person};
use crate::model::runtime::{Repair, RuntimeKind};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use yaml_rust2::{Yaml, YamlLoader};

/// yarn 1, where its settings set its own CAs or turn verification off.
pub const KIND_CLASSIC: RuntimeKind = RuntimeKind {
    name: "yarn",
    repair: Repair::Bundle,
    variable: None,
    cafile_strict: false,
};

/// yarn 2 and later (berry), likewise.
pub const KIND_BERRY: RuntimeKind = RuntimeKind {
    name: "yarn-berry",
    repair: Repair::Bundle,
    variable: None,
    cafile_strict: true,
};

/// A top-level value in a `.yarnrc`, as yarn's tokenizer types it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RcValue {
    Str(String),
    Bool(bool),
    Number(String),
}

/// The top-level `key value` pairs of a `.yarnrc` (yarn's lockfile syntax: a key, an
/// optional `:`, then a quoted string (JSON escapes), `true`/`false`, a number, or a bare
/// word up to a space, `:` or `,`; `#` starts a comment; indented lines belong to a block).
/// Public for the fuzz tests: the text is another user's.
#[doc(hidden)]
pub fn parse_yarnrc(text: &str) -> Vec<(String, RcValue)> {
    let mut out = Vec::new();
    for line in text.lines().take(10_000) {
        if line.starts_with(' ') || line.starts_with('\t') {
            continue;
        }
        let mut rest = line.trim_end_matches('\r');
        let Some((key, after)) = token(rest) else {
            continue;
        };
        rest = after.trim_start_matches(' ');
        if let Some(r) = rest.strip_prefix(':') {
            rest = r.trim_start_matches(' ');
        }
        let key = match key {
            RcValue::Str(k) => k,
            _ => continue,
        };
        if let Some((value, _)) = token(rest) {
            out.push((key, value));
        }
    }
    out
}

/// One token at the start of `s`, and what follows it.
fn token(s: &str) -> Option<(RcValue, &str)> {
    let first = s.chars().next()?;
    if first == '"' {
        let bytes = s.as_bytes();
        let mut i = 1;
        while i < bytes.len() {
            if bytes[i] == b'"' && !(bytes[i - 1] == b'\\' && (i < 2 || bytes[i - 2] != b'\\')) {
                break;
            }
            i += 1;
        }
        let end = (i + 1).min(s.len());
        let value: String = serde_json::from_str(&s[..end]).ok()?;
        return Some((RcValue::Str(value), &s[end..]));
    }
    if first.is_ascii_digit() {
        let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        return Some((RcValue::Number(s[..end].into()), &s[end..]));
    }
    // yarn's tokenizer takes `true`/`false` as a prefix, whatever follows.
    if let Some(r) = s.strip_prefix("true") {
        return Some((RcValue::Bool(true), r));
    }
    if let Some(r) = s.strip_prefix("false") {
        return Some((RcValue::Bool(false), r));
    }
    if first.is_ascii_alphabetic() || matches!(first, '/' | '.' | '-') {
        let end = s.find([':', ' ', ',']).unwrap_or(s.len());
        return Some((RcValue::Str(s[..end].into()), &s[end..]));
    }
    None
}

impl RcValue {
    fn text(&self) -> String {
        match self {
            RcValue::Str(s) | RcValue::Number(s) => s.clone(),
            RcValue::Bool(b) => b.to_string(),
        }
    }

    /// JavaScript's `Boolean(value)`, which is how yarn 1 reads `strict-ssl`.
    fn truthy(&self) -> bool {
        match self {
            RcValue::Bool(b) => *b,
            RcValue::Str(s) => !s.is_empty(),
            RcValue::Number(n) => !n.trim_start_matches('0').is_empty(),
        }
    }
}

/// yarn's `normalizeConfigOption` for a variable's value: `true`/`false` become booleans.
fn env_value(v: &str) -> RcValue {
    match v {
        "true" => RcValue::Bool(true),
        "false" => RcValue::Bool(false),
        _ => RcValue::Str(v.into()),
    }
}

/// One merged configuration of yarn 1: first setting wins.
#[derive(Default)]
struct Merged {
    values: HashMap<String, (RcValue, String)>,
}

impl Merged {
    fn offer(&mut self, key: &str, value: RcValue, at: &str) {
        self.values
            .entry(key.to_string())
            .or_insert_with(|| (value, at.to_string()));
    }

    /// `PREFIX_*` variables (any case; `_` for `-`), sorted so that two spellings settle
    /// the same way every run.
    fn offer_env(&mut self, env: &HashMap<String, String>, prefix: &str) {
        let mut vars: Vec<(&String, &String)> = env.iter().collect();
        vars.sort();
        for (k, v) in vars {
            let lower = k.to_ascii_lowercase();
            if let Some(key) = lower.strip_prefix(prefix) {
                let key = key.replace('_', "-");
                self.offer(&key, env_value(v), &format!("${k}"));
            }
        }
    }

    fn get(&self, key: &str) -> Option<&(RcValue, String)> {
        self.values.get(key)
    }
}

/// yarn 1's settings for `person` running it on the node installed at `prefix`.
pub fn classic_settings(
    person: &Person,
    prefix: &Path,
    read: impl Fn(&Path) -> Option<String>,
) -> ClientTls {
    let env = &person.env;
    let prefix = person
        .var("PREFIX")
        .map(PathBuf::from)
        .unwrap_or_else(|| prefix.to_path_buf());
    // yarn's "user home": /usr/local/share for root (src/util/user-home-dir.js).
    let user_home = if person.uid == 0 {
        Some(PathBuf::from("/usr/local/share"))
    } else {
        person.home.clone()
    };
    let mut yarn = Merged::default();
    yarn.offer_env(env, "yarn_");
    let mut npm = Merged::default();
    npm.offer_env(env, "npm_config_");
    for (merged, rc, npmrc) in [(&mut yarn, "yarnrc", false), (&mut npm, "npmrc", true)] {
        let userconfig = merged
            .get("userconfig")
            .map(|(v, _)| PathBuf::from(v.text()));
        let mut files: Vec<PathBuf> = Vec::new();
        files.extend(userconfig.or_else(|| user_home.as_ref().map(|h| h.join(format!(".{rc}")))));
        files.push(prefix.join("etc").join(rc));
        if person.uid == 0 {
            files.extend(person.home.as_ref().map(|h| h.join(format!(".{rc}"))));
        }
        for file in files {
            let Some(text) = read(&file) else { continue };
            let at = file.display().to_string();
            if npmrc {
                let (cafile, ca, strict) = super::npm::parse_npmrc(&text, env);
                if let Some(f) = cafile {
                    merged.offer("cafile", RcValue::Str(f), &at);
                }
                if let Some(c) = ca {
                    merged.offer("ca", RcValue::Str(c.join("\n")), &at);
                }
                if let Some(s) = strict {
                    merged.offer("strict-ssl", RcValue::Bool(s), &at);
                }
            } else {
                for (key, value) in parse_yarnrc(&text) {
                    merged.offer(&key, value, &at);
                }
            }
        }
    }
    let mut out = ClientTls::default();
    // strict-ssl: yarn's configuration always has it (its defaults), so npm's is unused.
    if let Some((v, at)) = yarn.get("strict-ssl") {
        if !v.truthy() {
            out.verify_off = Some(format!("strict-ssl {} in {at}", v.text()));
        }
    }
    let pick = |key: &str| yarn.get(key).or_else(|| npm.get(key));
    if let Some((v, at)) = pick("cafile") {
        let file = with_home(&v.text(), user_home.as_deref());
        if !file.is_empty() {
            out.cafile = Some((file, at.clone()));
        }
    }
    if let Some((v, at)) = pick("ca") {
        let text = v.text();
        if !text.is_empty() {
            out.ca = Some((vec![text], at.clone()));
        }
    }
    out
}

/// The TLS keys of one `.yarnrc.yml`. Public for the fuzz tests.
#[doc(hidden)]
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct BerryRc {
    pub https_ca_file_path: Option<String>,
    pub ca_file_path: Option<String>,
    pub enable_strict_ssl: Option<bool>,
    /// `networkSettings` host patterns with their own `httpsCaFilePath`/`caFilePath`.
    pub per_host: Vec<(String, String)>,
}

/// Parses a `.yarnrc.yml` (at most 1 MiB of it: a hostile file is bounded before YAML
/// sees it); `None` when it is not YAML berry could load.
#[doc(hidden)]
pub fn parse_yarnrc_yml(text: &str) -> Option<BerryRc> {
    if text.len() > 1 << 20 {
        return None;
    }
    let docs = YamlLoader::load_from_str(text).ok()?;
    let doc = docs.into_iter().next().unwrap_or(Yaml::Null);
    let map = match doc {
        Yaml::Hash(h) => h,
        _ => return Some(BerryRc::default()),
    };
    let scalar = |y: &Yaml| match y {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    };
    let mut out = BerryRc::default();
    for (k, v) in &map {
        match k.as_str() {
            Some("httpsCaFilePath") => out.https_ca_file_path = scalar(v),
            Some("caFilePath") => out.ca_file_path = scalar(v),
            Some("enableStrictSsl") => {
                out.enable_strict_ssl = match v {
                    Yaml::Boolean(b) => Some(*b),
                    other => scalar(other).and_then(|s| parse_bool(&s)),
                }
            }
            Some("networkSettings") => {
                if let Yaml::Hash(hosts) = v {
                    for (pattern, settings) in hosts.iter().take(256) {
                        let (Some(pattern), Yaml::Hash(s)) = (scalar(pattern), settings) else {
                            continue;
                        };
                        for key in ["httpsCaFilePath", "caFilePath"] {
                            if let Some(file) = s.get(&Yaml::String(key.into())).and_then(scalar) {
                                out.per_host.push((pattern.clone(), file));
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    Some(out)
}

/// berry's boolean reading (`true`/`1`, `false`/`0`).
fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

/// berry's settings for `person` (its home `.yarnrc.yml`, or `$YARN_RC_FILENAME` there,
/// and `YARN_*` variables), for berry `version`.
pub fn berry_settings(
    person: &Person,
    version: &str,
    read: impl Fn(&Path) -> Option<String>,
) -> ClientTls {
    let major: u64 = version
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(4);
    // The setting's name in this version; the other one it refuses (3.0+) or ignores.
    let (name, legacy) = if major >= 3 {
        ("httpsCaFilePath", Some("caFilePath"))
    } else {
        ("caFilePath", None)
    };
    let mut out = ClientTls {
        cafile_missing_fatal: true,
        ..ClientTls::default()
    };
    let rc_name = person.var("YARN_RC_FILENAME").unwrap_or(".yarnrc.yml");
    let home_rc = person.home.as_ref().map(|h| h.join(rc_name));
    let rc = home_rc.as_ref().and_then(|f| {
        let text = read(f)?;
        Some((parse_yarnrc_yml(&text), f.display().to_string(), f.clone()))
    });
    let mut file: Option<(String, String)> = None;
    let mut strict: Option<(bool, String)> = None;
    if let Some((parsed, at, path)) = &rc {
        let Some(parsed) = parsed else {
            out.refused = Some(format!("{at} is not YAML yarn can read: it stops there"));
            return out;
        };
        let base = path.parent().unwrap_or(Path::new("/"));
        let (set, refused) = if major >= 3 {
            (&parsed.https_ca_file_path, &parsed.ca_file_path)
        } else {
            (&parsed.ca_file_path, &None)
        };
        if refused.is_some() {
            out.refused = Some(format!(
                "{at} sets caFilePath, which yarn {version} does not know (it is httpsCaFilePath since 3.0): yarn refuses to start (\"Unrecognized or legacy configuration settings\")"
            ));
            return out;
        }
        if let Some(f) = set {
            file = Some((
                base.join(f).display().to_string(),
                format!("{name} in {at}"),
            ));
        }
        if let Some(s) = parsed.enable_strict_ssl {
            strict = Some((s, format!("enableStrictSsl: {s} in {at}")));
        }
        for (pattern, f) in &parsed.per_host {
            out.notes.push(format!(
                "networkSettings in {at}: hosts matching {pattern} are verified with {} instead",
                base.join(f).display()
            ));
        }
    }
    let var_of = |setting: &str| {
        let mut v = String::from("YARN_");
        for c in setting.chars() {
            if c.is_ascii_uppercase() {
                v.push('_');
            }
            v.push(c.to_ascii_uppercase());
        }
        v
    };
    if let Some(legacy) = legacy {
        let v = var_of(legacy);
        if person.var(&v).is_some() {
            out.refused = Some(format!(
                "${v} is set, which yarn {version} does not know: it refuses to start (\"Unrecognized or legacy configuration settings found: {legacy}\")"
            ));
            return out;
        }
    }
    let v = var_of(name);
    if let Some(f) = person.var(&v) {
        file = Some((f.to_string(), format!("${v}")));
    }
    if let Some(s) = person.var("YARN_ENABLE_STRICT_SSL").and_then(parse_bool) {
        strict = Some((s, format!("YARN_ENABLE_STRICT_SSL={s}")));
    }
    if let Some((false, at)) = strict {
        out.verify_off = Some(at);
    }
    out.cafile = file;
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(uid: u32, env: &[(&str, &str)]) -> Person {
        Person {
            uid,
            name: None,
            home: Some("/home/ann".into()),
            env: crate::discover::env_of(env),
        }
    }

    #[test]
    fn yarnrc_values_are_typed_as_yarn_types_them() {
        let rc = parse_yarnrc(
            "# c\ncafile \"/etc/a b.pem\"\nstrict-ssl false\n\"ca\" x\n  nested true\nregistry: https://r/\nn 0\n",
        );
        assert_eq!(
            rc[0],
            ("cafile".into(), RcValue::Str("/etc/a b.pem".into()))
        );
        assert_eq!(rc[1], ("strict-ssl".into(), RcValue::Bool(false)));
        assert_eq!(rc[2], ("ca".into(), RcValue::Str("x".into())));
        assert_eq!(rc[3].0, "registry");
        assert!(!RcValue::Number("0".into()).truthy());
        assert!(
            RcValue::Str("false".into()).truthy(),
            "a quoted \"false\" is true to yarn"
        );
    }

    #[test]
    fn classic_yarn_takes_the_first_setting_and_ignores_npms_strict_ssl() {
        let files = |p: &Path| -> Option<String> {
            Some(match p.to_str()? {
                "/home/ann/.yarnrc" => "cafile /home/ann/corp.pem\n".into(),
                "/usr/etc/npmrc" => {
                    "cafile=/etc/ssl/certs/ca-certificates.crt\nstrict-ssl=false\n".into()
                }
                "/home/ann/.npmrc" => "cafile=/npm-user.pem\n".into(),
                _ => return None,
            })
        };
        let tls = classic_settings(&person(1000, &[]), Path::new("/usr"), files);
        assert_eq!(tls.cafile.unwrap().0, "/home/ann/corp.pem");
        assert!(tls.verify_off.is_none(), "npm's strict-ssl is not yarn's");
        let tls = classic_settings(
            &person(
                1000,
                &[
                    ("YARN_STRICT_SSL", "false"),
                    ("npm_config_cafile", "/env.pem"),
                ],
            ),
            Path::new("/usr"),
            |_| None,
        );
        assert!(tls.verify_off.is_some());
        assert_eq!(tls.cafile.unwrap().0, "/env.pem");
        // Root's user home is /usr/local/share; $HOME's npmrc comes after the prefix's.
        let root = |p: &Path| -> Option<String> {
            Some(match p.to_str()? {
                "/usr/etc/npmrc" => "cafile=/prefix.pem\n".into(),
                "/home/ann/.npmrc" => "cafile=/home.pem\n".into(),
                _ => return None,
            })
        };
        let tls = classic_settings(&person(0, &[]), Path::new("/usr"), root);
        assert_eq!(tls.cafile.unwrap().0, "/prefix.pem");
    }

    #[test]
    fn berry_reads_its_home_rc_and_variables_and_refuses_the_legacy_name() {
        let rc = |text: &'static str| move |_: &Path| Some(text.to_string());
        let tls = berry_settings(&person(1000, &[]), "4.18.1", rc("httpsCaFilePath: corp.pem\nenableStrictSsl: false\nnetworkSettings:\n  \"*.corp\":\n    httpsCaFilePath: /x.pem\n"));
        assert_eq!(tls.cafile.unwrap().0, "/home/ann/corp.pem");
        assert!(tls.verify_off.is_some() && tls.notes.len() == 1);
        let tls = berry_settings(&person(1000, &[]), "4.18.1", rc("caFilePath: /x.pem\n"));
        assert!(tls.refused.is_some());
        let tls = berry_settings(&person(1000, &[]), "2.4.3", rc("caFilePath: /x.pem\n"));
        assert_eq!(tls.cafile.unwrap().0, "/x.pem");
        let tls = berry_settings(
            &person(1000, &[("YARN_HTTPS_CA_FILE_PATH", "/env.pem")]),
            "4.0.0",
            rc("httpsCaFilePath: /rc.pem\n"),
        );
        assert_eq!(tls.cafile.unwrap().0, "/env.pem");
        assert!(parse_yarnrc_yml(": : [").is_none());
    }
}
