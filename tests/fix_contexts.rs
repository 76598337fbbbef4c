//! Issue "Reach of fixes": after the default `sudo trustsync fix`, the real requests
//! verifies in every context a user or a job starts it from, not only in a new login
//! shell, and `undo` takes every context back.
//!
//! - A root-owned tool venv (its certifi lacks the company CA): the default strategy
//!   patches certifi's own bundle, so `bash -l`, `bash -c`, `sudo -u` (the real sudo,
//!   env_reset), `su -`, `su`, a cron-like `env -i` and a service's environment all verify,
//!   and `status` right after says `ok` and exits 0.
//! - A venv in a user's own home (root does not write there): the variables, pointed at
//!   the OS's own bundle (no frozen copy), reach login shells, `sudo -u` (sudoers
//!   `env_file`, checked by the real `visudo`), `su` with `--etc-environment` (pam_env)
//!   and systemd's system manager (its drop-in, read back by the real `systemd-analyze`);
//!   a bare environment is said not to be reached, and is not.
#![cfg(target_os = "linux")]

mod support;
use std::process::Output;
use support::pyvenv::{self, RealPython, REQUESTS_GET};
use support::report::show;
use support::sandbox::{self, Sandbox, SandboxUser};
use support::tls::{CaChain, ChainSpec, TlsServer};

/// A context's name, and how it starts the real requests.
type Context<'a> = (&'static str, Box<dyn Fn() -> Output + 'a>);

/// Each context, and how it starts the real requests against `port`.
fn contexts<'a>(
    sb: &'a Sandbox,
    ann: &'a SandboxUser,
    rq: &'a RealPython,
    port: &'a str,
) -> Vec<Context<'a>> {
    let cmd = format!("{} -c \"$1\" {port}", rq.python);
    let quoted = format!(
        "{} -c '{}' {port}",
        rq.python,
        REQUESTS_GET.replace('\'', "'\\''")
    );
    vec![
        (
            "a login shell (bash -l)",
            Box::new({
                let cmd = cmd.clone();
                move || sb.run_as(ann, &["/bin/bash", "-lc", &cmd, "ctx", REQUESTS_GET], &[])
            }),
        ),
        (
            "sudo -u ann (env_reset)",
            Box::new(move || sb.sudo_as(ann, &[rq.python.as_str(), "-c", REQUESTS_GET, port], &[])),
        ),
        (
            "su - ann",
            Box::new({
                let quoted = quoted.clone();
                move || sb.run(&["/bin/su", "-", &ann.name, "-c", &quoted], &[])
            }),
        ),
        (
            "su ann (no login)",
            Box::new(move || sb.run(&["/bin/su", &ann.name, "-c", &quoted], &[])),
        ),
    ]
}

fn bare(sb: &Sandbox, rq: &RealPython, port: &str) -> Output {
    sb.run(
        &[
            "/usr/bin/env",
            "-i",
            "PATH=/usr/bin:/bin",
            rq.python.as_str(),
            "-c",
            REQUESTS_GET,
            port,
        ],
        &[],
    )
}

/// Seed S2: the OS trusts a company CA, a root-owned tool venv's real requests does not;
/// a server signed by that CA.
fn s2_machine() -> Option<(Sandbox, RealPython, TlsServer)> {
    let sb = Sandbox::new()?;
    let rq = pyvenv::install(&sb, pyvenv::REQUESTS, "/opt/tool/venv")?;
    let corp = CaChain::new(ChainSpec::default());
    sandbox::add_os_ca(&sb, "corp", &corp.root_pem());
    let server = TlsServer::for_chain(&corp);
    Some((sb, rq, server))
}

fn trustsync(sb: &Sandbox, args: &[&str]) -> Output {
    let mut argv = vec![env!("CARGO_BIN_EXE_trustsync")];
    argv.extend_from_slice(args);
    let out = sb.run(&argv, &[]);
    assert!(out.status.success(), "trustsync {args:?}: {}", show(&out));
    out
}

/// Every context the clients run in for `user`, plus a bare `env -i` (cron, a service
/// without a login).
fn all_contexts<'a>(
    sb: &'a Sandbox,
    user: &'a SandboxUser,
    rq: &'a RealPython,
    port: &'a str,
) -> Vec<Context<'a>> {
    let mut ctxs = contexts(sb, user, rq, port);
    ctxs.push((
        "bash -c as the user (not a login shell)",
        Box::new(move || {
            let cmd = format!("{} -c \"$1\" {port}", rq.python);
            sb.run_as(user, &["/bin/bash", "-c", &cmd, "ctx", REQUESTS_GET], &[])
        }),
    ));
    ctxs.push((
        "env -i (cron, a service)",
        Box::new(move || bare(sb, rq, port)),
    ));
    ctxs
}

fn verified(out: &Output) -> bool {
    out.status.success() && show(out).contains("status 200")
}

/// Runs every context: each must verify (`want`) or each must not, else says which and when.
#[track_caller]
fn assert_contexts(ctxs: &[Context<'_>], want: bool, when: &str) {
    for (what, run) in ctxs {
        let out = run();
        assert_eq!(verified(&out), want, "{what} {when}: {}", show(&out));
    }
}

#[test]
fn default_fix_reaches_every_context_and_status_agrees() {
    let Some((sb, rq, server)) = s2_machine() else {
        return;
    };
    let ann = sb.add_user("ann");
    let port = server.port().to_string();
    let ctxs = all_contexts(&sb, &ann, &rq, &port);
    assert_contexts(&ctxs, false, "verified before the fix");
    let certifi_before = sb.read_inside(&rq.certifi_bundle).unwrap();
    let fix = trustsync(&sb, &["fix", "--yes"]);
    let said = support::report::text(&fix.stdout);
    assert!(
        said.contains(&rq.certifi_bundle),
        "the patched bundle is named: {said}"
    );
    assert_contexts(&ctxs, true, "after the default fix");
    // status, right after, in root's own environment (no variable set): ok, exit 0, and
    // no "fix" line for a runtime fix has nothing left to do for.
    let out = sb.run(
        &[
            env!("CARGO_BIN_EXE_trustsync"),
            "status",
            "--fresh",
            "--only",
            "--runtime",
            &rq.python,
        ],
        &[],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "status after fix: {}",
        show(&out)
    );
    assert!(
        !support::report::text(&out.stdout).contains("fix: sudo trustsync fix"),
        "{}",
        show(&out)
    );
    let doc = support::oracle::status_in(&sb, &rq.python, &[]);
    let row = support::oracle::row(&doc, "requests");
    assert_eq!(row["verdict"], "ok", "{row:#}");
    // A second fix has nothing to do.
    let again = trustsync(&sb, &["fix", "--yes", "--json"]);
    assert_eq!(support::certs::json(&again)["changed"], false);

    trustsync(&sb, &["undo"]);
    assert_eq!(
        sb.read_inside(&rq.certifi_bundle).unwrap(),
        certifi_before,
        "undo restores certifi byte for byte"
    );
    assert_contexts(&ctxs, false, "still verifies after undo");
}

#[test]
fn a_users_own_venv_gets_the_variables_in_every_file_a_context_reads() {
    let Some((sb, _root_rq, server)) = s2_machine() else {
        return;
    };
    let ann = sb.add_user("ann");
    let venv = format!("{}/venv", ann.home);
    let Some(rq) = pyvenv::install(&sb, pyvenv::REQUESTS, &venv) else {
        return;
    };
    let owner = format!("{}:{}", ann.uid, ann.gid);
    let out = sb.run(&["/bin/chown", "-R", owner.as_str(), venv.as_str()], &[]);
    assert!(out.status.success(), "{}", show(&out));
    let port = server.port().to_string();
    let environment_before = sb.read_inside("/etc/environment");
    let certifi_before = sb.read_inside(&rq.certifi_bundle).unwrap();
    let ctxs = contexts(&sb, &ann, &rq, &port);
    assert_contexts(&ctxs, false, "verified before the fix");
    // Without being asked, fix leaves the OS's /etc/environment alone and says so.
    // (A machine without the file gets one: trustsync then creates it.)
    let plain = trustsync(&sb, &["fix", "--yes", "--runtime", &venv]);
    if environment_before.is_some() {
        assert_eq!(sb.read_inside("/etc/environment"), environment_before);
        assert!(
            support::report::text(&plain.stdout).contains("--etc-environment"),
            "{}",
            show(&plain)
        );
    }
    trustsync(&sb, &["undo"]);
    let fix = trustsync(
        &sb,
        &["fix", "--yes", "--etc-environment", "--runtime", &venv],
    );
    let said = support::report::text(&fix.stdout);
    // Root wrote nothing in ann's venv; the variables name the OS's own bundle.
    assert_eq!(sb.read_inside(&rq.certifi_bundle).unwrap(), certifi_before);
    let os_bundle = "/etc/ssl/certs/ca-certificates.crt";
    let snippet =
        String::from_utf8(sb.read_inside("/etc/profile.d/trustsync.sh").unwrap()).unwrap();
    assert!(
        snippet.contains(&format!("export REQUESTS_CA_BUNDLE='{os_bundle}'")),
        "{snippet}"
    );
    assert!(
        sb.read_inside("/etc/trustsync/ca-bundle.pem").is_none(),
        "no frozen copy of the store"
    );
    assert_contexts(&ctxs, true, "after fix");
    assert!(
        said.contains("The variables reach new login shells")
            && said.contains("sudo")
            && said.contains(", su"),
        "{said}"
    );
    // sudo's drop-in is valid sudoers, as the real visudo reads the whole policy.
    let check = sb.run(&["/usr/sbin/visudo", "-c"], &[]);
    assert!(check.status.success(), "visudo -c: {}", show(&check));
    // systemd's system manager sees the drop-in (systemd-analyze reads the same search
    // path the manager does).
    if std::path::Path::new("/usr/bin/systemd-analyze").exists() || support::report::under_ci() {
        let cat = sb.run(
            &[
                "/usr/bin/systemd-analyze",
                "cat-config",
                "systemd/system.conf",
            ],
            &[],
        );
        let text = support::report::text(&cat.stdout);
        assert!(
            text.contains("/etc/systemd/system.conf.d/60-trustsync.conf")
                && text.contains(&format!(
                    "DefaultEnvironment=\"REQUESTS_CA_BUNDLE={os_bundle}\""
                )),
            "{}",
            show(&cat)
        );
    }
    // A bare environment reads no file: not reached, and fix said so.
    assert!(
        said.contains("programs started with an empty environment"),
        "{said}"
    );
    pyvenv::assert_verify_failed(&bare(&sb, &rq, &port));
    let again = trustsync(
        &sb,
        &[
            "fix",
            "--yes",
            "--json",
            "--etc-environment",
            "--runtime",
            &venv,
        ],
    );
    assert_eq!(support::certs::json(&again)["changed"], false);

    trustsync(&sb, &["undo"]);
    assert_eq!(sb.read_inside("/etc/environment"), environment_before);
    assert!(sb.read_inside("/etc/sudoers.d/trustsync").is_none());
    let check = sb.run(&["/usr/sbin/visudo", "-c"], &[]);
    assert!(
        check.status.success(),
        "visudo -c after undo: {}",
        show(&check)
    );
    assert_contexts(&ctxs, false, "still verifies after undo");
}
