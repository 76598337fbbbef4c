//! The trust variables, each set to a file holding the CA, a file lacking it, a hashed
//! directory holding it, a path that does not exist and the empty string, checked against
//! the real clients that read them (issue "Truth"): Python's `ssl` (OpenSSL's default
//! paths), the real requests and the real pip (24.2+, which verifies through truststore,
//! that is the default paths, unless it is given a CA file).
//!
//! Each client is asked twice: against a server whose chain ends in a CA the OS trusts,
//! and against one whose root nobody trusts. The first says whether the CA is trusted, the
//! second whether anything is checked at all. status's row for that client must say the
//! same: the CA missing or not (`missing_locally_added`), verification off or not.
#![cfg(target_os = "linux")]

mod support;
use support::certs::openssl_subject_hash;
use support::oracle::{has_code, lacks, row, sha256, status_in, SSL_GET};
use support::pyvenv::{self, REQUESTS_GET};
use support::report::{show, text};
use support::sandbox::{self, Sandbox};
use support::tls::{CaChain, ChainSpec, TlsServer};

/// What a real client did against the two servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Real {
    /// It connected to the server of the OS-trusted CA.
    trusted: bool,
    /// It connected to the server nobody trusts: it checks nothing.
    unchecked: bool,
}

/// What status says of the same client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Model {
    trusted: bool,
    unchecked: bool,
}

struct Clients<'a> {
    sb: &'a Sandbox,
    requests: String,
    pip: String,
    trusted: &'a TlsServer,
    stranger: &'a TlsServer,
}

impl Clients<'_> {
    fn ssl(&self, server: &TlsServer, env: &[(&str, &str)]) -> bool {
        let port = server.port();
        let out = self.sb.run(
            &["/usr/bin/python3", "-I", "-c", SSL_GET, &port.to_string()],
            env,
        );
        text(&out.stdout).trim() == "ok"
    }

    fn requests(&self, server: &TlsServer, env: &[(&str, &str)]) -> bool {
        let port = server.port();
        let out = self.sb.run(
            &[
                self.requests.as_str(),
                "-I",
                "-c",
                REQUESTS_GET,
                &port.to_string(),
            ],
            env,
        );
        text(&out.stdout).starts_with("status 200 ")
    }

    /// pip asks the loopback "index" for a package. It says "no such package" whether or
    /// not the handshake verified (a failed fetch is only a warning), so the server's count
    /// of completed handshakes tells: the client finishes one only after verifying.
    fn pip(&self, server: &TlsServer, env: &[(&str, &str)]) -> bool {
        let before = server.completed_handshakes();
        let index = format!("https://127.0.0.1:{}/simple/", server.port());
        let mut all = vec![
            ("HOME", "/nonexistent"),
            ("PIP_CONFIG_FILE", "/dev/null"),
            ("PIP_DISABLE_PIP_VERSION_CHECK", "1"),
            ("PIP_NO_CACHE_DIR", "1"),
        ];
        all.extend_from_slice(env);
        let mut argv = vec![self.pip.as_str()];
        argv.extend_from_slice(support::oracle::PIP_DRY_RUN);
        argv.extend([index.as_str(), "nosuchpkg-trustsync"]);
        let out = self.sb.run(&argv, &all);
        let said = format!("{}{}", text(&out.stdout), text(&out.stderr));
        // A CA path that is not there stops pip before it connects.
        assert!(
            said.contains("Could not find a version that satisfies")
                || said.contains("Could not find a suitable TLS CA certificate bundle"),
            "pip did not get as far as the index: {}",
            show(&out)
        );
        // The server counts a handshake before it answers the request, and pip waits for
        // the answer before it exits.
        server.completed_handshakes() > before
    }

    fn real(&self, client: &str, env: &[(&str, &str)]) -> Real {
        let ask = |server| match client {
            "python-ssl" => self.ssl(server, env),
            "requests" => self.requests(server, env),
            "pip" => self.pip(server, env),
            other => unreachable!("{other}"),
        };
        Real {
            trusted: ask(self.trusted),
            unchecked: ask(self.stranger),
        }
    }

    fn model(&self, client: &str, env: &[(&str, &str)], ca: &str) -> (Model, String) {
        let python = if client == "requests" {
            &self.requests
        } else {
            &self.pip
        };
        let mut all = vec![("HOME", "/nonexistent"), ("PIP_CONFIG_FILE", "/dev/null")];
        all.extend_from_slice(env);
        let doc = status_in(self.sb, python, &all);
        let row = row(&doc, client);
        let missing = lacks(row, ca);
        let unchecked = has_code(row, "verification-off");
        // A broken row trusts nothing (its message says every connection fails).
        let broken = row["verdict"] == "broken" && !unchecked;
        (
            Model {
                trusted: (!missing && !broken) || unchecked,
                unchecked,
            },
            format!("{row:#}"),
        )
    }
}

#[test]
fn every_trust_variable_set_every_way_is_judged_as_each_client_reads_it() {
    let Some(sb) = Sandbox::new() else { return };
    let Some(requests) = pyvenv::install(&sb, pyvenv::REQUESTS, "/opt/rq/venv") else {
        return;
    };
    let Some(pip) = pyvenv::install(&sb, pyvenv::PIP, "/opt/pip/venv") else {
        return;
    };
    let corp = CaChain::new(ChainSpec::default());
    let other = CaChain::new(ChainSpec::default().root("Other Root", None));
    let stranger = CaChain::new(ChainSpec::default().root("Nobody's Root", None));
    sandbox::add_os_ca(&sb, "corp", &corp.root_pem());
    let trusted_server = TlsServer::for_chain(&corp);
    let stranger_server = TlsServer::for_chain(&stranger);
    let ca = sha256(&corp.root_der());

    // The values: a file with only the company root, a file with only another root, a
    // hashed directory holding the company root, a path that is not there, nothing.
    sb.write("/opt/trust/with.pem", corp.root_pem());
    sb.write("/opt/trust/without.pem", other.root_pem());
    let hash = {
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), corp.root_pem()).unwrap();
        openssl_subject_hash(f.path())
    };
    sb.write(format!("/opt/trust/dir/{hash}.0"), corp.root_pem());
    let values = [
        ("a file with the CA", "/opt/trust/with.pem"),
        ("a file without it", "/opt/trust/without.pem"),
        ("a hashed dir with it", "/opt/trust/dir"),
        ("a missing path", "/opt/trust/gone.pem"),
        ("empty", ""),
    ];
    let variables = [
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "REQUESTS_CA_BUNDLE",
        "CURL_CA_BUNDLE",
        "PIP_CERT",
    ];
    let clients = Clients {
        sb: &sb,
        requests: requests.python.clone(),
        pip: pip.python.clone(),
        trusted: &trusted_server,
        stranger: &stranger_server,
    };
    // Unset first: every client trusts the OS CA (requests through its certifi does not,
    // which is S2; pip 24.2 through truststore does) and checks.
    let mut cases = 0;
    let mut disagreements = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    let mut outcomes = std::collections::HashMap::new();
    let mut envs: Vec<(String, Vec<(&str, &str)>)> = Vec::new();
    for variable in variables {
        for (what, value) in values {
            envs.push((
                format!("{variable} = {what} ({value:?})"),
                vec![(variable, value)],
            ));
        }
    }
    // OpenSSL's defaults holding nothing: truststore (pip) then reads a list of its own.
    sb.mkdir("/opt/trust/empty");
    envs.push((
        "SSL_CERT_FILE missing and SSL_CERT_DIR an empty dir".into(),
        vec![
            ("SSL_CERT_FILE", "/opt/trust/gone.pem"),
            ("SSL_CERT_DIR", "/opt/trust/empty"),
        ],
    ));
    envs.push((
        "SSL_CERT_FILE without the CA and SSL_CERT_DIR an empty dir".into(),
        vec![
            ("SSL_CERT_FILE", "/opt/trust/without.pem"),
            ("SSL_CERT_DIR", "/opt/trust/empty"),
        ],
    ));
    for client in ["python-ssl", "requests", "pip"] {
        for (what, env) in &envs {
            let real = clients.real(client, env);
            let (model, row) = clients.model(client, env, &ca);
            cases += 1;
            outcomes.insert((client, what.clone()), real);
            seen.insert((real.trusted, real.unchecked));
            let agree = model.unchecked == real.unchecked
                && (real.unchecked || model.trusted == real.trusted);
            if !agree {
                disagreements.push(format!(
                    "{client} with {what}: the real client {real:?}, status {model:?}\n{row}"
                ));
            }
        }
    }
    assert!(
        disagreements.is_empty(),
        "{} of {cases} cases disagree:\n{}",
        disagreements.len(),
        disagreements.join("\n\n")
    );
    // truststore's fallback list was exercised: pip trusts what `ssl` cannot see.
    let fallback = "SSL_CERT_FILE missing and SSL_CERT_DIR an empty dir".to_string();
    assert!(
        outcomes[&("pip", fallback.clone())].trusted
            && !outcomes[&("python-ssl", fallback)].trusted,
        "{outcomes:?}"
    );
    // The matrix saw the CA trusted and not trusted, so both directions were checked.
    assert!(
        seen.contains(&(true, false)) && seen.contains(&(false, false)),
        "{seen:?}"
    );
}

/// A CA file written by hand or by other tools: a UTF-8 byte-order mark, CRLF line ends,
/// a private key block, `openssl x509 -text` output around the block. Each is read by the
/// real `ssl` (as `SSL_CERT_FILE`, no directory) and by requests (as `REQUESTS_CA_BUNDLE`,
/// which loads it with `load_verify_locations`), then by status for the same rows.
#[test]
fn odd_but_common_bundle_shapes_count_as_openssl_reads_them() {
    let Some(sb) = Sandbox::new() else { return };
    let Some(rq) = pyvenv::install(&sb, pyvenv::REQUESTS, "/opt/rq/venv") else {
        return;
    };
    let corp = CaChain::new(ChainSpec::default());
    sandbox::add_os_ca(&sb, "corp", &corp.root_pem());
    let server = TlsServer::for_chain(&corp);
    let ca = sha256(&corp.root_der());
    let pem = corp.root_pem();
    // A real key (the leaf's) and a cut-off one: OpenSSL decodes key blocks too.
    let key = pem::encode(&pem::Pem::new("PRIVATE KEY", corp.leaf_key()));
    let broken_key =
        "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n";
    let shapes: Vec<(&str, Vec<u8>)> = vec![
        ("plain", pem.clone().into_bytes()),
        (
            "a byte-order mark",
            [b"\xef\xbb\xbf".as_slice(), pem.as_bytes()].concat(),
        ),
        ("CRLF line ends", pem.replace('\n', "\r\n").into_bytes()),
        ("a key block first", format!("{key}{pem}").into_bytes()),
        (
            "a cut-off key block first",
            format!("{broken_key}{pem}").into_bytes(),
        ),
        (
            "x509 -text around it",
            format!("Certificate:\n    Data:\n        Version: 3 (0x2)\n{pem}trailing words\n")
                .into_bytes(),
        ),
        ("only a key", key.as_bytes().to_vec()),
    ];
    let port = server.port().to_string();
    let mut disagreements = Vec::new();
    for (what, bytes) in &shapes {
        sb.write("/opt/trust/odd.pem", bytes);
        for (client, env) in [
            (
                "python-ssl",
                [
                    ("SSL_CERT_FILE", "/opt/trust/odd.pem"),
                    ("SSL_CERT_DIR", "/nonexistent"),
                ],
            ),
            (
                "requests",
                [
                    ("REQUESTS_CA_BUNDLE", "/opt/trust/odd.pem"),
                    ("SSL_CERT_DIR", "/nonexistent"),
                ],
            ),
        ] {
            let (python, script) = if client == "requests" {
                (rq.python.as_str(), REQUESTS_GET)
            } else {
                ("/usr/bin/python3", SSL_GET)
            };
            let out = sb.run(&[python, "-I", "-c", script, &port], &env);
            let said = text(&out.stdout);
            let real = said.starts_with("ok") || said.starts_with("status 200 ");
            let doc = status_in(&sb, &rq.python, &env);
            let row = row(&doc, client);
            let model =
                row["verdict"] != "broken" && row["trusted"].as_u64() > Some(0) && !lacks(row, &ca);
            if model != real {
                disagreements.push(format!(
                    "{client}, {what}: the real client {} ({}), status {model}\n{row:#}",
                    real,
                    said.trim()
                ));
            }
        }
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n\n"));
}
