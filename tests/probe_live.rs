//! `trustsync probe` against real rustls servers on 127.0.0.1, one per failure class.
//!
//! Each test generates a chain with rcgen, serves it, probes it with the real capture
//! and verifier, and checks the class in the report struct, in the JSON and in the human
//! output. Proxies from the environment are disabled so CI's variables cannot interfere.

mod support;

use std::io::{Read, Write};
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;
use support::tls::{closed_port, CaChain, ChainSpec, ConnectProxy, SilentServer, TlsServer};
use trustsync::commands::probe::{
    self, render_human, Code, ErrorReport, NoteCode, ProbeError, ProbeReport, ProxySetting, Target,
    TrustSetInput,
};

const OS: &str = "OS store";
const RUNTIME: &str = "python3 (certifi)";

fn target(port: u16) -> Target {
    let mut t = Target::parse(&format!("127.0.0.1:{port}")).unwrap();
    t.timeout = Duration::from_secs(5);
    t.proxy = ProxySetting::Direct;
    t
}

fn set(label: &str, roots: &[&CaChain]) -> TrustSetInput {
    TrustSetInput {
        label: label.to_string(),
        roots: roots.iter().map(|c| c.root_der()).collect(),
    }
}

fn probe(t: &Target, sets: &[TrustSetInput]) -> ProbeReport {
    probe::run(t, sets, SystemTime::now()).expect("probe gets a chain")
}

/// Checks one trust set's class in the struct, the JSON and the human output.
fn assert_class(report: &ProbeReport, label: &str, code: Code, words: &[&str]) -> Value {
    let v = report.verdict(label).expect("verdict for the set");
    assert_eq!(v.code, code, "{label}: {v:#?}");
    assert_eq!(v.verified, code == Code::Ok);
    let json = serde_json::to_value(report).unwrap();
    let jv = json["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["trust_set"] == label)
        .unwrap()
        .clone();
    assert_eq!(jv["code"], code.as_str());
    let human = render_human(report, false);
    assert!(
        human.contains(&format!("{label}: {}", code.as_str())),
        "human output lacks '{label}: {code}':\n{human}"
    );
    for w in words {
        assert!(human.contains(w), "human output lacks {w:?}:\n{human}");
    }
    jv
}

#[test]
fn good_chain_verifies_everywhere_without_completing_the_handshake() {
    let chain = CaChain::new(ChainSpec::default());
    let other = CaChain::new(ChainSpec::default());
    let server = TlsServer::for_chain(&chain);
    let report = probe(
        &target(server.port()),
        &[set(OS, &[&chain]), set(RUNTIME, &[&other, &chain])],
    );
    assert_class(&report, OS, Code::Ok, &["verifies in every trust set"]);
    let jv = assert_class(&report, RUNTIME, Code::Ok, &[]);
    assert_eq!(jv["anchor"], chain.root.common_name);
    assert_eq!(report.exit_code(), 0);
    assert_eq!(report.overall, Code::Ok);
    // The chain is recorded exactly as sent, and the probe never finished a handshake.
    let sent = chain.served_chain();
    assert_eq!(report.chain.len(), sent.len());
    assert_eq!(
        report.chain[1].name,
        chain.intermediate.as_ref().unwrap().common_name
    );
    assert_eq!(server.completed_handshakes(), 0);
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["schema"], "trustsync-probe/1");
    assert_eq!(json["exit_code"], 0);
    assert_eq!(json["connection"]["port"], server.port());
    assert!(json["connection"].get("proxy").is_none());
}

#[test]
fn ca_trusted_by_os_but_not_runtime_says_run_fix() {
    let chain = CaChain::new(ChainSpec::default());
    let other = CaChain::new(ChainSpec::default());
    let server = TlsServer::for_chain(&chain);
    let report = probe(
        &target(server.port()),
        &[set(OS, &[&chain]), set(RUNTIME, &[&other])],
    );
    assert_class(&report, OS, Code::Ok, &[]);
    let jv = assert_class(
        &report,
        RUNTIME,
        Code::UntrustedRoot,
        &["sudo trustsync fix", &chain.root.common_name],
    );
    assert_eq!(jv["ca"]["name"], chain.root.common_name);
    assert_eq!(jv["ca"]["trusted_by"], serde_json::json!([OS]));
    assert_eq!(jv["ca"]["sent_by_server"], false);
    assert!(jv["next_step"]
        .as_str()
        .unwrap()
        .contains("sudo trustsync fix"));
    assert_eq!(report.exit_code(), 1);
    assert_eq!(report.overall, Code::UntrustedRoot);
    assert!(!report.has_note(NoteCode::TlsInspectionSuspected));
}

#[test]
fn incomplete_chain_names_the_missing_intermediate_and_its_url() {
    let url = "http://pki.example.test/intermediate.crt";
    let chain = CaChain::new(ChainSpec::default().ca_issuers_url(url));
    let server = TlsServer::start(chain.leaf_only(), chain.leaf_key());
    let report = probe(
        &target(server.port()),
        &[set(OS, &[&chain]), set(RUNTIME, &[&chain])],
    );
    let intermediate = &chain.intermediate.as_ref().unwrap().common_name;
    for label in [OS, RUNTIME] {
        let jv = assert_class(&report, label, Code::IncompleteChain, &[url, intermediate]);
        assert_eq!(jv["missing"]["name"], *intermediate);
        assert_eq!(jv["missing"]["needed_by"], "localhost");
        assert_eq!(jv["missing"]["ca_issuers"], serde_json::json!([url]));
    }
    assert_eq!(report.chain.len(), 1);
    assert_eq!(report.chain[0].ca_issuers, vec![url.to_string()]);
    assert_eq!(report.exit_code(), 1);
}

#[test]
fn expired_leaf_gives_dates_without_clock_warning() {
    let chain = CaChain::new(ChainSpec::default().expired_leaf());
    let server = TlsServer::for_chain(&chain);
    let report = probe(&target(server.port()), &[set(OS, &[&chain])]);
    let jv = assert_class(
        &report,
        OS,
        Code::Expired,
        &["expired", "2021-01-01", "EXPIRED"],
    );
    assert_eq!(jv["certificate"]["name"], "localhost");
    assert_eq!(jv["certificate"]["not_after"], "2021-01-01T00:00:00Z");
    assert!(jv["next_step"].as_str().unwrap().contains("renew"));
    assert!(!report.has_note(NoteCode::ClockSkew));
}

#[test]
fn not_yet_valid_leaf_gives_dates() {
    let chain = CaChain::new(ChainSpec::default().not_yet_valid_leaf());
    let server = TlsServer::for_chain(&chain);
    let report = probe(&target(server.port()), &[set(OS, &[&chain])]);
    let jv = assert_class(
        &report,
        OS,
        Code::NotYetValid,
        &["not valid yet", "2090-01-01"],
    );
    assert_eq!(jv["certificate"]["not_before"], "2090-01-01T00:00:00Z");
}

#[test]
fn wrong_name_lists_the_names_offered() {
    let chain = CaChain::new(ChainSpec::default().names(&["other.test", "www.other.test"]));
    let server = TlsServer::for_chain(&chain);
    let mut t = target(server.port());
    t.servername = Some("probe.test".into());
    let report = probe(&t, &[set(OS, &[&chain])]);
    let jv = assert_class(
        &report,
        OS,
        Code::HostnameMismatch,
        &["probe.test", "other.test, www.other.test"],
    );
    assert_eq!(jv["hostname"]["asked"], "probe.test");
    assert_eq!(
        jv["hostname"]["offered"],
        serde_json::json!(["other.test", "www.other.test"])
    );
    assert_eq!(report.connection.as_ref().unwrap().servername, "probe.test");
}

#[test]
fn self_signed_leaf() {
    let chain = CaChain::new(ChainSpec::default().self_signed());
    let server = TlsServer::for_chain(&chain);
    let report = probe(&target(server.port()), &[set(OS, &[&chain])]);
    let jv = assert_class(&report, OS, Code::SelfSigned, &["self-signed"]);
    let leaf_sha = report.chain[0].sha256.clone();
    assert_eq!(jv["ca"]["sha256"], leaf_sha);
    assert!(jv["next_step"].as_str().unwrap().contains(&leaf_sha));
    assert!(report.chain[0].self_signed);
}

#[test]
fn proxy_style_resigning_ca_is_called_out() {
    // What a TLS-inspecting proxy does: a leaf for the asked name, signed on the fly by
    // the proxy's own root, which it also sends. Nobody here trusts that root.
    let public = CaChain::new(ChainSpec::default());
    let inspector = CaChain::new(
        ChainSpec::default()
            .root("Example Corp SSL Inspection Root", Some("Example Corp"))
            .names(&["pypi.org"]),
    );
    let server = TlsServer::start(inspector.chain_with_root(), inspector.leaf_key());
    let mut t = target(server.port());
    t.servername = Some("pypi.org".into());
    let report = probe(&t, &[set(OS, &[&public]), set(RUNTIME, &[&public])]);
    for label in [OS, RUNTIME] {
        let jv = assert_class(
            &report,
            label,
            Code::UntrustedRoot,
            &["TLS-inspecting proxy", "Example Corp SSL Inspection Root"],
        );
        assert_eq!(jv["ca"]["sent_by_server"], true);
        assert_eq!(jv["ca"]["trusted_by"], serde_json::json!([]));
        assert!(jv["next_step"].as_str().unwrap().contains("proxy"));
    }
    assert!(report.has_note(NoteCode::TlsInspectionSuspected));
    let json = serde_json::to_value(&report).unwrap();
    assert!(json["notes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n["code"] == "tls-inspection-suspected"));
}

#[test]
fn connect_proxy_tunnels_the_probe() {
    let chain = CaChain::new(ChainSpec::default());
    let server = TlsServer::for_chain(&chain);
    let proxy = ConnectProxy::start();
    let mut t = target(server.port());
    t.proxy = ProxySetting::Url(proxy.url().parse().unwrap());
    let report = probe(&t, &[set(OS, &[&chain])]);
    assert_class(
        &report,
        OS,
        Code::Ok,
        &[&format!("via proxy {}", proxy.url())],
    );
    let requests = proxy.requests();
    assert_eq!(requests.len(), 1);
    assert!(
        requests[0].starts_with(&format!("CONNECT 127.0.0.1:{} HTTP/1.1\r\n", server.port())),
        "{requests:?}"
    );
    let conn = report.connection.as_ref().unwrap();
    assert_eq!(conn.proxy.as_deref(), Some(proxy.url().as_str()));
    assert_eq!(conn.peer, format!("127.0.0.1:{}", proxy.port()));
}

#[test]
fn connect_proxy_gets_credentials_and_refusals_are_reported() {
    let chain = CaChain::new(ChainSpec::default());
    let server = TlsServer::for_chain(&chain);
    let proxy = ConnectProxy::start_with_status(407);
    let mut t = target(server.port());
    t.proxy = ProxySetting::Url(
        format!("http://alice:wonder@127.0.0.1:{}", proxy.port())
            .parse()
            .unwrap(),
    );
    let outcome = probe::run(&t, &[set(OS, &[&chain])], SystemTime::now());
    let err = outcome.as_ref().unwrap_err();
    assert!(matches!(err, ProbeError::Proxy { .. }), "{err:?}");
    assert!(err.to_string().contains("407"), "{err}");
    assert!(!err.to_string().contains("wonder"), "{err}");
    assert_eq!(probe::exit_code(&outcome), 2);
    // base64("alice:wonder")
    assert!(proxy.requests()[0].contains("Proxy-Authorization: Basic YWxpY2U6d29uZGVy\r\n"));
}

#[test]
fn unreachable_port_reports_the_socket_error() {
    let t = target(closed_port());
    let outcome = probe::run(&t, &[], SystemTime::now());
    let err = outcome.as_ref().unwrap_err();
    assert!(matches!(err, ProbeError::Connect { .. }), "{err:?}");
    assert!(err.to_string().to_lowercase().contains("refused"), "{err}");
    assert!(
        err.to_string().contains(&format!("127.0.0.1:{}", t.port)),
        "{err}"
    );
    assert_eq!(probe::exit_code(&outcome), 2);
    let json = serde_json::to_value(ErrorReport::new(err)).unwrap();
    assert_eq!(json["error"], "connect-failed");
    assert_eq!(json["exit_code"], 2);
}

#[test]
fn plain_http_port_is_named_as_not_tls() {
    // A server that answers in HTTP, as happens with `probe host:80`.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut buf = [0u8; 512];
        let _ = s.read(&mut buf);
        let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
    });
    let outcome = probe::run(&target(port), &[], SystemTime::now());
    server.join().unwrap();
    let err = outcome.unwrap_err();
    assert!(matches!(err, ProbeError::Handshake { .. }), "{err:?}");
    assert!(err.to_string().contains("not TLS"), "{err}");
}

#[test]
fn unreachable_proxy_says_proxy() {
    let chain = CaChain::new(ChainSpec::default());
    let server = TlsServer::for_chain(&chain);
    let mut t = target(server.port());
    t.proxy = ProxySetting::Url(format!("127.0.0.1:{}", closed_port()).parse().unwrap());
    let err = probe::run(&t, &[], SystemTime::now()).unwrap_err();
    assert_eq!(err.code(), "proxy-failed");
    assert!(
        err.to_string().starts_with("proxy http://127.0.0.1:"),
        "{err}"
    );
    assert!(err.to_string().to_lowercase().contains("refused"), "{err}");
}

#[test]
fn silent_server_times_out_with_a_clear_error() {
    let server = SilentServer::start();
    let mut t = target(server.port());
    t.timeout = Duration::from_secs(1);
    let start = Instant::now();
    let outcome = probe::run(&t, &[], SystemTime::now());
    let elapsed = start.elapsed();
    let err = outcome.as_ref().unwrap_err();
    assert!(
        matches!(err, ProbeError::HandshakeTimeout { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("never answered"), "{err}");
    assert_eq!(err.code(), "handshake-timeout");
    // It waited for the timeout rather than giving up at once. Only a lower bound: a busy
    // machine can make any run slower, never faster (how much later it gives up is timing,
    // which belongs in benches).
    assert!(
        elapsed >= Duration::from_millis(900),
        "gave up early: {elapsed:?}"
    );
    assert_eq!(probe::exit_code(&outcome), 2);
}
