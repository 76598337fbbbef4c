//! `HTTPS_PROXY` is honoured: the probe goes through the proxy named in the environment.
//!
//! Alone in its own test binary because it sets process environment variables, which
//! other tests running in parallel threads must not observe.

mod support;

use std::time::{Duration, SystemTime};

use support::tls::{CaChain, ChainSpec, ConnectProxy, TlsServer};
use trustsync::commands::probe::{self, Code, NoteCode, ProxySetting, Target, TrustSetInput};

#[test]
fn https_proxy_from_the_environment_is_used_and_hinted() {
    let chain = CaChain::new(ChainSpec::default().names(&["probe.test"]));
    let server = TlsServer::for_chain(&chain);
    let proxy = ConnectProxy::start();
    std::env::set_var("HTTPS_PROXY", proxy.url());
    std::env::remove_var("NO_PROXY");
    std::env::remove_var("no_proxy");

    // `probe.test` does not resolve: only a proxy can reach it (the test proxy sends
    // every name to 127.0.0.1), so success proves the environment proxy was used.
    let mut t = Target::parse(&format!("probe.test:{}", server.port())).unwrap();
    t.timeout = Duration::from_secs(5);
    assert_eq!(t.proxy, ProxySetting::FromEnvironment);
    let other = CaChain::new(ChainSpec::default());
    let sets = [TrustSetInput {
        label: "OS store".into(),
        roots: vec![other.root_der()],
    }];
    let report = probe::run(&t, &sets, SystemTime::now()).unwrap();
    std::env::remove_var("HTTPS_PROXY");

    assert_eq!(
        proxy.requests()[0].lines().next().unwrap(),
        format!("CONNECT probe.test:{} HTTP/1.1", server.port())
    );
    assert_eq!(
        report.connection.as_ref().unwrap().proxy.as_deref(),
        Some(proxy.url().as_str())
    );
    // Nobody trusts the root and a proxy is configured: interception is suspected.
    assert_eq!(report.overall, Code::UntrustedRoot);
    let note = report
        .notes
        .iter()
        .find(|n| n.code == NoteCode::TlsInspectionSuspected)
        .expect("inspection note");
    assert!(
        note.message.contains("a proxy is in use"),
        "{}",
        note.message
    );
}
