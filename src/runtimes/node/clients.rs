//! What the JavaScript package managers that run on a node share (yarn 1, yarn berry, pnpm;
//! npm has its own [`super::npm`]): where their packages are found, whose settings a row is
//! judged with, how those settings are read, and the row they make.
//!
//! Each client verifies with its node's TLS, unless a setting of its own gives node a `ca`
//! (which *replaces* node's roots, `NODE_EXTRA_CA_CERTS` included) or turns verification
//! off. So, like the `npm` row, a client row appears only where such a setting is in effect
//! for someone who runs it; otherwise the node row already says what the client trusts.
//!
//! As root, the settings of another account are read with that account's rights only
//! ([`Reader::read_as`]): every file bounded, a FIFO or device refused unopened, and a link
//! the user planted (`~/.yarnrc -> /etc/shadow`) followed only as far as they could go
//! themselves. Their text is data: values reach the terminal only through the printer's
//! escaping. Nothing here runs a client: its settings are read, never asked for.

use crate::discover::Options;
use crate::model::runtime::{Note, Runtime, RuntimeKind};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use trustsync_platform::read::Reader;

/// Which package manager a package directory holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Client {
    /// yarn 1 (classic): the `yarn` package, 1.x.
    YarnClassic,
    /// yarn 2 and later: `@yarnpkg/cli-dist`, or a `yarn` package of 2.x and later.
    YarnBerry,
    Pnpm,
}

/// One installed client: its package directory, version, and the node it runs on.
#[derive(Debug, Clone)]
pub struct Installed {
    pub client: Client,
    pub package: PathBuf,
    pub version: String,
}

/// Whose settings a client row is judged with: an account that runs it.
#[derive(Debug, Clone)]
pub struct Person {
    pub uid: u32,
    /// Shown in the row's owner column when not this run's own account.
    pub name: Option<String>,
    pub home: Option<PathBuf>,
    /// The environment of that account's runs: this run's own for its own account; for
    /// another account, none of it (root's variables are not theirs).
    pub env: HashMap<String, String>,
}

impl Person {
    /// Reads `path` as this person could (see the module doc), bounded.
    pub fn read(&self, reader: &Reader, euid: u32, path: &Path) -> Option<String> {
        if self.uid == euid {
            reader.read_to_string(path).ok()
        } else {
            reader.read_to_string_as(path, self.uid).ok()
        }
    }

    pub fn var(&self, name: &str) -> Option<&str> {
        self.env
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

/// What a client's settings say, each with where it was set.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ClientTls {
    /// The CA file that replaces node's roots.
    pub cafile: Option<(String, String)>,
    /// PEM text that replaces node's roots (when no `cafile` wins).
    pub ca: Option<(Vec<String>, String)>,
    /// Verification is off, set here.
    pub verify_off: Option<String>,
    /// The client refuses to start with these settings (a setting its version does not
    /// know): every command fails.
    pub refused: Option<String>,
    /// Whether a `cafile` that cannot be read stops every request (berry) rather than being
    /// skipped with a warning (yarn 1, pnpm: node's own roots are used then).
    pub cafile_missing_fatal: bool,
    /// Worth saying, changing nothing (per-host settings, an ignored setting).
    pub notes: Vec<String>,
}

impl ClientTls {
    pub fn changes_trust(&self) -> bool {
        self.cafile.is_some()
            || self.ca.is_some()
            || self.verify_off.is_some()
            || self.refused.is_some()
    }
}

/// The row kind, label and binary of a client.
pub fn describe(inst: &Installed) -> (RuntimeKind, &'static str, PathBuf) {
    match inst.client {
        Client::YarnClassic => (
            super::yarn::KIND_CLASSIC,
            "yarn",
            inst.package.join("bin/yarn.js"),
        ),
        Client::YarnBerry => (
            super::yarn::KIND_BERRY,
            "yarn",
            inst.package.join("bin/yarn.js"),
        ),
        Client::Pnpm => (super::pnpm::KIND, "pnpm", inst.package.join("bin/pnpm.cjs")),
    }
}

/// The row for `inst` run by `person` on the node of `node_row`, or `None` when the
/// client trusts just what that node does.
pub fn row(
    inst: &Installed,
    node_row: &Runtime,
    person: &Person,
    tls: &ClientTls,
    cafile_readable: impl Fn(&str) -> bool,
) -> Option<Runtime> {
    if !tls.changes_trust() {
        return None;
    }
    let (kind, name, bin) = describe(inst);
    let mut rt = Runtime::new(
        kind,
        bin,
        format!("{name} {} ({})", inst.version, inst.package.display()),
    );
    rt.version = Some(inst.version.clone());
    rt.owner = person.name.clone().or_else(|| node_row.owner.clone());
    rt.reported_by_uid = node_row.reported_by_uid;
    if let Some(why) = &tls.refused {
        // The client's own refusal, in words from its settings module (English).
        rt.notes.push(Note {
            code: "client-refuses-config",
            message: why.clone(),
            msg: None,
            fatal: true,
        });
        return Some(rt);
    }
    if let Some(at) = &tls.verify_off {
        rt.notes.push(Note::said(
            "verification-off",
            msg!("note-client-verification-off", at = at, client = name),
            true,
        ));
        return Some(rt);
    }
    for note in &tls.notes {
        rt.notes.push(Note {
            code: "client-config",
            message: note.clone(),
            msg: None,
            fatal: false,
        });
    }
    match (&tls.cafile, &tls.ca) {
        (Some((file, at)), _) if tls.cafile_missing_fatal || cafile_readable(file) => {
            rt.configured_by = Some(format!("`{}` in {at}", cafile_key(inst.client)));
            rt.cafile = Some(file.into());
            rt.cafile_strict = tls.cafile_missing_fatal;
        }
        (cafile, Some((pems, at))) => {
            if let Some((file, cat)) = cafile {
                rt.notes.push(skipped_cafile(name, file, cat));
            }
            rt.configured_by = Some(format!("`ca` in {at}"));
            rt.builtin_from = format!("the `ca` set in {at}");
            rt.builtin = super::npm::ca_certificates(pems, at);
        }
        (Some((file, at)), None) => {
            // Skipped with a warning: node's own roots, as the node row says.
            copy_trust(node_row, &mut rt);
            rt.notes.push(skipped_cafile(name, file, at));
        }
        (None, None) => return None,
    }
    Some(rt)
}

fn cafile_key(client: Client) -> &'static str {
    match client {
        Client::YarnBerry => "httpsCaFilePath",
        Client::YarnClassic | Client::Pnpm => "cafile",
    }
}

fn skipped_cafile(name: &str, file: &str, at: &str) -> Note {
    Note::said(
        "cafile-missing",
        msg!(
            "note-client-cafile-unreadable",
            file = file,
            at = at,
            client = name
        ),
        false,
    )
}

/// Gives `rt` the trust set of the node row (its roots, its files, the extra file).
fn copy_trust(node: &Runtime, rt: &mut Runtime) {
    rt.builtin = node.builtin.clone();
    rt.builtin_from = node.builtin_from.clone();
    rt.cafile = node.cafile.clone();
    rt.cafile_strict = node.cafile_strict;
    rt.capath = node.capath.clone();
    rt.capath_store_lookup = node.capath_store_lookup;
    rt.extra_cafiles = node.extra_cafiles.clone();
    rt.overridden_by = node.overridden_by.clone();
    rt.replaces_defaults = node.replaces_defaults;
}

/// The client in package directory `dir`, if it is one (its `package.json` names it).
pub fn installed_at(dir: &Path, read: impl Fn(&Path) -> Option<String>) -> Option<Installed> {
    let text = read(&dir.join("package.json"))?;
    let doc: serde_json::Value = serde_json::from_str(&text).ok()?;
    let version = doc["version"]
        .as_str()?
        .chars()
        .take(64)
        .collect::<String>();
    let major: u64 = version.split('.').next()?.parse().ok()?;
    let client = match doc["name"].as_str()? {
        "yarn" if major < 2 => Client::YarnClassic,
        "yarn" | "@yarnpkg/cli-dist" => Client::YarnBerry,
        "pnpm" => Client::Pnpm,
        _ => return None,
    };
    Some(Installed {
        client,
        package: dir.to_path_buf(),
        version,
    })
}

/// Package directories a client may be installed in under a `node_modules` directory.
pub fn packages_in(node_modules: &Path) -> Vec<PathBuf> {
    ["yarn", "pnpm", "@yarnpkg/cli-dist"]
        .iter()
        .map(|p| node_modules.join(p))
        .collect()
}

/// Corepack's downloaded clients in one home (`~/.cache/node/corepack[/v1]/{yarn,pnpm}/V`),
/// at most 16 versions each.
pub fn corepack_packages(home: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for base in [".cache/node/corepack/v1", ".cache/node/corepack"] {
        for name in ["yarn", "pnpm"] {
            out.extend(crate::discover::bounded_subdirs(
                &home.join(base).join(name),
                16,
            ));
        }
    }
    out
}

/// The package directory holding `path` (a `--runtime` naming `…/yarn/bin/yarn.js`, or
/// the package directory itself), within 3 levels.
pub fn package_of(path: &Path, read: impl Fn(&Path) -> Option<String>) -> Option<Installed> {
    let mut dir = if path.is_dir() {
        Some(path)
    } else {
        path.parent()
    };
    for _ in 0..3 {
        let d = dir?;
        if let Some(found) = installed_at(d, &read) {
            return Some(found);
        }
        dir = d.parent();
    }
    None
}

/// The accounts whose settings a client at `package` is judged with: its owner alone when
/// the package is not root's (only they run it), else this run's own account and every
/// covered home's.
pub fn people(opts: &Options, package_owner: Option<u32>) -> Vec<Person> {
    let own = Person {
        uid: opts.euid,
        name: None,
        home: opts.home.clone(),
        env: opts.env.clone(),
    };
    let other = |a: &crate::discover::users::Account| Person {
        uid: a.uid,
        name: Some(a.name.clone()),
        home: Some(a.home.clone()),
        env: HashMap::new(),
    };
    match package_owner {
        Some(uid) if uid != 0 && uid != opts.euid => opts
            .accounts
            .iter()
            .find(|a| a.uid == uid)
            .map(other)
            .into_iter()
            .collect(),
        _ => {
            let mut out = vec![own];
            for a in &opts.homes {
                if a.uid != opts.euid && !out.iter().any(|p| p.home.as_ref() == Some(&a.home)) {
                    out.push(other(a));
                }
            }
            out
        }
    }
}

/// `~/…` made absolute against `home` (yarn 1's `resolveWithHome`, pnpm's npm-conf).
pub fn with_home(value: &str, home: Option<&Path>) -> String {
    match (value.strip_prefix("~/"), home) {
        (Some(rest), Some(h)) => h.join(rest).display().to_string(),
        _ => value.to_string(),
    }
}
