//! `trustsync probe`: explain why a TLS connection fails, per trust set.
//!
//! A user who sees `CERTIFICATE_VERIFY_FAILED` wants to know *why* and *where*: does the
//! OS trust the server but Python's certifi not (run `sudo trustsync fix`), did the server
//! forget an intermediate (the server's fault; browsers hide it), is a TLS-inspecting proxy
//! re-signing traffic, is the certificate expired or is the clock wrong? This module answers
//! that in three steps, each usable on its own:
//!
//! 1. [`capture_chain`] connects (directly or through an HTTP CONNECT proxy) and records
//!    the certificates the server sends, without deciding anything about them;
//! 2. [`analyse`] builds and verifies a path with rustls-webpki once per trust set (the OS
//!    store first, then each runtime's effective set) and classifies every failure with a
//!    stable [`Code`];
//! 3. [`render_grouped`] (the default view), [`render_human`] (`-v`) / `serde_json` turn the [`ProbeReport`] into output;
//!    [`ProbeReport::exit_code`] and [`EXIT_COULD_NOT_CONNECT`] give the exit status.
//!
//! [`run`] chains 1 and 2 for the CLI; [`load_chain_file`] feeds 2 from a saved PEM/DER file
//! (offline mode: `trustsync probe --chain FILE.pem --name HOST`).
//!
//! Input is deliberately narrow (DER bytes and labelled lists of DER roots), so this module
//! knows nothing about how runtimes or stores are discovered.
#![forbid(unsafe_code)]

mod capture;
mod certinfo;
mod classify;
mod proxy;
mod report;
pub mod sets;
mod verify;

use std::path::Path;
use std::time::{Duration, SystemTime};

pub use capture::{capture_chain, CapturedChain, ProbeError};
pub use classify::analyse;
pub use proxy::{proxy_env_hint, ProxySetting, ProxyUrl};
pub use report::{
    render_grouped, render_human, CaDetail, ChainEntry, Code, ConnectionInfo, DatedCertificate,
    ErrorReport, MissingIssuer, NameDetail, Note, NoteCode, ProbeReport, Validity, Verdict, SCHEMA,
};

/// Exit status when the probe could not get a chain at all (no connection, no handshake,
/// unreadable chain file). 0 and 1 come from [`ProbeReport::exit_code`].
pub const EXIT_COULD_NOT_CONNECT: i32 = 2;

/// Default port when `HOST` has none.
pub const DEFAULT_PORT: u16 = 443;

/// Default for `--timeout`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Where to connect and how.
#[derive(Debug, Clone)]
pub struct Target {
    /// Host name or IP address to connect to (also the default name to verify).
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Name sent in SNI and verified against the certificate; `None` means `host`.
    pub servername: Option<String>,
    /// Upper bound for the whole capture: resolving aside, connect (to the server or the
    /// proxy), the proxy's CONNECT answer, and the TLS handshake up to the certificate.
    pub timeout: Duration,
    /// Proxy choice; [`ProxySetting::FromEnvironment`] honours `HTTPS_PROXY`/`NO_PROXY`.
    pub proxy: ProxySetting,
}

impl Target {
    /// Parses `HOST`, `HOST:PORT`, `[IPv6]` or `[IPv6]:PORT` with default port, timeout
    /// and proxy-from-environment. A pasted `https://HOST[:PORT]/path` URL is accepted too
    /// (scheme and path dropped), since that is what users copy from error messages.
    pub fn parse(input: &str) -> Result<Target, ProbeError> {
        let without_scheme = match input.split_once("://") {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("https") => rest,
            Some((scheme, _)) => {
                return Err(ProbeError::InvalidTarget {
                    target: input.to_string(),
                    reason: format!("expected HOST[:PORT] or an https:// URL, not {scheme}://"),
                })
            }
            None => input,
        };
        let host_port = without_scheme.split('/').next().unwrap_or_default();
        let bad = |why: &str| ProbeError::InvalidTarget {
            target: input.to_string(),
            reason: why.to_string(),
        };
        let (host, port) = split_host_port(host_port, DEFAULT_PORT).map_err(bad)?;
        Ok(Target {
            host,
            port,
            servername: None,
            timeout: DEFAULT_TIMEOUT,
            proxy: ProxySetting::FromEnvironment,
        })
    }

    /// The name verified against the certificate (and sent as SNI).
    pub fn name(&self) -> &str {
        self.servername.as_deref().unwrap_or(&self.host)
    }
}

/// One trust set to verify against: a label the user recognises (`OS store`,
/// `python3.11 (certifi)`) and the DER certificates it trusts.
#[derive(Debug, Clone)]
pub struct TrustSetInput {
    /// Shown in the report as is.
    pub label: String,
    /// DER certificates trusted as anchors. Unparsable ones are skipped and counted.
    pub roots: Vec<Vec<u8>>,
}

/// Connects, captures the chain and analyses it: what `trustsync probe HOST` does.
/// `Err` means no chain was obtained (exit [`EXIT_COULD_NOT_CONNECT`]).
pub fn run(
    target: &Target,
    trust_sets: &[TrustSetInput],
    now: SystemTime,
) -> Result<ProbeReport, ProbeError> {
    let captured = capture_chain(target)?;
    let hint = captured.proxy.is_some() || proxy_env_hint(|k| std::env::var(k).ok());
    let mut report = analyse(&captured.certificates, target.name(), trust_sets, now, hint);
    report.connection = Some(ConnectionInfo {
        host: target.host.clone(),
        port: target.port,
        servername: target.name().to_string(),
        peer: captured.peer.clone(),
        proxy: captured.proxy.clone(),
        protocol: captured.protocol.clone(),
    });
    Ok(report)
}

/// Reads a saved chain (PEM bundle or one DER certificate) for offline analysis, in file
/// order, leaf first as a server sends it. Blocks that fail to decode are an error, since
/// a chain with a hole would be misdiagnosed as incomplete.
pub fn load_chain_file(path: &Path) -> Result<Vec<Vec<u8>>, ProbeError> {
    let bytes = trustsync_platform::read::read_file(path).map_err(|e| ProbeError::ChainFile {
        path: path.to_path_buf(),
        reason: e.reason(),
    })?;
    let decoded = trustsync_platform::bundle::decode(&bytes);
    if !decoded.errors.is_empty() {
        return Err(ProbeError::ChainFile {
            path: path.to_path_buf(),
            reason: decoded.errors.join("; "),
        });
    }
    if decoded.certificates.is_empty() {
        return Err(ProbeError::ChainFile {
            path: path.to_path_buf(),
            reason: "no certificate in the file".into(),
        });
    }
    Ok(decoded.certificates)
}

/// Exit status for a probe outcome: 0 verifies everywhere, 1 fails somewhere, 2 no chain.
pub fn exit_code(outcome: &Result<ProbeReport, ProbeError>) -> i32 {
    match outcome {
        Ok(report) => report.exit_code(),
        Err(_) => EXIT_COULD_NOT_CONNECT,
    }
}

/// `HOST[:PORT]`, `[IPv6][:PORT]` or a bare IPv6 address (several colons, no port), as a
/// target or a proxy is written; `default_port` when none is given. The error is the
/// reason, in words.
pub(crate) fn split_host_port(
    text: &str,
    default_port: u16,
) -> Result<(String, u16), &'static str> {
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (host, after) = rest.split_once(']').ok_or("missing `]`")?;
        match after {
            "" => (host, None),
            p => (host, Some(p.strip_prefix(':').ok_or("junk after `]`")?)),
        }
    } else {
        match text.rsplit_once(':') {
            // A bare IPv6 address has several colons and no port.
            Some((h, _)) if h.contains(':') => (text, None),
            Some((h, p)) => (h, Some(p)),
            None => (text, None),
        }
    };
    if host.is_empty() {
        return Err("empty host");
    }
    let port = match port {
        None => default_port,
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or("port must be a number from 1 to 65535")?,
    };
    Ok((host.to_string(), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_parsing() {
        let t = Target::parse("example.com").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("example.com", 443));
        let t = Target::parse("example.com:8443").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("example.com", 8443));
        let t = Target::parse("[::1]:993").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("::1", 993));
        let t = Target::parse("::1").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("::1", 443));
        assert!(Target::parse("host:0").is_err());
        assert!(Target::parse("host:http").is_err());
        assert!(Target::parse(":443").is_err());
        let t = Target::parse("https://pypi.org/simple/requests/").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("pypi.org", 443));
        let t = Target::parse("HTTPS://[::1]:8443/x").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("::1", 8443));
        assert!(Target::parse("ftp://example.com").is_err());
        let mut t = Target::parse("10.0.0.1").unwrap();
        assert_eq!(t.name(), "10.0.0.1");
        t.servername = Some("a.test".into());
        assert_eq!(t.name(), "a.test");
    }
}
