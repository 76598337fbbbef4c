//! The hooks and provisioning pieces run for real, so "the sync stays true after updates"
//! is something a test shows rather than a README promise:
//! - `trustsync hook install` on a Debian machine (a private mount namespace,
//!   tests/support/sandbox.rs) writes the `update-ca-certificates` hook; the REAL
//!   `update-ca-certificates` runs it and the runtimes are re-synced; `hook status` says
//!   when it ran; a failing re-sync and `TRUSTSYNC_HOOK=off` never fail the CA update; a
//!   hook file trustsync did not write is never overwritten or removed;
//! - seed case S2 under the patch strategy: a certifi upgrade drops the block, and the
//!   bundle hook (apt's post-invoke command as apt runs it, then the systemd unit's own
//!   `ExecStart`) puts it back, touching nothing else;
//! - a systemd machine without the Debian hook directory (Fedora/RHEL/SUSE/Arch) gets a
//!   path unit on its OS bundle; every generated unit passes `systemd-analyze verify`;
//! - the generated hook script passes `sh -n` and shellcheck;
//! - the Ansible role runs against the sandbox with `ansible-playbook -c local` (check mode
//!   changes nothing, the real run fixes and installs the hook, the second run is `ok`);
//! - the Dockerfile's ENV and RUN steps run in order and a loopback TLS client verifies;
//! - the YAML files parse.
//!
//! Missing optional tools (shellcheck, systemd-analyze, ansible-playbook, PyYAML) make a
//! test skip with a loud SKIPPED banner; the sandbox itself needs root (CI=true: must run).
#![cfg(unix)]
#![cfg(target_os = "linux")]

mod support;
use serde_json::Value;
use std::path::Path;
use std::process::Output;
use support::certs::{bundle_holds, make_cert};
use support::pyvenv;
use support::report::{show, skip_unless_ci, text};
use support::sandbox::{self, Sandbox, DEFAULT_LAYERS};
use support::tls::{CaChain, ChainSpec, TlsServer};

const EXE: &str = env!("CARGO_BIN_EXE_trustsync");
const PACKAGING: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/packaging");
/// Where Debian's update-ca-certificates looks for hooks, and where ours goes.
const HOOK: &str = "/etc/ca-certificates/update.d/trustsync";
const APT_HOOK: &str = "/etc/apt/apt.conf.d/90trustsync";
const UNITS: &str = "/etc/systemd/system";
/// Where trustsync is "installed" in the sandbox (a link to the binary under test).
const INSTALLED: &str = "/usr/local/bin/trustsync";
const VENV: &str = "/opt/venv";
const MANAGED_BUNDLE: &str = "/etc/trustsync/ca-bundle.pem";
fn packaging_file(relative: &str) -> String {
    let path = Path::new(PACKAGING).join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

/// The machine view every hook test starts from: the default layers (`/var` among them:
/// root's probe cache, `/var/cache/trustsync`, must not leak to the machine), trustsync
/// "installed" at /usr/local/bin/trustsync (no hooks yet), and a root-owned tool venv at
/// /opt/venv with the real requests, certifi and urllib3 (tests/support/pyvenv.rs), whose
/// certifi lacks any CA the test adds to the OS store.
struct Machine {
    sb: Sandbox,
    /// The venv's python3.
    python: String,
    /// The venv's certifi bundle, and its bytes as installed from PyPI.
    certifi: String,
    certifi_original: Vec<u8>,
}

fn machine() -> Option<Machine> {
    machine_with(&[])
}

/// [`machine`] with more overlaid directories; a default layer inside one of them (e.g.
/// `/usr/local` when `/usr` is asked for) gives way to it, as layers may not nest.
fn machine_with(extra_layers: &[&'static str]) -> Option<Machine> {
    let mut layers: Vec<&str> = DEFAULT_LAYERS
        .iter()
        .copied()
        .filter(|l| !extra_layers.iter().any(|e| Path::new(l).starts_with(e)))
        .collect();
    layers.extend_from_slice(extra_layers);
    let sb = Sandbox::with_layers(&layers)?;
    sb.symlink(EXE, INSTALLED);
    let real = pyvenv::install(&sb, pyvenv::REQUESTS, VENV)?;
    let certifi_original = sb
        .read_inside(&real.certifi_bundle)
        .expect("certifi's bundle");
    Some(Machine {
        sb,
        python: real.python,
        certifi: real.certifi_bundle,
        certifi_original,
    })
}

/// `trustsync …` inside the sandbox, as root, from the installed path.
fn trustsync(sb: &Sandbox, args: &[&str]) -> Output {
    let mut argv = vec![INSTALLED];
    argv.extend_from_slice(args);
    sb.run(&argv, &[])
}

/// `hook install` with the installed binary path the hooks will call.
fn hook_install(sb: &Sandbox, extra: &[&str]) -> Output {
    let mut args = vec!["hook", "install", "--binary", INSTALLED];
    args.extend_from_slice(extra);
    trustsync(sb, &args)
}

/// `hook status --json`: (exit code, document).
fn hook_status(sb: &Sandbox) -> (i32, Value) {
    let out = trustsync(sb, &["hook", "status", "--json"]);
    let doc: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("hook status --json: {e}: {}", show(&out)));
    (out.status.code().unwrap_or(-1), doc)
}

/// One hook's entry in `hook status --json`.
fn hook_entry<'a>(doc: &'a Value, kind: &str) -> &'a Value {
    doc["hooks"]
        .as_array()
        .expect("hooks")
        .iter()
        .find(|h| h["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} in {doc}"))
}

/// `stat -c %a` of a path inside the sandbox.
fn mode_inside(sb: &Sandbox, path: &str) -> String {
    text(&sb.run(&["stat", "-c", "%a", path], &[]).stdout)
        .trim()
        .to_string()
}

/// update-ca-certificates prints this when a hook exits non-zero.
fn hook_failed_line() -> String {
    format!("E: {HOOK} exited with code")
}

/// The Debian hook, end to end: installed by `hook install`, run by the REAL
/// update-ca-certificates when a CA is added, re-syncs (the default strategy puts the new CA
/// in the root-owned venv's certifi), reports in `hook status`; idempotent; removed by
/// `hook remove`.
#[test]
fn update_ca_certificates_runs_the_installed_hook_which_resyncs_every_runtime() {
    let Some(m) = machine() else { return };
    let install = hook_install(&m.sb, &[]);
    assert!(install.status.success(), "{}", show(&install));
    assert!(text(&install.stdout).contains(HOOK), "{}", show(&install));
    let script = text(&m.sb.read(HOOK).expect("the hook script"));
    assert_eq!(mode_inside(&m.sb, HOOK), "755");
    assert!(
        script.contains(&format!(
            "{INSTALLED} hook run store --strategy auto </dev/null"
        )),
        "{script}"
    );
    assert!(
        m.sb.read("/etc/systemd/system/trustsync-store.path")
            .is_none()
            && m.sb.read(APT_HOOK).is_none(),
        "Debian needs the update.d hook only"
    );
    let (code, doc) = hook_status(&m.sb);
    assert_eq!(code, 0, "{doc}");
    assert_eq!(
        hook_entry(&doc, "update-ca-certificates")["state"],
        "installed"
    );

    let corp = make_cert("Corp TLS Inspection Root", true, 2099);
    let out = sandbox::add_os_ca(&m.sb, "corp-proxy", &corp.pem);
    assert!(
        text(&out.stdout).contains("Running hooks")
            && !text(&out.stdout).contains(&hook_failed_line()),
        "{}",
        show(&out)
    );
    assert!(
        text(&out.stderr).contains("trustsync hook run store: applied: ")
            && text(&out.stderr).contains("change(s) made (undo: sudo trustsync undo)"),
        "the hook says what it did, in one line: {}",
        show(&out)
    );
    let certifi = m.sb.read(&m.certifi).expect("certifi's bundle");
    assert!(
        bundle_holds(&certifi, &corp.der),
        "certifi holds the CA just added: {}",
        show(&out)
    );
    // The rest of certifi is PyPI's, byte for byte: only trustsync's block was added.
    assert!(certifi.starts_with(&m.certifi_original), "{}", show(&out));
    assert!(
        m.sb.read(MANAGED_BUNDLE).is_none(),
        "no frozen copy of the store"
    );
    let (code, doc) = hook_status(&m.sb);
    let entry = hook_entry(&doc, "update-ca-certificates");
    assert_eq!(code, 0, "{doc}");
    assert_eq!(entry["last_run"]["outcome"], "applied", "{entry}");
    assert_eq!(entry["fired_since_change"], true, "{entry}");
    let human = text(&trustsync(&m.sb, &["hook", "status"]).stdout);
    assert!(
        human.contains("update-ca-certificates") && human.contains("last ran "),
        "{human}"
    );

    // The store rebuilt without a change: the hook runs and finds nothing to do.
    let again = m.sb.run(&["update-ca-certificates"], &[]);
    assert!(
        text(&again.stderr).contains("trustsync hook run store: nothing-to-do"),
        "{}",
        show(&again)
    );
    // A second install changes nothing.
    let twice = hook_install(&m.sb, &["--json"]);
    let plan: Value = serde_json::from_slice(&twice.stdout).unwrap();
    assert_eq!(plan["actions"], Value::Array(vec![]), "{plan}");

    // The generated script is POSIX sh (update-ca-certificates runs it with dash) and
    // shellcheck-clean.
    let copy = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(copy.path(), &script).unwrap();
    let syntax = std::process::Command::new("sh")
        .arg("-n")
        .arg(copy.path())
        .output()
        .unwrap();
    assert!(syntax.status.success(), "{}", show(&syntax));
    match std::process::Command::new("shellcheck")
        .args(["--shell=sh", "--severity=style"])
        .arg(copy.path())
        .output()
    {
        Ok(out) => assert!(out.status.success(), "{}", show(&out)),
        Err(_) => skip_unless_ci("shellcheck is not installed (apt-get install shellcheck)"),
    }

    let remove = trustsync(&m.sb, &["hook", "remove"]);
    assert!(remove.status.success(), "{}", show(&remove));
    assert!(m.sb.read_inside(HOOK).is_none(), "{}", show(&remove));
    let (code, doc) = hook_status(&m.sb);
    assert_eq!(code, 1, "a needed hook is missing: {doc}");
    assert_eq!(
        hook_entry(&doc, "update-ca-certificates")["state"],
        "missing"
    );
}

/// A re-sync that fails (here a real refusal: with the env strategy the profile snippet's
/// directory belongs to an ordinary user, and root does not write there) and the `TRUSTSYNC_HOOK=off` switch never fail the CA update;
/// the failure is on stderr and in `hook status`. A hook file of the same name trustsync
/// did not write is neither overwritten nor removed.
#[test]
fn failing_or_disabled_hooks_never_fail_the_ca_update_and_foreign_files_stay() {
    let Some(m) = machine() else { return };
    let install = hook_install(&m.sb, &["--strategy", "env"]);
    assert!(install.status.success(), "{}", show(&install));
    m.sb.chown("/etc/profile.d", 1000, 1000);
    let corp = make_cert("Corp TLS Inspection Root", true, 2099);

    let out = sandbox::add_os_ca(&m.sb, "corp-proxy", &corp.pem);
    assert!(
        !text(&out.stdout).contains(&hook_failed_line()),
        "{}",
        show(&out)
    );
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("trustsync hook run store: failed: ")
            && stderr.contains("refusing to write into /etc/profile.d as root"),
        "the failure and trustsync's own reason are on stderr: {}",
        show(&out)
    );
    let (code, doc) = hook_status(&m.sb);
    assert_eq!(code, 1, "{doc}");
    let last = &hook_entry(&doc, "update-ca-certificates")["last_run"];
    assert_eq!(last["outcome"], "failed", "{doc}");
    assert!(
        last["message"].as_str().unwrap().contains("/etc/profile.d"),
        "{doc}"
    );

    // Switched off: the hook records that it did nothing.
    m.sb.chown("/etc/profile.d", 0, 0);
    m.sb.write("/etc/default/trustsync", "TRUSTSYNC_HOOK=off\n");
    let second = make_cert("Second Corp Root", true, 2099);
    let out = sandbox::add_os_ca(&m.sb, "second-corp", &second.pem);
    assert!(
        text(&out.stderr).contains("trustsync hook run store: disabled"),
        "{}",
        show(&out)
    );
    assert!(m.sb.read_inside("/etc/profile.d/trustsync.sh").is_none());

    // Not ours: an administrator's own script under the same name.
    let remove = trustsync(&m.sb, &["hook", "remove"]);
    assert!(remove.status.success(), "{}", show(&remove));
    let theirs = "#!/bin/sh\necho their own hook\n";
    m.sb.write(HOOK, theirs);
    let refused = hook_install(&m.sb, &[]);
    assert_eq!(refused.status.code(), Some(1), "{}", show(&refused));
    assert!(
        text(&refused.stderr).contains(HOOK)
            && text(&refused.stderr).contains("not created by trustsync"),
        "{}",
        show(&refused)
    );
    let kept = trustsync(&m.sb, &["hook", "remove"]);
    assert!(kept.status.success(), "{}", show(&kept));
    assert!(
        text(&kept.stdout).contains("left in place"),
        "{}",
        show(&kept)
    );
    assert_eq!(m.sb.read(HOOK).as_deref(), Some(theirs.as_bytes()));
    let (_, doc) = hook_status(&m.sb);
    assert_eq!(
        hook_entry(&doc, "update-ca-certificates")["state"],
        "foreign"
    );
}

/// Hooks follow a `fix` run by hand: patching a bundle with `--strategy patch-bundle`
/// adds the bundle hook (apt's, no systemd here) to the installed ones.
#[test]
fn a_manual_patch_fix_brings_the_installed_hooks_along() {
    let Some(m) = machine() else { return };
    m.sb.write("/etc/default/trustsync", "TRUSTSYNC_HOOK=off\n");
    let install = hook_install(&m.sb, &[]);
    assert!(install.status.success(), "{}", show(&install));
    let corp = make_cert("Corp TLS Inspection Root", true, 2099);
    sandbox::add_os_ca(&m.sb, "corp-proxy", &corp.pem);
    assert!(m.sb.read(APT_HOOK).is_none());
    let fix = trustsync(&m.sb, &["fix", "--yes", "--strategy", "patch-bundle"]);
    assert!(fix.status.success(), "{}", show(&fix));
    assert!(
        text(&fix.stderr).contains("hooks brought up to date"),
        "{}",
        show(&fix)
    );
    let apt = text(&m.sb.read(APT_HOOK).expect("the bundle hook"));
    assert!(
        apt.contains(&format!("{INSTALLED} hook run bundles")),
        "{apt}"
    );
    let again = trustsync(&m.sb, &["fix", "--yes", "--strategy", "patch-bundle"]);
    assert!(
        again.status.success() && !text(&again.stderr).contains("hooks"),
        "{}",
        show(&again)
    );
}

/// Where systemd runs (PID 1 cannot run here, so `/run/systemd/system` marks it and a
/// stand-in recording its arguments replaces the real `/usr/bin/systemctl`, the fixed system
/// path trustsync runs it from; `/usr` is overlaid for that, `/bin` is a link to it here),
/// trustsync tells it about unit changes with fixed arguments: reload and start after
/// install, stop and reload before remove, stop and reload after `undo` took the units out.
/// A `systemctl` earlier on PATH is a decoy that must never run.
#[test]
fn a_running_systemd_is_told_about_every_unit_change() {
    let Some(m) = machine_with(&["/usr", "/run"]) else {
        return;
    };
    let log = "/opt/systemctl.log";
    let decoy_log = "/opt/decoy-systemctl.log";
    m.sb.mkdir("/run/systemd/system");
    m.sb.write(
        "/usr/bin/systemctl",
        format!("#!/bin/sh\necho \"$*\" >> {log}\n"),
    );
    m.sb.chmod("/usr/bin/systemctl", 0o755);
    m.sb.write(
        "/usr/local/sbin/systemctl",
        format!("#!/bin/sh\necho \"$*\" >> {decoy_log}\n"),
    );
    m.sb.chmod("/usr/local/sbin/systemctl", 0o755);
    m.sb.remove("/etc/ca-certificates/update.d");
    let calls = |m: &Machine| text(&m.sb.read(log).unwrap_or_default());

    let install = hook_install(&m.sb, &[]);
    assert!(install.status.success(), "{}", show(&install));
    assert!(
        m.sb.read(format!("{UNITS}/trustsync-store.path")).is_some(),
        "systemd runs: no --systemd needed"
    );
    assert_eq!(calls(&m), "daemon-reload\nrestart trustsync-store.path\n");
    let again = hook_install(&m.sb, &[]);
    assert!(again.status.success());
    assert_eq!(
        calls(&m),
        "daemon-reload\nrestart trustsync-store.path\n",
        "nothing written, nothing to tell"
    );

    let remove = trustsync(&m.sb, &["hook", "remove"]);
    assert!(remove.status.success(), "{}", show(&remove));
    assert!(
        calls(&m).ends_with("stop trustsync-store.path\ndaemon-reload\n"),
        "{}",
        calls(&m)
    );

    let install = hook_install(&m.sb, &[]);
    assert!(install.status.success(), "{}", show(&install));
    let undo = trustsync(&m.sb, &["undo"]);
    assert!(undo.status.success(), "{}", show(&undo));
    assert!(m
        .sb
        .read_inside(format!("{UNITS}/trustsync-store.path"))
        .is_none());
    assert!(
        calls(&m).ends_with("stop trustsync-store.path\ndaemon-reload\n"),
        "{}",
        calls(&m)
    );
    assert_eq!(
        m.sb.read(decoy_log),
        None,
        "the systemctl first on root's PATH ran"
    );
}

/// The command apt runs after dpkg, from our `DPkg::Post-Invoke` line.
fn apt_post_invoke_command(conf: &str) -> String {
    let opening = "DPkg::Post-Invoke { \"";
    let start = conf.find(opening).expect("a Post-Invoke line") + opening.len();
    let end = conf[start..].find("\"; };").expect("end of the command") + start;
    conf[start..end].to_string()
}

/// The `NAME.service` + `NAME.path` pair `hook install` wrote: `systemd-analyze verify`
/// inside the sandbox (where their ExecStart binary exists; it exits 0 even for unknown
/// keys, it only warns, so any output fails), then the service's ExecStart as argv (our
/// units use plain words only), to run it the way systemd would.
fn verified_exec_start(sb: &Sandbox, name: &str) -> Vec<String> {
    let service = format!("{UNITS}/{name}.service");
    if Path::new("/usr/bin/systemd-analyze").exists() {
        let path = format!("{UNITS}/{name}.path");
        let out = sb.run(&["systemd-analyze", "verify", &service, &path], &[]);
        assert!(
            out.status.success() && out.stdout.is_empty() && out.stderr.is_empty(),
            "{}",
            show(&out)
        );
    } else {
        skip_unless_ci("systemd-analyze is not installed (apt-get install systemd)");
    }
    text(&sb.read(&service).expect("the service unit"))
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .expect("ExecStart")
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

/// Seed case S2 under `--strategy patch-bundle`: the store hook patches certifi and, as
/// a bundle is patched now, adds the bundle hook (apt's post-invoke: no systemd here). A
/// certifi upgrade drops the block; apt's command puts it back. With `--systemd` the bundle
/// hook becomes a path unit watching certifi; its ExecStart, run as systemd would, puts the
/// block back after the next upgrade, and nothing else changes.
#[test]
fn certifi_upgrade_drops_the_patched_block_and_the_bundle_hook_puts_it_back() {
    let Some(m) = machine() else { return };
    let install = hook_install(&m.sb, &["--strategy", "patch-bundle"]);
    assert!(install.status.success(), "{}", show(&install));
    assert!(m.sb.read(APT_HOOK).is_none(), "nothing is patched yet");
    let corp = make_cert("Corp TLS Inspection Root", true, 2099);
    let out = sandbox::add_os_ca(&m.sb, "corp-proxy", &corp.pem);
    assert!(
        text(&out.stderr).contains("trustsync hook run store: applied"),
        "{}",
        show(&out)
    );
    let patched = m.sb.read(&m.certifi).expect("certifi patched");
    assert!(
        text(&patched).contains("# BEGIN trustsync") && bundle_holds(&patched, &corp.der),
        "{}",
        text(&patched)
    );
    assert!(
        text(&m.sb.read(HOOK).expect("the store hook"))
            .contains("hook run store --strategy patch-bundle "),
        "the installed strategy is the one the store hook runs"
    );
    let apt_conf = text(
        &m.sb
            .read(APT_HOOK)
            .expect("the store hook added the bundle hook once a bundle was patched"),
    );

    // `pip install -U certifi`: a new upstream file, without trustsync's block.
    let upgrade = |m: &Machine, extra: &str| {
        let mut upgraded = m.certifi_original.clone();
        upgraded.extend(
            std::fs::read(format!("/usr/share/ca-certificates/mozilla/{extra}.crt"))
                .expect("the ca-certificates package"),
        );
        m.sb.write(&m.certifi, &upgraded);
        upgraded
    };
    let upgraded = upgrade(&m, "ISRG_Root_X2");
    let (code, doc) = hook_status(&m.sb);
    assert_eq!(code, 1, "the bundle changed after its hook ran: {doc}");
    assert_eq!(
        hook_entry(&doc, "apt-post-invoke")["fired_since_change"],
        false,
        "{doc}"
    );
    let command = apt_post_invoke_command(&apt_conf);
    let run = m.sb.run(&["/bin/sh", "-c", command.as_str()], &[]);
    assert!(run.status.success(), "{}", show(&run));
    let restored = text(&m.sb.read(&m.certifi).unwrap());
    assert!(
        restored.starts_with(&text(&upgraded)),
        "the upgraded file is kept as it came"
    );
    assert!(
        restored.contains("# BEGIN trustsync") && bundle_holds(restored.as_bytes(), &corp.der),
        "the block is back after the upgrade: {restored}"
    );
    let (code, doc) = hook_status(&m.sb);
    assert_eq!(code, 0, "{doc}");

    // An image that boots with systemd: the bundle hook becomes a path unit.
    let units = hook_install(&m.sb, &["--systemd"]);
    assert!(units.status.success(), "{}", show(&units));
    assert!(m.sb.read_inside(APT_HOOK).is_none(), "{}", show(&units));
    let path_unit = text(
        &m.sb
            .read(format!("{UNITS}/trustsync-bundles.path"))
            .expect("the bundle path unit"),
    );
    assert!(
        path_unit.contains(&format!("PathChanged={}\n", m.certifi)),
        "{path_unit}"
    );
    assert_eq!(
        m.sb.read_link(format!("{UNITS}/paths.target.wants/trustsync-bundles.path")),
        Some(format!("{UNITS}/trustsync-bundles.path").into()),
        "enabled the way `systemctl enable` does"
    );
    let argv = verified_exec_start(&m.sb, "trustsync-bundles");
    assert_eq!(argv, [INSTALLED, "hook", "run", "bundles"]);

    let upgraded = upgrade(&m, "ISRG_Root_X1");
    let before = m.sb.changed_paths();
    let run = m.sb.run(&argv, &[]);
    assert!(run.status.success(), "{}", show(&run));
    let restored = text(&m.sb.read(&m.certifi).unwrap());
    assert!(restored.starts_with(&text(&upgraded)) && bundle_holds(restored.as_bytes(), &corp.der));
    assert_eq!(restored.matches("# BEGIN trustsync").count(), 1);
    let touched: Vec<_> =
        m.sb.changed_paths()
            .into_iter()
            .filter(|p| !before.contains(p) && !p.starts_with("/var/lib/trustsync"))
            .collect();
    assert!(
        touched.is_empty(),
        "the bundle hook changed only certifi (already changed) and its own records: {touched:?}"
    );
}

/// Fedora/RHEL/SUSE/Arch have no update-ca-certificates hook directory: with systemd, the
/// store hook is a path unit on the OS bundle file; what it runs re-syncs the runtimes.
#[test]
fn systemd_machines_without_the_debian_hook_dir_get_a_store_path_unit() {
    let Some(m) = machine() else { return };
    m.sb.remove("/etc/ca-certificates/update.d");
    let plain = hook_install(&m.sb, &[]);
    assert!(plain.status.success(), "{}", show(&plain));
    assert!(
        text(&plain.stdout).contains("no hook can see this OS's store change here"),
        "without systemd nothing can watch the store, and it says so: {}",
        show(&plain)
    );
    let install = hook_install(&m.sb, &["--systemd"]);
    assert!(install.status.success(), "{}", show(&install));
    let path_unit = text(
        &m.sb
            .read(format!("{UNITS}/trustsync-store.path"))
            .expect("the store path unit"),
    );
    assert!(
        path_unit.contains("PathChanged=/etc/ssl/certs/ca-certificates.crt\n"),
        "{path_unit}"
    );
    let argv = verified_exec_start(&m.sb, "trustsync-store");
    assert_eq!(
        argv,
        [INSTALLED, "hook", "run", "store", "--strategy", "auto"]
    );
    let corp = make_cert("Corp TLS Inspection Root", true, 2099);
    sandbox::add_os_ca(&m.sb, "corp-proxy", &corp.pem);
    assert_eq!(
        m.sb.read(&m.certifi).as_deref(),
        Some(&m.certifi_original[..]),
        "no update.d hook ran: only the unit re-syncs here"
    );
    let run = m.sb.run(&argv, &[]);
    assert!(run.status.success(), "{}", show(&run));
    assert!(bundle_holds(
        &m.sb.read(&m.certifi).expect("re-synced"),
        &corp.der
    ));
    // `hook remove` takes out the units and the enabling link.
    let remove = trustsync(&m.sb, &["hook", "remove"]);
    assert!(remove.status.success(), "{}", show(&remove));
    for gone in [
        format!("{UNITS}/trustsync-store.path"),
        format!("{UNITS}/trustsync-store.service"),
        format!("{UNITS}/paths.target.wants/trustsync-store.path"),
    ] {
        assert!(
            m.sb.read_inside(&gone).is_none() && m.sb.read_link(&gone).is_none(),
            "{gone}"
        );
    }
}

/// Loads YAML files with PyYAML and prints them as JSON, so Rust can look inside.
const YAML_TO_JSON: &str =
    "import json, sys, yaml\nprint(json.dumps([yaml.safe_load(open(p)) for p in sys.argv[1:]]))\n";

/// The Ansible role and playbook and the cloud-config parse, and say what they should.
#[test]
fn ansible_and_cloud_init_yaml_parse() {
    let files = [
        "ansible/playbook.yml",
        "ansible/roles/trustsync/tasks/main.yml",
        "ansible/roles/trustsync/defaults/main.yml",
        "cloud-init/trustsync.cloud-config.yaml",
    ];
    let out = std::process::Command::new("/usr/bin/python3")
        .arg("-c")
        .arg(YAML_TO_JSON)
        .args(files.iter().map(|f| Path::new(PACKAGING).join(f)))
        .output()
        .expect("python3");
    if !out.status.success() && text(&out.stderr).contains("No module named 'yaml'") {
        skip_unless_ci("PyYAML is missing (apt-get install python3-yaml)");
        return;
    }
    assert!(out.status.success(), "{}", show(&out));
    let docs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let tasks = docs[1].as_array().expect("a task list");
    let fix = tasks
        .iter()
        .find(|t| t["name"] == "Re-sync the runtimes that drift")
        .expect("the fix task");
    assert!(
        fix["when"].to_string().contains("summary.exit_code"),
        "{fix}"
    );
    assert!(fix["changed_when"].as_str().unwrap().contains(").changed"));
    let hooks = tasks
        .iter()
        .find(|t| t["name"] == "Install the hooks that keep the runtimes in sync after updates")
        .expect("the hook task");
    assert!(hooks["ansible.builtin.command"]["argv"]
        .as_str()
        .unwrap()
        .contains("'hook', 'install'"));
    assert_eq!(docs[2]["trustsync_strategy"], "auto");
    assert!(packaging_file("cloud-init/trustsync.cloud-config.yaml").starts_with("#cloud-config\n"));
    let cloud = &docs[3];
    assert_eq!(
        cloud["write_files"][0]["path"],
        "/usr/local/share/ca-certificates/company-root-ca.crt"
    );
    let runcmd: Vec<String> = cloud["runcmd"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    let position = |needle: &str| {
        runcmd
            .iter()
            .position(|c| c.contains(needle))
            .unwrap_or_else(|| panic!("{needle} not in runcmd {runcmd:?}"))
    };
    assert!(position("\"hook\",\"install\"") < position("update-ca-certificates"));
    assert!(position("update-ca-certificates") < position("trustsync status --quiet"));
}

/// ansible-playbook: `TRUSTSYNC_ANSIBLE_PLAYBOOK`, else the venv scripts/setup.sh makes
/// (`$TRUSTSYNC_CACHE/ansible`, default `~/.cache/trustsync/ansible`), else on PATH.
fn ansible_playbook() -> Option<String> {
    if let Ok(p) = std::env::var("TRUSTSYNC_ANSIBLE_PLAYBOOK") {
        return Some(p);
    }
    let cache = std::env::var_os("TRUSTSYNC_CACHE")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/trustsync")));
    let in_cache = cache.map(|c| c.join("ansible/bin/ansible-playbook"));
    let on_path = std::env::var("PATH")
        .unwrap_or_default()
        .split(':')
        .map(|dir| Path::new(dir).join("ansible-playbook"))
        .collect::<Vec<_>>();
    in_cache
        .into_iter()
        .chain(on_path)
        .find(|p| p.exists())
        .map(|p| p.display().to_string())
}

/// The role against the sandbox, with `-c local`: check mode changes nothing, the real run
/// installs trustsync, fixes the drift and installs the hook, a second run changes nothing.
#[test]
fn ansible_role_fixes_drift_once_and_is_idempotent() {
    let Some(playbook_bin) = ansible_playbook() else {
        skip_unless_ci("ansible-playbook not found (python3 -m venv ~/.cache/trustsync/ansible && ~/.cache/trustsync/ansible/bin/pip install ansible-core, or set TRUSTSYNC_ANSIBLE_PLAYBOOK)");
        return;
    };
    let Some(m) = machine() else { return };
    m.sb.remove(INSTALLED); // the role installs it, and the hook
    let corp = make_cert("Corp TLS Inspection Root", true, 2099);
    sandbox::add_os_ca(&m.sb, "corp-proxy", &corp.pem);

    let playbook = format!("{PACKAGING}/ansible/playbook.yml");
    let src = format!("trustsync_binary_src={EXE}");
    let run = |extra: &[&str]| {
        let mut argv = vec![
            playbook_bin.as_str(),
            "-i",
            "localhost,",
            "-c",
            "local",
            "-e",
            &src,
            // Already root, and this machine has no sudo.
            "-e",
            "ansible_become=false",
            "-e",
            "ansible_python_interpreter=/usr/bin/python3",
        ];
        argv.extend_from_slice(extra);
        argv.push(&playbook);
        m.sb.run(
            &argv,
            &[
                ("ANSIBLE_NOCOLOR", "1"),
                ("ANSIBLE_LOCALHOST_WARNING", "false"),
            ],
        )
    };
    let recap = |out: &Output| -> String {
        let stdout = text(&out.stdout);
        stdout
            .lines()
            .find(|l| l.starts_with("localhost") && l.contains("changed="))
            .unwrap_or_else(|| panic!("no recap: {}", show(out)))
            .to_string()
    };

    let check = run(&["--check"]);
    assert!(check.status.success(), "{}", show(&check));
    assert!(
        m.sb.read_inside(INSTALLED).is_none()
            && m.sb.read(&m.certifi).as_deref() == Some(&m.certifi_original[..]),
        "check mode installed or fixed something: {}",
        show(&check)
    );

    let first = run(&[]);
    assert!(first.status.success(), "{}", show(&first));
    let stdout = text(&first.stdout);
    let fix_task = stdout
        .split("TASK [")
        .find(|t| t.starts_with("trustsync : Re-sync the runtimes that drift]"))
        .unwrap_or_else(|| panic!("no fix task: {stdout}"));
    assert!(fix_task.contains("changed: [localhost]"), "{fix_task}");
    assert!(
        bundle_holds(&m.sb.read(&m.certifi).expect("certifi"), &corp.der),
        "the role's fix put the CA in the root-owned venv's certifi: {}",
        show(&first)
    );
    let hook = text(&m.sb.read(HOOK).expect("the role installed the hook"));
    assert!(
        hook.contains(&format!("{INSTALLED} hook run store")),
        "{hook}"
    );

    let second = run(&[]);
    assert!(second.status.success(), "{}", show(&second));
    assert!(recap(&second).contains("changed=0"), "{}", show(&second));

    // A failing fix fails the host with trustsync's own message (a real refusal: certifi's
    // directory now belongs to an ordinary user, so the fix falls back to the variables,
    // and the profile snippet, gone, must be written again into a directory that user
    // owns too).
    m.sb.remove(HOOK);
    let third_ca = make_cert("Third Corp Root", true, 2099);
    sandbox::add_os_ca(&m.sb, "third-corp", &third_ca.pem);
    let certifi_dir = Path::new(&m.certifi)
        .parent()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    m.sb.chown(&certifi_dir, 1000, 1000);
    m.sb.remove("/etc/profile.d/trustsync.sh");
    m.sb.chown("/etc/profile.d", 1000, 1000);
    let failing = run(&[]);
    assert!(!failing.status.success(), "{}", show(&failing));
    let stdout = text(&failing.stdout);
    assert!(
        stdout.contains("trustsync fix failed: ")
            && stdout.contains("refusing to write into /etc/profile.d as root"),
        "{stdout}"
    );
    assert!(recap(&failing).contains("failed=1"), "{}", show(&failing));
    m.sb.chown(&certifi_dir, 0, 0);
    m.sb.chown("/etc/profile.d", 0, 0);
    let restore = run(&[]);
    assert!(restore.status.success(), "{}", show(&restore));

    // Check mode on a host that drifts again (a new CA, the hook taken away so nothing
    // re-synced): the fix task reports the change it would make and makes none.
    m.sb.remove(HOOK);
    let second_ca = make_cert("Second Corp Root", true, 2099);
    sandbox::add_os_ca(&m.sb, "second-corp", &second_ca.pem);
    let bundle_before = m.sb.read(&m.certifi);
    let check = run(&["--check"]);
    assert!(check.status.success(), "{}", show(&check));
    let stdout = text(&check.stdout);
    let fix_task = stdout
        .split("TASK [")
        .find(|t| t.starts_with("trustsync : Re-sync the runtimes that drift]"))
        .unwrap_or_else(|| panic!("no fix task: {stdout}"));
    assert!(fix_task.contains("changed: [localhost]"), "{fix_task}");
    assert_eq!(
        m.sb.read(&m.certifi),
        bundle_before,
        "check mode wrote nothing"
    );
}

/// The Dockerfile's build, step by step in the sandbox (no Docker daemon here): COPY and
/// the apt/pip layers are emulated (trustsync, the hook, a venv whose certifi lacks the
/// company CA); its ENV and its trustsync/update-ca-certificates RUN lines run as written
/// with `/bin/sh -c`, as `docker build` runs them. Then a process that is not a login shell,
/// like `docker run`, verifies a loopback server whose root is the company CA.
#[test]
fn dockerfile_steps_fix_a_container_without_login_shells() {
    let Some(m) = machine() else { return };
    m.sb.remove(INSTALLED);
    // No pyenv in an image: hide the machine's.
    m.sb.remove("/root/.pyenv");
    let chain = CaChain::new(ChainSpec {
        root_name: Some("Company Root CA".into()),
        ..ChainSpec::default()
    });
    let server = TlsServer::for_chain(&chain);
    let port = server.port().to_string();
    let connect = |env: &[(&str, &str)]| {
        m.sb.run(&[m.python.as_str(), "-c", pyvenv::REQUESTS_GET, &port], env)
    };
    // The venv's real requests does not trust the company CA before.
    pyvenv::assert_verify_failed(&connect(&[]));

    let dockerfile = packaging_file("docker/Dockerfile").replace("\\\n", " ");
    let mut env: Vec<(String, String)> = Vec::new();
    let mut ran = Vec::new();
    for line in dockerfile.lines().map(str::trim) {
        let Some((instruction, rest)) = line.split_once(' ') else {
            continue;
        };
        match instruction {
            "ENV" => {
                for a in rest.split_whitespace() {
                    let (k, v) = a.split_once('=').expect("ENV KEY=value");
                    env.push((k.into(), v.into()));
                }
            }
            "COPY" => {
                let dest = rest.split_whitespace().last().unwrap();
                match dest {
                    INSTALLED => m.sb.symlink(EXE, INSTALLED),
                    "/usr/local/share/ca-certificates/company-root-ca.crt" => {
                        m.sb.write(dest, chain.root_pem())
                    }
                    other => panic!("the test does not know how to emulate COPY to {other}"),
                }
            }
            "RUN" if rest.starts_with("apt-get") || rest.starts_with("python3 -m venv") => {
                // Done by machine(): a venv with the real requests and certifi from PyPI.
            }
            "RUN" => {
                let env_refs: Vec<(&str, &str)> =
                    env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                let out = m.sb.run(&["/bin/sh", "-c", rest], &env_refs);
                assert!(out.status.success(), "RUN {rest}: {}", show(&out));
                ran.push(rest.to_string());
            }
            _ => {}
        }
    }
    assert_eq!(
        ran,
        [
            "trustsync hook install",
            "update-ca-certificates && trustsync fix --yes",
            "trustsync status"
        ],
        "the steps this test runs"
    );
    let env_refs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    pyvenv::assert_ok_200(&connect(&env_refs));
}
