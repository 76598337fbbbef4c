//! README's provisioning recipes, run exactly as written (issue "Reach of fixes": a recipe
//! that exits 1 right after it applied its changes is a broken recipe). Each block is taken
//! from README.md itself, so the text a user copies is the text tested, and run in a
//! sandbox (tests/support/sandbox.rs) holding a root-owned application venv with the real
//! requests and certifi from PyPI, a company CA the recipe adds, and a loopback server
//! whose chain ends at that CA. After each recipe the venv's requests verifies from a bare
//! `env -i` environment (a container's process, a cron job), and `status` exits 0.
#![cfg(target_os = "linux")]

mod support;
use std::process::Output;
use support::pyvenv::{self, RealPython, REQUESTS_GET};
use support::report::{show, text};
use support::sandbox::{self, Sandbox};
use support::tls::{CaChain, ChainSpec, TlsServer};

const README: &str = include_str!("../README.md");
const EXE: &str = env!("CARGO_BIN_EXE_trustsync");
/// Where the recipes expect the files they install (the current directory of a
/// provisioning step, a Docker build context).
const WORK: &str = "/opt/provision";
const INSTALLED: &str = "/usr/local/bin/trustsync";
const ANCHOR: &str = "/usr/local/share/ca-certificates/company-root-ca.crt";

/// The body of the first fenced ```lang block after the first line containing `after`.
#[track_caller]
fn block(after: &str, lang: &str) -> String {
    let start = README
        .find(after)
        .unwrap_or_else(|| panic!("README has no {after:?}"));
    let fence = format!("```{lang}\n");
    let open = README[start..]
        .find(&fence)
        .unwrap_or_else(|| panic!("no ```{lang} block after {after:?}"))
        + start
        + fence.len();
    let close = README[open..].find("```").expect("a closing fence") + open;
    README[open..close].to_string()
}

struct Machine {
    sb: Sandbox,
    rq: RealPython,
    server: TlsServer,
    ca_pem: String,
}

fn machine() -> Option<Machine> {
    let sb = Sandbox::new()?;
    let rq = pyvenv::install(&sb, pyvenv::REQUESTS, "/opt/app")?;
    // No developer's pyenv on a machine being provisioned.
    sb.remove("/root/.pyenv");
    let chain = CaChain::new(ChainSpec {
        root_name: Some("Company Root CA".into()),
        ..ChainSpec::default()
    });
    let server = TlsServer::for_chain(&chain);
    let ca_pem = chain.root_pem();
    sb.symlink(EXE, format!("{WORK}/trustsync"));
    sb.write(format!("{WORK}/company-root-ca.crt"), &ca_pem);
    let m = Machine {
        sb,
        rq,
        server,
        ca_pem,
    };
    pyvenv::assert_verify_failed(&bare_get(&m));
    Some(m)
}

/// The venv's real requests from an empty environment.
fn bare_get(m: &Machine) -> Output {
    let port = m.server.port().to_string();
    m.sb.run(
        &[
            "/usr/bin/env",
            "-i",
            "PATH=/usr/bin:/bin",
            m.rq.python.as_str(),
            "-c",
            REQUESTS_GET,
            port.as_str(),
        ],
        &[],
    )
}

/// `sh -c SCRIPT` from the working directory, as a provisioning tool runs a step.
fn sh(m: &Machine, script: &str) -> Output {
    let script = format!("cd {WORK} || exit 9\n{script}");
    m.sb.run(&["/bin/sh", "-c", script.as_str()], &[])
}

/// requests verifies from an empty environment, and `status` exits 0 where the machine's
/// later processes run: in `env` (a container's ENV), or, when that is empty, in a new
/// login session (which reads the variables fix set for node).
#[track_caller]
fn assert_in_sync(m: &Machine, env: &[(&str, &str)]) {
    pyvenv::assert_ok_200(&bare_get(m));
    let status = if env.is_empty() {
        m.sb.run(
            &["/bin/bash", "-lc", "exec /usr/local/bin/trustsync status"],
            &[],
        )
    } else {
        m.sb.run(&[INSTALLED, "status"], env)
    };
    assert_eq!(status.status.code(), Some(0), "{}", show(&status));
}

#[test]
fn the_shell_provisioning_step_runs_as_written() {
    let Some(m) = machine() else { return };
    let script = block("A shell\nprovisioning step:", "sh");
    assert!(script.contains("update-ca-certificates"), "{script}");
    let out = sh(&m, &script);
    assert!(out.status.success(), "{script}\n{}", show(&out));
    assert_in_sync(&m, &[]);
    // Run again (provisioning re-runs): still exit 0.
    let again = sh(&m, &script);
    assert!(again.status.success(), "{}", show(&again));
}

#[test]
fn the_fix_json_step_runs_as_written_and_again() {
    let Some(m) = machine() else { return };
    m.sb.symlink(EXE, INSTALLED);
    sandbox::add_os_ca(&m.sb, "company-root-ca", &m.ca_pem);
    let script = block("document with the outcome **per runtime**", "sh");
    assert!(script.contains("fix --yes --json"), "{script}");
    let out = sh(&m, &script);
    assert!(out.status.success(), "{script}\n{}", show(&out));
    let said = text(&out.stdout);
    assert!(
        said.lines().any(|l| l.starts_with("changed\trequests\t"))
            && said.contains("trust settings changed"),
        "{}",
        show(&out)
    );
    assert_in_sync(&m, &[]);
    let again = sh(&m, &script);
    assert!(
        again.status.success(),
        "nothing to do is not a failure: {}",
        show(&again)
    );
    assert!(
        !text(&again.stdout).contains("trust settings changed"),
        "{}",
        show(&again)
    );
}

#[test]
fn the_dockerfile_step_runs_as_written() {
    let Some(m) = machine() else { return };
    let dockerfile = block("A Dockerfile step", "dockerfile").replace("\\\n", " ");
    let mut ran = 0;
    let mut env: Vec<(String, String)> = Vec::new();
    for line in dockerfile
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let (instruction, rest) = line.split_once(' ').expect("INSTRUCTION args");
        match instruction {
            "COPY" => {
                let (src, dest) = rest.split_once(' ').expect("COPY SRC DEST");
                match src {
                    "trustsync" => m.sb.symlink(EXE, dest),
                    "company-root-ca.crt" => m.sb.write(dest, &m.ca_pem),
                    other => panic!("the test does not know how to COPY {other}"),
                }
            }
            "ENV" => {
                for pair in rest.split_whitespace() {
                    let (k, v) = pair.split_once('=').expect("ENV KEY=value");
                    env.push((k.into(), v.into()));
                }
            }
            // `docker build` runs RUN with `/bin/sh -c`, in the ENV set so far.
            "RUN" => {
                let env: Vec<(&str, &str)> =
                    env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                let out = m.sb.run(&["/bin/sh", "-c", rest], &env);
                assert!(out.status.success(), "RUN {rest}: {}", show(&out));
                ran += 1;
            }
            other => panic!("the test does not know {other}"),
        }
    }
    assert!(ran >= 2, "{dockerfile}");
    // `docker run` processes get the image's ENV.
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_in_sync(&m, &env);
}

#[test]
fn the_cloud_init_runcmd_runs_as_written() {
    let Some(m) = machine() else { return };
    // What the whole file's write_files entry and download step leave in place.
    m.sb.write(ANCHOR, &m.ca_pem);
    m.sb.symlink(EXE, INSTALLED);
    let yaml = block("cloud-init (whole file", "yaml");
    let commands: Vec<Vec<String>> = yaml
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- [")?.strip_suffix(']'))
        .map(|l| {
            l.split(',')
                .map(|a| a.trim().trim_matches('\'').to_string())
                .collect()
        })
        .collect();
    assert!(commands.len() >= 3, "{yaml}");
    for argv in &commands {
        let out = m.sb.run(argv, &[]);
        assert!(out.status.success(), "{argv:?}: {}", show(&out));
    }
    assert_in_sync(&m, &[]);
}
