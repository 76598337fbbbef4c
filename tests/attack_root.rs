//! Attack tests: an unprivileged local user against root's trustsync.
//!
//! trustsync runs as root (`sudo trustsync status/fix`, the store and apt hooks). Each test
//! here is one way a local user could get code run as uid 0 or a root write where they
//! choose, set up for real in a private mount namespace (tests/support/sandbox.rs) with a
//! user made by the real `useradd`, and asserts that nothing of theirs ran as root and
//! nothing outside the expected paths changed. Each attack's plant is also checked to work
//! against a careless root (a control run), so a test cannot pass because the bait was dead.
//! SECURITY.md maps every class of the threat model to the tests here.
#![cfg(target_os = "linux")]

mod support;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use support::certs::{json, make_cert};
use support::report::show;
use support::sandbox::{self, Sandbox, DEFAULT_LAYERS};

const EXE: &str = env!("CARGO_BIN_EXE_trustsync");
const EVE: u32 = 2001;

/// A directory on the host (outside the overlays, so it is the same inside and out) where
/// planted code leaves `UID-TAG` files: who ran it, and which plant.
struct Marks {
    dir: tempfile::TempDir,
}

impl Marks {
    fn new() -> Marks {
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o1777)).unwrap();
        Marks { dir }
    }
    fn path(&self) -> &Path {
        self.dir.path()
    }
    /// Python that records `os.getuid()` under `tag` when it runs.
    fn python(&self, tag: &str) -> String {
        format!(
            "import os\nopen('{}/%d-{tag}' % os.getuid(), 'w').close()\n",
            self.path().display()
        )
    }
    /// Every mark left by uid 0.
    fn by_root(&self) -> Vec<String> {
        self.all()
            .into_iter()
            .filter(|n| n.starts_with("0-"))
            .collect()
    }
    fn all(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(self.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }
}

fn sandbox_with(extra: &[&str]) -> Option<Sandbox> {
    let layers: Vec<&str> = DEFAULT_LAYERS
        .iter()
        .copied()
        .chain(extra.iter().copied())
        .collect();
    Sandbox::with_layers(&layers)
}

/// The attacker: a real account, made with the real `useradd` inside the sandbox.
fn add_eve(sb: &Sandbox) {
    let uid = EVE.to_string();
    let out = sb.run(
        &[
            "/usr/sbin/useradd",
            "-M",
            "-u",
            &uid,
            "-U",
            "-d",
            "/opt/eve",
            "-s",
            "/bin/sh",
            "eve",
        ],
        &[],
    );
    assert!(out.status.success(), "{}", show(&out));
}

/// Writes an executable file owned by `uid`.
fn plant_exe(sb: &Sandbox, path: &str, text: &str, uid: u32) {
    sb.write(path, text);
    sb.chmod(path, 0o755);
    sb.chown(path, uid, uid);
}

fn status_json(
    sb: &Sandbox,
    argv_prefix: &[&str],
    extra: &[&str],
    env: &[(&str, &str)],
) -> serde_json::Value {
    let mut argv: Vec<&str> = argv_prefix.to_vec();
    argv.extend([EXE, "status", "--json", "--fresh"]);
    argv.extend_from_slice(extra);
    let out = sb.run(&argv, env);
    assert!(out.status.code().is_some_and(|c| c <= 1), "{}", show(&out));
    json(&out)
}

fn rows<'a>(doc: &'a serde_json::Value, path: &str) -> Vec<&'a serde_json::Value> {
    doc["runtimes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["path"] == path)
        .collect()
}

/// Class 1: `cd` into a directory holding `json.py`, `ssl.py`, `re.py` or a `certifi/`
/// package, then `sudo trustsync status --fresh` (and a hook run from there, as apt runs
/// Post-Invoke from /tmp): none of it runs.
#[test]
fn modules_in_the_working_directory_never_run() {
    let Some(sb) = Sandbox::new() else { return };
    let marks = Marks::new();
    let evil = tempfile::tempdir().unwrap();
    for m in ["json", "ssl", "re", "os"] {
        std::fs::write(evil.path().join(format!("{m}.py")), marks.python(m)).unwrap();
    }
    std::fs::create_dir(evil.path().join("certifi")).unwrap();
    std::fs::write(
        evil.path().join("certifi/__init__.py"),
        marks.python("certifi"),
    )
    .unwrap();
    let cwd = evil.path().to_str().unwrap();

    let doc = status_json(&sb, &["/usr/bin/env", "-C", cwd], &[], &[]);
    let py = rows(&doc, "/usr/bin/python3");
    assert!(
        py.iter().any(|r| r["kind"] == "python-ssl"
            && r["version"].as_str().is_some_and(|v| v.starts_with("3."))),
        "the system python still answered: {py:?}"
    );
    let hook = sb.run(
        &["/usr/bin/env", "-C", cwd, EXE, "hook", "run", "store"],
        &[],
    );
    assert!(hook.status.code().is_some(), "{}", show(&hook));
    assert_eq!(
        marks.by_root(),
        Vec::<String>::new(),
        "planted modules ran as root"
    );

    // Control: the bait is live for a careless root.
    let control = sb.run(
        &[
            "/usr/bin/env",
            "-C",
            cwd,
            "/usr/bin/python3",
            "-c",
            "import json",
        ],
        &[],
    );
    assert!(control.status.code().is_some());
    assert!(
        marks.by_root().contains(&"0-json".to_string()),
        "{:?}",
        marks.all()
    );
}

/// Class 2: a root-owned venv whose site-packages holds a `.pth`, a `sitecustomize.py` and
/// a `certifi` package that belong to another user: the probe runs without site (`-S`), so
/// none of them runs as root, and certifi is still found by path.
#[test]
fn another_users_site_files_in_a_root_venv_never_run_as_root() {
    let Some(sb) = Sandbox::new() else { return };
    add_eve(&sb);
    let marks = Marks::new();
    let purelib = sb.make_venv("/opt/tool/venv");
    let ca = make_cert("Some Root", true, 2040);
    for (name, text) in [
        ("evil.pth", format!("import os; exec({:?})\n", marks.python("pth"))),
        ("sitecustomize.py", marks.python("sitecustomize")),
        ("certifi/__init__.py", format!("{}__version__ = '2024.02.02'\nfrom .core import where\n", marks.python("certifi"))),
        ("certifi/core.py", "import os\ndef where():\n    return os.path.join(os.path.dirname(__file__), 'cacert.pem')\n".to_string()),
        ("certifi/cacert.pem", ca.pem.clone()),
    ] {
        let p = format!("{purelib}/{name}");
        sb.write(&p, text);
        sb.chown(&p, EVE, EVE);
    }
    sb.chown(format!("{purelib}/certifi"), EVE, EVE);

    let doc = status_json(&sb, &[], &["--runtime", "/opt/tool/venv"], &[]);
    assert_eq!(
        marks.by_root(),
        Vec::<String>::new(),
        "site files ran as root"
    );
    let venv = rows(&doc, "/opt/tool/venv/bin/python3");
    let requests = venv.iter().find(|r| r["kind"] == "requests");
    assert_eq!(
        requests.map(|r| r["cafile"].clone()),
        Some(serde_json::json!(format!("{purelib}/certifi/cacert.pem"))),
        "certifi found by path: {venv:?}"
    );

    // Control: run as root the usual way, the .pth fires.
    let control = sb.run(&["/opt/tool/venv/bin/python3", "-c", "pass"], &[]);
    assert!(control.status.success(), "{}", show(&control));
    assert!(
        marks.by_root().contains(&"0-pth".to_string()),
        "{:?}",
        marks.all()
    );
}

/// Class 1: a started program sees `/` as its working directory, only the minimal
/// environment (none of root's tokens, `PYTHON*`, `LD_*`, `NODE_OPTIONS`, and
/// `OPENSSL_CONF=/dev/null`), no descriptor root held open, and leads its own process group.
#[test]
fn programs_start_hermetically() {
    let Some(sb) = Sandbox::new() else { return };
    let marks = Marks::new();
    let dump = marks.path().join("dump");
    plant_exe(
        &sb,
        "/usr/local/bin/python3.99",
        &format!(
            "#!/bin/sh\n{{ echo \"cwd=$(pwd)\"; env; echo \"fds=$(ls /proc/self/fd | tr '\\n' ' ')\"; echo \"pid=$$\"; echo \"stat=$(cat /proc/$$/stat)\"; }} > {}\n",
            dump.display()
        ),
        0,
    );
    let env = [
        ("SECRET_TOKEN", "hunter2"),
        ("PYTHONPATH", "/opt/evil"),
        ("PYTHONSTARTUP", "/opt/evil/start.py"),
        ("LD_LIBRARY_PATH", "/opt/evil"),
        ("NODE_OPTIONS", "--require /opt/evil/x.js"),
        ("OPENSSL_CONF", "/opt/evil/openssl.cnf"),
    ];
    let out = sb.run(
        &[
            "/bin/sh",
            "-c",
            "exec 7</etc/hostname; exec \"$0\" status --fresh --json",
            EXE,
        ],
        &env,
    );
    assert!(out.status.code().is_some(), "{}", show(&out));
    let text = std::fs::read_to_string(&dump).expect("the stand-in interpreter ran");
    assert!(text.contains("cwd=/\n"), "{text}");
    for (k, v) in env {
        if k == "OPENSSL_CONF" {
            continue;
        }
        assert!(!text.contains(k) && !text.contains(v), "{k} leaked: {text}");
    }
    assert!(text.contains("OPENSSL_CONF=/dev/null"), "{text}");
    let fds: Vec<&str> = text
        .lines()
        .find_map(|l| l.strip_prefix("fds="))
        .unwrap()
        .split_whitespace()
        .collect();
    assert!(!fds.contains(&"7"), "root's descriptor leaked: {fds:?}");
    assert!(fds.len() <= 4, "{fds:?}");
    let pid = text.lines().find_map(|l| l.strip_prefix("pid=")).unwrap();
    let stat = text.lines().find_map(|l| l.strip_prefix("stat=")).unwrap();
    let pgrp = stat
        .rsplit(')')
        .next()
        .unwrap()
        .split_whitespace()
        .nth(2)
        .unwrap();
    assert_eq!(pgrp, pid, "its own process group");
}

/// Class 1: an interpreter that answers, leaves `sleep 40 &` holding its pipes and exits
/// does not hold `status` (its answer is used, no timeout), and the sleeper dies with its
/// process group.
#[test]
fn a_child_left_behind_neither_hangs_status_nor_survives() {
    let Some(sb) = Sandbox::new() else { return };
    let marks = Marks::new();
    let pidfile = marks.path().join("bgpid");
    let answer = serde_json::json!({
        "executable": "/usr/local/bin/python3.98", "version": "3.98.0", "prefix": "/usr/local",
        "verify_paths": {"cafile_env": "SSL_CERT_FILE", "cafile": "/etc/ssl/certs/ca-certificates.crt",
                         "capath_env": "SSL_CERT_DIR", "capath": "/etc/ssl/certs"},
        "site_dirs": [], "user_site": null
    });
    plant_exe(
        &sb,
        "/usr/local/bin/python3.98",
        &format!(
            "#!/bin/sh\nsleep 40 &\necho $! > {}\necho '{answer}'\n",
            pidfile.display()
        ),
        0,
    );
    let doc = status_json(&sb, &[], &["--runtime-timeout", "30"], &[]);
    let row = rows(&doc, "/usr/local/bin/python3.98");
    assert!(
        row.iter().any(|r| r["version"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.98.0"))),
        "answered, not timed out: {row:?}"
    );
    assert!(
        !row.iter()
            .any(|r| r["problems"].to_string().contains("probe-failed")),
        "{row:?}"
    );
    let pid: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    use rustix::process::{pidfd_open, Pid, PidfdFlags};
    if let Ok(fd) = pidfd_open(Pid::from_raw(pid).unwrap(), PidfdFlags::empty()) {
        let mut fds = [rustix::event::PollFd::new(
            &fd,
            rustix::event::PollFlags::IN,
        )];
        let ts = rustix::event::Timespec {
            tv_sec: 20,
            tv_nsec: 0,
        };
        let n = rustix::event::poll(&mut fds, Some(&ts)).unwrap();
        assert_eq!(n, 1, "the sleep {pid} left behind still runs");
    }
}

/// Class 1: `systemctl` is never looked up through root's `PATH`: a stand-in first on PATH
/// (where systemd runs, so trustsync does call systemctl) is not what runs.
#[test]
fn systemctl_is_not_found_through_path() {
    let Some(sb) = sandbox_with(&["/run"]) else {
        return;
    };
    let marks = Marks::new();
    sb.mkdir("/run/systemd/system");
    sb.remove("/etc/ca-certificates/update.d");
    plant_exe(
        &sb,
        "/usr/local/bin/systemctl",
        &format!(
            "#!/bin/sh\nid -u > {}/systemctl-ran\n",
            marks.path().display()
        ),
        0,
    );
    let out = sb.run(&[EXE, "hook", "install"], &[]);
    assert!(out.status.success(), "{}", show(&out));
    assert!(
        sb.read_inside("/etc/systemd/system/trustsync-store.path")
            .is_some(),
        "the unit was written, so systemctl was due: {}",
        show(&out)
    );
    assert_eq!(marks.all(), Vec::<String>::new(), "the PATH stand-in ran");
}

/// Class 2: an `openssl.cnf` can load a provider module; with root's `OPENSSL_CONF` naming
/// one another user wrote, neither `openssl` nor Python's `ssl` loads it under trustsync.
#[test]
fn openssl_conf_modules_are_never_loaded() {
    let Some(sb) = Sandbox::new() else { return };
    let marks = Marks::new();
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("evil.c");
    let so = work.path().join("evil.so");
    std::fs::write(
        &src,
        format!(
            "#include <stdio.h>\n#include <unistd.h>\n__attribute__((constructor)) static void evil(void) {{ char p[512]; snprintf(p, sizeof p, \"{}/%d-cnf\", (int)getuid()); FILE *f = fopen(p, \"w\"); if (f) fclose(f); }}\nint OSSL_provider_init(void) {{ return 0; }}\n",
            marks.path().display()
        ),
    )
    .unwrap();
    let cc = std::process::Command::new("gcc")
        .args(["-shared", "-fPIC", "-o"])
        .arg(&so)
        .arg(&src)
        .output()
        .expect("gcc (scripts/setup.sh installs it)");
    assert!(cc.status.success(), "{}", show(&cc));
    let cnf = work.path().join("evil.cnf");
    std::fs::write(
        &cnf,
        format!(
            "openssl_conf = init\n[init]\nproviders = prov\n[prov]\nevil = evil_sect\n[evil_sect]\nmodule = {}\nactivate = 1\n",
            so.display()
        ),
    )
    .unwrap();
    let cnf = cnf.to_str().unwrap();
    status_json(&sb, &[], &[], &[("OPENSSL_CONF", cnf)]);
    assert_eq!(
        marks.all(),
        Vec::<String>::new(),
        "a provider module was loaded"
    );

    let control = sb.run(&["/usr/bin/openssl", "version"], &[("OPENSSL_CONF", cnf)]);
    assert!(control.status.code().is_some());
    assert!(
        marks.by_root().contains(&"0-cnf".to_string()),
        "{:?}",
        marks.all()
    );
}

/// What eve's programs answer: paths meant to become root write targets.
fn hostile_answer(executable: &str, certifi: &str, version: &str) -> String {
    serde_json::json!({
        "executable": executable, "version": "3.11.4", "prefix": "/opt/eve",
        "verify_paths": {"cafile_env": "SSL_CERT_FILE", "cafile": "/etc/ld.so.preload",
                         "capath_env": "SSL_CERT_DIR", "capath": "/etc/cron.d"},
        "certifi": {"path": certifi, "version": version},
        "requests": {"version": "2.31.0"},
        "site_dirs": ["/etc"], "user_site": null
    })
    .to_string()
}

/// Paths changed in the sandbox since `before`, outside the ones `fix` may touch.
fn unexpected_changes(sb: &Sandbox, before: &[PathBuf]) -> Vec<PathBuf> {
    const ALLOWED: &[&str] = &[
        "/etc/trustsync",
        "/etc/profile.d/trustsync.sh",
        "/etc/environment.d",
        "/etc/environment",
        // trustsync's fixed sudoers drop-in (env_file naming its environment.d file)
        "/etc/sudoers.d/trustsync",
        "/var/lib/trustsync",
        "/var/cache/trustsync",
        "/etc/systemd",
        "/etc/ca-certificates/update.d",
        "/etc/apt/apt.conf.d",
        // root's own runtimes (its pyenv), which are root's to fix
        "/root",
    ];
    sb.changed_paths()
        .into_iter()
        .filter(|p| !before.contains(p))
        .filter(|p| !ALLOWED.iter().any(|a| p.starts_with(a)))
        .collect()
}

/// Class 3: eve's interpreter and `openssl` (run as eve) answer `cafile=/etc/ld.so.preload`,
/// `capath=/etc/cron.d`, certifi `/etc/sudoers`, `OPENSSLDIR=/etc`: `fix` as root, with
/// either strategy, writes none of them (advice instead), and changes nothing but its own
/// files.
#[test]
fn another_users_answers_never_become_root_write_targets() {
    let Some(sb) = Sandbox::new() else { return };
    add_eve(&sb);
    let marks = Marks::new();
    let corp = make_cert("Attack Corp Root CA", true, 2040);
    let add = sandbox::add_os_ca(&sb, "attack-corp", &corp.pem);
    assert!(add.status.success(), "{}", show(&add));
    sb.mkdir("/opt/eve/bin");
    sb.chown("/opt/eve", EVE, EVE);
    sb.chown("/opt/eve/bin", EVE, EVE);
    let answer = hostile_answer("/opt/eve/bin/python3", "/etc/sudoers", "2024.02.02");
    plant_exe(
        &sb,
        "/opt/eve/bin/python3",
        &format!(
            "#!/bin/sh\nid -u > {}/answered-as\necho '{answer}'\n",
            marks.path().display()
        ),
        EVE,
    );
    plant_exe(
        &sb,
        "/opt/eve/bin/openssl",
        "#!/bin/sh\necho 'OpenSSL 3.0.0'\necho 'OPENSSLDIR: \"/etc\"'\n",
        EVE,
    );
    let sudoers = sb.read_inside("/etc/sudoers");
    let before = sb.changed_paths();

    for strategy in ["patch-bundle", "env"] {
        let out = sb.run(&[EXE, "fix", "--yes", "--strategy", strategy], &[]);
        assert!(out.status.code().is_some_and(|c| c <= 1), "{}", show(&out));
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(said.contains("uid 2001"), "advice names the user: {said}");
    }
    assert_eq!(
        std::fs::read_to_string(marks.path().join("answered-as"))
            .unwrap()
            .trim(),
        EVE.to_string(),
        "eve's program ran as eve"
    );
    assert_eq!(
        sb.read_inside("/etc/sudoers"),
        sudoers,
        "/etc/sudoers changed"
    );
    assert!(
        sb.read_inside("/etc/ld.so.preload").is_none(),
        "/etc/ld.so.preload written"
    );
    assert!(
        sb.read_inside("/etc/certs").is_none(),
        "a hashed dir made at /etc/certs"
    );
    assert_eq!(unexpected_changes(&sb, &before), Vec::<PathBuf>::new());
}

/// Class 10: a far-future "certifi" in a tree another user controls is not the reference
/// `status` quotes as the OS store being out of date; the same bundle root-owned is.
#[test]
fn a_planted_future_certifi_is_not_the_reference() {
    let Some(sb) = Sandbox::new() else { return };
    add_eve(&sb);
    let planted = make_cert("Planted Future Root", true, 2045);
    sb.mkdir("/opt/eve/bin");
    sb.chown("/opt/eve", EVE, EVE);
    sb.chown("/opt/eve/bin", EVE, EVE);
    sb.write("/opt/eve/cacert.pem", &planted.pem);
    sb.chown("/opt/eve/cacert.pem", EVE, EVE);
    let answer = hostile_answer("/opt/eve/bin/python3", "/opt/eve/cacert.pem", "2099.01.01");
    plant_exe(
        &sb,
        "/opt/eve/bin/python3",
        &format!("#!/bin/sh\necho '{answer}'\n"),
        EVE,
    );
    let doc = status_json(&sb, &[], &[], &[]);
    assert!(
        !doc["system"]["behind_reference"]
            .to_string()
            .contains("Planted Future Root"),
        "{}",
        doc["system"]["behind_reference"]
    );

    // Control: the same bundle where only root can write it is a valid reference.
    sb.write("/usr/local/share/ref/cacert.pem", &planted.pem);
    let answer = hostile_answer(
        "/usr/local/bin/python3.97",
        "/usr/local/share/ref/cacert.pem",
        "2099.01.01",
    );
    plant_exe(
        &sb,
        "/usr/local/bin/python3.97",
        &format!("#!/bin/sh\necho '{answer}'\n"),
        0,
    );
    let doc = status_json(&sb, &[], &[], &[]);
    assert!(
        doc["system"]["behind_reference"]
            .to_string()
            .contains("Planted Future Root"),
        "{}",
        doc["system"]["behind_reference"]
    );
}

/// Class 9: what `fix --allow-user-dirs` patched in a directory another user owns, `undo`
/// restores byte for byte (undo must always be able to undo); without the flag, `fix`
/// leaves that bundle alone and says so.
#[test]
fn undo_restores_what_allow_user_dirs_patched() {
    let Some(sb) = Sandbox::new() else { return };
    add_eve(&sb);
    let corp = make_cert("Undo Corp Root CA", true, 2040);
    let add = sandbox::add_os_ca(&sb, "undo-corp", &corp.pem);
    assert!(add.status.success(), "{}", show(&add));
    let purelib = sb.make_venv("/opt/tool/venv");
    let other = make_cert("Upstream Root", true, 2040);
    let bundle = format!("{purelib}/certifi/cacert.pem");
    sb.write(
        format!("{purelib}/certifi/__init__.py"),
        "__version__ = '2024.02.02'\n",
    );
    sb.write(&bundle, &other.pem);
    for p in [
        format!("{purelib}/certifi"),
        format!("{purelib}/certifi/__init__.py"),
        bundle.clone(),
    ] {
        sb.chown(&p, EVE, EVE);
    }
    let original = sb.read_inside(&bundle).unwrap();
    let refused = sb.run(
        &[
            EXE,
            "fix",
            "--yes",
            "--strategy",
            "patch-bundle",
            "--runtime",
            "/opt/tool/venv",
        ],
        &[],
    );
    assert!(refused.status.code().is_some(), "{}", show(&refused));
    assert_eq!(
        sb.read_inside(&bundle).unwrap(),
        original,
        "{}",
        show(&refused)
    );

    let patched = sb.run(
        &[
            EXE,
            "fix",
            "--yes",
            "--strategy",
            "patch-bundle",
            "--allow-user-dirs",
            "--runtime",
            "/opt/tool/venv",
        ],
        &[],
    );
    assert!(patched.status.success(), "{}", show(&patched));
    assert_ne!(
        sb.read_inside(&bundle).unwrap(),
        original,
        "patched: {}",
        show(&patched)
    );
    let undo = sb.run(&[EXE, "undo"], &[]);
    assert!(undo.status.success(), "{}", show(&undo));
    assert_eq!(
        sb.read_inside(&bundle).unwrap(),
        original,
        "restored byte for byte"
    );
}

/// A swap storm: while root's `fix --allow-user-dirs` patches a bundle in eve's directory
/// (and `undo` takes it out again), eve keeps replacing that bundle with a symlink to
/// `/etc/shadow` and back. Whatever interleaving happens, `/etc/shadow` is never written:
/// every write is an `O_NOFOLLOW` walk and a rename inside her directory.
#[test]
fn a_swap_storm_on_a_write_target_never_writes_through_a_link() {
    let Some(sb) = Sandbox::new() else { return };
    add_eve(&sb);
    let corp = make_cert("Storm Corp Root CA", true, 2040);
    let add = sandbox::add_os_ca(&sb, "storm-corp", &corp.pem);
    assert!(add.status.success(), "{}", show(&add));
    let purelib = sb.make_venv("/opt/tool/venv");
    let upstream = make_cert("Upstream Root", true, 2040);
    let dir = format!("{purelib}/certifi");
    sb.write(format!("{dir}/__init__.py"), "__version__ = '2024.02.02'\n");
    sb.write(format!("{dir}/cacert.pem"), &upstream.pem);
    sb.write(format!("{dir}/good.pem"), &upstream.pem);
    for p in ["", "/__init__.py", "/cacert.pem", "/good.pem"] {
        sb.chown(format!("{dir}{p}"), EVE, EVE);
    }
    let shadow = sb.read_inside("/etc/shadow").unwrap();
    let storm = format!(
        "cd '{dir}' || exit 1; while :; do ln -sfn /etc/shadow x.tmp; mv -f x.tmp cacert.pem; cp good.pem y.tmp; mv -f y.tmp cacert.pem; done"
    );
    let root_runs = format!(
        "for i in 1 2 3 4 5 6; do {EXE} fix --yes --strategy patch-bundle --allow-user-dirs --only --runtime /opt/tool/venv >/dev/null 2>&1; {EXE} undo >/dev/null 2>&1; done; echo done"
    );
    let out = sb.run(
        &[
            "/bin/sh",
            "-c",
            "setpriv --reuid=2001 --regid=2001 --clear-groups /bin/sh -c \"$1\" & pid=$!; /bin/sh -c \"$2\"; kill $pid; wait $pid 2>/dev/null; true",
            "storm",
            &storm,
            &root_runs,
        ],
        &[],
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("done"),
        "{}",
        show(&out)
    );
    assert_eq!(
        sb.read_inside("/etc/shadow").unwrap(),
        shadow,
        "/etc/shadow was written"
    );
    let after = sb.run(&["/usr/bin/stat", "-c", "%U %a", "/etc/shadow"], &[]);
    assert_eq!(
        String::from_utf8_lossy(&after.stdout).trim(),
        "root 640",
        "{}",
        show(&after)
    );
}
