//! Cross-checks with real TLS clients: the loopback server from `support::tls` is a
//! real server (OpenSSL and Python talk to it), and for every class the probe names,
//! OpenSSL's own verifier fails for the matching reason. This keeps the probe's words
//! honest about what `openssl`, Python and curl users actually see.

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

use support::tls::{CaChain, ChainSpec, TlsServer};
use trustsync::commands::probe::{self, Code, ProxySetting, Target, TrustSetInput};

fn probe_code(server: &TlsServer, name: &str, root: &CaChain) -> Code {
    let mut t = Target::parse(&server.addr()).unwrap();
    t.servername = Some(name.to_string());
    t.timeout = Duration::from_secs(5);
    t.proxy = ProxySetting::Direct;
    let sets = [TrustSetInput {
        label: "OS store".into(),
        roots: vec![root.root_der()],
    }];
    probe::run(&t, &sets, SystemTime::now()).unwrap().overall
}

/// `openssl s_client` verifying against `cafile`, returning its "Verify return code" line.
fn openssl_verify(server: &TlsServer, name: &str, cafile: &Path) -> String {
    let out = Command::new("openssl")
        .args(["s_client", "-connect", &server.addr(), "-servername", name])
        .args(["-verify_hostname", name, "-CAfile"])
        .arg(cafile)
        .stdin(Stdio::null())
        .output()
        .expect("openssl is installed (Debian package `openssl`)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    stdout
        .lines()
        .find(|l| l.trim_start().starts_with("Verify return code:"))
        .unwrap_or_else(|| panic!("no verify line in s_client output:\n{stdout}"))
        .trim()
        .to_string()
}

#[test]
fn probe_and_openssl_agree_on_each_class() {
    let dir = tempfile::tempdir().unwrap();
    let url = "http://pki.example.test/int.crt";
    // (label, chain, serve only the leaf?, name asked, probe's class, OpenSSL's verdict)
    let cases = [
        (
            "good",
            CaChain::new(ChainSpec::default()),
            false,
            "localhost",
            Code::Ok,
            "0 (ok)",
        ),
        (
            "incomplete",
            CaChain::new(ChainSpec::default().ca_issuers_url(url)),
            true,
            "localhost",
            Code::IncompleteChain,
            "21 (unable to verify the first certificate)",
        ),
        (
            "expired",
            CaChain::new(ChainSpec::default().expired_leaf()),
            false,
            "localhost",
            Code::Expired,
            "10 (certificate has expired)",
        ),
        (
            "future",
            CaChain::new(ChainSpec::default().not_yet_valid_leaf()),
            false,
            "localhost",
            Code::NotYetValid,
            "9 (certificate is not yet valid)",
        ),
        (
            "selfsigned",
            CaChain::new(ChainSpec::default().self_signed()),
            false,
            "localhost",
            Code::SelfSigned,
            "18 (self-signed certificate)",
        ),
        (
            "wrongname",
            CaChain::new(ChainSpec::default()),
            false,
            "wrong.test",
            Code::HostnameMismatch,
            "62 (hostname mismatch)",
        ),
    ];
    for (label, chain, leaf_only, name, code, openssl_says) in cases {
        let served = if leaf_only {
            chain.leaf_only()
        } else {
            chain.served_chain()
        };
        let server = TlsServer::start(served, chain.leaf_key());
        let cafile = dir.path().join(format!("{label}.pem"));
        std::fs::write(&cafile, chain.root_pem()).unwrap();
        assert_eq!(probe_code(&server, name, &chain), code, "{label}");
        let verify = openssl_verify(&server, name, &cafile);
        // For a lone leaf s_client reports 21; Python and curl show the underlying 20
        // ("unable to get local issuer certificate") from the same failure.
        assert!(
            verify.ends_with(openssl_says),
            "{label}: openssl said {verify:?}"
        );
    }
    // Untrusted root sent by the server (what inspecting proxies do): OpenSSL error 19.
    let proxy_ca = CaChain::new(ChainSpec::default());
    let public = CaChain::new(ChainSpec::default());
    let server = TlsServer::start(proxy_ca.chain_with_root(), proxy_ca.leaf_key());
    let cafile = dir.path().join("public.pem");
    std::fs::write(&cafile, public.root_pem()).unwrap();
    assert_eq!(
        probe_code(&server, "localhost", &public),
        Code::UntrustedRoot
    );
    let verify = openssl_verify(&server, "localhost", &cafile);
    assert!(
        verify.ends_with("19 (self-signed certificate in certificate chain)"),
        "{verify}"
    );
}

/// Fetches `url` with Python's urllib trusting only `cafile`: the body, or the error text.
fn python_fetch(url: &str, cafile: &Path) -> Result<String, String> {
    let script = "import ssl, sys, urllib.request\n\
                  ctx = ssl.create_default_context(cafile=sys.argv[1])\n\
                  print(urllib.request.urlopen(sys.argv[2], context=ctx, timeout=10).read().decode())";
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(cafile)
        .arg(url)
        .output()
        .expect("python3 is installed");
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[test]
fn python_sees_the_seed_error_for_an_incomplete_chain() {
    let chain = CaChain::new(ChainSpec::default().ca_issuers_url("http://pki.example.test/i.crt"));
    let server = TlsServer::start(chain.leaf_only(), chain.leaf_key());
    let dir = tempfile::tempdir().unwrap();
    let cafile = dir.path().join("root.pem");
    std::fs::write(&cafile, chain.root_pem()).unwrap();
    let err = python_fetch(&format!("https://localhost:{}/", server.port()), &cafile).unwrap_err();
    assert!(
        err.contains("CERTIFICATE_VERIFY_FAILED")
            && err.contains("unable to get local issuer certificate"),
        "{err}"
    );
    assert_eq!(
        probe_code(&server, "localhost", &chain),
        Code::IncompleteChain
    );
}

#[test]
fn python_https_client_gets_an_answer_and_tls12_servers_are_probed() {
    let chain = CaChain::new(ChainSpec::default());
    let server = TlsServer::start_with_versions(
        chain.served_chain(),
        chain.leaf_key(),
        &[&rustls::version::TLS12],
    );
    let dir = tempfile::tempdir().unwrap();
    let cafile = dir.path().join("root.pem");
    std::fs::write(&cafile, chain.root_pem()).unwrap();
    let fetched = python_fetch(&format!("https://localhost:{}/", server.port()), &cafile);
    assert_eq!(fetched, Ok("ok".to_string()));
    assert_eq!(server.completed_handshakes(), 1);

    let mut t = Target::parse(&server.addr()).unwrap();
    t.proxy = ProxySetting::Direct;
    let sets = [TrustSetInput {
        label: "OS store".into(),
        roots: vec![chain.root_der()],
    }];
    let report = probe::run(&t, &sets, SystemTime::now()).unwrap();
    assert_eq!(report.overall, Code::Ok);
    assert_eq!(
        report.connection.unwrap().protocol.as_deref(),
        Some("TLSv1_2")
    );
    // The probe aborted its handshake: still only Python's counted.
    assert_eq!(server.completed_handshakes(), 1);
}
