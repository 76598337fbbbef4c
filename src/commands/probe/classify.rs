//! Turning "does not verify" into a named class, a plain message and a next step.
//!
//! webpki says *that* a path fails and gives a terse reason (`UnknownIssuer`,
//! `CertExpired`); users need to know whether to run `sudo trustsync fix`, call the
//! server's operator, talk to IT about a proxy, or fix their clock. The rules:
//!
//! * path verifies and the name matches: `ok`; path verifies, name does not:
//!   `hostname-mismatch` (with the SANs offered);
//! * webpki `CertExpired` / `CertNotValidYet`: `expired` / `not-yet-valid`, naming the
//!   first certificate on the sent path that is out of its validity, with dates;
//! * webpki `UnknownIssuer` (or `CaUsedAsEndEntity`) with a self-issued leaf: `self-signed`;
//! * `UnknownIssuer` otherwise, following issuers through what the server sent up to the
//!   last certificate ("top"): if the top is a self-signed root, or some trust set has a
//!   root with the top's issuer name, the root is known and this set lacks it:
//!   `untrusted-root`. If nobody has the issuer and the top carries an AIA CA Issuers URL,
//!   the server left out an intermediate: `incomplete-chain`. With no AIA either, the
//!   issuer could be an unknown root or a missing intermediate; we say `untrusted-root`
//!   and the message says it was neither sent nor found;
//! * anything else: `invalid-chain`, with webpki's reason in words.
//!
//! Chain-wide notes: `clock-skew` when "now" is outside the validity of most certificates
//! seen (the chain, plus the root a trust set has for it); `tls-inspection-suspected`
//! when no trust set verifies an `untrusted-root` chain and its CA is not a well-known
//! public CA, names an inspection product, or a proxy is configured.

use std::time::{SystemTime, UNIX_EPOCH};

use super::certinfo::CertInfo;
use super::report::{
    CaDetail, ChainEntry, Code, DatedCertificate, MissingIssuer, NameDetail, Note, NoteCode,
    ProbeReport, Validity, Verdict, SCHEMA,
};
use super::verify::{check_name, parse_roots, verify_path, PathOutcome, PreparedSet};
use super::TrustSetInput;
use crate::model::cert::format_rfc3339 as format_time;

/// Verifies `chain` (DER, leaf first, as sent) for `name` against each trust set (give
/// the OS store first: next steps refer to it) at `now`, and classifies the outcome.
/// `env_proxy_hint`: a proxy was used or `HTTPS_PROXY` is set (see [`super::proxy_env_hint`]).
pub fn analyse(
    chain: &[Vec<u8>],
    name: &str,
    trust_sets: &[TrustSetInput],
    now: SystemTime,
    env_proxy_hint: bool,
) -> ProbeReport {
    let now_unix = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let parsed: Vec<Result<CertInfo, String>> = chain.iter().map(|d| CertInfo::parse(d)).collect();
    let roots = parse_roots(trust_sets);
    let sets: Vec<PreparedSet> = trust_sets
        .iter()
        .map(|s| PreparedSet::new(s, &roots))
        .collect();
    let mut notes = Vec::new();

    let unusable: Vec<String> = sets
        .iter()
        .filter(|s| s.unusable > 0)
        .map(|s| format!("{} ({})", s.label, s.unusable))
        .collect();
    if !unusable.is_empty() {
        notes.push(Note::said(
            NoteCode::UnusableRoots,
            msg!("probe-note-unusable-roots", sets = unusable.join(", ")),
        ));
    }

    let verdicts = match parsed.first() {
        None => no_certificate(&sets, "The server sent no certificate."),
        Some(Err(e)) => no_certificate(
            &sets,
            &format!("The server's certificate could not be read: {e}."),
        ),
        Some(Ok(leaf)) => {
            let analysis = Analysis::new(chain, &parsed, leaf, name, &sets, now, now_unix);
            let verdicts = analysis.verdicts(env_proxy_hint, &mut notes);
            if let Some(note) = analysis.clock_note() {
                notes.push(note);
            }
            verdicts
        }
    };

    let overall = verdicts
        .iter()
        .find(|v| !v.verified)
        .map(|v| v.code)
        .unwrap_or(Code::Ok);
    ProbeReport {
        schema: SCHEMA,
        name: name.to_string(),
        checked_at: format_time(now_unix),
        connection: None,
        chain: chain_entries(&parsed, now_unix),
        exit_code: i32::from(verdicts.iter().any(|v| !v.verified)),
        verdicts,
        notes,
        overall,
    }
}

fn no_certificate(sets: &[PreparedSet], message: &str) -> Vec<Verdict> {
    sets.iter()
        .map(|s| {
            verdict(s, Code::NoCertificate, message.to_string())
                .with_step(msg!("probe-step-check-service"))
        })
        .collect()
}

/// A verdict said in words only (English in every language: not yet in the catalogue).
fn verdict(set: &PreparedSet, code: Code, message: String) -> Verdict {
    Verdict {
        trust_set: set.label.clone(),
        verified: code == Code::Ok,
        code,
        message,
        next_step: None,
        message_msg: None,
        next_msg: None,
        anchor: None,
        ca: None,
        missing: None,
        certificate: None,
        hostname: None,
    }
}

/// A verdict said by the catalogue.
fn verdict_said(set: &PreparedSet, code: Code, message: crate::i18n::Msg) -> Verdict {
    Verdict {
        message_msg: Some(message.clone()),
        ..verdict(set, code, message.en())
    }
}

fn chain_entries(parsed: &[Result<CertInfo, String>], now: i64) -> Vec<ChainEntry> {
    parsed
        .iter()
        .enumerate()
        .map(|(index, p)| match p {
            Ok(c) => ChainEntry {
                index,
                subject: c.subject.clone(),
                issuer: c.issuer.clone(),
                name: c.display_name.clone(),
                sha256: c.sha256.clone(),
                not_before: format_time(c.not_before),
                not_after: format_time(c.not_after),
                validity: c.validity_at(now),
                is_ca: c.is_ca,
                self_signed: c.self_signed,
                names: c.names.clone(),
                ca_issuers: c.ca_issuers.clone(),
                error: None,
            },
            Err(e) => ChainEntry {
                index,
                subject: String::new(),
                issuer: String::new(),
                name: String::new(),
                sha256: String::new(),
                not_before: String::new(),
                not_after: String::new(),
                validity: Validity::Valid,
                is_ca: false,
                self_signed: false,
                names: Vec::new(),
                ca_issuers: Vec::new(),
                error: Some(e.clone()),
            },
        })
        .collect()
}

/// Everything computed once per chain, shared by the per-set verdicts.
struct Analysis<'a> {
    leaf: &'a CertInfo,
    name: &'a str,
    now_unix: i64,
    /// Sent certificates from the leaf upwards, following issuer names.
    sent_path: Vec<&'a CertInfo>,
    /// All parsed sent certificates, in order.
    sent: Vec<&'a CertInfo>,
    sets: &'a [PreparedSet<'a>],
    outcomes: Vec<PathOutcome>,
    name_problem: Option<String>,
    /// The root a trust set has for the top's issuer, when the server did not send it.
    known_root: Option<&'a CertInfo>,
}

impl<'a> Analysis<'a> {
    fn new(
        chain: &[Vec<u8>],
        parsed: &'a [Result<CertInfo, String>],
        leaf: &'a CertInfo,
        name: &'a str,
        sets: &'a [PreparedSet<'a>],
        now: SystemTime,
        now_unix: i64,
    ) -> Analysis<'a> {
        let sent: Vec<&CertInfo> = parsed.iter().filter_map(|p| p.as_ref().ok()).collect();
        let mut sent_path = vec![leaf];
        loop {
            let current = *sent_path.last().expect("path starts with the leaf");
            if current.self_signed {
                break;
            }
            let next = sent.iter().copied().find(|c| {
                c.subject_raw == current.issuer_raw
                    && !sent_path.iter().any(|p| std::ptr::eq(*p, *c))
            });
            match next {
                Some(c) => sent_path.push(c),
                None => break,
            }
        }
        let top = *sent_path.last().expect("non-empty");
        let known_root = if top.self_signed {
            None
        } else {
            sets.iter().find_map(|s| s.root_named(&top.issuer_raw))
        };
        Analysis {
            leaf,
            name,
            now_unix,
            sent_path,
            sent,
            sets,
            outcomes: sets.iter().map(|s| verify_path(chain, s, now)).collect(),
            name_problem: check_name(&leaf.der, name).err(),
            known_root,
        }
    }

    fn top(&self) -> &'a CertInfo {
        self.sent_path.last().expect("non-empty")
    }

    fn trusted_by(&self) -> Vec<String> {
        self.sets
            .iter()
            .zip(&self.outcomes)
            .filter(|(_, o)| matches!(o, PathOutcome::Verified { .. }))
            .map(|(s, _)| s.label.clone())
            .collect()
    }

    /// Whether the first trust set (the OS store, by contract) verifies the path.
    fn os_verifies(&self) -> bool {
        matches!(self.outcomes.first(), Some(PathOutcome::Verified { .. }))
    }

    fn os_label(&self) -> &str {
        self.sets
            .first()
            .map(|s| s.label.as_str())
            .unwrap_or("OS store")
    }

    fn name_detail(&self) -> NameDetail {
        NameDetail {
            asked: self.name.to_string(),
            offered: self.leaf.names.clone(),
        }
    }

    fn name_message(&self) -> crate::i18n::Msg {
        if self.leaf.names.is_empty() {
            msg!(
                "probe-name-no-host",
                cn = &self.leaf.display_name,
                name = self.name
            )
        } else {
            msg!(
                "probe-name-mismatch",
                names = self.leaf.names.join(", "),
                name = self.name
            )
        }
    }

    fn verdicts(&self, env_proxy_hint: bool, notes: &mut Vec<Note>) -> Vec<Verdict> {
        let trusted_by = self.trusted_by();
        let mut verdicts: Vec<Verdict> = self
            .sets
            .iter()
            .zip(&self.outcomes)
            .map(|(set, outcome)| self.verdict_for(set, outcome, &trusted_by))
            .collect();

        if self.name_problem.is_some()
            && verdicts
                .iter()
                .any(|v| v.code != Code::HostnameMismatch && !v.verified)
        {
            notes.push(Note::said(NoteCode::HostnameMismatch, self.name_message()));
        }

        if trusted_by.is_empty() {
            if let Some(ca) = verdicts.iter().find_map(|v| {
                (v.code == Code::UntrustedRoot)
                    .then_some(v.ca.as_ref())
                    .flatten()
            }) {
                let reasons = self.inspection_reasons(env_proxy_hint);
                // No reasons: a public CA's name, no product keyword, no proxy; then it
                // is an untrusted root and nothing suggests interception.
                if !reasons.is_empty() {
                    let ca_name = ca.name.clone();
                    // "A; B; C", each separator the language's own.
                    let mut reasons = reasons.into_iter().rev();
                    let last = reasons.next().expect("not empty");
                    let reasons = reasons.fold(last, |rest, first| {
                        msg!("probe-reasons-and", first = first, rest = rest)
                    });
                    notes.push(Note::said(
                        NoteCode::TlsInspectionSuspected,
                        msg!("probe-note-inspection", name = ca_name, reasons = reasons),
                    ));
                    let step = msg!("probe-step-inspection");
                    for v in verdicts
                        .iter_mut()
                        .filter(|v| v.code == Code::UntrustedRoot)
                    {
                        *v = v.clone().with_step(step.clone());
                    }
                }
            }
        }
        verdicts
    }

    fn verdict_for(
        &self,
        set: &PreparedSet,
        outcome: &PathOutcome,
        trusted_by: &[String],
    ) -> Verdict {
        match outcome {
            PathOutcome::Verified { anchor } => match &self.name_problem {
                None => Verdict {
                    anchor: anchor.clone(),
                    ..verdict_said(
                        set,
                        Code::Ok,
                        msg!(
                            "probe-verifies-to-root",
                            root = anchor.as_deref().unwrap_or("?")
                        ),
                    )
                },
                Some(_) => Verdict {
                    anchor: anchor.clone(),
                    hostname: Some(self.name_detail()),
                    ..verdict_said(set, Code::HostnameMismatch, self.name_message())
                }
                .with_step(msg!("probe-step-hostname", name = self.name)),
            },
            PathOutcome::Failed(err) => match err {
                webpki::Error::CertExpired { .. } => self.dated(set, Validity::Expired),
                webpki::Error::CertNotValidYet { .. } => self.dated(set, Validity::NotYetValid),
                webpki::Error::UnknownIssuer | webpki::Error::CaUsedAsEndEntity
                    if self.leaf.self_signed =>
                {
                    self.self_signed(set, trusted_by)
                }
                webpki::Error::UnknownIssuer => self.unknown_issuer(set, trusted_by),
                other => verdict(
                    set,
                    Code::InvalidChain,
                    format!("The chain does not verify: {}.", webpki_words(other)),
                )
                .with_step(msg!("probe-step-fix-chain")),
            },
        }
    }

    fn dated(&self, set: &PreparedSet, which: Validity) -> Verdict {
        // webpki checks the sent path from the leaf up, so the first one out of validity
        // on that path is the one it tripped on; fall back to any sent certificate.
        let cert = self
            .sent_path
            .iter()
            .chain(&self.sent)
            .copied()
            .find(|c| c.validity_at(self.now_unix) == which)
            .unwrap_or(self.leaf);
        let now = format_time(self.now_unix);
        let leaf = if std::ptr::eq(cert, self.leaf) {
            "yes"
        } else {
            "no"
        };
        // Both messages take the same arguments; only the sentence differs.
        let (code, message) = match which {
            Validity::NotYetValid => (Code::NotYetValid, msg!("probe-not-yet-valid")),
            _ => (Code::Expired, msg!("probe-expired")),
        };
        let message = message
            .arg("leaf", leaf)
            .arg("name", &cert.display_name)
            .arg("from", format_time(cert.not_before))
            .arg("until", format_time(cert.not_after))
            .arg("now", &now);
        let next = if self.clock_suspicious() {
            msg!("probe-step-check-clock", now = &now)
        } else if code == Code::Expired {
            msg!("probe-step-renew")
        } else {
            msg!("probe-step-not-yet-valid")
        };
        Verdict {
            certificate: Some(DatedCertificate {
                subject: cert.subject.clone(),
                name: cert.display_name.clone(),
                not_before: format_time(cert.not_before),
                not_after: format_time(cert.not_after),
            }),
            ..verdict_said(set, code, message)
        }
        .with_step(next)
    }

    fn self_signed(&self, set: &PreparedSet, trusted_by: &[String]) -> Verdict {
        let leaf = self.leaf;
        let next = if self.os_verifies() {
            msg!(
                "probe-step-self-signed-os-trusts",
                os = self.os_label(),
                set = &set.label
            )
        } else {
            msg!("probe-step-self-signed", sha256 = &leaf.sha256)
        };
        Verdict {
            ca: Some(CaDetail {
                subject: leaf.subject.clone(),
                name: leaf.display_name.clone(),
                sha256: Some(leaf.sha256.clone()),
                sent_by_server: true,
                trusted_by: trusted_by.to_vec(),
            }),
            ..verdict_said(
                set,
                Code::SelfSigned,
                msg!(
                    "probe-self-signed",
                    name = &leaf.display_name,
                    set = &set.label
                ),
            )
        }
        .with_step(next)
    }

    fn unknown_issuer(&self, set: &PreparedSet, trusted_by: &[String]) -> Verdict {
        let top = self.top();
        let root = if top.self_signed && !std::ptr::eq(top, self.leaf) {
            Some((top, true))
        } else {
            self.known_root.map(|r| (r, false))
        };
        if root.is_none() && !top.ca_issuers.is_empty() {
            return Verdict {
                missing: Some(MissingIssuer {
                    subject: top.issuer.clone(),
                    name: top.issuer_display_name.clone(),
                    needed_by: top.display_name.clone(),
                    ca_issuers: top.ca_issuers.clone(),
                }),
                ..verdict_said(
                    set,
                    Code::IncompleteChain,
                    msg!(
                        "probe-incomplete-chain",
                        sent = &top.display_name,
                        issuer = &top.issuer_display_name,
                        urls = top.ca_issuers.join(", ")
                    ),
                )
            }
            .with_step(msg!(
                "probe-step-send-full-chain",
                sent = &top.display_name,
                issuer = &top.issuer_display_name,
                urls = top.ca_issuers.join(", ")
            ));
        }
        let (ca, message) = match root {
            Some((r, sent)) => (
                CaDetail {
                    subject: r.subject.clone(),
                    name: r.display_name.clone(),
                    sha256: Some(r.sha256.clone()),
                    sent_by_server: sent,
                    trusted_by: trusted_by.to_vec(),
                },
                msg!(
                    "probe-untrusted-root",
                    root = &r.display_name,
                    set = &set.label
                ),
            ),
            None => (
                CaDetail {
                    subject: top.issuer.clone(),
                    name: top.issuer_display_name.clone(),
                    sha256: None,
                    sent_by_server: false,
                    trusted_by: trusted_by.to_vec(),
                },
                msg!(
                    "probe-unknown-issuer",
                    issuer = &top.issuer_display_name,
                    set = &set.label
                ),
            ),
        };
        let next = if self.os_verifies() {
            msg!("probe-step-run-fix", set = &set.label, os = self.os_label())
        } else if !trusted_by.is_empty() {
            msg!(
                "probe-step-trusted-elsewhere",
                name = &ca.name,
                by = trusted_by.join(", "),
                os = self.os_label()
            )
        } else {
            msg!("probe-step-private-ca", name = &ca.name)
        };
        Verdict {
            ca: Some(ca),
            ..verdict_said(set, Code::UntrustedRoot, message)
        }
        .with_step(next)
    }

    /// Why the CA at the top looks like a TLS-inspecting proxy's; empty when it does not.
    fn inspection_reasons(&self, env_proxy_hint: bool) -> Vec<crate::i18n::Msg> {
        let top = self.top();
        let (ca_name, ca_org) = match self.known_root {
            Some(r) => (r.display_name.clone(), r.organisation.clone()),
            None if top.self_signed => (top.display_name.clone(), top.organisation.clone()),
            None => (
                top.issuer_display_name.clone(),
                top.issuer_organisation.clone(),
            ),
        };
        let haystack = format!(
            "{} {} {}",
            ca_name,
            ca_org.as_deref().unwrap_or(""),
            top.issuer
        )
        .to_lowercase();
        let mut reasons = Vec::new();
        if let Some(product) = INSPECTION_PRODUCTS.iter().find(|p| haystack.contains(*p)) {
            reasons.push(msg!("probe-reason-product", product = product.trim()));
        }
        if !PUBLIC_CAS.iter().any(|p| haystack.contains(*p)) {
            reasons.push(msg!("probe-reason-not-public"));
        }
        if env_proxy_hint {
            reasons.push(msg!("probe-reason-proxy"));
        }
        reasons
    }

    /// "Now" is outside the validity of most certificates seen (at least two).
    fn clock_suspicious(&self) -> bool {
        let seen: Vec<&CertInfo> = self.sent.iter().copied().chain(self.known_root).collect();
        let outside = seen
            .iter()
            .filter(|c| c.validity_at(self.now_unix) != Validity::Valid)
            .count();
        seen.len() >= 2 && outside * 2 > seen.len()
    }

    fn clock_note(&self) -> Option<Note> {
        self.clock_suspicious().then(|| {
            Note::said(
                NoteCode::ClockSkew,
                msg!("probe-note-clock", now = format_time(self.now_unix)),
            )
        })
    }
}

/// webpki's reasons, in words, for the ones users actually meet.
fn webpki_words(err: &webpki::Error) -> String {
    use webpki::Error as E;
    match err {
        E::InvalidSignatureForPublicKey => {
            "a signature in the chain does not match its issuer's key".into()
        }
        E::CaUsedAsEndEntity => "the server's certificate is a CA certificate".into(),
        E::EndEntityUsedAsCa => "a non-CA certificate was used to issue another".into(),
        E::RequiredEkuNotFoundContext(_) => {
            "the server's certificate is not allowed for TLS server authentication \
             (extended key usage)"
                .into()
        }
        E::UnsupportedSignatureAlgorithmContext(_)
        | E::UnsupportedSignatureAlgorithmForPublicKeyContext(_) => {
            "a signature uses an algorithm modern TLS libraries reject (e.g. SHA-1, or RSA \
             keys under 2048 bits)"
                .into()
        }
        E::PathLenConstraintViolated => "a CA's path length limit is exceeded".into(),
        E::NameConstraintViolation => "a CA's name constraints forbid this name".into(),
        E::CertDistrusted => "a certificate in the chain is explicitly distrusted".into(),
        E::BadDer | E::BadDerTime => "a certificate is malformed (bad DER)".into(),
        other => format!("{other:?}"),
    }
}

/// Substrings (lowercase) of TLS-inspection products and debugging proxies.
const INSPECTION_PRODUCTS: &[&str] = &[
    "zscaler",
    "netskope",
    "fortinet",
    "fortigate",
    "palo alto",
    "paloalto",
    "blue coat",
    "bluecoat",
    "forcepoint",
    "websense",
    "sophos",
    "check point",
    "checkpoint",
    "umbrella",
    "barracuda",
    "sonicwall",
    "watchguard",
    "kaspersky",
    "avast",
    "bitdefender",
    "eset ",
    "mitmproxy",
    "charles proxy",
    "fiddler",
    "proxyman",
    "surge",
    "squid",
    "inspection",
    "interception",
    "decrypt",
    "proxy",
];

/// Substrings (lowercase) of well-known public CA names and organisations; a CA matching
/// none of them is "not a well-known public CA" for the inspection heuristic.
const PUBLIC_CAS: &[&str] = &[
    "digicert",
    "let's encrypt",
    "internet security research group",
    "isrg",
    "globalsign",
    "sectigo",
    "comodo",
    "usertrust",
    "godaddy",
    "go daddy",
    "starfield",
    "amazon",
    "google trust services",
    "gts root",
    "microsoft",
    "entrust",
    "identrust",
    "baltimore",
    "quovadis",
    "certum",
    "asseco",
    "buypass",
    "actalis",
    "ssl corporation",
    "ssl.com",
    "harica",
    "hellenic academic",
    "swisssign",
    "t-systems",
    "telesec",
    "d-trust",
    "certigna",
    "secom",
    "trustwave",
    "securetrust",
    "network solutions",
    "thawte",
    "verisign",
    "geotrust",
    "symantec",
    "rapidssl",
    "cybertrust",
    "emsign",
    "e-tugra",
    "izenpe",
    "certainly",
    "apple",
    "atos",
    "chunghwa",
    "trustasia",
    "certsign",
    "netlock",
    "microsec",
    "tuntrust",
    "cloudflare",
    "zerossl",
];
