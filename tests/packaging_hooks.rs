//! The provisioning pieces in `packaging/` run for real, so "the sync stays true after
//! updates" is something a test shows rather than a README promise:
//! - the Debian `update-ca-certificates` hook, installed in `/etc/ca-certificates/update.d`
//!   of a private mount namespace (tests/support/sandbox.rs) and started by the REAL
//!   `update-ca-certificates`, re-runs `trustsync fix`; does nothing where trustsync was
//!   never used or is not installed; logs a failing fix and still exits 0;
//! - seed case S2 "survives a certifi upgrade through a hook": a certifi upgrade drops the
//!   patch-bundle block, and the systemd service's own `ExecStart` line puts it back;
//! - the systemd units pass `systemd-analyze verify` without a single warning;
//! - the Ansible role runs against the sandbox with `ansible-playbook -c local` (check mode
//!   changes nothing, the real run fixes, the second run changes nothing);
//! - the Dockerfile's ENV and RUN steps run in order and a loopback TLS client verifies;
//! - the hook passes `sh -n` and shellcheck; the YAML files parse.
//!
//! Missing optional tools (shellcheck, systemd-analyze, ansible-playbook, PyYAML) make a
//! test skip with a loud SKIPPED banner; the sandbox itself needs root (CI=true: must run).
#![cfg(unix)]
#![cfg(target_os = "linux")]

mod support;
use std::io::Write;
use std::path::Path;
use std::process::{Output, Stdio};
use support::certs::make_cert;
use support::sandbox::{self, Sandbox, DEFAULT_LAYERS};
use support::tls::{CaChain, ChainSpec, TlsServer};

const EXE: &str = env!("CARGO_BIN_EXE_trustsync");
const PACKAGING: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/packaging");
/// Where Debian's update-ca-certificates looks for hooks, and where ours goes.
const HOOK: &str = "/etc/ca-certificates/update.d/trustsync";
/// Where the hook and the systemd unit expect trustsync.
const INSTALLED: &str = "/usr/local/bin/trustsync";
const VENV: &str = "/opt/venv";
const MANAGED_BUNDLE: &str = "/etc/trustsync/ca-bundle.pem";
/// Written by the logger stand-in (see [`install_logger_stand_in`]).
const LOGGER_LOG: &str = "/opt/logger-calls.log";

/// A loud skip for a missing optional tool (the test harness hides eprintln! of passing
/// tests, so this writes to the process's stderr directly).
fn skipped(what: &str) {
    let banner = "!".repeat(78);
    let _ = std::io::stderr().lock().write_all(
        format!("\n{banner}\n!!! SKIPPED: {what}\n!!! This test proved NOTHING.\n{banner}\n")
            .as_bytes(),
    );
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn show(out: &Output) -> String {
    format!(
        "status {}\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    )
}

fn packaging_file(relative: &str) -> String {
    let path = Path::new(PACKAGING).join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

/// The machine view every hook test starts from: the default layers plus `/var/cache`
/// (root's probe cache, `/var/cache/trustsync`, must not leak to the machine), trustsync
/// "installed" at /usr/local/bin/trustsync, the hook in update.d, and a venv whose certifi
/// holds one public root only, so any locally added CA makes it drift.
struct Machine {
    sb: Sandbox,
    /// The venv's certifi bundle, and its bytes as "installed".
    certifi: String,
    certifi_original: Vec<u8>,
}

fn machine() -> Option<Machine> {
    let mut layers = DEFAULT_LAYERS.to_vec();
    layers.push("/var/cache");
    let sb = Sandbox::with_layers(&layers)?;
    sb.symlink(EXE, INSTALLED);
    sb.write(HOOK, packaging_file("debian/update.d/trustsync"));
    sb.chmod(HOOK, 0o755);
    let out = sb.run(
        &["/usr/bin/python3", "-m", "venv", "--without-pip", VENV],
        &[],
    );
    assert!(out.status.success(), "{}", show(&out));
    let site = text(
        &sb.run(
            &[
                &format!("{VENV}/bin/python3"),
                "-c",
                "import sysconfig; print(sysconfig.get_paths()['purelib'])",
            ],
            &[],
        )
        .stdout,
    );
    let site = site.trim();
    // A certifi stand-in: the real package is two files, where() and Mozilla's bundle;
    // this bundle holds one public root, so a locally added CA is missing from it.
    let public = std::fs::read("/usr/share/ca-certificates/mozilla/ISRG_Root_X1.crt")
        .expect("the ca-certificates package");
    sb.write(
        format!("{site}/certifi/__init__.py"),
        "import os\ndef where():\n    return os.path.join(os.path.dirname(__file__), 'cacert.pem')\n",
    );
    let certifi = format!("{site}/certifi/cacert.pem");
    sb.write(&certifi, &public);
    Some(Machine {
        sb,
        certifi,
        certifi_original: public,
    })
}

/// Stands in for logger(1), which needs a syslog socket at /dev/log: this machine runs no
/// syslog daemon and /dev is not overlaid. It records its arguments and the message lines
/// (the hook sends them on stdin); the hook finds it first on PATH, as it would the real
/// one.
fn install_logger_stand_in(sb: &Sandbox) {
    sb.write(
        "/usr/local/bin/logger",
        format!("#!/bin/sh\n{{ printf 'logger'; printf ' %s' \"$@\"; printf '\\n'; cat; }} >> {LOGGER_LOG}\n"),
    );
    sb.chmod("/usr/local/bin/logger", 0o755);
}

fn logger_calls(sb: &Sandbox) -> String {
    sb.read(LOGGER_LOG).map(|b| text(&b)).unwrap_or_default()
}

/// trustsync has been used here: its journal directory exists (what `fix` creates).
fn mark_used(sb: &Sandbox) {
    sb.mkdir("/var/lib/trustsync");
    sb.chmod("/var/lib/trustsync", 0o700);
}

/// Runs the hook directly, as update-ca-certificates does: the change list on stdin.
fn run_hook(sb: &Sandbox, stdin: &str) -> Output {
    let mut child = sb
        .command([HOOK], &[])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the hook in the sandbox");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// update-ca-certificates prints this when a hook exits non-zero.
fn hook_failed_line() -> String {
    format!("E: {HOOK} exited with code")
}

/// The OS store gains a CA; update-ca-certificates runs the hook; the hook re-runs fix,
/// whose env strategy writes the managed bundle with the new CA. Undo reverses it.
#[test]
fn hook_resyncs_runtimes_when_update_ca_certificates_adds_a_ca() {
    let Some(m) = machine() else { return };
    mark_used(&m.sb);
    install_logger_stand_in(&m.sb);
    let corp = make_cert("Corp TLS Inspection Root", true, 2099);

    let out = sandbox::add_os_ca(&m.sb, "corp-proxy", &corp.pem);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(" added, 0 removed") && stdout.contains("Running hooks"),
        "{}",
        show(&out)
    );
    assert!(!stdout.contains(&hook_failed_line()), "{}", show(&out));
    assert!(
        stdout.contains("trustsync: re-synced runtimes with the OS trust store: Applied. ")
            && stdout.contains("change(s) made (undo: sudo trustsync undo)"),
        "the hook says what it did, in one line: {}",
        show(&out)
    );
    let bundle = text(
        &m.sb
            .read(MANAGED_BUNDLE)
            .unwrap_or_else(|| panic!("the hook's fix wrote no managed bundle: {}", show(&out))),
    );
    assert!(
        bundle.contains(&corp.fingerprint) && bundle.contains("Corp TLS Inspection Root"),
        "the managed bundle holds the CA just added: {bundle}"
    );
    assert_eq!(
        m.sb.read(&m.certifi).as_deref(),
        Some(&m.certifi_original[..]),
        "the env strategy never edits certifi, so a certifi upgrade cannot undo it"
    );
    let log = logger_calls(&m.sb);
    assert!(
        log.contains("logger -t trustsync -p user.info")
            && log.contains("update-ca-certificates added or removed ")
            && log.contains("re-ran trustsync fix --strategy env: Applied."),
        "{log}"
    );

    // A run that changes nothing in the store passes an empty list: the hook does nothing.
    let again = m.sb.run(&["update-ca-certificates"], &[]);
    assert!(
        text(&again.stdout).contains("0 added, 0 removed"),
        "{}",
        show(&again)
    );
    assert!(
        !text(&again.stdout).contains("trustsync"),
        "{}",
        show(&again)
    );
    assert_eq!(logger_calls(&m.sb), log, "nothing logged for a no-op");

    // Everything the hook's fix did is journaled like a manual fix.
    let undo = m.sb.run(&[EXE, "undo"], &[]);
    assert!(undo.status.success(), "{}", show(&undo));
    assert!(
        m.sb.read_inside(MANAGED_BUNDLE).is_none(),
        "undo removed the managed bundle: {}",
        show(&undo)
    );

    // Run by hand from a terminal (`script` gives it one): it does not wait for a change
    // list on stdin, and re-syncs.
    let by_hand = m.sb.run(
        &[
            "script",
            "--quiet",
            "--return",
            "--command",
            HOOK,
            "/dev/null",
        ],
        &[],
    );
    assert!(by_hand.status.success(), "{}", show(&by_hand));
    assert!(
        text(&by_hand.stdout)
            .contains("trustsync: re-synced runtimes with the OS trust store: Applied."),
        "{}",
        show(&by_hand)
    );
    assert!(m.sb.read(MANAGED_BUNDLE).is_some());
    assert!(logger_calls(&m.sb).contains("run by hand; re-ran trustsync fix"));
}

/// Installing the hook never surprises anyone: no journal directory, or no trustsync
/// binary, and the hook leaves the machine exactly as it was, with exit status 0.
#[test]
fn hook_does_nothing_where_trustsync_was_never_used_or_is_not_installed() {
    let Some(m) = machine() else { return };
    install_logger_stand_in(&m.sb);
    let corp = make_cert("Corp TLS Inspection Root", true, 2099);
    let out = sandbox::add_os_ca(&m.sb, "corp-proxy", &corp.pem);
    assert!(
        !text(&out.stdout).contains(&hook_failed_line()),
        "{}",
        show(&out)
    );
    assert!(!text(&out.stdout).contains("trustsync"), "{}", show(&out));
    let changed = m.sb.changed_paths();
    for path in &changed {
        assert!(
            !path.starts_with("/etc/trustsync")
                && !path.starts_with("/var/lib/trustsync")
                && !path.starts_with("/etc/profile.d")
                && !path.starts_with("/var/cache/trustsync"),
            "the hook ran trustsync on a machine that never used it: {path:?} in {changed:?}"
        );
    }
    assert_eq!(logger_calls(&m.sb), "");

    // Called directly with a change list: exit 0, silent.
    let direct = run_hook(&m.sb, "+/etc/ssl/certs/corp-proxy.pem\n");
    assert!(direct.status.success(), "{}", show(&direct));
    assert!(
        direct.stdout.is_empty() && direct.stderr.is_empty(),
        "{}",
        show(&direct)
    );

    // Used before, but trustsync uninstalled (the hook left behind): also nothing.
    mark_used(&m.sb);
    m.sb.remove(INSTALLED);
    let before = m.sb.changed_paths();
    let direct = run_hook(&m.sb, "+/etc/ssl/certs/corp-proxy.pem\n");
    assert!(direct.status.success(), "{}", show(&direct));
    assert!(
        direct.stdout.is_empty() && direct.stderr.is_empty(),
        "{}",
        show(&direct)
    );
    assert_eq!(m.sb.changed_paths(), before);
}

/// A failing fix (here a real refusal: trustsync will not use a journal directory others
/// can write) is reported on stderr and to syslog, and neither the hook nor
/// update-ca-certificates fails.
#[test]
fn hook_logs_a_failing_fix_and_still_exits_zero() {
    let Some(m) = machine() else { return };
    m.sb.mkdir("/var/lib/trustsync");
    m.sb.chmod("/var/lib/trustsync", 0o777);
    install_logger_stand_in(&m.sb);
    let corp = make_cert("Corp TLS Inspection Root", true, 2099);

    let out = sandbox::add_os_ca(&m.sb, "corp-proxy", &corp.pem);
    let stderr = text(&out.stderr);
    assert!(
        !text(&out.stdout).contains(&hook_failed_line()),
        "{}",
        show(&out)
    );
    assert!(
        stderr.contains("trustsync hook: trustsync fix --yes --strategy env failed")
            && stderr.contains("not writable by group or others"),
        "the failure and trustsync's own reason are on stderr: {}",
        show(&out)
    );
    let log = logger_calls(&m.sb);
    assert!(
        log.contains("logger -t trustsync -p user.err")
            && log.contains("failed (exit status 1; update-ca-certificates added or removed ")
            && log.contains("not writable by group or others"),
        "{log}"
    );
    assert!(m.sb.read(MANAGED_BUNDLE).is_none());

    let direct = run_hook(&m.sb, "-/etc/ssl/certs/gone.pem\n");
    assert_eq!(direct.status.code(), Some(0), "{}", show(&direct));
    assert!(text(&direct.stderr).contains("failed"), "{}", show(&direct));
}

/// `KEY=value` lines of an EnvironmentFile (comments and blanks skipped).
fn environment_file(content: &str) -> Vec<(String, String)> {
    content
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with(';'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.trim_matches('"').to_string()))
        .collect()
}

/// The unit's `Environment=KEY=value ...` assignments, in order.
fn unit_environment(unit: &str) -> Vec<(String, String)> {
    unit.lines()
        .filter_map(|line| line.strip_prefix("Environment="))
        .flat_map(str::split_whitespace)
        .map(|a| {
            let (k, v) = a.split_once('=').expect("Environment=KEY=value");
            (k.to_string(), v.to_string())
        })
        .collect()
}

/// The service's `ExecStart` as argv, with `${VAR}` expanded the way systemd does for
/// this unit (a whole-word `${VAR}` becomes one argument): `Environment=` defaults first,
/// then the EnvironmentFile's values. Small on purpose: it only needs to read our unit,
/// and it panics on anything else.
fn exec_start(unit: &str, environment_file_content: &str) -> Vec<String> {
    let mut vars = unit_environment(unit);
    vars.extend(environment_file(environment_file_content));
    let line = unit
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .expect("an ExecStart= line");
    line.split_whitespace()
        .map(
            |word| match word.strip_prefix("${").and_then(|w| w.strip_suffix('}')) {
                Some(name) => vars
                    .iter()
                    .rev()
                    .find(|(k, _)| k == name)
                    .unwrap_or_else(|| panic!("${{{name}}} is set nowhere"))
                    .1
                    .clone(),
                None => {
                    assert!(!word.contains('$'), "unexpected expansion in {word:?}");
                    word.to_string()
                }
            },
        )
        .collect()
}

/// Seed case S2 with `--strategy patch-bundle` (chosen in /etc/default/trustsync): the hook
/// appends the new CA to certifi's bundle; a certifi upgrade replaces the file and drops
/// the block; the service the daily timer starts, run exactly as its ExecStart line says,
/// puts it back.
#[test]
fn patch_bundle_block_dropped_by_a_certifi_upgrade_comes_back_through_the_service() {
    let Some(m) = machine() else { return };
    mark_used(&m.sb);
    // The real logger on this machine: it fails (no /dev/log), and the hook must not care.
    let config = packaging_file("default/trustsync")
        .replace("TRUSTSYNC_STRATEGY=env", "TRUSTSYNC_STRATEGY=patch-bundle");
    assert!(config.contains("TRUSTSYNC_STRATEGY=patch-bundle"));
    m.sb.write("/etc/default/trustsync", &config);
    let corp = make_cert("Corp TLS Inspection Root", true, 2099);

    let out = sandbox::add_os_ca(&m.sb, "corp-proxy", &corp.pem);
    assert!(
        text(&out.stdout).contains("trustsync: re-synced runtimes"),
        "{}",
        show(&out)
    );
    let patched = text(&m.sb.read(&m.certifi).expect("certifi patched"));
    assert!(
        patched.contains("# BEGIN trustsync") && patched.contains(&corp.fingerprint),
        "{patched}"
    );
    assert!(
        m.sb.read(MANAGED_BUNDLE).is_none(),
        "the configured strategy was used, not the default"
    );

    // `pip install -U certifi`: a new upstream file, without trustsync's block.
    let mut upgraded = m.certifi_original.clone();
    upgraded.extend(
        std::fs::read("/usr/share/ca-certificates/mozilla/ISRG_Root_X2.crt")
            .expect("the ca-certificates package"),
    );
    m.sb.write(&m.certifi, &upgraded);

    let unit = packaging_file("systemd/trustsync-sync.service");
    assert!(unit.contains("ConditionPathIsDirectory=/var/lib/trustsync"));
    let argv = exec_start(&unit, &config);
    assert_eq!(argv[0], INSTALLED, "{argv:?}");
    assert!(
        argv.ends_with(&["--strategy".into(), "patch-bundle".into()]),
        "{argv:?}"
    );
    let home = unit_environment(&unit)
        .iter()
        .find(|(k, _)| k == "HOME")
        .map(|(_, v)| v.clone())
        .expect("the unit sets HOME");
    let run = m.sb.run(&argv, &[("HOME", home.as_str())]);
    assert!(run.status.success(), "{}", show(&run));
    let restored = text(&m.sb.read(&m.certifi).unwrap());
    assert!(
        restored.starts_with(&text(&upgraded)),
        "the upgraded file is kept as it came"
    );
    assert!(
        restored.contains("# BEGIN trustsync") && restored.contains(&corp.fingerprint),
        "the block is back after the upgrade: {restored}"
    );
    assert_eq!(restored.matches("# BEGIN trustsync").count(), 1);
}

/// `systemd-analyze verify` of the three units, inside a sandbox where the ExecStart
/// binary exists. It exits 0 even for unknown keys or unparsable values (it only warns),
/// so any output at all fails the test.
#[test]
fn systemd_units_verify_without_warnings() {
    if !Path::new("/usr/bin/systemd-analyze").exists()
        && !Path::new("/bin/systemd-analyze").exists()
    {
        skipped("systemd-analyze is not installed (apt-get install systemd)");
        return;
    }
    let Some(sb) = Sandbox::new() else { return };
    sb.symlink(EXE, INSTALLED);
    let units = [
        "trustsync-sync.service",
        "trustsync-sync.path",
        "trustsync-sync.timer",
    ];
    let mut argv = vec!["systemd-analyze".to_string(), "verify".to_string()];
    for unit in units {
        let dest = format!("/etc/systemd/system/{unit}");
        sb.write(&dest, packaging_file(&format!("systemd/{unit}")));
        argv.push(dest);
    }
    let out = sb.run(&argv, &[]);
    assert!(
        out.status.success() && out.stdout.is_empty() && out.stderr.is_empty(),
        "{}",
        show(&out)
    );
    // The check can fail: the same units with a misspelt calendar do.
    sb.write(
        "/etc/systemd/system/trustsync-sync.timer",
        packaging_file("systemd/trustsync-sync.timer")
            .replace("OnCalendar=daily", "OnCalendar=dayly"),
    );
    let bad = sb.run(&argv, &[]);
    assert!(!bad.stderr.is_empty(), "{}", show(&bad));
}

/// The hook is POSIX sh (it runs under dash) and shellcheck-clean.
#[test]
fn hook_script_is_posix_sh_and_shellcheck_clean() {
    let hook = Path::new(PACKAGING).join("debian/update.d/trustsync");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&hook).unwrap().permissions());
    assert_eq!(
        mode & 0o111,
        0o111,
        "the hook is executable in the repository"
    );
    assert!(packaging_file("debian/update.d/trustsync").starts_with("#!/bin/sh\n"));
    let syntax = std::process::Command::new("sh")
        .arg("-n")
        .arg(&hook)
        .output()
        .unwrap();
    assert!(syntax.status.success(), "{}", show(&syntax));
    match std::process::Command::new("shellcheck")
        .args(["--shell=sh", "--severity=style"])
        .arg(&hook)
        .output()
    {
        Ok(out) => assert!(out.status.success(), "{}", show(&out)),
        Err(_) => skipped("shellcheck is not installed (apt-get install shellcheck)"),
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
        "ansible/roles/trustsync/handlers/main.yml",
        "cloud-init/trustsync.cloud-config.yaml",
    ];
    let out = std::process::Command::new("/usr/bin/python3")
        .arg("-c")
        .arg(YAML_TO_JSON)
        .args(files.iter().map(|f| Path::new(PACKAGING).join(f)))
        .output()
        .expect("python3");
    if !out.status.success() && text(&out.stderr).contains("No module named 'yaml'") {
        skipped("PyYAML is missing (apt-get install python3-yaml)");
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
    assert!(fix["changed_when"].as_str().unwrap().contains("applied"));
    assert_eq!(docs[2]["trustsync_strategy"], "env");
    assert!(packaging_file("cloud-init/trustsync.cloud-config.yaml").starts_with("#cloud-config\n"));
    let cloud = &docs[4];
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
    assert!(position("update-ca-certificates") < position("\"fix\",\"--yes\""));
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
        skipped("ansible-playbook not found (python3 -m venv ~/.cache/trustsync/ansible && ~/.cache/trustsync/ansible/bin/pip install ansible-core, or set TRUSTSYNC_ANSIBLE_PLAYBOOK)");
        return;
    };
    let Some(m) = machine() else { return };
    m.sb.remove(INSTALLED); // the role installs it
    m.sb.remove(HOOK); // and the hook
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
        m.sb.read_inside(INSTALLED).is_none() && m.sb.read_inside(MANAGED_BUNDLE).is_none(),
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
    assert!(text(
        &m.sb
            .read(MANAGED_BUNDLE)
            .expect("the role's fix wrote the managed bundle")
    )
    .contains(&corp.fingerprint));
    assert_eq!(
        m.sb.read(HOOK).as_deref(),
        Some(packaging_file("debian/update.d/trustsync").as_bytes())
    );

    let second = run(&[]);
    assert!(second.status.success(), "{}", show(&second));
    assert!(recap(&second).contains("changed=0"), "{}", show(&second));

    // Check mode on a host that drifts again (a new CA, the hook taken away so nothing
    // re-synced): the fix task reports the change it would make and makes none.
    m.sb.remove(HOOK);
    let second_ca = make_cert("Second Corp Root", true, 2099);
    sandbox::add_os_ca(&m.sb, "second-corp", &second_ca.pem);
    let bundle_before = m.sb.read(MANAGED_BUNDLE);
    let check = run(&["--check"]);
    assert!(check.status.success(), "{}", show(&check));
    let stdout = text(&check.stdout);
    let fix_task = stdout
        .split("TASK [")
        .find(|t| t.starts_with("trustsync : Re-sync the runtimes that drift]"))
        .unwrap_or_else(|| panic!("no fix task: {stdout}"));
    assert!(fix_task.contains("changed: [localhost]"), "{fix_task}");
    assert_eq!(
        m.sb.read(MANAGED_BUNDLE),
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
    m.sb.remove(HOOK);
    // No pyenv in an image: hide the machine's.
    m.sb.remove("/root/.pyenv");
    let chain = CaChain::new(ChainSpec {
        root_name: Some("Company Root CA".into()),
        ..ChainSpec::default()
    });
    let server = TlsServer::for_chain(&chain);
    let port = server.port().to_string();
    let client = format!("{VENV}/bin/python3");
    let connect =
        |env: &[(&str, &str)]| m.sb.run(&[client.as_str(), "-c", PY_REQUESTS, &port], env);
    assert!(
        text(&connect(&[]).stderr).contains("CERTIFICATE_VERIFY_FAILED"),
        "the venv does not trust the company CA before"
    );

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
                    HOOK => {
                        m.sb.write(HOOK, packaging_file("debian/update.d/trustsync"));
                        m.sb.chmod(HOOK, 0o755);
                    }
                    "/usr/local/share/ca-certificates/company-root-ca.crt" => {
                        m.sb.write(dest, chain.root_pem())
                    }
                    other => panic!("the test does not know how to emulate COPY to {other}"),
                }
            }
            "RUN" if rest.starts_with("apt-get") || rest.starts_with("python3 -m venv") => {
                // Emulated by machine(): python3 and a venv with a certifi lacking the CA.
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
            "update-ca-certificates && trustsync fix --yes",
            "trustsync status"
        ],
        "the steps this test runs"
    );
    let env_refs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let after = connect(&env_refs);
    assert!(text(&after.stdout).contains("verified"), "{}", show(&after));
}

/// What `requests.get` does with the stand-in certifi: REQUESTS_CA_BUNDLE >
/// CURL_CA_BUNDLE > certifi.where() (requests' documented precedence).
const PY_REQUESTS: &str = "import os, sys, ssl, urllib.request\nimport certifi\ncafile = os.environ.get('REQUESTS_CA_BUNDLE') or os.environ.get('CURL_CA_BUNDLE') or certifi.where()\nurllib.request.urlopen('https://127.0.0.1:%s/' % sys.argv[1], context=ssl.create_default_context(cafile=cafile), timeout=10)\nprint('verified')\n";
