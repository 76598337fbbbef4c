//! Issue "Reach of discovery": `sudo trustsync status` covers the invoking user's own
//! Pythons, wherever their tools put them (pyenv, conda with `environments.txt` and
//! `conda-meta/`, uv, a plain project venv), names their owner, runs none of them as root,
//! and leaves other users' homes to `--all-users`. Real users (useradd), the real `sudo`
//! (env_reset: HOME becomes root's), real requests in each venv, in a private mount
//! namespace with `/home` on a tmpfs.
#![cfg(target_os = "linux")]

mod support;
use support::certs::{json, trustsync};
use support::oracle::{lacks, sha256};
use support::pyvenv::{self, REQUESTS_GET};
use support::report::{show, text};
use support::sandbox::{self, Sandbox};
use support::tls::{CaChain, ChainSpec, TlsServer};

/// A `.pth` that records, in `dir`, the effective uid of every interpreter start.
fn marker_pth(dir: &str) -> String {
    format!("import os; open('{dir}/%d-%d' % (os.getpid(), os.geteuid()), 'w').close()\n")
}

#[test]
fn sudo_status_covers_the_invoking_users_pythons_as_her_and_names_her() {
    let Some(sb) = Sandbox::new() else { return };
    let ann = sb.add_user("ann");
    let bob = sb.add_user("bob");
    let corp = CaChain::new(ChainSpec::default());
    sandbox::add_os_ca(&sb, "corp", &corp.root_pem());
    let ca = sha256(&corp.root_der());
    let marks = "/home/ann/marks";
    sb.mkdir(marks);
    // Her Pythons, as her tools lay them out. The conda env listed in environments.txt is
    // deeper under /opt than any scan goes: only the list finds it.
    let venvs = [
        "/home/ann/.pyenv/versions/3.11.3",
        "/home/ann/miniconda3/envs/py37",
        "/home/ann/.local/share/uv/python/cpython-3.11.9-linux-x86_64-gnu",
        "/home/ann/proj/.venv",
        "/opt/team/a/b/c/ann-env",
    ];
    for venv in venvs {
        let Some(real) = pyvenv::install(&sb, pyvenv::REQUESTS, venv) else {
            return;
        };
        sb.write(format!("{}/zz-marker.pth", real.site), marker_pth(marks));
    }
    sb.mkdir("/home/ann/miniconda3/envs/py37/conda-meta");
    sb.write(
        "/home/ann/.conda/environments.txt",
        "/home/ann/miniconda3/envs/py37\n/opt/team/a/b/c/ann-env\n",
    );
    let Some(_) = pyvenv::install(&sb, pyvenv::REQUESTS, "/home/bob/tools/venv") else {
        return;
    };
    for (who, tree) in [
        (&ann, "/home/ann"),
        (&ann, "/opt/team/a/b/c/ann-env"),
        (&bob, "/home/bob"),
    ] {
        let owner = format!("{}:{}", who.uid, who.gid);
        let out = sb.run(&["chown", "-R", owner.as_str(), tree], &[]);
        assert!(out.status.success(), "{}", show(&out));
    }
    sb.write("/etc/sudoers.d/ann", "ann ALL=(root) NOPASSWD: ALL\n");
    sb.chmod("/etc/sudoers.d/ann", 0o440);

    let exe = env!("CARGO_BIN_EXE_trustsync");
    let sudo_status = |extra: &[&str]| {
        let mut argv = vec!["/usr/bin/sudo", "-n", exe, "status", "--json", "--fresh"];
        argv.extend_from_slice(extra);
        let out = sb.run_as(&ann, &argv, &[]);
        (json(&out), out)
    };
    let (doc, out) = sudo_status(&[]);
    // Where it looked: her home and root's, each walk bounded and reported.
    assert_eq!(
        doc["looked"]["accounts"],
        serde_json::json!(["ann", "root"]),
        "{}",
        show(&out)
    );
    let walks = doc["looked"]["walks"].as_array().unwrap();
    let home_walk = walks
        .iter()
        .find(|w| w["path"] == "/home/ann")
        .unwrap_or_else(|| panic!("no walk of her home: {walks:?}"));
    assert_eq!(home_walk["depth"], 4);
    assert_eq!(home_walk["truncated"], false);
    assert!(!walks.iter().any(|w| w["path"] == "/home/bob"), "{walks:?}");
    let rows = doc["runtimes"].as_array().unwrap();
    for venv in venvs {
        let python = format!("{venv}/bin/python3");
        let mine: Vec<&serde_json::Value> = rows.iter().filter(|r| r["path"] == python).collect();
        assert!(!mine.is_empty(), "{python} is not listed: {}", show(&out));
        for r in &mine {
            assert_eq!(r["owner"], "ann", "{r:#}");
        }
        let rq = mine
            .iter()
            .find(|r| r["kind"] == "requests")
            .unwrap_or_else(|| panic!("no requests row for {python}: {doc:#}"));
        assert!(lacks(rq, &ca), "her certifi lacks the CA: {rq:#}");
    }
    assert!(
        !rows
            .iter()
            .any(|r| r["path"].as_str().unwrap_or("").starts_with("/home/bob")),
        "bob's home is not the invoking user's: {doc:#}"
    );
    // Each of her interpreters started as her, never as root.
    let ls = sb.run(&["ls", marks], &[]);
    let started: Vec<String> = text(&ls.stdout).lines().map(str::to_string).collect();
    assert!(!started.is_empty(), "no interpreter of hers ran at all");
    for m in &started {
        assert!(
            m.ends_with(&format!("-{}", ann.uid)),
            "an interpreter of hers ran as another uid: {started:?}"
        );
    }

    // `sudo trustsync fix` reaches her Pythons: in a new login shell of hers each real
    // requests verifies the server signed by the CA it lacked.
    let fix = sb.run_as(&ann, &["/usr/bin/sudo", "-n", exe, "fix", "--yes"], &[]);
    assert!(fix.status.success(), "{}", show(&fix));
    let server = TlsServer::for_chain(&corp);
    let port = server.port().to_string();
    for venv in venvs {
        let cmd = format!("{venv}/bin/python3 -c \"$1\" {port}");
        let out = sb.run_as(
            &ann,
            &["/bin/bash", "-lc", &cmd, "login", REQUESTS_GET],
            &[],
        );
        pyvenv::assert_ok_200(&out);
    }

    // --all-users adds bob's, named as his.
    let (doc, out) = sudo_status(&["--all-users"]);
    let bobs: Vec<&serde_json::Value> = doc["runtimes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["path"] == "/home/bob/tools/venv/bin/python3")
        .collect();
    assert!(!bobs.is_empty(), "{}", show(&out));
    assert!(bobs.iter().all(|r| r["owner"] == "bob"), "{bobs:#?}");
}

#[test]
fn a_runtime_that_is_not_there_or_not_a_runtime_exits_2_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let text_file = dir.path().join("notes.txt");
    std::fs::write(&text_file, "hello\n").unwrap();
    for (given, says) in [
        (
            "/nonexistent/python3".to_string(),
            "no such file or directory",
        ),
        (text_file.display().to_string(), "not an interpreter"),
    ] {
        let out = trustsync(&["status", "--only", "--runtime", &given], &[]);
        assert_eq!(out.status.code(), Some(2), "{given}: {}", show(&out));
        let err = text(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(&given) && err.contains(says), "{err}");
    }
}

/// Seed S4 outside Python: an application under /opt ships its own bundle. It is found by
/// its content (many certificates) and judged like any bundle; a file with one certificate
/// (a server's own) is not a bundle, and a link to the OS bundle is not followed.
#[test]
fn application_bundles_outside_python_are_found_by_content() {
    let Some(sb) = Sandbox::new() else { return };
    let corp = CaChain::new(ChainSpec::default());
    sandbox::add_os_ca(&sb, "corp", &corp.root_pem());
    let ca = sha256(&corp.root_der());
    // 30 public roots from the machine's store: what a vendor copied years ago.
    let public = std::fs::read_to_string("/etc/ssl/certs/ca-certificates.crt").unwrap();
    let thirty: String = public
        .split_inclusive("-----END CERTIFICATE-----\n")
        .take(30)
        .collect();
    sb.write("/opt/acme/share/tls/cacert.pem", &thirty);
    sb.write("/opt/acme/etc/server.pem", corp.root_pem());
    sb.symlink(
        "/etc/ssl/certs/ca-certificates.crt",
        "/opt/acme/etc/os-roots.pem",
    );
    let out = sb.run(
        &[
            env!("CARGO_BIN_EXE_trustsync"),
            "status",
            "--json",
            "--fresh",
        ],
        &[],
    );
    let doc = json(&out);
    let bundled: Vec<&serde_json::Value> = doc["runtimes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kind"] == "bundled" && r["path"].as_str().unwrap().starts_with("/opt/acme"))
        .collect();
    assert_eq!(bundled.len(), 1, "{bundled:#?}");
    let app = bundled[0];
    assert_eq!(app["cafile"], "/opt/acme/share/tls/cacert.pem");
    assert_eq!(app["trusted"], 30, "{app:#}");
    assert_eq!(app["verdict"], "drift", "{app:#}");
    assert!(lacks(app, &ca), "{app:#}");
    let walks = doc["looked"]["walks"].as_array().unwrap();
    assert!(
        walks.iter().any(|w| w["path"] == "/opt" && w["depth"] == 6),
        "{walks:?}"
    );
}
