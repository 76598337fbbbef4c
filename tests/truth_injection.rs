//! What a Python's start files do to TLS, checked against the real clients (issue "Truth"):
//! pip-system-certs' `.pth` injecting truststore (requests then trusts the OS store although
//! its certifi lacks the CA), a start file installing the unverified context as urllib's
//! default, and RHEL's PEP 493 `PYTHONHTTPSVERIFY` switch (its reference code planted as a
//! sitecustomize: no RHEL Python runs here). For each, the real client against a loopback
//! server, then `status --json` for the same interpreter in the same environment; the start
//! files are seen both ways trustsync learns them: run by the probe (every site file root's)
//! and read without running (one of them another user's, so the probe skips site).
#![cfg(target_os = "linux")]

mod support;
use support::oracle::{has_code, lacks, row, sha256, status_in};
use support::pyvenv::{self, REQUESTS_GET};
use support::report::{show, text};
use support::sandbox::{self, Sandbox};
use support::tls::{CaChain, ChainSpec, TlsServer};

/// `urllib.request.urlopen` (urllib's default context): prints `ok`, or the error and exits 3.
const URLLIB_GET: &str = "import sys, urllib.request\ntry:\n    urllib.request.urlopen('https://127.0.0.1:%s/' % sys.argv[1], timeout=10).read()\n    print('ok')\nexcept Exception as e:\n    print('failed', e)\n    sys.exit(3)\n";

#[test]
fn truststore_injected_at_start_up_makes_requests_trust_the_os_store() {
    let Some(sb) = Sandbox::new() else { return };
    let Some(rp) = pyvenv::install(&sb, pyvenv::TRUSTSTORE, "/opt/inj/venv") else {
        return;
    };
    let pth = format!("{}/pip_system_certs.pth", rp.site);
    assert!(
        sb.read_inside(&pth).is_some(),
        "the truststore venv has no {pth}"
    );
    let corp = CaChain::new(ChainSpec::default());
    sandbox::add_os_ca(&sb, "corp", &corp.root_pem());
    let ca = sha256(&corp.root_der());
    let server = TlsServer::for_chain(&corp);
    let port = server.port().to_string();
    let requests_get = |sb: &Sandbox| sb.run(&[rp.python.as_str(), "-c", REQUESTS_GET, &port], &[]);

    // Every site file root's: the probe runs site, and the interpreter says truststore is in.
    let real = requests_get(&sb);
    pyvenv::assert_ok_200(&real);
    let doc = status_in(&sb, &rp.python, &[]);
    let rq = row(&doc, "requests");
    assert!(!lacks(rq, &ca), "the real requests verifies: {rq:#}");
    assert!(
        has_code(row(&doc, "python-ssl"), "truststore-injected"),
        "{doc:#}"
    );

    // The .pth another user's: the probe skips site, and trustsync reads the files instead.
    let user = sb.add_user("ann");
    sb.chown(&pth, user.uid, user.gid);
    let real = requests_get(&sb);
    pyvenv::assert_ok_200(&real);
    let doc = status_in(&sb, &rp.python, &[]);
    let ssl = row(&doc, "python-ssl");
    assert!(has_code(ssl, "truststore-injected"), "{doc:#}");
    assert!(
        ssl["problems"].to_string().contains("pip_system_certs.pth"),
        "the note names the file: {ssl:#}"
    );
    assert!(!lacks(row(&doc, "requests"), &ca), "{doc:#}");

    // Without the .pth, requests is back to its certifi, which lacks the CA (S2).
    sb.remove(&pth);
    let real = requests_get(&sb);
    pyvenv::assert_verify_failed(&real);
    let doc = status_in(&sb, &rp.python, &[]);
    assert!(lacks(row(&doc, "requests"), &ca), "{doc:#}");
    assert!(
        !has_code(row(&doc, "python-ssl"), "truststore-injected"),
        "{doc:#}"
    );
}

/// A start file that makes urllib's default context the unverified one, and RHEL's PEP 493
/// switch: the real urllib accepts a server nobody trusts, and status says verification is
/// off; without them (or with `PYTHONHTTPSVERIFY=1`) it refuses, and status does not.
#[test]
fn start_files_and_pythonhttpsverify_that_turn_urllib_checks_off_are_findings() {
    let Some(sb) = Sandbox::new() else { return };
    let site = sb.make_venv("/opt/plain/venv");
    let python = "/opt/plain/venv/bin/python3";
    let nobody = CaChain::new(ChainSpec::default().root("Nobody's Root", None));
    let server = TlsServer::for_chain(&nobody);
    let port = server.port().to_string();
    // PEP 493's reference implementation, as RHEL applies it inside ssl.py; here a module a
    // .pth imports at start-up.
    let pep493 = "import os, sys, ssl\n_https_verify_envvar = 'PYTHONHTTPSVERIFY'\ndef _get_https_context_factory():\n    if not sys.flags.ignore_environment:\n        if os.environ.get(_https_verify_envvar) == '0':\n            return ssl._create_unverified_context\n    return ssl.create_default_context\nssl._https_verify_envvar = _https_verify_envvar\nssl._create_default_https_context = _get_https_context_factory()\n";
    sb.write(format!("{site}/trustsync_pep493.py"), pep493);
    let unverified =
        "import ssl; ssl._create_default_https_context = ssl._create_unverified_context\n";
    // (what, start files, environment, whether urllib checks nothing)
    type Case<'a> = (
        &'a str,
        Vec<(&'a str, &'a str)>,
        &'a [(&'a str, &'a str)],
        bool,
    );
    let cases: Vec<Case> = vec![
        ("no start file", vec![], &[], false),
        (
            "a .pth with the unverified context",
            vec![("unverified.pth", unverified)],
            &[],
            true,
        ),
        // Debian's own /usr/lib/python3.X/sitecustomize.py comes first on the path, so a
        // venv's sitecustomize is never imported there.
        (
            "a venv sitecustomize",
            vec![("sitecustomize.py", unverified)],
            &[],
            false,
        ),
        (
            "PEP 493, unset",
            vec![("pep493.pth", "import trustsync_pep493\n")],
            &[],
            false,
        ),
        (
            "PEP 493, PYTHONHTTPSVERIFY=0",
            vec![("pep493.pth", "import trustsync_pep493\n")],
            &[("PYTHONHTTPSVERIFY", "0")],
            true,
        ),
        (
            "PEP 493, PYTHONHTTPSVERIFY=1",
            vec![("pep493.pth", "import trustsync_pep493\n")],
            &[("PYTHONHTTPSVERIFY", "1")],
            false,
        ),
    ];
    let user = sb.add_user("ann");
    let mut planted: Vec<String> = Vec::new();
    for (what, files, env, off) in cases {
        for old in planted.drain(..) {
            sb.remove(&old);
        }
        for (name, code) in files {
            let at = format!("{site}/{name}");
            sb.write(&at, code);
            planted.push(at);
        }
        let real = sb.run(&[python, "-c", URLLIB_GET, &port], env);
        assert_eq!(
            text(&real.stdout).trim() == "ok",
            off,
            "{what}: the real urllib: {}",
            show(&real)
        );
        let doc = status_in(&sb, python, env);
        let ssl = row(&doc, "python-ssl");
        assert_eq!(has_code(ssl, "verification-off"), off, "{what}: {ssl:#}");
        if off {
            assert_eq!(ssl["verdict"], "broken", "{what}: {ssl:#}");
        }
        // The same files another user's: the probe skips site and the files are read.
        for at in &planted {
            sb.chown(at, user.uid, user.gid);
        }
        let doc = status_in(&sb, python, env);
        let ssl = row(&doc, "python-ssl");
        // PEP 493 is a patch to ssl.py itself on RHEL, known only by running the module.
        let read_off = off && !what.starts_with("PEP 493");
        assert_eq!(
            has_code(ssl, "verification-off"),
            read_off,
            "{what}, read: {ssl:#}"
        );
        for at in &planted {
            sb.chown(at, 0, 0);
        }
    }
    // The plain ssl module (no PEP 493 patch) ignores the variable, as upstream CPython does.
    let real = sb.run(
        &["/usr/bin/python3", "-c", URLLIB_GET, &port],
        &[("PYTHONHTTPSVERIFY", "0")],
    );
    assert_eq!(
        text(&real.stdout).trim_start().split(' ').next(),
        Some("failed"),
        "{}",
        show(&real)
    );
    let doc = status_in(&sb, "/usr/bin/python3", &[("PYTHONHTTPSVERIFY", "0")]);
    assert!(
        !has_code(row(&doc, "python-ssl"), "verification-off"),
        "{doc:#}"
    );
}
