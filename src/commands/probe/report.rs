//! The probe's result: plain `Serialize` structs (the `--json` schema) and the human view.
//!
//! # JSON schema (`trustsync probe --json`), version `trustsync-probe/1`
//!
//! ```text
//! {
//!   "schema": "trustsync-probe/1",
//!   "name": "pypi.org",                  // name verified (SNI / --name)
//!   "checked_at": "2025-01-31T12:00:00Z",// the "now" used for validity
//!   "connection": {                      // absent in offline mode (--chain)
//!     "host": "pypi.org", "port": 443, "servername": "pypi.org",
//!     "peer": "151.101.0.223:443",       // TCP peer (the proxy's address when tunnelling)
//!     "proxy": "http://proxy:3128",      // absent when direct; never has credentials
//!     "protocol": "TLSv1_3"              // absent when unknown
//!   },
//!   "chain": [                           // as sent by the server, leaf first
//!     { "index": 0, "subject": "CN=pypi.org", "issuer": "CN=R3, O=Let's Encrypt, C=US",
//!       "name": "pypi.org", "sha256": "ab12…", "not_before": "…Z", "not_after": "…Z",
//!       "validity": "valid" | "expired" | "not-yet-valid",
//!       "is_ca": false, "self_signed": false,
//!       "names": ["pypi.org", "www.pypi.org"],   // DNS and IP SANs
//!       "ca_issuers": ["http://r3.i.lencr.org/"],// AIA CA Issuers URLs
//!       "error": "…" }                   // only when the certificate could not be parsed
//!   ],
//!   "verdicts": [                        // one per trust set, OS store first
//!     { "trust_set": "OS store", "verified": true, "code": "ok",
//!       "message": "…", "next_step": "…",         // next_step absent for ok
//!       "anchor": "ISRG Root X1",                 // ok: the root the path ends at
//!       "ca": {                                   // untrusted-root: the CA at stake
//!         "subject": "…", "name": "…", "sha256": "…" (absent if never seen),
//!         "sent_by_server": true, "trusted_by": ["OS store"] },
//!       "missing": {                              // incomplete-chain
//!         "subject": "CN=R3, …", "name": "R3", "needed_by": "pypi.org",
//!         "ca_issuers": ["http://r3.i.lencr.org/"] },
//!       "certificate": {                          // expired / not-yet-valid
//!         "subject": "…", "name": "…", "not_before": "…", "not_after": "…" },
//!       "hostname": { "asked": "…", "offered": ["…"] } // hostname-mismatch
//!     }
//!   ],
//!   "notes": [ { "code": "clock-skew" | "tls-inspection-suspected" | "hostname-mismatch"
//!                       | "unusable-roots",
//!                "message": "…" } ],
//!   "overall": "<code of the first failing verdict, or ok>",
//!   "exit_code": 0 | 1
//! }
//! ```
//!
//! Verdict codes ([`Code`]): `ok`, `untrusted-root`, `incomplete-chain`, `expired`,
//! `not-yet-valid`, `hostname-mismatch`, `self-signed`, `invalid-chain`, `no-certificate`.
//! When no chain could be obtained, `--json` prints an [`ErrorReport`] instead and the
//! exit code is 2.

use crate::term::escape;
use serde::Serialize;

/// Schema tag written into every JSON report.
pub const SCHEMA: &str = "trustsync-probe/1";

/// Stable classification codes (kebab-case in JSON and human output).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Code {
    /// A path to a trusted root verifies and the name matches.
    Ok,
    /// The chain leads to a root this trust set does not contain.
    UntrustedRoot,
    /// The server did not send an intermediate that no trust set has either.
    IncompleteChain,
    /// A certificate on the path is past its notAfter.
    Expired,
    /// A certificate on the path is before its notBefore.
    NotYetValid,
    /// The leaf does not cover the name asked for.
    HostnameMismatch,
    /// The leaf is its own issuer.
    SelfSigned,
    /// Any other verification failure (bad signature, wrong key usage, malformed).
    InvalidChain,
    /// The server sent no certificate, or the leaf could not be parsed.
    NoCertificate,
}

impl Code {
    /// The kebab-case code, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Ok => "ok",
            Code::UntrustedRoot => "untrusted-root",
            Code::IncompleteChain => "incomplete-chain",
            Code::Expired => "expired",
            Code::NotYetValid => "not-yet-valid",
            Code::HostnameMismatch => "hostname-mismatch",
            Code::SelfSigned => "self-signed",
            Code::InvalidChain => "invalid-chain",
            Code::NoCertificate => "no-certificate",
        }
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a certificate is within its validity period at `checked_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Validity {
    Valid,
    Expired,
    NotYetValid,
}

/// The whole result; serialises to the schema above.
#[derive(Debug, Clone, Serialize)]
pub struct ProbeReport {
    pub schema: &'static str,
    pub name: String,
    pub checked_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection: Option<ConnectionInfo>,
    pub chain: Vec<ChainEntry>,
    pub verdicts: Vec<Verdict>,
    pub notes: Vec<Note>,
    pub overall: Code,
    pub exit_code: i32,
}

impl ProbeReport {
    /// 0 when the chain verifies in every trust set, 1 when it fails in at least one.
    pub fn exit_code(&self) -> i32 {
        self.exit_code
    }

    /// The verdict for the trust set labelled `label`.
    pub fn verdict(&self, label: &str) -> Option<&Verdict> {
        self.verdicts.iter().find(|v| v.trust_set == label)
    }

    /// Whether a note with this code is present.
    pub fn has_note(&self, code: NoteCode) -> bool {
        self.notes.iter().any(|n| n.code == code)
    }
}

/// Where the chain came from (live mode only).
#[derive(Debug, Clone, Serialize)]
pub struct ConnectionInfo {
    pub host: String,
    pub port: u16,
    pub servername: String,
    pub peer: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proxy: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
}

/// One certificate as the server sent it.
#[derive(Debug, Clone, Serialize)]
pub struct ChainEntry {
    pub index: usize,
    pub subject: String,
    pub issuer: String,
    /// What a person calls it: CN, else O, else the subject.
    pub name: String,
    pub sha256: String,
    pub not_before: String,
    pub not_after: String,
    pub validity: Validity,
    pub is_ca: bool,
    pub self_signed: bool,
    pub names: Vec<String>,
    pub ca_issuers: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The answer for one trust set.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub trust_set: String,
    pub verified: bool,
    pub code: Code,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_step: Option<String>,
    /// `message` and `next_step` as catalogue messages, for human output (`message` and
    /// `next_step` are their English text, for `--json`; `None`: in words only).
    #[serde(skip)]
    pub message_msg: Option<crate::i18n::Msg>,
    #[serde(skip)]
    pub next_msg: Option<crate::i18n::Msg>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anchor: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca: Option<CaDetail>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing: Option<MissingIssuer>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate: Option<DatedCertificate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<NameDetail>,
}

impl Verdict {
    /// The verdict with its next step said by the catalogue.
    pub fn with_step(self, step: crate::i18n::Msg) -> Verdict {
        Verdict {
            next_step: Some(step.en()),
            next_msg: Some(step),
            ..self
        }
    }

    /// `message` in the run's language.
    pub fn message_text(&self) -> String {
        crate::i18n::shown(self.message_msg.as_ref(), &self.message)
    }

    /// `next_step` in the run's language.
    pub fn next_step_text(&self) -> Option<String> {
        let english = self.next_step.as_deref()?;
        Some(crate::i18n::shown(self.next_msg.as_ref(), english))
    }
}

/// The CA an `untrusted-root` verdict is about.
#[derive(Debug, Clone, Serialize)]
pub struct CaDetail {
    pub subject: String,
    pub name: String,
    /// Known when the server sent the CA or some trust set has it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    pub sent_by_server: bool,
    /// Labels of the trust sets in which the chain verifies.
    pub trusted_by: Vec<String>,
}

/// The intermediate an `incomplete-chain` verdict is about.
#[derive(Debug, Clone, Serialize)]
pub struct MissingIssuer {
    pub subject: String,
    pub name: String,
    /// The certificate (sent by the server) whose issuer is missing.
    pub needed_by: String,
    /// Where to download it (AIA CA Issuers of `needed_by`).
    pub ca_issuers: Vec<String>,
}

/// The certificate an `expired` / `not-yet-valid` verdict is about.
#[derive(Debug, Clone, Serialize)]
pub struct DatedCertificate {
    pub subject: String,
    pub name: String,
    pub not_before: String,
    pub not_after: String,
}

/// The name asked and the names offered, for `hostname-mismatch`.
#[derive(Debug, Clone, Serialize)]
pub struct NameDetail {
    pub asked: String,
    pub offered: Vec<String>,
}

/// Chain-wide remarks that are not a per-trust-set verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NoteCode {
    /// "Now" is outside the validity of most certificates seen: check the clock.
    ClockSkew,
    /// Nobody trusts the issuer and it looks like a TLS-inspecting proxy.
    TlsInspectionSuspected,
    /// The name does not match, reported alongside another verdict code.
    HostnameMismatch,
    /// Some trust-set certificates could not be used as anchors.
    UnusableRoots,
}

impl NoteCode {
    pub fn as_str(self) -> &'static str {
        match self {
            NoteCode::ClockSkew => "clock-skew",
            NoteCode::TlsInspectionSuspected => "tls-inspection-suspected",
            NoteCode::HostnameMismatch => "hostname-mismatch",
            NoteCode::UnusableRoots => "unusable-roots",
        }
    }
}

/// One chain-wide remark.
#[derive(Debug, Clone, Serialize)]
pub struct Note {
    pub code: NoteCode,
    /// English (`--json`).
    pub message: String,
    /// The catalogue message of `message`, for human output.
    #[serde(skip)]
    pub msg: Option<crate::i18n::Msg>,
}

impl Note {
    pub fn said(code: NoteCode, msg: crate::i18n::Msg) -> Note {
        Note {
            code,
            message: msg.en(),
            msg: Some(msg),
        }
    }

    /// `message` in the run's language.
    pub fn text(&self) -> String {
        crate::i18n::shown(self.msg.as_ref(), &self.message)
    }
}

/// What `--json` prints when no chain was obtained (exit code 2): the error document
/// every command shares (`crate::commands::failure`), tagged `trustsync-probe/1`.
pub use crate::commands::failure::ErrorReport;

impl ErrorReport {
    pub fn new(err: &super::ProbeError) -> ErrorReport {
        ErrorReport::for_command(
            "probe",
            err.code(),
            err.to_string(),
            super::EXIT_COULD_NOT_CONNECT,
        )
    }
}

// ANSI colours are written by hand: three colours and bold do not justify a crate.
const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const YELLOW: &str = "\x1b[33m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

/// What a person calls a trust set in a group line: its kind (`pip`, `requests`), the
/// package for a bundle shipped inside one (`botocore`), `OS store` as it is.
fn short_name(label: &str) -> String {
    match label.split_once(' ') {
        Some(("bundled", rest)) => rest.split('/').next().unwrap_or(rest).to_string(),
        Some((kind, _)) if label != "OS store" => kind.to_string(),
        _ => label.to_string(),
    }
}

/// What the trust sets of one outcome share, in words: the root they end at, the CA they
/// lack, the certificate out of date, the name that does not match.
fn shared_reason(v: &Verdict) -> String {
    if let Some(a) = &v.anchor {
        return t!("probe-reason-anchored", root = a);
    }
    if let Some(ca) = &v.ca {
        return t!("probe-reason-lack", name = &ca.name);
    }
    if let Some(m) = &v.missing {
        return t!("probe-reason-nobody-has", name = &m.name);
    }
    if let Some(c) = &v.certificate {
        return t!(
            "probe-reason-valid",
            name = &c.name,
            from = &c.not_before,
            until = &c.not_after
        );
    }
    if let Some(h) = &v.hostname {
        return t!("probe-reason-name", name = &h.asked);
    }
    v.message_text()
}

/// Renders the report grouped, for a terminal (what `probe` prints without `-v`): the
/// chain once, one line a certificate, then one line per distinct outcome naming the trust
/// sets that share it with counts ("fails in 11 trust sets: pip ×9, requests, botocore —
/// they lack 'X Root CA'") and its next steps once; [`render_human`] has every detail.
/// Escaping and colours as there.
pub fn render_grouped(report: &ProbeReport, color: bool) -> String {
    let paint = painter(color);
    let mut out = header(report, &paint);
    for c in &report.chain {
        if let Some(err) = &c.error {
            out += &unreadable(c.index, err);
            continue;
        }
        let state = match validity_word(c.validity) {
            None => String::new(),
            Some(w) => t!("probe-chain-state", state = paint(RED, &w)),
        };
        let by = if c.self_signed {
            t!("probe-self-signed-tag")
        } else {
            t!("probe-issued-by", issuer = escape(&c.issuer))
        };
        out += &format!(
            "  [{}] {}\n",
            c.index,
            t!(
                "probe-chain-line",
                subject = escape(&c.subject),
                by = by,
                until = &c.not_after,
                state = state
            )
        );
    }
    // Outcomes in the order their first trust set comes (the OS store's first).
    let mut groups: Vec<(&Verdict, String, Vec<&Verdict>)> = Vec::new();
    for v in &report.verdicts {
        let reason = shared_reason(v);
        match groups
            .iter_mut()
            .find(|(first, r, _)| first.code == v.code && *r == reason)
        {
            Some((_, _, members)) => members.push(v),
            None => groups.push((v, reason, vec![v])),
        }
    }
    out += &format!("\n{}\n", t!("probe-outcome-heading"));
    if groups.is_empty() {
        out += &format!("  {}\n", t!("probe-no-trust-sets"));
    }
    for (first, reason, members) in &groups {
        let mut counted: Vec<(String, usize)> = Vec::new();
        for m in members {
            let name = short_name(&m.trust_set);
            match counted.iter_mut().find(|(n, _)| *n == name) {
                Some((_, k)) => *k += 1,
                None => counted.push((name, 1)),
            }
        }
        let who: Vec<String> = counted
            .iter()
            .map(|(n, k)| match k {
                1 => escape(n).into_owned(),
                k => format!("{} ×{k}", escape(n)),
            })
            .collect();
        let status = status_tag(first.verified, &paint);
        out += &format!(
            "  {status} {}: {}\n",
            paint(BOLD, first.code.as_str()),
            t!(
                "probe-group",
                verified = if first.verified { "yes" } else { "no" },
                count = members.len(),
                who = who.join(", "),
                reason = escape(reason)
            )
        );
        // A next step naming its own trust set is said once for all that share it.
        const SET: &str = "\u{0}";
        let mut steps: Vec<(String, Vec<&str>)> = Vec::new();
        for m in members {
            let Some(step) = m.next_step_text() else {
                continue;
            };
            let template = step.replace(m.trust_set.as_str(), SET);
            match steps.iter_mut().find(|(t, _)| *t == template) {
                Some((_, sets)) => sets.push(&m.trust_set),
                None => steps.push((template, vec![&m.trust_set])),
            }
        }
        for (template, sets) in steps {
            let step = match sets.as_slice() {
                [one] => template.replace(SET, one),
                _ => template.replace(SET, &t!("probe-each-of-them")),
            };
            out += &next_step_line(&step);
        }
    }
    out += &footer(report, &paint);
    if report.verdicts.len() > groups.len() {
        out += &t!("probe-see-verbose");
        out += "\n";
    }
    out
}

/// A chain entry that could not be parsed.
fn unreadable(index: usize, err: &str) -> String {
    format!(
        "  [{index}] {}\n",
        t!("probe-unreadable-certificate", error = escape(err))
    )
}

/// A certificate out of its validity, in words (`None`: valid).
fn validity_word(v: Validity) -> Option<String> {
    match v {
        Validity::Valid => None,
        Validity::Expired => Some(t!("probe-expired-tag")),
        Validity::NotYetValid => Some(t!("probe-not-yet-valid-tag")),
    }
}

/// `OK  ` or `FAIL`, coloured: the tags stay English in every language (like the codes,
/// they are what people search for and grep).
fn status_tag(verified: bool, paint: &dyn Fn(&str, &str) -> String) -> String {
    if verified {
        paint(GREEN, "OK  ")
    } else {
        paint(RED, "FAIL")
    }
}

/// The indented "next step: …" line under a verdict.
fn next_step_line(step: &str) -> String {
    format!("       {}\n", t!("probe-next-step", step = escape(step)))
}

/// `color` on: text wrapped in an ANSI code; off: as it is.
fn painter(color: bool) -> impl Fn(&str, &str) -> String {
    move |c: &str, s: &str| {
        if color {
            format!("{c}{s}{RESET}")
        } else {
            s.to_string()
        }
    }
}

/// The lines before the chain's certificates: what was probed, when, how many sent.
fn header(report: &ProbeReport, paint: &dyn Fn(&str, &str) -> String) -> String {
    let mut out = String::new();
    match &report.connection {
        Some(c) => {
            out += &t!(
                "probe-header",
                probe_of = paint(BOLD, &t!("probe-of")),
                host = format!("{}:{}", escape(&c.host), c.port),
                name = escape(&c.servername),
                peer = escape(&c.peer),
                proxy = c.proxy.as_deref().map_or(String::new(), |p| {
                    t!("probe-header-proxy", proxy = escape(p))
                }),
                protocol = c.protocol.as_deref().map_or(String::new(), |v| {
                    t!("probe-header-protocol", protocol = escape(v))
                })
            );
            out += "\n";
        }
        None => {
            out += &t!(
                "probe-header-saved",
                probe_of = paint(BOLD, &t!("probe-of")),
                name = escape(&report.name)
            );
            out += "\n";
        }
    }
    out += &t!("probe-checked-at", time = &report.checked_at);
    out += "\n\n";
    out += &t!("probe-chain-heading", count = report.chain.len());
    out += "\n";
    out
}

/// The notes and the one-line result.
fn footer(report: &ProbeReport, paint: &dyn Fn(&str, &str) -> String) -> String {
    let mut out = String::new();
    if !report.notes.is_empty() {
        out += &format!("\n{}\n", t!("probe-notes-heading"));
        for n in &report.notes {
            out += &format!(
                "  {} {}: {}\n",
                paint(YELLOW, "!"),
                n.code.as_str(),
                escape(&n.text())
            );
        }
    }
    let failing = report.verdicts.iter().filter(|v| !v.verified).count();
    out += "\n";
    out += &if failing == 0 {
        paint(GREEN, &t!("probe-result-ok"))
    } else {
        paint(
            RED,
            &t!(
                "probe-result-fail",
                overall = report.overall.to_string(),
                failing = failing,
                total = report.verdicts.len()
            ),
        )
    };
    out += "\n";
    out
}

/// Renders the report for a terminal, every trust set's verdict in full (`probe -v`).
/// `color` adds ANSI colours (callers decide, e.g.
/// when stdout is a terminal and `NO_COLOR` is unset). Codes appear verbatim so users
/// can search for them in the documentation. Every string the server or the trust sets
/// supplied (names, subjects, SANs, URLs, messages quoting them) is shown through
/// [`escape`], so a certificate cannot drive the terminal or forge a line.
pub fn render_human(report: &ProbeReport, color: bool) -> String {
    let paint = painter(color);
    let mut out = header(report, &paint);
    for c in &report.chain {
        if let Some(err) = &c.error {
            out += &unreadable(c.index, err);
            continue;
        }
        let mut tags = Vec::new();
        if c.self_signed {
            tags.push(t!("probe-self-signed-tag"));
        } else if c.is_ca {
            tags.push("CA".to_string());
        }
        if let Some(w) = validity_word(c.validity) {
            tags.push(paint(RED, &w));
        }
        let tags = if tags.is_empty() {
            String::new()
        } else {
            format!(" [{}]", tags.join(", "))
        };
        out += &format!("  [{}] {}{tags}\n", c.index, escape(&c.subject));
        // The field labels are padded by cells so the values line up in either language.
        let field = |label: String, value: String| {
            format!("      {} {value}\n", crate::term::pad(&(label + ":"), 9))
        };
        out += &field(t!("probe-field-issuer"), escape(&c.issuer).into_owned());
        out += &field(
            t!("probe-field-valid"),
            format!("{} .. {}", c.not_before, c.not_after),
        );
        if !c.names.is_empty() {
            let names: Vec<_> = c.names.iter().map(|n| escape(n)).collect();
            out += &field(t!("probe-field-names"), names.join(", "));
        }
        for url in &c.ca_issuers {
            out += &format!("      {}\n", t!("probe-issuer-at", url = escape(url)));
        }
        out += &field("sha256".to_string(), c.sha256.clone());
    }

    out += &format!("\n{}\n", t!("probe-verification-heading"));
    if report.verdicts.is_empty() {
        out += &format!("  {}\n", t!("probe-no-trust-sets"));
    }
    for v in &report.verdicts {
        let status = status_tag(v.verified, &paint);
        out += &format!(
            "  {status} {}: {}\n",
            escape(&v.trust_set),
            paint(BOLD, v.code.as_str())
        );
        out += &format!("       {}\n", escape(&v.message_text()));
        if let Some(next) = v.next_step_text() {
            out += &next_step_line(&next);
        }
    }
    out += &footer(report, &paint);
    out
}
