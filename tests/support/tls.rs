//! Test support: certificate chains made with rcgen, and real TLS endpoints on 127.0.0.1.
//!
//! trustsync's tests check real behaviour (a real handshake, a real verifier), so they need
//! throwaway CAs and servers. This module provides:
//!
//! * [`CaChain::new`]: root → intermediate → leaf (or root → leaf), with options for
//!   expired / not-yet-valid leaves, SAN names, an AIA "CA Issuers" URL and a self-signed
//!   leaf; every chain gets unique names so several can coexist in one trust set;
//! * [`TlsServer::start`]: a rustls server on 127.0.0.1:0 in a thread, serving any number
//!   of handshakes (and a tiny `HTTP/1.1 200` answer, so urllib/curl/openssl clients work)
//!   until dropped;
//! * [`SilentServer::start`]: accepts TCP and never answers (handshake-timeout tests);
//! * [`ConnectProxy::start`]: an HTTP CONNECT proxy that only tunnels to loopback.
//!
//! Threads, no sleeps: dropping a server sets a flag and connects to it once to wake the
//! accept loop, then joins it.
// Shared by several test binaries, each of which uses only part of it.
#![allow(dead_code)]

use std::io::{self, Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use rcgen::{
    BasicConstraints, Certificate, CertificateParams, CustomExtension, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A calendar date for validity periods: (year, month, day), UTC midnight.
pub type Date = (i32, u8, u8);

/// What to generate. Start from `ChainSpec::default()` and change fields.
#[derive(Debug, Clone)]
pub struct ChainSpec {
    /// Root CA common name; `None`: "trustsync test N Root CA" (unique per chain).
    pub root_name: Option<String>,
    /// Root CA organisation (O=), e.g. to imitate a proxy vendor.
    pub root_org: Option<String>,
    /// Whether to put an intermediate CA between root and leaf.
    pub with_intermediate: bool,
    /// Leaf SANs; strings that parse as IP addresses become IP SANs. The first is the CN.
    pub leaf_names: Vec<String>,
    /// Leaf validity (not_before, not_after).
    pub leaf_validity: (Date, Date),
    /// Root and intermediate validity.
    pub ca_validity: (Date, Date),
    /// AIA "CA Issuers" URL put in the leaf (where its issuer could be downloaded).
    pub leaf_ca_issuers_url: Option<String>,
    /// Make the leaf its own issuer (root and intermediate are still generated).
    pub self_signed_leaf: bool,
}

impl Default for ChainSpec {
    fn default() -> Self {
        ChainSpec {
            root_name: None,
            root_org: None,
            with_intermediate: true,
            leaf_names: vec!["localhost".into(), "127.0.0.1".into()],
            leaf_validity: ((2024, 1, 1), (2045, 1, 1)),
            ca_validity: ((2020, 1, 1), (2050, 1, 1)),
            leaf_ca_issuers_url: None,
            self_signed_leaf: false,
        }
    }
}

impl ChainSpec {
    /// Leaf valid 2020-01-01 .. 2021-01-01.
    pub fn expired_leaf(mut self) -> Self {
        self.leaf_validity = ((2020, 1, 1), (2021, 1, 1));
        self
    }
    /// Leaf valid 2090-01-01 .. 2095-01-01.
    pub fn not_yet_valid_leaf(mut self) -> Self {
        self.leaf_validity = ((2090, 1, 1), (2095, 1, 1));
        self
    }
    pub fn names(mut self, names: &[&str]) -> Self {
        self.leaf_names = names.iter().map(|s| s.to_string()).collect();
        self
    }
    pub fn ca_issuers_url(mut self, url: &str) -> Self {
        self.leaf_ca_issuers_url = Some(url.to_string());
        self
    }
    pub fn self_signed(mut self) -> Self {
        self.self_signed_leaf = true;
        self
    }
    pub fn root(mut self, common_name: &str, organisation: Option<&str>) -> Self {
        self.root_name = Some(common_name.to_string());
        self.root_org = organisation.map(str::to_string);
        self
    }
    pub fn no_intermediate(mut self) -> Self {
        self.with_intermediate = false;
        self
    }
}

/// One generated certificate and its key.
pub struct Issued {
    pub der: Vec<u8>,
    /// PKCS#8 DER of the private key.
    pub key_der: Vec<u8>,
    pub common_name: String,
    cert: Certificate,
    key: KeyPair,
}

impl Issued {
    pub fn pem(&self) -> String {
        self.cert.pem()
    }
    pub fn key_pem(&self) -> String {
        self.key.serialize_pem()
    }
}

/// A generated root → (intermediate →) leaf chain.
pub struct CaChain {
    pub root: Issued,
    pub intermediate: Option<Issued>,
    pub leaf: Issued,
    /// The leaf is its own issuer (served alone by [`CaChain::served_chain`]).
    pub self_signed_leaf: bool,
}

static CHAIN_COUNTER: AtomicUsize = AtomicUsize::new(1);

fn dn(common_name: &str, org: Option<&str>) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    if let Some(o) = org {
        dn.push(DnType::OrganizationName, o);
    }
    dn.push(DnType::CommonName, common_name);
    dn
}

fn ca_params(common_name: &str, org: Option<&str>, validity: (Date, Date)) -> CertificateParams {
    let mut p = CertificateParams::new(Vec::<String>::new()).expect("no SANs is valid");
    p.distinguished_name = dn(common_name, org);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    p.not_before = rcgen::date_time_ymd(validity.0 .0, validity.0 .1, validity.0 .2);
    p.not_after = rcgen::date_time_ymd(validity.1 .0, validity.1 .1, validity.1 .2);
    p
}

/// DER of an AuthorityInfoAccess extension value with one caIssuers URI. Hand-encoded:
/// rcgen has no AIA support, and the structure is two SEQUENCEs, an OID and a tagged string.
fn aia_ca_issuers(url: &str) -> Vec<u8> {
    fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        let len = body.len();
        if len < 0x80 {
            out.push(len as u8);
        } else if len < 0x100 {
            out.extend([0x81, len as u8]);
        } else {
            out.extend([0x82, (len >> 8) as u8, len as u8]);
        }
        out.extend_from_slice(body);
        out
    }
    // id-ad-caIssuers 1.3.6.1.5.5.7.48.2
    let oid = [0x06, 0x08, 0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x02];
    let mut access = oid.to_vec();
    access.extend(tlv(0x86, url.as_bytes())); // [6] uniformResourceIdentifier
    tlv(0x30, &tlv(0x30, &access))
}

impl CaChain {
    pub fn new(spec: ChainSpec) -> CaChain {
        let n = CHAIN_COUNTER.fetch_add(1, Ordering::Relaxed);
        let pid = std::process::id();
        let root_name = spec
            .root_name
            .clone()
            .unwrap_or_else(|| format!("trustsync test {pid}-{n} Root CA"));
        let root_key = KeyPair::generate().expect("keygen");
        let root_cert = ca_params(&root_name, spec.root_org.as_deref(), spec.ca_validity)
            .self_signed(&root_key)
            .expect("root");
        let root = issued(root_cert, root_key, &root_name);

        let intermediate = spec.with_intermediate.then(|| {
            let name = format!("trustsync test {pid}-{n} Intermediate CA");
            let key = KeyPair::generate().expect("keygen");
            let mut p = ca_params(&name, spec.root_org.as_deref(), spec.ca_validity);
            p.use_authority_key_identifier_extension = true;
            let cert = p
                .signed_by(&key, &root.cert, &root.key)
                .expect("intermediate");
            issued(cert, key, &name)
        });

        let leaf_cn = spec
            .leaf_names
            .first()
            .cloned()
            .unwrap_or_else(|| format!("trustsync test {pid}-{n} leaf"));
        let mut p = CertificateParams::new(spec.leaf_names.clone()).expect("leaf SANs");
        p.distinguished_name = dn(&leaf_cn, None);
        p.is_ca = IsCa::NoCa;
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let (b, a) = spec.leaf_validity;
        p.not_before = rcgen::date_time_ymd(b.0, b.1, b.2);
        p.not_after = rcgen::date_time_ymd(a.0, a.1, a.2);
        if let Some(url) = &spec.leaf_ca_issuers_url {
            p.custom_extensions.push(CustomExtension::from_oid_content(
                &[1, 3, 6, 1, 5, 5, 7, 1, 1],
                aia_ca_issuers(url),
            ));
        }
        let key = KeyPair::generate().expect("keygen");
        let cert = if spec.self_signed_leaf {
            p.self_signed(&key).expect("self-signed leaf")
        } else {
            p.use_authority_key_identifier_extension = true;
            let (issuer_cert, issuer_key) = match &intermediate {
                Some(i) => (&i.cert, &i.key),
                None => (&root.cert, &root.key),
            };
            p.signed_by(&key, issuer_cert, issuer_key).expect("leaf")
        };
        let leaf = issued(cert, key, &leaf_cn);
        CaChain {
            root,
            intermediate,
            leaf,
            self_signed_leaf: spec.self_signed_leaf,
        }
    }

    /// What a correctly configured server sends: leaf, then the intermediate if any.
    pub fn served_chain(&self) -> Vec<Vec<u8>> {
        let mut chain = vec![self.leaf.der.clone()];
        if let (Some(i), false) = (&self.intermediate, self.self_signed_leaf) {
            chain.push(i.der.clone());
        }
        chain
    }

    /// Leaf, intermediate and root (some servers, and most inspecting proxies, send the root).
    pub fn chain_with_root(&self) -> Vec<Vec<u8>> {
        let mut chain = self.served_chain();
        chain.push(self.root.der.clone());
        chain
    }

    /// Only the leaf: an incomplete chain when there is an intermediate.
    pub fn leaf_only(&self) -> Vec<Vec<u8>> {
        vec![self.leaf.der.clone()]
    }

    pub fn root_der(&self) -> Vec<u8> {
        self.root.der.clone()
    }

    pub fn root_pem(&self) -> String {
        self.root.pem()
    }

    /// The leaf's private key, PKCS#8 DER (for [`TlsServer::start`]).
    pub fn leaf_key(&self) -> Vec<u8> {
        self.leaf.key_der.clone()
    }

    /// PEM of the given DER certificates, concatenated (for chain files and bundles).
    pub fn pem_of(chain: &[Vec<u8>]) -> String {
        chain
            .iter()
            .map(|der| pem::encode(&pem::Pem::new("CERTIFICATE", der.clone())))
            .collect()
    }
}

fn issued(cert: Certificate, key: KeyPair, name: &str) -> Issued {
    Issued {
        der: cert.der().to_vec(),
        key_der: key.serialize_der(),
        common_name: name.to_string(),
        cert,
        key,
    }
}

/// Stops an accept loop: set the flag, then connect once so `accept` returns.
struct Stopper {
    port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Stopper {
    fn spawn(
        listener: TcpListener,
        mut on_conn: impl FnMut(TcpStream) + Send + 'static,
    ) -> Stopper {
        let port = listener.local_addr().expect("local addr").port();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if flag.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = conn {
                    on_conn(stream);
                }
            }
        });
        Stopper {
            port,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Stopper {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn bind_loopback() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0")
}

/// A rustls TLS server on 127.0.0.1 sending a chosen chain. Each connection is served in
/// its own thread: handshake, then (if the client sends a request) a minimal HTTP answer.
pub struct TlsServer {
    stopper: Stopper,
    handshakes: Arc<AtomicUsize>,
}

impl TlsServer {
    /// Serves `chain` (DER, leaf first, sent exactly as given) with the leaf's PKCS#8 key,
    /// over TLS 1.3 or 1.2.
    pub fn start(chain: Vec<Vec<u8>>, key_pkcs8_der: Vec<u8>) -> TlsServer {
        TlsServer::start_with_versions(chain, key_pkcs8_der, rustls::DEFAULT_VERSIONS)
    }

    /// Like [`TlsServer::start`], limited to the given protocol versions (e.g.
    /// `&[&rustls::version::TLS12]` to test a TLS 1.2-only server).
    pub fn start_with_versions(
        chain: Vec<Vec<u8>>,
        key_pkcs8_der: Vec<u8>,
        versions: &[&'static rustls::SupportedProtocolVersion],
    ) -> TlsServer {
        let certs: Vec<CertificateDer<'static>> =
            chain.into_iter().map(CertificateDer::from).collect();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_pkcs8_der));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(versions)
            .expect("protocol versions")
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .expect("server certificate and key");
        let config = Arc::new(config);
        let handshakes = Arc::new(AtomicUsize::new(0));
        let count = handshakes.clone();
        let stopper = Stopper::spawn(bind_loopback(), move |stream| {
            let config = config.clone();
            let count = count.clone();
            std::thread::spawn(move || serve_tls(stream, config, count));
        });
        TlsServer {
            stopper,
            handshakes,
        }
    }

    /// Serves a [`CaChain`]'s usual chain (leaf + intermediate).
    pub fn for_chain(chain: &CaChain) -> TlsServer {
        TlsServer::start(chain.served_chain(), chain.leaf_key())
    }

    pub fn port(&self) -> u16 {
        self.stopper.port
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port())
    }

    /// Handshakes completed so far (a probe aborts before completion and is not counted).
    pub fn completed_handshakes(&self) -> usize {
        self.handshakes.load(Ordering::SeqCst)
    }
}

fn serve_tls(mut sock: TcpStream, config: Arc<rustls::ServerConfig>, count: Arc<AtomicUsize>) {
    // Bounded waits so a client that goes quiet cannot keep the thread forever.
    let _ = sock.set_read_timeout(Some(Duration::from_secs(10)));
    let _ = sock.set_write_timeout(Some(Duration::from_secs(10)));
    let Ok(mut conn) = rustls::ServerConnection::new(config) else {
        return;
    };
    while conn.is_handshaking() {
        if conn.complete_io(&mut sock).is_err() {
            return;
        }
    }
    count.fetch_add(1, Ordering::SeqCst);
    let mut tls = rustls::Stream::new(&mut conn, &mut sock);
    let mut request = Vec::new();
    let mut buf = [0u8; 4096];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match tls.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    let _ = tls.write_all(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n",
    );
    conn.send_close_notify();
    let _ = conn.complete_io(&mut sock);
}

/// Accepts TCP connections on 127.0.0.1 and never sends a byte.
pub struct SilentServer {
    stopper: Stopper,
    held: Arc<Mutex<Vec<TcpStream>>>,
}

impl SilentServer {
    pub fn start() -> SilentServer {
        let held = Arc::new(Mutex::new(Vec::new()));
        let keep = held.clone();
        let stopper = Stopper::spawn(bind_loopback(), move |s| keep.lock().unwrap().push(s));
        SilentServer { stopper, held }
    }

    pub fn port(&self) -> u16 {
        self.stopper.port
    }
}

/// A port on 127.0.0.1 with nothing listening, that stays so for the rest of the test
/// process: a TCP socket bound there (without SO_REUSEADDR) but never put into listen
/// state, so connections are refused and no parallel test can bind the port meanwhile.
/// (Binding a listener and closing it again, as this used to do, let another test's
/// listener take the port in between.)
#[cfg(unix)]
pub fn closed_port() -> u16 {
    use rustix::net::{AddressFamily, SocketAddrV4, SocketType};
    static HELD: Mutex<Vec<std::os::fd::OwnedFd>> = Mutex::new(Vec::new());
    let socket =
        rustix::net::socket(AddressFamily::INET, SocketType::STREAM, None).expect("a TCP socket");
    rustix::net::bind(
        &socket,
        &SocketAddrV4::new(std::net::Ipv4Addr::LOCALHOST, 0),
    )
    .expect("bind 127.0.0.1:0");
    let bound = rustix::net::getsockname(&socket).expect("getsockname");
    let port = std::net::SocketAddr::try_from(bound)
        .expect("an IPv4 address")
        .port();
    HELD.lock().unwrap().push(socket);
    port
}

/// Windows: bound, then released (no bind-without-listen here; only the Wine run uses it).
#[cfg(not(unix))]
pub fn closed_port() -> u16 {
    let listener = bind_loopback();
    listener.local_addr().expect("addr").port()
}

/// A minimal HTTP CONNECT proxy on 127.0.0.1 that tunnels only to loopback addresses;
/// host names in CONNECT requests are sent to 127.0.0.1.
pub struct ConnectProxy {
    stopper: Stopper,
    requests: Arc<Mutex<Vec<String>>>,
}

impl ConnectProxy {
    /// A proxy that tunnels every CONNECT to a loopback target.
    pub fn start() -> ConnectProxy {
        ConnectProxy::start_with_status(200)
    }

    /// A proxy that answers every CONNECT with `status` (200 tunnels, others refuse).
    pub fn start_with_status(status: u16) -> ConnectProxy {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let log = requests.clone();
        let stopper = Stopper::spawn(bind_loopback(), move |client| {
            let log = log.clone();
            std::thread::spawn(move || {
                let _ = serve_connect(client, status, &log);
            });
        });
        ConnectProxy { stopper, requests }
    }

    pub fn port(&self) -> u16 {
        self.stopper.port
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port())
    }

    /// The request heads received so far (request line and headers).
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

/// Where to tunnel `authority`: an IP address as given; any host *name* goes to
/// 127.0.0.1 (so tests can use made-up names like `probe.test` that never resolve, and
/// nothing ever leaves the machine).
fn loopback_target(authority: &str) -> Option<SocketAddr> {
    if let Ok(addr) = authority.parse::<SocketAddr>() {
        return Some(addr);
    }
    let (host, port) = authority.rsplit_once(':')?;
    let port = port.parse::<u16>().ok()?;
    (!host.is_empty() && !host.contains(['[', ']']))
        .then(|| SocketAddr::from(([127, 0, 0, 1], port)))
}

fn serve_connect(mut client: TcpStream, status: u16, log: &Mutex<Vec<String>>) -> io::Result<()> {
    client.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if client.read(&mut byte)? == 0 || head.len() > 16 * 1024 {
            return Ok(());
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    log.lock().unwrap().push(head.clone());
    let target = head
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("CONNECT "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(loopback_target);
    let target = match target {
        // Tests never send traffic beyond loopback, even through the proxy.
        Some(addr) if addr.ip().is_loopback() && status == 200 => addr,
        Some(_) if status == 200 => {
            client.write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")?;
            return Ok(());
        }
        _ if status != 200 => {
            client.write_all(
                format!("HTTP/1.1 {status} Refused by test proxy\r\nContent-Length: 0\r\n\r\n")
                    .as_bytes(),
            )?;
            return Ok(());
        }
        _ => {
            client.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")?;
            return Ok(());
        }
    };
    let upstream = match TcpStream::connect(target) {
        Ok(s) => s,
        Err(_) => {
            client.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")?;
            return Ok(());
        }
    };
    client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")?;
    client.set_read_timeout(None)?;
    let (mut c_read, mut u_write) = (client.try_clone()?, upstream.try_clone()?);
    let (mut u_read, mut c_write) = (upstream, client);
    let up = std::thread::spawn(move || {
        let _ = io::copy(&mut c_read, &mut u_write);
        let _ = u_write.shutdown(Shutdown::Write);
    });
    let _ = io::copy(&mut u_read, &mut c_write);
    let _ = c_write.shutdown(Shutdown::Both);
    let _ = up.join();
    Ok(())
}

/// Whether `host` is a loopback name or address (for callers building URLs).
pub fn is_loopback(host: &str) -> bool {
    host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}
