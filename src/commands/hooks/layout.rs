//! Which hooks a machine gets, and the exact text of each hook file: pure decisions over
//! plain facts, so every distribution's layout is unit-tested here on any machine.
//!
//! Why hooks at all: `trustsync fix` makes runtimes trust the OS store *as it is now*. The
//! store changes later (a company CA added with `update-ca-certificates`, a distro CA
//! update), and a certifi upgrade replaces a bundle trustsync patched. The hooks re-run the
//! relevant part of `fix` at exactly those moments:
//!
//! | hook | where | fires when | runs |
//! |---|---|---|---|
//! | `update-ca-certificates` | Debian, Ubuntu (and Alpine): a script in `/etc/ca-certificates/update.d/` | `update-ca-certificates` changed the store | `trustsync hook run store` |
//! | `store-unit` | systemd machines without that directory (Fedora/RHEL `update-ca-trust`, SUSE, Arch `trust extract-compat`): `trustsync-store.path` watching the extracted bundle | the OS bundle file is rewritten | `trustsync hook run store` |
//! | `bundle-unit` | systemd machines where `fix --strategy patch-bundle` patched bundles: `trustsync-bundles.path` watching each | a patched bundle is replaced (pip upgraded certifi) | `trustsync hook run bundles` |
//! | `apt-post-invoke` | no systemd, but apt, and patched bundles: `/etc/apt/apt.conf.d/90trustsync` | after every dpkg run | `trustsync hook run bundles` |
//!
//! Every hook only calls trustsync with fixed arguments: the binary path is checked to be
//! plain (no characters a shell or systemd would interpret) before it is written into a
//! script or unit, and nothing from the triggering event (file names on the hook's stdin)
//! ever reaches a command line.
#![forbid(unsafe_code)]

use serde::Serialize;
use std::path::{Path, PathBuf};

use crate::commands::fix::posix::Strategy;

/// The Debian/Ubuntu hook directory `update-ca-certificates` runs after every change.
pub const UPDATE_D_DIR: &str = "/etc/ca-certificates/update.d";
pub const UPDATE_D_SCRIPT: &str = "/etc/ca-certificates/update.d/trustsync";
/// Where units an administrator installs live (not the package manager's `/usr/lib`).
pub const SYSTEMD_DIR: &str = "/etc/systemd/system";
pub const STORE_PATH_UNIT: &str = "trustsync-store.path";
pub const STORE_SERVICE_UNIT: &str = "trustsync-store.service";
pub const BUNDLES_PATH_UNIT: &str = "trustsync-bundles.path";
pub const BUNDLES_SERVICE_UNIT: &str = "trustsync-bundles.service";
pub const APT_CONF_DIR: &str = "/etc/apt/apt.conf.d";
pub const APT_HOOK: &str = "/etc/apt/apt.conf.d/90trustsync";
/// Settings an administrator may edit: `TRUSTSYNC_HOOK=off` silences every hook.
pub const SETTINGS_FILE: &str = "/etc/default/trustsync";

/// The kinds of hook trustsync installs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HookKind {
    UpdateCaCertificates,
    StoreUnit,
    BundleUnit,
    AptPostInvoke,
}

impl HookKind {
    pub const ALL: [HookKind; 4] = [
        HookKind::UpdateCaCertificates,
        HookKind::StoreUnit,
        HookKind::BundleUnit,
        HookKind::AptPostInvoke,
    ];

    pub fn name(self) -> &'static str {
        match self {
            HookKind::UpdateCaCertificates => "update-ca-certificates",
            HookKind::StoreUnit => "store-unit",
            HookKind::BundleUnit => "bundle-unit",
            HookKind::AptPostInvoke => "apt-post-invoke",
        }
    }

    /// What the hook re-syncs when it fires.
    pub fn trigger(self) -> Trigger {
        match self {
            HookKind::UpdateCaCertificates | HookKind::StoreUnit => Trigger::Store,
            HookKind::BundleUnit | HookKind::AptPostInvoke => Trigger::Bundles,
        }
    }

    /// Every file this kind of hook consists of (whether or not installed).
    pub fn paths(self) -> Vec<PathBuf> {
        let unit = |name: &str| Path::new(SYSTEMD_DIR).join(name);
        match self {
            HookKind::UpdateCaCertificates => vec![PathBuf::from(UPDATE_D_SCRIPT)],
            HookKind::StoreUnit => vec![
                unit(STORE_SERVICE_UNIT),
                unit(STORE_PATH_UNIT),
                enable_link(STORE_PATH_UNIT).0,
            ],
            HookKind::BundleUnit => vec![
                unit(BUNDLES_SERVICE_UNIT),
                unit(BUNDLES_PATH_UNIT),
                enable_link(BUNDLES_PATH_UNIT).0,
            ],
            HookKind::AptPostInvoke => vec![PathBuf::from(APT_HOOK)],
        }
    }

    /// The systemd path unit to enable, for unit hooks.
    pub fn path_unit(self) -> Option<&'static str> {
        match self {
            HookKind::StoreUnit => Some(STORE_PATH_UNIT),
            HookKind::BundleUnit => Some(BUNDLES_PATH_UNIT),
            _ => None,
        }
    }
}

/// What `trustsync hook run` re-syncs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Trigger {
    /// The OS store changed: a full `fix --yes` with the installed strategy.
    Store,
    /// A patched bundle may have been replaced: put trustsync's marked block back into the
    /// bundles it patched before, and nothing else.
    Bundles,
}

impl Trigger {
    pub fn name(self) -> &'static str {
        match self {
            Trigger::Store => "store",
            Trigger::Bundles => "bundles",
        }
    }
}

/// What the machine offers, gathered by the caller (pure data, so decisions are testable).
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// `/etc/ca-certificates/update.d` is a directory.
    pub update_d: bool,
    /// systemd runs this machine (`/run/systemd/system`), or `--systemd` asked for units
    /// anyway (an image that boots with systemd later).
    pub systemd: bool,
    /// `/etc/apt/apt.conf.d` is a directory.
    pub apt: bool,
    /// Files the OS rewrites when its store changes (its bundle), watched by the store unit.
    pub store_files: Vec<PathBuf>,
    /// Bundles trustsync patched (from its journal), watched by the bundle hooks.
    pub patched_bundles: Vec<PathBuf>,
}

/// One file of a hook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookFile {
    pub path: PathBuf,
    pub contents: String,
    pub mode: u32,
}

/// A hook chosen for this machine, with its files and, for systemd path units, the link
/// that enables it (`paths.target.wants/NAME.path`, exactly what `systemctl enable` makes
/// for `WantedBy=paths.target`): written by trustsync's engine, so it is journaled and
/// works in an image whose systemd is not running.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hook {
    pub kind: HookKind,
    pub files: Vec<HookFile>,
    pub enable_link: Option<(PathBuf, PathBuf)>,
}

/// Where systemd looks for units wanted by `paths.target`.
pub const PATHS_WANTS_DIR: &str = "/etc/systemd/system/paths.target.wants";

fn enable_link(unit: &str) -> (PathBuf, PathBuf) {
    (
        Path::new(PATHS_WANTS_DIR).join(unit),
        Path::new(SYSTEMD_DIR).join(unit),
    )
}

/// The hooks for this machine, and plain-words notes on what no hook can cover here.
pub fn choose(facts: &Facts, binary: &str, strategy: Strategy) -> (Vec<Hook>, Vec<String>) {
    let mut hooks = Vec::new();
    let mut notes = Vec::new();
    if facts.update_d {
        hooks.push(update_d_hook(binary, strategy));
    } else if facts.systemd && !facts.store_files.is_empty() {
        hooks.push(store_unit_hook(binary, strategy, &facts.store_files));
    } else {
        notes.push(
            "no hook can see this OS's store change here (no /etc/ca-certificates/update.d, no systemd): run `sudo trustsync fix --yes` after changing the store"
                .to_string(),
        );
    }
    if !facts.patched_bundles.is_empty() {
        if facts.systemd {
            hooks.push(bundle_unit_hook(binary, &facts.patched_bundles));
        } else if facts.apt {
            hooks.push(apt_hook(binary));
            notes.push("patched bundles are re-checked after every dpkg run only; after `pip install -U certifi`, run `sudo trustsync hook run bundles`".to_string());
        } else {
            notes.push("nothing here can watch the bundles trustsync patched: after upgrading certifi (or any package owning one), run `sudo trustsync hook run bundles`".to_string());
        }
    }
    (hooks, notes)
}

/// A binary path is written into shell scripts, apt configuration (a shell command) and
/// systemd units: only characters none of them interprets are accepted, so no quoting is
/// ever needed (the `c_rehash` CVEs came from exactly such interpolation).
pub fn check_binary_path(path: &Path) -> Result<String, String> {
    let text = path
        .to_str()
        .ok_or_else(|| format!("{}: not valid UTF-8", path.display()))?;
    let plain = text
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'.' | b'_' | b'+' | b'-'));
    if !path.is_absolute() || !plain || text.contains("/../") {
        return Err(format!(
            "{text}: hooks call trustsync by an absolute path of letters, digits and /._+- only; install it somewhere like /usr/local/bin, or pass --binary"
        ));
    }
    Ok(text.to_string())
}

fn strategy_arg(strategy: Strategy) -> &'static str {
    match strategy {
        Strategy::Auto => "auto",
        Strategy::Env => "env",
        Strategy::PatchBundle => "patch-bundle",
    }
}

/// First line of every file trustsync writes as a hook: says who owns it and how it goes.
fn banner(comment: &str) -> String {
    format!(
        "{comment} Written by `trustsync hook install`; `trustsync hook remove` takes it out, `trustsync hook status` shows when it last ran.\n"
    )
}

fn update_d_hook(binary: &str, strategy: Strategy) -> Hook {
    let strategy = strategy_arg(strategy);
    let contents = format!(
        r#"#!/bin/sh
{banner}#
# update-ca-certificates runs this after it changed the store, with the names of the added
# (+) and removed (-) certificates on stdin. Those names are never used: trustsync reads
# the store itself. It re-syncs every runtime (`trustsync fix --yes --strategy {strategy}`)
# and never fails the update that ran it: a failure is printed and kept for
# `trustsync hook status`.
cat >/dev/null
[ -x {binary} ] || exit 0
{binary} hook run store --strategy {strategy} </dev/null || echo "trustsync: the re-sync failed; see \`trustsync hook status\`" >&2
exit 0
"#,
        banner = banner("#"),
    );
    Hook {
        kind: HookKind::UpdateCaCertificates,
        files: vec![HookFile {
            path: PathBuf::from(UPDATE_D_SCRIPT),
            contents,
            mode: 0o755,
        }],
        enable_link: None,
    }
}

fn service_unit(description: &str, binary: &str, args: &str) -> String {
    format!(
        "{banner}[Unit]
Description={description}
ConditionPathExists={binary}

[Service]
Type=oneshot
ExecStart={binary} hook run {args}
# Asking interpreters where they look needs no network.
PrivateNetwork=yes
Nice=10
IOSchedulingClass=idle
",
        banner = banner("#"),
    )
}

fn path_unit(description: &str, service: &str, watched: &[PathBuf]) -> String {
    let mut text = format!(
        "{banner}[Unit]
Description={description}

[Path]
",
        banner = banner("#"),
    );
    for path in watched {
        text.push_str(&format!("PathChanged={}\n", unit_path(path)));
    }
    text.push_str(&format!(
        "Unit={service}

[Install]
WantedBy=paths.target
"
    ));
    text
}

/// A path in a unit file: systemd expands `%` specifiers and splits on whitespace, so
/// those are escaped as systemd documents (`%%`, `\x20`); a backslash becomes `\x5c`.
fn unit_path(path: &Path) -> String {
    let mut out = String::new();
    for c in path.to_string_lossy().chars() {
        match c {
            '%' => out.push_str("%%"),
            '\\' => out.push_str("\\x5c"),
            c if c.is_whitespace() || c.is_control() => {
                for b in c.to_string().bytes() {
                    out.push_str(&format!("\\x{b:02x}"));
                }
            }
            c => out.push(c),
        }
    }
    out
}

fn store_unit_hook(binary: &str, strategy: Strategy, watched: &[PathBuf]) -> Hook {
    let strategy = strategy_arg(strategy);
    let unit = |name: &str| Path::new(SYSTEMD_DIR).join(name);
    Hook {
        kind: HookKind::StoreUnit,
        files: vec![
            HookFile {
                path: unit(STORE_SERVICE_UNIT),
                contents: service_unit(
                    "Re-sync TLS runtimes with the OS trust store (trustsync)",
                    binary,
                    &format!("store --strategy {strategy}"),
                ),
                mode: 0o644,
            },
            HookFile {
                path: unit(STORE_PATH_UNIT),
                contents: path_unit(
                    "Watch the OS trust store for trustsync",
                    STORE_SERVICE_UNIT,
                    watched,
                ),
                mode: 0o644,
            },
        ],
        enable_link: Some(enable_link(STORE_PATH_UNIT)),
    }
}

fn bundle_unit_hook(binary: &str, patched: &[PathBuf]) -> Hook {
    let unit = |name: &str| Path::new(SYSTEMD_DIR).join(name);
    Hook {
        kind: HookKind::BundleUnit,
        files: vec![
            HookFile {
                path: unit(BUNDLES_SERVICE_UNIT),
                contents: service_unit(
                    "Put trustsync's block back into CA bundles a package upgrade replaced",
                    binary,
                    "bundles",
                ),
                mode: 0o644,
            },
            HookFile {
                path: unit(BUNDLES_PATH_UNIT),
                contents: path_unit(
                    "Watch the CA bundles trustsync patched",
                    BUNDLES_SERVICE_UNIT,
                    patched,
                ),
                mode: 0o644,
            },
        ],
        enable_link: Some(enable_link(BUNDLES_PATH_UNIT)),
    }
}

fn apt_hook(binary: &str) -> Hook {
    let contents = format!(
        "{banner}// After every dpkg run, put trustsync's marked block back into any bundle it patched
// that a package upgrade replaced; never fails the apt run.
DPkg::Post-Invoke {{ \"if [ -x {binary} ]; then cd / && {binary} hook run bundles </dev/null || true; fi\"; }};
",
        banner = banner("//"),
    );
    Hook {
        kind: HookKind::AptPostInvoke,
        files: vec![HookFile {
            path: PathBuf::from(APT_HOOK),
            contents,
            mode: 0o644,
        }],
        enable_link: None,
    }
}

/// `TRUSTSYNC_HOOK=off` in `/etc/default/trustsync` silences every hook. The file is read
/// as `KEY=value` lines (optionally quoted), never executed.
pub fn hooks_disabled(settings: &str) -> bool {
    settings.lines().any(|line| {
        let line = line.trim();
        let Some(value) = line.strip_prefix("TRUSTSYNC_HOOK=") else {
            return false;
        };
        let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
        matches!(value, "off" | "no" | "false" | "0")
    })
}

/// The argv a unit's `ExecStart=` runs (our units only: plain words, no quoting), for
/// `hook status` and for tests that fire a unit without systemd.
pub fn exec_start(unit_text: &str) -> Option<Vec<String>> {
    let line = unit_text
        .lines()
        .find_map(|l| l.trim().strip_prefix("ExecStart="))?;
    Some(line.split_whitespace().map(str::to_string).collect())
}

/// The paths a path unit watches (`PathChanged=` lines, unescaped).
pub fn watched_paths(unit_text: &str) -> Vec<PathBuf> {
    unit_text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("PathChanged="))
        .map(|p| PathBuf::from(unescape_unit_path(p)))
        .collect()
}

fn unescape_unit_path(text: &str) -> String {
    let mut bytes = Vec::new();
    let raw = text.as_bytes();
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'%' && raw.get(i + 1) == Some(&b'%') {
            bytes.push(b'%');
            i += 2;
        } else if raw[i] == b'\\' && raw.get(i + 1) == Some(&b'x') && i + 4 <= raw.len() {
            match std::str::from_utf8(&raw[i + 2..i + 4])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                Some(b) => {
                    bytes.push(b);
                    i += 4;
                }
                None => {
                    bytes.push(raw[i]);
                    i += 1;
                }
            }
        } else {
            bytes.push(raw[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> Facts {
        Facts {
            store_files: vec![PathBuf::from(
                "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
            )],
            ..Facts::default()
        }
    }

    fn kinds(hooks: &[Hook]) -> Vec<HookKind> {
        hooks.iter().map(|h| h.kind).collect()
    }

    #[test]
    fn debian_gets_the_update_d_script_even_with_systemd() {
        let f = Facts {
            update_d: true,
            systemd: true,
            ..facts()
        };
        let (hooks, notes) = choose(&f, "/usr/bin/trustsync", Strategy::Env);
        assert_eq!(kinds(&hooks), [HookKind::UpdateCaCertificates]);
        assert!(notes.is_empty());
        let script = &hooks[0].files[0];
        assert_eq!(script.mode, 0o755);
        assert!(script.contents.starts_with("#!/bin/sh\n"));
        assert!(script
            .contents
            .contains("/usr/bin/trustsync hook run store --strategy env </dev/null"));
        assert!(script.contents.trim_end().ends_with("exit 0"));
    }

    #[test]
    fn fedora_with_systemd_gets_a_path_unit_on_the_extracted_bundle() {
        let f = Facts {
            systemd: true,
            ..facts()
        };
        let (hooks, _) = choose(&f, "/usr/bin/trustsync", Strategy::PatchBundle);
        assert_eq!(kinds(&hooks), [HookKind::StoreUnit]);
        let path = &hooks[0].files[1];
        assert_eq!(
            watched_paths(&path.contents),
            [PathBuf::from(
                "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem"
            )]
        );
        assert_eq!(
            exec_start(&hooks[0].files[0].contents).unwrap(),
            [
                "/usr/bin/trustsync",
                "hook",
                "run",
                "store",
                "--strategy",
                "patch-bundle"
            ]
        );
    }

    #[test]
    fn no_mechanism_is_said_not_hidden() {
        let (hooks, notes) = choose(&facts(), "/usr/bin/trustsync", Strategy::Env);
        assert!(hooks.is_empty());
        assert!(notes[0].contains("sudo trustsync fix --yes"), "{notes:?}");
    }

    #[test]
    fn patched_bundles_get_a_unit_with_systemd_and_apt_otherwise() {
        let patched = vec![PathBuf::from("/opt/app/lib/certifi/cacert.pem")];
        let with_systemd = Facts {
            update_d: true,
            systemd: true,
            apt: true,
            patched_bundles: patched.clone(),
            ..facts()
        };
        let (hooks, _) = choose(&with_systemd, "/usr/bin/trustsync", Strategy::PatchBundle);
        assert_eq!(
            kinds(&hooks),
            [HookKind::UpdateCaCertificates, HookKind::BundleUnit]
        );
        assert_eq!(watched_paths(&hooks[1].files[1].contents), patched);
        let without = Facts {
            systemd: false,
            ..with_systemd
        };
        let (hooks, notes) = choose(&without, "/usr/bin/trustsync", Strategy::PatchBundle);
        assert_eq!(
            kinds(&hooks),
            [HookKind::UpdateCaCertificates, HookKind::AptPostInvoke]
        );
        assert!(hooks[1].files[0]
            .contents
            .contains("DPkg::Post-Invoke { \"if [ -x /usr/bin/trustsync ]; then cd / && /usr/bin/trustsync hook run bundles"));
        assert!(notes.iter().any(|n| n.contains("hook run bundles")));
    }

    #[test]
    fn unit_paths_survive_spaces_and_percent_signs() {
        let odd = PathBuf::from("/opt/my app/100%/cacert.pem");
        let text = path_unit("x", "y.service", std::slice::from_ref(&odd));
        assert!(text.contains("PathChanged=/opt/my\\x20app/100%%/cacert.pem\n"));
        assert_eq!(watched_paths(&text), [odd]);
    }

    #[test]
    fn binary_paths_a_shell_would_interpret_are_refused() {
        assert!(check_binary_path(Path::new("/usr/local/bin/trustsync")).is_ok());
        for bad in [
            "trustsync",
            "/opt/my tools/trustsync",
            "/tmp/$(reboot)",
            "/usr/bin/trust;sync",
            "/a/../b",
        ] {
            assert!(check_binary_path(Path::new(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn settings_switch_reads_only_its_key() {
        assert!(hooks_disabled("# x\nTRUSTSYNC_HOOK=off\n"));
        assert!(hooks_disabled("TRUSTSYNC_HOOK=\"no\"\n"));
        assert!(!hooks_disabled(
            "#TRUSTSYNC_HOOK=off\nTRUSTSYNC_STRATEGY=env\n"
        ));
        assert!(!hooks_disabled("TRUSTSYNC_HOOK=on\n"));
    }
}
