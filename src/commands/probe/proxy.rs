//! HTTP CONNECT proxies for the probe: `--proxy URL`, `HTTPS_PROXY` and `NO_PROXY`.
//!
//! TLS-inspecting proxies live behind `HTTPS_PROXY`, so a probe that ignored it would
//! see a different chain from the one the failing program sees. Only plain-HTTP proxies
//! speaking CONNECT are supported, which is what `HTTPS_PROXY` means for curl, pip and
//! requests. The URL parsing and the CONNECT exchange are hand-written: they are a few
//! lines (scheme, optional `user:pass@`, host, port; one request, one status line) and a
//! general URL or HTTP client crate would bring far more than it saves here.

use std::fmt;
use std::io::{Read, Write};
use std::net::{IpAddr, TcpStream};
use std::str::FromStr;
use std::time::Instant;

use base64::Engine as _;

use super::capture::{remaining, ProbeError};

/// An HTTP proxy address. `Display` never shows the password.
#[derive(Clone, PartialEq, Eq)]
pub struct ProxyUrl {
    /// Proxy host name or IP address.
    pub host: String,
    /// Proxy port; 80, the `http://` scheme's port, when the URL has none (as requests
    /// and urllib3 do).
    pub port: u16,
    /// `user:password` for `Proxy-Authorization: Basic`, taken verbatim from the URL.
    credentials: Option<String>,
}

impl ProxyUrl {
    /// Whether the URL carried credentials.
    pub fn has_credentials(&self) -> bool {
        self.credentials.is_some()
    }
}

impl fmt::Display for ProxyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "http://[{}]:{}", self.host, self.port)
        } else {
            write!(f, "http://{}:{}", self.host, self.port)
        }
    }
}

impl fmt::Debug for ProxyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ProxyUrl({self}")?;
        if self.credentials.is_some() {
            write!(f, ", with credentials")?;
        }
        write!(f, ")")
    }
}

impl FromStr for ProxyUrl {
    type Err = ProbeError;

    /// Accepts `http://[user:pass@]host[:port][/]` and, like curl, a bare `host:port`.
    fn from_str(url: &str) -> Result<Self, ProbeError> {
        let bad = |reason: &str| ProbeError::InvalidProxy {
            // Never echo credentials back into an error message.
            proxy: redact(url),
            reason: reason.to_string(),
        };
        let rest = match url.split_once("://") {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => rest,
            // Not a scheme (`user:pa@ss://…`): it may hold credentials, so it is not echoed.
            Some((scheme, _)) if !is_scheme(scheme) => {
                return Err(bad("the text before `://` is not a URL scheme"))
            }
            Some((scheme, _)) => {
                return Err(bad(&format!(
                    "only http:// proxies (HTTP CONNECT) are supported, not {scheme}://"
                )))
            }
            None => url,
        };
        let rest = rest.trim_end_matches('/');
        if rest.contains('/') {
            return Err(bad("a proxy URL has no path"));
        }
        let (credentials, hostport) = match rest.rsplit_once('@') {
            Some((creds, hp)) => (Some(creds.to_string()), hp),
            None => (None, rest),
        };
        let (host, port) = super::split_host_port(hostport, 80).map_err(bad)?;
        Ok(ProxyUrl {
            host,
            port,
            credentials,
        })
    }
}

fn redact(url: &str) -> String {
    match url.rsplit_once('@') {
        Some((before, after)) => match before.split_once("://") {
            Some((scheme, _)) if is_scheme(scheme) => format!("{scheme}://***@{after}"),
            _ => format!("***@{after}"),
        },
        None => url.to_string(),
    }
}

/// A URL scheme as RFC 3986 spells it (a letter, then letters, digits, `+`, `-`, `.`).
fn is_scheme(text: &str) -> bool {
    text.starts_with(|c: char| c.is_ascii_alphabetic())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
}

/// Which proxy the probe uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ProxySetting {
    /// `HTTPS_PROXY` / `https_proxy` (then `ALL_PROXY` / `all_proxy`), unless `NO_PROXY`
    /// / `no_proxy` matches the host. Loopback targets never go through an environment
    /// proxy: a remote proxy cannot reach this machine's loopback.
    #[default]
    FromEnvironment,
    /// Connect directly, whatever the environment says.
    Direct,
    /// This proxy (`--proxy`), for every host, loopback included.
    Url(ProxyUrl),
}

const PROXY_VARS: [&str; 4] = ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"];

impl ProxySetting {
    /// The proxy to use for `host`, reading variables through `env` (so tests need not
    /// touch the process environment).
    pub fn resolve(
        &self,
        host: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<ProxyUrl>, ProbeError> {
        match self {
            ProxySetting::Direct => Ok(None),
            ProxySetting::Url(url) => Ok(Some(url.clone())),
            ProxySetting::FromEnvironment => {
                let Some(value) = PROXY_VARS
                    .iter()
                    .filter_map(|k| env(k))
                    .find(|v| !v.trim().is_empty())
                else {
                    return Ok(None);
                };
                if is_loopback(host) {
                    return Ok(None);
                }
                let no_proxy = env("NO_PROXY").or_else(|| env("no_proxy"));
                if no_proxy.is_some_and(|np| no_proxy_matches(&np, host)) {
                    return Ok(None);
                }
                value.trim().parse().map(Some)
            }
        }
    }
}

/// Whether a proxy variable is set at all: a hint, for classification, that traffic may
/// pass a TLS-inspecting proxy.
pub fn proxy_env_hint(env: impl Fn(&str) -> Option<String>) -> bool {
    PROXY_VARS
        .iter()
        .any(|k| env(k).is_some_and(|v| !v.trim().is_empty()))
}

/// `localhost`, `*.localhost`, 127.0.0.0/8 and ::1.
fn is_loopback(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host == "localhost"
        || host.ends_with(".localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// curl's `NO_PROXY` rules: `*` matches all; an entry matches the host itself and its
/// subdomains; a leading dot is ignored; ports and CIDR ranges are not interpreted.
fn no_proxy_matches(no_proxy: &str, host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    no_proxy
        .split(',')
        .map(|e| e.trim().trim_start_matches('.').to_ascii_lowercase())
        .filter(|e| !e.is_empty())
        .any(|e| e == "*" || host == e || host.ends_with(&format!(".{e}")))
}

/// Asks the proxy on `stream` to open a tunnel to `host:port` and reads its answer.
/// Reads byte by byte so nothing after the header (the server's first TLS bytes) is
/// consumed here.
pub(crate) fn connect_tunnel(
    stream: &mut TcpStream,
    proxy: &ProxyUrl,
    host: &str,
    port: u16,
    deadline: Instant,
) -> Result<(), ProbeError> {
    let authority = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let mut request = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
    if let Some(creds) = &proxy.credentials {
        let token = base64::engine::general_purpose::STANDARD.encode(creds);
        request.push_str(&format!("Proxy-Authorization: Basic {token}\r\n"));
    }
    request.push_str("\r\n");
    let failed = |reason: String| ProbeError::Proxy {
        proxy: proxy.to_string(),
        reason,
    };
    let timed_out = || ProbeError::ProxyTimeout {
        proxy: proxy.to_string(),
    };
    let io_err = |e: std::io::Error| {
        if matches!(
            e.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ) {
            timed_out()
        } else {
            failed(e.to_string())
        }
    };
    stream
        .set_write_timeout(Some(remaining(deadline).ok_or_else(timed_out)?))
        .map_err(io_err)?;
    stream.write_all(request.as_bytes()).map_err(io_err)?;

    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 16 * 1024 {
            return Err(failed("answer header is larger than 16 KiB".into()));
        }
        stream
            .set_read_timeout(Some(remaining(deadline).ok_or_else(timed_out)?))
            .map_err(io_err)?;
        match stream.read(&mut byte).map_err(io_err)? {
            0 => {
                return Err(failed(
                    "the proxy closed the connection before answering CONNECT".into(),
                ))
            }
            _ => head.push(byte[0]),
        }
    }
    let head = String::from_utf8_lossy(&head);
    let status_line = head.lines().next().unwrap_or_default().trim().to_string();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok());
    match status {
        Some(200..=299) => Ok(()),
        Some(407) => Err(failed(format!(
            "the proxy wants authentication ({status_line}); put user:password@ in the proxy URL"
        ))),
        Some(_) => Err(failed(format!(
            "the proxy refused the tunnel: {status_line}"
        ))),
        None => Err(failed(format!(
            "the proxy did not answer in HTTP: {status_line:?}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn url_forms() {
        let u: ProxyUrl = "http://proxy.corp:8080".parse().unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.has_credentials()),
            ("proxy.corp", 8080, false)
        );
        let u: ProxyUrl = "proxy.corp:3128/".parse().unwrap();
        assert_eq!(u.port, 3128);
        let u: ProxyUrl = "http://proxy.corp".parse().unwrap();
        assert_eq!(u.port, 80);
        let u: ProxyUrl = "http://bob:s3cret@[::1]:8080".parse().unwrap();
        assert_eq!((u.host.as_str(), u.port), ("::1", 8080));
        assert!(u.has_credentials());
        assert_eq!(u.to_string(), "http://[::1]:8080");
        assert!(!format!("{u:?}").contains("s3cret"));
        let e = "https://bob:s3cret@p:1".parse::<ProxyUrl>().unwrap_err();
        assert!(e.to_string().contains("only http://"), "{e}");
        assert!(!e.to_string().contains("s3cret"), "{e}");
        assert!("socks5://p:1080".parse::<ProxyUrl>().is_err());
        assert!("http://p:99999".parse::<ProxyUrl>().is_err());
        assert!("http://p:1/path".parse::<ProxyUrl>().is_err());
    }

    #[test]
    fn environment_resolution() {
        let s = ProxySetting::FromEnvironment;
        let e = env(&[
            ("https_proxy", "http://p:3128"),
            ("NO_PROXY", ".internal, example.org"),
        ]);
        assert_eq!(s.resolve("pypi.org", &e).unwrap().unwrap().port, 3128);
        assert!(s.resolve("a.internal", &e).unwrap().is_none());
        assert!(s.resolve("example.org", &e).unwrap().is_none());
        assert!(s.resolve("www.example.org", &e).unwrap().is_none());
        assert!(s.resolve("notexample.org", &e).unwrap().is_some());
        // Loopback never goes through an environment proxy...
        assert!(s.resolve("127.0.0.1", &e).unwrap().is_none());
        assert!(s.resolve("localhost", &e).unwrap().is_none());
        assert!(s.resolve("::1", &e).unwrap().is_none());
        // ...but an explicit --proxy is used for everything.
        let url: ProxyUrl = "http://127.0.0.1:1".parse().unwrap();
        let explicit = ProxySetting::Url(url.clone());
        assert_eq!(explicit.resolve("127.0.0.1", &e).unwrap(), Some(url));
        assert!(ProxySetting::Direct
            .resolve("pypi.org", &e)
            .unwrap()
            .is_none());
        let star = env(&[("HTTPS_PROXY", "p:1"), ("no_proxy", "*")]);
        assert!(s.resolve("pypi.org", &star).unwrap().is_none());
        assert!(s.resolve("pypi.org", env(&[])).unwrap().is_none());
        assert!(proxy_env_hint(&e));
        assert!(!proxy_env_hint(env(&[("HTTPS_PROXY", " ")])));
    }
}
