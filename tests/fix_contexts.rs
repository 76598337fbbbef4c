//! Issue "Reach of fixes": after `sudo trustsync fix --etc-environment` (the env strategy,
//! allowed to add its block to the OS's `/etc/environment`), the real requests of a
//! root-owned tool venv (its certifi lacks the company CA) verifies in each context a user
//! or a job starts it from, not only in a new login shell: `bash -l`, `sudo -u` (the real
//! sudo, env_reset: the variables come from pam_env's `/etc/environment`), `su -` and plain
//! `su` (pam_env again). A bare `env -i` environment reads no file, so only
//! `--strategy patch-bundle` reaches it: checked too. `undo` takes every context back.
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

#[test]
fn fix_with_etc_environment_reaches_login_shells_sudo_and_su() {
    let Some((sb, rq, server)) = s2_machine() else {
        return;
    };
    let ann = sb.add_user("ann");
    let port = server.port().to_string();
    let environment_before = sb.read_inside("/etc/environment");
    let ctxs = contexts(&sb, &ann, &rq, &port);
    for (what, run) in &ctxs {
        let out = run();
        assert!(
            !show(&out).contains("status 200"),
            "{what} verified before the fix: {}",
            show(&out)
        );
    }
    // Without being asked, fix leaves the OS's /etc/environment alone and says so.
    // (A machine without the file gets one: trustsync then creates it.)
    let plain = trustsync(&sb, &["fix", "--yes"]);
    if environment_before.is_some() {
        assert_eq!(sb.read_inside("/etc/environment"), environment_before);
        assert!(
            support::report::text(&plain.stdout).contains("--etc-environment"),
            "{}",
            show(&plain)
        );
    }
    trustsync(&sb, &["undo"]);
    let fix = trustsync(&sb, &["fix", "--yes", "--etc-environment"]);
    // sudo reads /etc/environment only where its PAM stack has pam_env (Ubuntu's does,
    // Debian 12's does not): the fix must say which, and the real sudo must agree.
    let sudo_has_pam_env = std::fs::read_to_string("/etc/pam.d/sudo").is_ok_and(|t| {
        t.lines()
            .any(|l| !l.trim_start().starts_with('#') && l.contains("pam_env"))
    });
    let said = support::report::text(&fix.stdout);
    for (what, run) in &ctxs {
        let out = run();
        let verified = out.status.success() && show(&out).contains("status 200");
        if what.starts_with("sudo") && !sudo_has_pam_env {
            assert!(
                !verified,
                "{what} verified, yet its PAM stack has no pam_env: {}",
                show(&out)
            );
            assert!(said.contains("Not reached here: sudo"), "{said}");
            continue;
        }
        assert!(verified, "{what} after fix: {}", show(&out));
    }
    assert!(
        said.contains("The variables reach new login shells") && said.contains(", su"),
        "{said}"
    );
    // Nothing read by a bare environment changed: it still fails (patch-bundle's job).
    pyvenv::assert_verify_failed(&bare(&sb, &rq, &port));
    // A second fix has nothing to do.
    let again = trustsync(&sb, &["fix", "--yes", "--json", "--etc-environment"]);
    let doc = support::certs::json(&again);
    assert_eq!(doc["changed"], false, "{doc:#}");

    trustsync(&sb, &["undo"]);
    assert_eq!(sb.read_inside("/etc/environment"), environment_before);
    for (what, run) in &ctxs {
        let out = run();
        assert!(
            !show(&out).contains("status 200"),
            "{what} still verifies after undo: {}",
            show(&out)
        );
    }
}

#[test]
fn patch_bundle_reaches_even_a_bare_environment() {
    let Some((sb, rq, server)) = s2_machine() else {
        return;
    };
    let port = server.port().to_string();
    pyvenv::assert_verify_failed(&bare(&sb, &rq, &port));
    trustsync(&sb, &["fix", "--yes", "--strategy", "patch-bundle"]);
    pyvenv::assert_ok_200(&bare(&sb, &rq, &port));
    trustsync(&sb, &["undo"]);
    pyvenv::assert_verify_failed(&bare(&sb, &rq, &port));
}
