//! The diff: what each runtime really trusts, compared with the OS store, as a verdict and
//! problems with stable codes and plain messages.
//!
//! The trust set is computed as the runtime's TLS library computes it: the CA file's
//! certificates plus those a hashed directory yields under matching `HASH.N` names. Every
//! problem code here is documented in README.md ("Problem codes"); renaming one breaks
//! provisioning scripts, so codes only ever get added.
//!
//! Messages are catalogue messages ([`crate::i18n`]): `message` is the English text, the
//! one `--json` carries; [`Problem::text`] is what a person reads, in the run's language.

use crate::model::cert::{unix_now, Certificate};
use crate::model::load::{Cache, DirState, FileState};
use crate::model::runtime::Runtime;
use crate::model::system::OsStore;
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Ok,
    Drift,
    Broken,
}

impl Verdict {
    /// The verdict in words, in the run's language (`as_str` is the JSON code).
    pub fn word(self) -> String {
        match self {
            Verdict::Ok => t!("verdict-ok"),
            Verdict::Drift => t!("verdict-drift"),
            Verdict::Broken => t!("verdict-broken"),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Drift => "drift",
            Verdict::Broken => "broken",
        }
    }
}

/// Ordered from least to most severe, so the worst problem sorts last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; does not change the verdict.
    Info,
    /// Makes the verdict `drift`.
    Drift,
    /// Makes the verdict `broken`.
    Broken,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Problem {
    pub code: &'static str,
    pub severity: Severity,
    /// In English, always: `--json` is never translated.
    pub message: String,
    /// The catalogue message `message` was rendered from, for human output; `None` for
    /// text that came in words (a family's note not yet in the catalogue).
    #[serde(skip)]
    pub msg: Option<crate::i18n::Msg>,
}

impl Problem {
    /// A problem said with a catalogue message.
    pub fn said(code: &'static str, severity: Severity, msg: crate::i18n::Msg) -> Problem {
        problem(code, severity, msg)
    }

    /// The message in the run's language.
    pub fn text(&self) -> String {
        crate::i18n::shown(self.msg.as_ref(), &self.message)
    }

    /// The message as an argument of another one, rendered in that one's language.
    pub fn as_arg(&self) -> crate::i18n::Arg {
        match &self.msg {
            Some(m) => m.clone().into(),
            None => self.message.as_str().into(),
        }
    }
}

/// The verdict `problems` make, with them put in the order reports show: the problem that
/// decides the verdict first, path problems explaining it after (stable: equal severities
/// keep the order they were found in).
fn verdict_of(problems: &mut [Problem]) -> Verdict {
    problems.sort_by_key(|p| std::cmp::Reverse(p.severity));
    problems.iter().fold(Verdict::Ok, |v, p| match p.severity {
        Severity::Broken => Verdict::Broken,
        Severity::Drift => v.max(Verdict::Drift),
        Severity::Info => v,
    })
}

impl Diagnosis {
    /// Roots this runtime trusts that the OS store lacks only because the store is behind
    /// (`newer`: the anchors the newest root-controlled certifi holds and the store lacks,
    /// seed S7, named once at system level) are not this runtime's drift: pip 24.2+ trusts
    /// the OS store and its certifi, and a certifi newer than the store is no fault of
    /// pip's. What is left (roots Mozilla removed, kept by an old bundle) stays drift.
    pub fn set_newer_roots_aside(&mut self, newer: &HashSet<[u8; 32]>, source: &str) {
        let (recent, rest): (Vec<Certificate>, Vec<Certificate>) = self
            .not_in_os
            .drain(..)
            .partition(|c| newer.contains(&c.anchor_key()));
        self.not_in_os = rest;
        if recent.is_empty() {
            return;
        }
        self.problems.retain(|p| p.code != "ca-not-in-os-store");
        if !self.not_in_os.is_empty() {
            self.problems.push(problem(
                "ca-not-in-os-store",
                Severity::Drift,
                msg!(
                    "problem-ca-not-in-os-store-old",
                    count = self.not_in_os.len(),
                    names = name_some(&self.not_in_os, 3)
                ),
            ));
        }
        self.problems.push(problem(
            "ca-newer-than-os-store",
            Severity::Info,
            msg!(
                "problem-ca-newer-than-os-store",
                count = recent.len(),
                source = source,
                names = name_some(&recent, 3)
            ),
        ));
        self.verdict = verdict_of(&mut self.problems);
    }
}

/// One runtime, judged.
#[derive(Debug, Clone)]
pub struct Diagnosis {
    pub runtime: Runtime,
    pub trusted: Vec<Certificate>,
    pub verdict: Verdict,
    pub problems: Vec<Problem>,
    /// OS CAs this runtime lacks, locally added ones first.
    pub missing: Vec<Certificate>,
    /// CAs this runtime trusts that the OS distrusts.
    pub distrusted_trusted: Vec<Certificate>,
    /// CAs this runtime trusts that the OS store does not hold at all.
    pub not_in_os: Vec<Certificate>,
}

fn problem(code: &'static str, severity: Severity, msg: crate::i18n::Msg) -> Problem {
    Problem {
        code,
        severity,
        message: msg.en(),
        msg: Some(msg),
    }
}

/// Lists up to `n` certificates by name for a message ("A, B, C, and 4 more").
fn name_some(certs: &[Certificate], n: usize) -> crate::i18n::Msg {
    let names: Vec<String> = certs.iter().take(n).map(|c| c.display_name()).collect();
    msg!(
        "names-some",
        names = names.join(", "),
        more = certs.len().saturating_sub(n)
    )
}

/// Computes the trust set and judges one runtime against `os`.
pub fn diagnose(rt: Runtime, os: &OsStore, cache: &mut Cache) -> Diagnosis {
    let mut problems: Vec<Problem> = rt
        .notes
        .iter()
        .map(|n| Problem {
            code: n.code,
            severity: if n.fatal {
                Severity::Broken
            } else {
                Severity::Info
            },
            message: n.message.clone(),
            msg: n.msg.clone(),
        })
        .collect();
    let mut trusted: Vec<Certificate> = Vec::new();
    if let Some(cafile) = &rt.cafile {
        load_cafile(
            &rt,
            cafile,
            CafileRole::Main,
            cache,
            &mut problems,
            &mut trusted,
        );
    }
    for extra in &rt.extra_cafiles {
        load_cafile(
            &rt,
            extra,
            CafileRole::Extra,
            cache,
            &mut problems,
            &mut trusted,
        );
    }
    for dir in &rt.capath {
        let shown = dir.display().to_string();
        let unusable = |code, what: crate::i18n::Msg| {
            path_problem(&rt, code, &shown, msg!("noun-capath", path = &shown), what)
        };
        match cache.dir(dir) {
            DirState::Loaded(d) => {
                if d.entries == 0 {
                    problems.push(problem(
                        "capath-empty",
                        Severity::Info,
                        msg!("problem-capath-empty", path = &shown),
                    ));
                } else if d.hash_named == 0 {
                    problems.push(problem(
                        "capath-no-hash-links",
                        Severity::Info,
                        msg!(
                            "problem-capath-no-hash-links",
                            path = &shown,
                            count = d.entries
                        ),
                    ));
                }
                for e in d.bad_entries.iter().take(3) {
                    problems.push(Problem {
                        code: "bundle-bad-entries",
                        severity: Severity::Info,
                        message: e.clone(),
                        msg: None,
                    });
                }
                trusted.extend(d.certificates.iter().cloned());
                if rt.capath_store_lookup {
                    trusted.extend(d.store_certificates.iter().cloned());
                }
            }
            DirState::Missing => problems.push(unusable("capath-missing", msg!("what-missing"))),
            DirState::NotADir => problems.push(unusable("capath-missing", msg!("what-not-a-dir"))),
            DirState::Unreadable(e) => problems.push(unusable(
                "capath-unreadable",
                msg!("what-unreadable", error = e.to_string()),
            )),
        }
    }
    if rt.adds_os_store {
        trusted.extend(os.trusted.iter().cloned());
    }
    trusted.extend(rt.builtin.iter().cloned());
    let mut seen = HashSet::new();
    trusted.retain(|c| seen.insert(c.sha256));
    // A CA the client refuses when it builds a chain is not trusted, whatever file holds
    // it; it is not "missing" either (adding it again changes nothing), so it is set
    // apart and named.
    let mut refused: Vec<(Certificate, &'static str)> = Vec::new();
    trusted.retain(|c| match c.rejected_as_ca(rt.x509_strict) {
        Some(why) => {
            refused.push((c.clone(), why));
            false
        }
        _ => true,
    });
    let refused_local: Vec<&(Certificate, &str)> = refused
        .iter()
        .filter(|(c, _)| os.is_locally_added(c))
        .collect();
    for (c, why) in refused_local.iter().take(3) {
        let strict = rt.x509_strict && c.rejected_as_ca(false).is_none();
        problems.push(problem(
            "ca-refused",
            Severity::Drift,
            msg!(
                "problem-ca-refused",
                strict = if strict { "yes" } else { "no" },
                name = c.display_name(),
                why = *why
            ),
        ));
    }
    if !rt.overridden_by.is_empty() {
        let vars: Vec<String> = rt.overridden_by.iter().map(|v| format!("${v}")).collect();
        problems.push(problem(
            "env-override",
            Severity::Info,
            msg!("problem-env-override", variables = vars.join(", ")),
        ));
    }

    let judged = !problems.iter().any(|p| p.severity == Severity::Broken);
    let (mut missing, mut distrusted_trusted, mut not_in_os) = (Vec::new(), Vec::new(), Vec::new());
    if judged {
        if trusted.is_empty() && rt.replaces_defaults {
            let sources = describe_sources(&rt);
            problems.push(problem(
                "no-trust-anchors",
                Severity::Broken,
                msg!(
                    "problem-no-trust-anchors",
                    sources = sources,
                    count = os.trusted.len()
                ),
            ));
        } else {
            compare(
                &rt,
                &trusted,
                os,
                &mut problems,
                &mut missing,
                &mut distrusted_trusted,
                &mut not_in_os,
            );
        }
    }
    let verdict = verdict_of(&mut problems);
    Diagnosis {
        runtime: rt,
        trusted,
        verdict,
        problems,
        missing,
        distrusted_trusted,
        not_in_os,
    }
}

/// Which of a runtime's CA files [`load_cafile`] is loading.
#[derive(Clone, Copy, PartialEq, Eq)]
enum CafileRole {
    /// `cafile`: strict or not as the row says ([`Runtime::cafile_strict`]).
    Main,
    /// One of `extra_cafiles`: loaded with `load_verify_locations` on top of the others,
    /// so a file that is missing or yields no certificate raises (OpenSSL's "no certificate
    /// or crl found", requests' "Could not find a suitable TLS CA certificate bundle") even
    /// though the other sources would do.
    Extra,
}

/// Loads one CA file of `rt` into `trusted`, or says why it adds nothing.
fn load_cafile(
    rt: &Runtime,
    cafile: &Path,
    role: CafileRole,
    cache: &mut Cache,
    problems: &mut Vec<Problem>,
    trusted: &mut Vec<Certificate>,
) {
    let shown = cafile.display().to_string();
    let extra = role == CafileRole::Extra;
    let unusable = |code, what: crate::i18n::Msg| {
        if extra {
            problem(
                code,
                Severity::Broken,
                msg!("problem-extra-cafile-unusable", path = &shown, what = what),
            )
        } else {
            path_problem(rt, code, &shown, msg!("noun-cafile", path = &shown), what)
        }
    };
    match cache.file(cafile) {
        FileState::Loaded(f) => {
            if let Some(why) = &f.rejected_by_openssl {
                // OpenSSL's rule: the file counts as a whole or not at all.
                let what = msg!("what-unloadable", why = why, count = f.certificates.len());
                if (extra || rt.cafile_strict) && !rt.kind.is_variable() {
                    problems.push(problem(
                        "bundle-unloadable",
                        Severity::Broken,
                        msg!("problem-cafile-unloadable", path = &shown, what = what),
                    ));
                } else {
                    problems.push(unusable("bundle-unloadable", what));
                }
            } else if f.certificates.is_empty() {
                let what = match f.bad_entries.first() {
                    None => msg!("what-no-certificates"),
                    Some(first) => msg!("what-no-readable-certificate", first = first),
                };
                problems.push(unusable("bundle-unparsable", what));
            } else {
                if !f.bad_entries.is_empty() {
                    problems.push(problem(
                        "bundle-bad-entries",
                        Severity::Info,
                        msg!(
                            "problem-bad-entries-skipped",
                            count = f.bad_entries.len(),
                            path = &shown,
                            first = &f.bad_entries[0]
                        ),
                    ));
                }
                trusted.extend(f.certificates.iter().cloned());
            }
        }
        FileState::Missing => problems.push(unusable("cafile-missing", msg!("what-missing"))),
        FileState::NotAFile => problems.push(unusable("cafile-missing", msg!("what-not-a-file"))),
        FileState::Unreadable(e) => problems.push(unusable(
            "cafile-unreadable",
            msg!("what-unreadable", error = e.to_string()),
        )),
    }
}

/// A path a runtime reads is unusable. For a trust variable that is the variable's fault
/// (`env-var-broken`, broken); for a runtime it explains a verdict that the trust set
/// decides (a missing CA file is harmless when the directory holds every CA).
/// `noun` is the path `shown` with what it is ("CA file /x"), `what` what is wrong with it.
fn path_problem(
    rt: &Runtime,
    code: &'static str,
    shown: &str,
    noun: crate::i18n::Msg,
    what: crate::i18n::Msg,
) -> Problem {
    if rt.kind.is_variable() {
        problem(
            "env-var-broken",
            Severity::Broken,
            msg!(
                "problem-env-var-broken",
                variable = &rt.label,
                path = shown,
                what = what,
                affects = rt.affects.join("; ")
            ),
        )
    } else {
        problem(
            code,
            Severity::Info,
            msg!("problem-path", noun = noun, what = what),
        )
    }
}

/// Where a runtime reads its CAs, as one phrase ("/a.pem and /b/").
fn describe_sources(rt: &Runtime) -> crate::i18n::Msg {
    let mut parts: Vec<crate::i18n::Msg> = Vec::new();
    if !rt.builtin.is_empty() {
        parts.push(msg!(
            "sources-builtin",
            from = &rt.builtin_from,
            count = rt.builtin.len()
        ));
    }
    let path = |p: String| msg!("sources-path", path = p);
    if let Some(f) = &rt.cafile {
        parts.push(path(f.display().to_string()));
    }
    parts.extend(
        rt.extra_cafiles
            .iter()
            .map(|f| path(f.display().to_string())),
    );
    parts.extend(rt.capath.iter().map(|d| path(format!("{}/", d.display()))));
    // "A and B and C", each "and" the language's own.
    let mut parts = parts.into_iter().rev();
    match parts.next() {
        None => msg!("sources-none"),
        Some(last) => parts.fold(last, |rest, first| {
            msg!("sources-and", first = first, rest = rest)
        }),
    }
}

fn compare(
    rt: &Runtime,
    trusted: &[Certificate],
    os: &OsStore,
    problems: &mut Vec<Problem>,
    missing: &mut Vec<Certificate>,
    distrusted_trusted: &mut Vec<Certificate>,
    not_in_os: &mut Vec<Certificate>,
) {
    // Compare by anchor (subject + key): a re-issued copy of a root is the same anchor.
    let here: HashSet<[u8; 32]> = trusted.iter().map(Certificate::anchor_key).collect();
    let os_anchors: HashMap<[u8; 32], &Certificate> =
        os.trusted.iter().map(|c| (c.anchor_key(), c)).collect();
    let distrusted: HashSet<[u8; 32]> = os.distrusted.iter().map(Certificate::anchor_key).collect();

    if rt.replaces_defaults {
        let mut lacking: Vec<Certificate> = os
            .trusted
            .iter()
            .filter(|c| !here.contains(&c.anchor_key()))
            .filter(|c| c.rejected_as_ca(rt.x509_strict).is_none())
            .cloned()
            .collect();
        lacking.sort_by_key(|c| !os.is_locally_added(c));
        if !lacking.is_empty() {
            let local: Vec<Certificate> = lacking
                .iter()
                .filter(|c| os.is_locally_added(c))
                .cloned()
                .collect();
            let sources = describe_sources(rt);
            problems.push(problem(
                "os-cas-missing",
                Severity::Drift,
                msg!(
                    "problem-os-cas-missing",
                    count = lacking.len(),
                    total = os.trusted.len(),
                    local = local.len(),
                    names = name_some(&local, 3),
                    sources = sources
                ),
            ));
            *missing = lacking;
        }
    }
    // CAs compiled into the runtime (node's list) are not a bundle's leftovers: no file
    // holds them and no fix removes them, so they are said, not counted as drift.
    let compiled: HashSet<[u8; 32]> = rt.builtin.iter().map(Certificate::anchor_key).collect();
    let mut compiled_extra: Vec<Certificate> = Vec::new();
    for c in trusted {
        let k = c.anchor_key();
        if distrusted.contains(&k) {
            distrusted_trusted.push(c.clone());
        } else if !os_anchors.contains_key(&k) && c.is_ca {
            if compiled.contains(&k) {
                compiled_extra.push(c.clone());
            } else {
                not_in_os.push(c.clone());
            }
        }
    }
    if !compiled_extra.is_empty() && os.is_complete_list() {
        problems.push(problem(
            "compiled-cas-not-in-os-store",
            Severity::Info,
            msg!(
                "problem-compiled-cas-not-in-os-store",
                from = &rt.builtin_from,
                count = compiled_extra.len(),
                names = name_some(&compiled_extra, 3)
            ),
        ));
    }
    if !distrusted_trusted.is_empty() {
        problems.push(problem(
            "distrusted-ca-trusted",
            Severity::Drift,
            msg!(
                "problem-distrusted-ca-trusted",
                count = distrusted_trusted.len(),
                names = name_some(distrusted_trusted, 3)
            ),
        ));
    }
    if !not_in_os.is_empty() && os.is_complete_list() {
        problems.push(problem(
            "ca-not-in-os-store",
            Severity::Drift,
            msg!(
                "problem-ca-not-in-os-store",
                count = not_in_os.len(),
                names = name_some(not_in_os, 3)
            ),
        ));
    }
    let now = unix_now();
    let expired: Vec<Certificate> = trusted
        .iter()
        .filter(|c| c.is_expired_at(now))
        .cloned()
        .collect();
    if !expired.is_empty() {
        problems.push(problem(
            "expired-cas",
            Severity::Info,
            msg!(
                "problem-expired-cas",
                count = expired.len(),
                names = name_some(&expired, 3)
            ),
        ));
    }
}
