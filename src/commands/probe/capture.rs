//! Capturing the certificate chain a server sends, with rustls.
//!
//! The probe must see the chain even when it would not verify (that is the whole point),
//! so the handshake runs with [`ChainRecorder`], a certificate verifier that records what
//! the server sent and then *fails* the handshake. It never answers "verified": rustls
//! aborts with an alert right after the Certificate message, no application data can flow,
//! and the recorded chain is verified afterwards, per trust set, by `verify.rs`. This is
//! the only verifier in trustsync that does not check the chain itself; it is private to
//! this file and only [`capture_chain`] constructs it.

use std::io::{self, ErrorKind};
use std::net::{Shutdown, SocketAddr, TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, SignatureScheme};

use super::proxy::{self, ProxyUrl};
use super::Target;

/// Why no chain was obtained. Every message names the address (and proxy) involved.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// `HOST[:PORT]` could not be parsed.
    #[error("invalid target {target:?}: {reason}")]
    InvalidTarget { target: String, reason: String },
    /// The name to verify is neither a DNS name nor an IP address.
    #[error("invalid server name {name:?}: not a DNS name or IP address")]
    InvalidName { name: String },
    /// The proxy URL could not be parsed.
    #[error("invalid proxy {proxy}: {reason}")]
    InvalidProxy { proxy: String, reason: String },
    /// Name resolution failed.
    #[error("could not resolve {host}: {source}")]
    Resolve {
        host: String,
        #[source]
        source: io::Error,
    },
    /// TCP connect failed (refused, unreachable, ...).
    #[error("could not connect to {addr}: {reason}")]
    Connect { addr: String, reason: String },
    /// TCP connect did not finish in time.
    #[error("could not connect to {addr}: no answer within {}s", .timeout.as_secs_f64())]
    ConnectTimeout { addr: String, timeout: Duration },
    /// The proxy refused or garbled the CONNECT exchange.
    #[error("proxy {proxy}: {reason}")]
    Proxy { proxy: String, reason: String },
    /// The proxy did not answer CONNECT in time.
    #[error("proxy {proxy}: no answer to CONNECT within the timeout")]
    ProxyTimeout { proxy: String },
    /// TCP connected but the server did not send its certificate in time.
    #[error(
        "connected to {addr}, but the TLS handshake did not reach the server's certificate \
         within {}s: the server never answered (is this a TLS port?)",
        .timeout.as_secs_f64()
    )]
    HandshakeTimeout { addr: String, timeout: Duration },
    /// The server closed the connection before sending a certificate.
    #[error("{addr} closed the connection during the TLS handshake, before sending a certificate")]
    ClosedEarly { addr: String },
    /// The TLS handshake failed before the certificate (alert, not TLS, no common cipher).
    #[error("TLS handshake with {addr} failed before the certificate: {reason}")]
    Handshake { addr: String, reason: String },
    /// Socket error while talking TLS.
    #[error("connection to {addr} failed during the TLS handshake: {reason}")]
    Io { addr: String, reason: String },
    /// The server's Certificate message was empty.
    #[error("{addr} sent no certificate")]
    NoCertificate { addr: String },
    /// Offline mode: the chain file could not be read or decoded.
    #[error("chain file {}: {reason}", .path.display())]
    ChainFile { path: PathBuf, reason: String },
}

impl ProbeError {
    /// Stable machine-readable code for `--json` output.
    pub fn code(&self) -> &'static str {
        match self {
            ProbeError::InvalidTarget { .. } => "invalid-target",
            ProbeError::InvalidName { .. } => "invalid-name",
            ProbeError::InvalidProxy { .. } => "invalid-proxy",
            ProbeError::Resolve { .. } => "resolve-failed",
            ProbeError::Connect { .. } => "connect-failed",
            ProbeError::ConnectTimeout { .. } => "connect-timeout",
            ProbeError::Proxy { .. } => "proxy-failed",
            ProbeError::ProxyTimeout { .. } => "proxy-timeout",
            ProbeError::HandshakeTimeout { .. } => "handshake-timeout",
            ProbeError::ClosedEarly { .. } => "closed-early",
            ProbeError::Handshake { .. } => "handshake-failed",
            ProbeError::Io { .. } => "io-error",
            ProbeError::NoCertificate { .. } => "no-certificate",
            ProbeError::ChainFile { .. } => "chain-file",
        }
    }
}

/// What [`capture_chain`] got.
#[derive(Debug, Clone)]
pub struct CapturedChain {
    /// DER certificates exactly as the server sent them, leaf first.
    pub certificates: Vec<Vec<u8>>,
    /// The address the TCP connection went to (the proxy's, when tunnelling).
    pub peer: String,
    /// The proxy used, without credentials.
    pub proxy: Option<String>,
    /// Negotiated TLS version, e.g. `TLSv1_3`, when rustls got that far.
    pub protocol: Option<String>,
}

/// Connects to `target` and returns the chain its server sends, without judging it.
/// Never sends application data: the handshake is aborted as soon as the chain is in.
pub fn capture_chain(target: &Target) -> Result<CapturedChain, ProbeError> {
    let deadline = Instant::now() + target.timeout;
    let name = target.name().to_string();
    let server_name = ServerName::try_from(name.clone())
        .map_err(|_| ProbeError::InvalidName { name: name.clone() })?;
    let proxy = target
        .proxy
        .resolve(&target.host, |k| std::env::var(k).ok())?;

    let (mut stream, peer) =
        match &proxy {
            None => connect_tcp(&target.host, target.port, deadline, target.timeout)?,
            Some(p) => {
                // Say "proxy" in the error: the user may not know a proxy was in play.
                let (mut s, peer) = connect_tcp(&p.host, p.port, deadline, target.timeout)
                    .map_err(|e| ProbeError::Proxy {
                        proxy: p.to_string(),
                        reason: e.to_string(),
                    })?;
                proxy::connect_tunnel(&mut s, p, &target.host, target.port, deadline)?;
                (s, peer)
            }
        };
    let addr = match &proxy {
        None => peer.to_string(),
        Some(p) => format!("{}:{} (via proxy {p})", target.host, target.port),
    };
    let result = handshake_until_certificate(&mut stream, server_name, deadline, target, &addr);
    let _ = stream.shutdown(Shutdown::Both);
    let (certificates, protocol) = result?;
    Ok(CapturedChain {
        certificates,
        peer: peer.to_string(),
        proxy: proxy.as_ref().map(ProxyUrl::to_string),
        protocol,
    })
}

/// Time left before `deadline`, `None` when it has passed (socket timeouts of zero are
/// invalid, so callers turn `None` into a timeout error).
pub(crate) fn remaining(deadline: Instant) -> Option<Duration> {
    deadline
        .checked_duration_since(Instant::now())
        .filter(|d| !d.is_zero())
}

/// Tries each resolved address in turn within the deadline; the last error is reported.
fn connect_tcp(
    host: &str,
    port: u16,
    deadline: Instant,
    timeout: Duration,
) -> Result<(TcpStream, SocketAddr), ProbeError> {
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|source| ProbeError::Resolve {
            host: host.to_string(),
            source,
        })?
        .collect();
    let mut last = None;
    for addr in addrs {
        let Some(left) = remaining(deadline) else {
            return Err(ProbeError::ConnectTimeout {
                addr: addr.to_string(),
                timeout,
            });
        };
        match TcpStream::connect_timeout(&addr, left) {
            Ok(stream) => {
                let _ = stream.set_nodelay(true);
                return Ok((stream, addr));
            }
            Err(e) if matches!(e.kind(), ErrorKind::TimedOut | ErrorKind::WouldBlock) => {
                last = Some(ProbeError::ConnectTimeout {
                    addr: addr.to_string(),
                    timeout,
                })
            }
            Err(e) => {
                last = Some(ProbeError::Connect {
                    addr: addr.to_string(),
                    reason: e.to_string(),
                })
            }
        }
    }
    Err(last.unwrap_or_else(|| ProbeError::Resolve {
        host: host.to_string(),
        source: io::Error::new(ErrorKind::NotFound, "no addresses found"),
    }))
}

/// Message rustls carries from [`ChainRecorder`] to here; any other error is real.
const CAPTURED: &str = "trustsync: chain captured; stopping the handshake on purpose";

/// Drives the handshake by hand (not `complete_io`) so every read gets the time left
/// before the overall deadline, and stops as soon as the recorder has the chain.
fn handshake_until_certificate(
    stream: &mut TcpStream,
    server_name: ServerName<'static>,
    deadline: Instant,
    target: &Target,
    addr: &str,
) -> Result<(Vec<Vec<u8>>, Option<String>), ProbeError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let recorder = Arc::new(ChainRecorder {
        captured: Mutex::new(None),
        schemes: provider
            .signature_verification_algorithms
            .supported_schemes(),
    });
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ProbeError::Handshake {
            addr: addr.to_string(),
            reason: e.to_string(),
        })?
        .dangerous()
        .with_custom_certificate_verifier(recorder.clone())
        .with_no_client_auth();
    let mut conn = ClientConnection::new(Arc::new(config), server_name).map_err(|e| {
        ProbeError::Handshake {
            addr: addr.to_string(),
            reason: e.to_string(),
        }
    })?;

    let timed_out = || ProbeError::HandshakeTimeout {
        addr: addr.to_string(),
        timeout: target.timeout,
    };
    let io_error = |e: io::Error| {
        if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) {
            timed_out()
        } else {
            ProbeError::Io {
                addr: addr.to_string(),
                reason: e.to_string(),
            }
        }
    };
    loop {
        while conn.wants_write() {
            stream
                .set_write_timeout(Some(remaining(deadline).ok_or_else(timed_out)?))
                .map_err(io_error)?;
            conn.write_tls(stream).map_err(io_error)?;
        }
        stream
            .set_read_timeout(Some(remaining(deadline).ok_or_else(timed_out)?))
            .map_err(io_error)?;
        if conn.read_tls(stream).map_err(io_error)? == 0 {
            return Err(ProbeError::ClosedEarly {
                addr: addr.to_string(),
            });
        }
        if let Err(err) = conn.process_new_packets() {
            let chain = recorder.captured.lock().expect("recorder lock").take();
            // Send rustls's alert so the server sees a clean abort; best effort.
            let _ = stream.set_write_timeout(Some(Duration::from_millis(200)));
            while conn.wants_write() && conn.write_tls(stream).is_ok() {}
            let protocol = conn.protocol_version().map(|v| format!("{v:?}"));
            return match chain {
                Some(chain) if chain.is_empty() => Err(ProbeError::NoCertificate {
                    addr: addr.to_string(),
                }),
                Some(chain) => Ok((chain, protocol)),
                None => Err(ProbeError::Handshake {
                    addr: addr.to_string(),
                    reason: handshake_words(&err),
                }),
            };
        }
    }
}

/// rustls's error, with a hint for the common "this port does not speak TLS" case.
fn handshake_words(err: &rustls::Error) -> String {
    match err {
        rustls::Error::InvalidMessage(_) => format!(
            "the server's answer is not TLS (plain HTTP or another protocol on this port?): {err}"
        ),
        rustls::Error::AlertReceived(alert) => format!(
            "the server refused the handshake with the alert {alert:?} (wrong --servername, \
             or no TLS version or cipher in common?)"
        ),
        other => other.to_string(),
    }
}

/// Records the server's chain and refuses the connection; see the module doc for why.
/// It never returns `ServerCertVerified`, so no connection configured with it can ever
/// carry data, and it is private so nothing outside this file can configure one.
#[derive(Debug)]
struct ChainRecorder {
    captured: Mutex<Option<Vec<Vec<u8>>>>,
    schemes: Vec<SignatureScheme>,
}

impl ServerCertVerifier for ChainRecorder {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let chain = std::iter::once(end_entity)
            .chain(intermediates)
            .map(|c| c.as_ref().to_vec())
            .collect();
        *self.captured.lock().expect("recorder lock") = Some(chain);
        Err(rustls::Error::General(CAPTURED.into()))
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Err(rustls::Error::General(CAPTURED.into()))
    }

    fn verify_tls13_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Err(rustls::Error::General(CAPTURED.into()))
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.schemes.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorder_never_verifies() {
        let r = ChainRecorder {
            captured: Mutex::new(None),
            schemes: vec![],
        };
        let leaf = CertificateDer::from(vec![0x30, 0x00]);
        let name = ServerName::try_from("a.test").unwrap();
        assert!(r
            .verify_server_cert(&leaf, &[], &name, &[], UnixTime::now())
            .is_err());
        assert_eq!(
            r.captured.lock().unwrap().as_deref(),
            Some(&[vec![0x30u8, 0x00]][..])
        );
    }
}
