//! The diff: what each runtime really trusts, compared with the OS store, as a verdict and
//! problems with stable codes and plain messages.
//!
//! The trust set is computed as the runtime's TLS library computes it: the CA file's
//! certificates plus those a hashed directory yields under matching `HASH.N` names. Every
//! problem code here is documented in README.md ("Problem codes"); renaming one breaks
//! provisioning scripts, so codes only ever get added.

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
    pub message: String,
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
                format!(
                    "trusts {} CAs the OS store does not and no newer bundle here holds (roots removed from Mozilla's list but kept by an old bundle): {}",
                    self.not_in_os.len(),
                    name_some(&self.not_in_os, 3)
                ),
            ));
        }
        self.problems.push(problem(
            "ca-newer-than-os-store",
            Severity::Info,
            format!(
                "also trusts {} roots newer than the OS store ({source} has them too): {}; the store is behind, not this runtime",
                recent.len(),
                name_some(&recent, 3)
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

fn problem(code: &'static str, severity: Severity, message: String) -> Problem {
    Problem {
        code,
        severity,
        message,
    }
}

/// Lists up to `n` certificates by name for a message.
fn name_some(certs: &[Certificate], n: usize) -> String {
    let mut names: Vec<String> = certs.iter().take(n).map(|c| c.display_name()).collect();
    if certs.len() > n {
        names.push(format!("and {} more", certs.len() - n));
    }
    names.join(", ")
}

/// Computes the trust set and judges one runtime against `os`.
pub fn diagnose(rt: Runtime, os: &OsStore, cache: &mut Cache) -> Diagnosis {
    let mut problems: Vec<Problem> = rt
        .notes
        .iter()
        .map(|n| {
            problem(
                n.code,
                if n.fatal {
                    Severity::Broken
                } else {
                    Severity::Info
                },
                n.message.clone(),
            )
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
        let unusable =
            |code, what: String| path_problem(&rt, code, "certificate directory", &shown, what);
        match cache.dir(dir) {
            DirState::Loaded(d) => {
                if d.entries == 0 {
                    problems.push(problem(
                        "capath-empty",
                        Severity::Info,
                        format!("certificate directory {shown} is empty"),
                    ));
                } else if d.hash_named == 0 {
                    problems.push(problem(
                        "capath-no-hash-links",
                        Severity::Info,
                        format!("certificate directory {shown} has {} files but no HASH.N names, so OpenSSL finds none of them", d.entries),
                    ));
                }
                for e in d.bad_entries.iter().take(3) {
                    problems.push(problem("bundle-bad-entries", Severity::Info, e.clone()));
                }
                trusted.extend(d.certificates.iter().cloned());
                if rt.capath_store_lookup {
                    trusted.extend(d.store_certificates.iter().cloned());
                }
            }
            DirState::Missing => problems.push(unusable("capath-missing", "does not exist".into())),
            DirState::NotADir => {
                problems.push(unusable("capath-missing", "is not a directory".into()))
            }
            DirState::Unreadable(e) => problems.push(unusable(
                "capath-unreadable",
                format!("cannot be read: {e}"),
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
        let how = if rt.x509_strict && c.rejected_as_ca(false).is_none() {
            "verifies with VERIFY_X509_STRICT and refuses"
        } else {
            "refuses"
        };
        problems.push(problem(
            "ca-refused",
            Severity::Drift,
            format!(
                "{how} the locally added CA '{}': {why}; the CA must be re-issued (trustsync cannot fix this)",
                c.display_name()
            ),
        ));
    }
    if !rt.overridden_by.is_empty() {
        let vars: Vec<String> = rt.overridden_by.iter().map(|v| format!("${v}")).collect();
        problems.push(problem(
            "env-override",
            Severity::Info,
            format!("{} decides where it looks", vars.join(", ")),
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
                format!("trusts no CA at all: {sources} yield nothing, so every TLS connection fails; the OS store has {} CAs it cannot see", os.trusted.len()),
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
    let unusable = |code, what: String| {
        if extra {
            problem(
                code,
                Severity::Broken,
                format!("CA file {shown} {what}; it is loaded on top of the other sources and loading it raises, so every TLS connection fails"),
            )
        } else {
            path_problem(rt, code, "CA file", &shown, what)
        }
    };
    match cache.file(cafile) {
        FileState::Loaded(f) => {
            if let Some(why) = &f.rejected_by_openssl {
                // OpenSSL's rule: the file counts as a whole or not at all.
                let what = format!(
                    "cannot be loaded by OpenSSL ({why}), so none of its {} certificates count",
                    f.certificates.len()
                );
                if (extra || rt.cafile_strict) && !rt.kind.is_variable() {
                    problems.push(problem(
                        "bundle-unloadable",
                        Severity::Broken,
                        format!("CA file {shown} {what}; loading it raises, so every TLS connection fails"),
                    ));
                } else {
                    problems.push(unusable("bundle-unloadable", what));
                }
            } else if f.certificates.is_empty() {
                let what = match f.bad_entries.first() {
                    None => "holds no certificates".to_string(),
                    Some(first) => format!("holds no readable certificate ({first})"),
                };
                problems.push(unusable("bundle-unparsable", what));
            } else {
                if !f.bad_entries.is_empty() {
                    problems.push(problem(
                        "bundle-bad-entries",
                        Severity::Info,
                        format!(
                            "{} unreadable entries skipped in {shown}: {}",
                            f.bad_entries.len(),
                            f.bad_entries[0]
                        ),
                    ));
                }
                trusted.extend(f.certificates.iter().cloned());
            }
        }
        FileState::Missing => problems.push(unusable("cafile-missing", "does not exist".into())),
        FileState::NotAFile => problems.push(unusable(
            "cafile-missing",
            "is a directory, not a file".into(),
        )),
        FileState::Unreadable(e) => problems.push(unusable(
            "cafile-unreadable",
            format!("cannot be read: {e}"),
        )),
    }
}

/// A path a runtime reads is unusable. For a trust variable that is the variable's fault
/// (`env-var-broken`, broken); for a runtime it explains a verdict that the trust set
/// decides (a missing CA file is harmless when the directory holds every CA).
fn path_problem(
    rt: &Runtime,
    code: &'static str,
    noun: &str,
    shown: &str,
    what: String,
) -> Problem {
    if rt.kind.is_variable() {
        problem(
            "env-var-broken",
            Severity::Broken,
            format!(
                "{} names {shown}, which {what}; it affects {}",
                rt.label,
                rt.affects.join("; ")
            ),
        )
    } else {
        problem(code, Severity::Info, format!("{noun} {shown} {what}"))
    }
}

fn describe_sources(rt: &Runtime) -> String {
    let mut parts = Vec::new();
    if !rt.builtin.is_empty() {
        parts.push(format!("{} ({} CAs)", rt.builtin_from, rt.builtin.len()));
    }
    if let Some(f) = &rt.cafile {
        parts.push(f.display().to_string());
    }
    parts.extend(rt.extra_cafiles.iter().map(|f| f.display().to_string()));
    parts.extend(rt.capath.iter().map(|d| format!("{}/", d.display())));
    if parts.is_empty() {
        "no CA file or directory is configured".into()
    } else {
        parts.join(" and ")
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
            let local_part = if local.is_empty() {
                String::new()
            } else {
                format!(
                    ", including {} added locally on this machine ({})",
                    local.len(),
                    name_some(&local, 3)
                )
            };
            let sources = describe_sources(rt);
            problems.push(problem(
                "os-cas-missing",
                Severity::Drift,
                format!(
                    "lacks {} of the OS store's {} CAs{local_part}; it reads {sources}",
                    lacking.len(),
                    os.trusted.len()
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
            format!(
                "{} has {} CAs the OS store does not (another Mozilla snapshot; they do not stop it trusting what the OS trusts): {}",
                rt.builtin_from,
                compiled_extra.len(),
                name_some(&compiled_extra, 3)
            ),
        ));
    }
    if !distrusted_trusted.is_empty() {
        problems.push(problem(
            "distrusted-ca-trusted",
            Severity::Drift,
            format!(
                "trusts {} CAs the OS distrusts: {}",
                distrusted_trusted.len(),
                name_some(distrusted_trusted, 3)
            ),
        ));
    }
    if !not_in_os.is_empty() && os.is_complete_list() {
        problems.push(problem(
            "ca-not-in-os-store",
            Severity::Drift,
            format!(
                "trusts {} CAs the OS store does not (roots removed from Mozilla's list but kept by an old bundle, or newer roots the OS store lacks yet): {}",
                not_in_os.len(),
                name_some(not_in_os, 3)
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
            format!(
                "holds {} expired CAs (harmless to keep, but a sign of a stale bundle): {}",
                expired.len(),
                name_some(&expired, 3)
            ),
        ));
    }
}
