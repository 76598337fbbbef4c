//! The `--json` documents: dedicated `Serialize` structs, so the schema is a deliberate,
//! documented thing (README.md "JSON output" for `status`, "`fix --json`" for `fix`,
//! "`trustsync list`" for `list`) and
//! not whatever the internals look like. Fields are only ever added; `tests/json_schema.rs`
//! fails if a documented one goes away.

use crate::apply::RuntimeFix;
use crate::commands::status::Status;
use crate::diagnose::{Diagnosis, Problem, Verdict};
use crate::model::cert::CertSummary;
use serde::Serialize;

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Serialize)]
pub struct StatusReport {
    pub schema_version: u32,
    pub system: SystemReport,
    pub runtimes: Vec<RuntimeReport>,
    pub summary: Summary,
    /// Where discovery looked: whose homes, and each bounded walk.
    pub looked: crate::commands::status::Looked,
}

#[derive(Debug, Serialize)]
pub struct SystemReport {
    pub flavor: String,
    /// Number of CAs the OS trusts.
    pub certificates: usize,
    pub sources: Vec<String>,
    pub bundle: Option<String>,
    pub directory: Option<String>,
    pub locally_added: Vec<CertSummary>,
    pub distrusted: Vec<CertSummary>,
    /// Trusted CAs that have expired (harmless, but a sign of an old store; seed S5).
    pub expired: Vec<CertSummary>,
    /// Serialized as their English text.
    pub warnings: Vec<crate::i18n::Said>,
    /// Present when a newer certifi on the machine trusts roots the OS store lacks.
    pub behind_reference: Option<crate::commands::reference::ReferenceGap>,
}

#[derive(Debug, Serialize)]
pub struct RuntimeReport {
    pub kind: &'static str,
    pub label: String,
    pub path: String,
    pub version: Option<String>,
    pub cafile: Option<String>,
    pub capath: Vec<String>,
    /// CA files loaded on top of `cafile` and `capath` (pip 24.2+: its certifi, `cert`).
    pub extra_cafiles: Vec<String>,
    /// Number of CAs this runtime trusts.
    pub trusted: usize,
    pub verdict: Verdict,
    /// SHA-256 fingerprints (hex) of OS CAs this runtime lacks, locally added first.
    pub missing: Vec<String>,
    pub missing_locally_added: Vec<CertSummary>,
    pub problems: Vec<Problem>,
    pub overridden_by: Vec<String>,
    /// For `env-var` rows: which runtimes read the variable.
    pub affects: Vec<String>,
    /// The account owning the runtime (interpreters), `null` when not known.
    pub owner: Option<String>,
    /// The row is a trust variable (not in the JSON: `kind` says it for scripts).
    #[serde(skip)]
    pub is_variable: bool,
    /// What the default `fix` would do for this row, when it was planned (human output):
    /// the hint under the row follows it, so it never says "run fix" where fix would
    /// answer "Nothing to do".
    #[serde(skip)]
    pub fix_outlook: Option<FixOutlook>,
}

/// What the default `fix` plan does for one runtime.
#[derive(Debug, Clone, Default)]
pub struct FixOutlook {
    /// The plan has actions that serve it.
    pub changes: bool,
    /// What the plan leaves to the user about it, in words.
    pub advice: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Summary {
    pub ok: usize,
    pub drift: usize,
    pub broken: usize,
    pub exit_code: i32,
}

impl RuntimeReport {
    /// The label a person reads: with the owner when it is not root.
    pub fn shown_label(&self) -> String {
        match self.owner.as_deref() {
            Some(o) if o != "root" => format!("{} [{o}]", self.label),
            _ => self.label.clone(),
        }
    }

    pub fn from_diagnosis(d: &Diagnosis, os: &crate::model::system::OsStore) -> RuntimeReport {
        let rt = &d.runtime;
        RuntimeReport {
            kind: rt.kind.as_str(),
            label: rt.label.clone(),
            path: rt.path.display().to_string(),
            version: rt.version.clone(),
            cafile: rt.cafile.as_ref().map(|p| p.display().to_string()),
            capath: rt.capath.iter().map(|p| p.display().to_string()).collect(),
            extra_cafiles: rt
                .extra_cafiles
                .iter()
                .map(|p| p.display().to_string())
                .collect(),
            trusted: d.trusted.len(),
            verdict: d.verdict,
            missing: d.missing.iter().map(|c| c.fingerprint()).collect(),
            missing_locally_added: d
                .missing
                .iter()
                .filter(|c| os.is_locally_added(c))
                .map(CertSummary::from)
                .collect(),
            problems: d.problems.clone(),
            overridden_by: rt.overridden_by.clone(),
            affects: rt.affects.clone(),
            owner: rt.owner.clone(),
            is_variable: rt.kind.is_variable(),
            fix_outlook: None,
        }
    }
}

impl StatusReport {
    pub fn new(s: &Status) -> StatusReport {
        let os = &s.os;
        let count = |v: Verdict| s.diagnoses.iter().filter(|d| d.verdict == v).count();
        let now = crate::model::cert::unix_now();
        StatusReport {
            schema_version: SCHEMA_VERSION,
            system: SystemReport {
                flavor: os.flavor.clone(),
                certificates: os.trusted.len(),
                sources: os.sources.clone(),
                bundle: os.bundle.as_ref().map(|p| p.display().to_string()),
                directory: os.directory.as_ref().map(|p| p.display().to_string()),
                locally_added: os
                    .trusted
                    .iter()
                    .filter(|c| os.is_locally_added(c))
                    .map(CertSummary::from)
                    .collect(),
                distrusted: os.distrusted.iter().map(CertSummary::from).collect(),
                expired: os
                    .trusted
                    .iter()
                    .filter(|c| c.is_expired_at(now))
                    .map(CertSummary::from)
                    .collect(),
                warnings: os.warnings.clone(),
                behind_reference: s.reference_gap.clone(),
            },
            runtimes: s
                .diagnoses
                .iter()
                .map(|d| RuntimeReport::from_diagnosis(d, os))
                .collect(),
            summary: Summary {
                ok: count(Verdict::Ok),
                drift: count(Verdict::Drift),
                broken: count(Verdict::Broken),
                exit_code: s.exit_code(),
            },
            looked: s.looked.clone(),
        }
    }
}

/// Which run a `fix --json` document describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FixRun {
    /// `--dry-run` (or the plan shown before asking): nothing was written.
    DryRun,
    /// A real run that completed (possibly with nothing to do).
    Applied,
    /// A real run that stopped with an error; the engine rolled back what it wrote.
    Failed,
}

/// How one runtime came out of a `fix` run: the provisioning contract's per-runtime word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FixOutcome {
    /// Actions serving it were applied.
    Changed,
    /// Nothing needed doing for it (in sync, or what serves it is already in place).
    Unchanged,
    /// Dry run: actions serving it are planned.
    WouldChange,
    /// trustsync will not change it itself; `advice` says what to do.
    Advice,
    /// Actions serving it were planned, and the run failed (rolled back).
    Failed,
}

/// One runtime in the `fix --json` document (README "`fix --json`").
#[derive(Debug, Serialize)]
pub struct FixRuntimeReport {
    pub label: String,
    pub kind: &'static str,
    /// As `status --json`'s `runtimes[].path`.
    pub path: String,
    /// `status`'s verdict before the fix.
    pub verdict_before: Verdict,
    pub outcome: FixOutcome,
    /// Targets of the actions serving it (shared ones, like the managed bundle, included).
    pub actions: Vec<String>,
    /// Codes of the advice about it.
    pub advice: Vec<&'static str>,
}

impl FixRuntimeReport {
    pub fn new(r: &RuntimeFix, run: FixRun) -> FixRuntimeReport {
        let outcome = match (r.targets.is_empty(), run) {
            (false, FixRun::DryRun) => FixOutcome::WouldChange,
            (false, FixRun::Applied) => FixOutcome::Changed,
            (false, FixRun::Failed) => FixOutcome::Failed,
            (true, _) if !r.advice.is_empty() => FixOutcome::Advice,
            (true, _) => FixOutcome::Unchanged,
        };
        FixRuntimeReport {
            label: r.label.clone(),
            kind: r.kind,
            path: r.path.clone(),
            verdict_before: r.verdict_before,
            outcome,
            actions: r.targets.clone(),
            advice: r.advice.clone(),
        }
    }
}

/// The `fix --json` document, for the POSIX and the Windows engine alike: the plan's own
/// fields flattened in (`actions`, `advice`; `scope` on Windows) and, for a real run, what
/// was applied, so every field earlier versions printed stays where it was.
#[derive(Debug, Serialize)]
pub struct FixReport<'a, P: Serialize, A: Serialize> {
    pub schema_version: u32,
    pub dry_run: bool,
    /// A real run applied at least one action.
    pub changed: bool,
    #[serde(flatten)]
    pub plan: &'a P,
    /// Real runs only (empty when there was nothing to do or the run failed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub applied: Option<&'a A>,
    pub runtimes: Vec<FixRuntimeReport>,
    /// Failed runs only: the one-line error, as on stderr.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl<'a, P: Serialize, A: Serialize> FixReport<'a, P, A> {
    /// `applied_count` is how many actions the run applied (0 for dry and failed runs).
    pub fn new(
        plan: &'a P,
        runtimes: &[RuntimeFix],
        run: FixRun,
        applied: Option<&'a A>,
        applied_count: usize,
    ) -> Self {
        FixReport {
            schema_version: SCHEMA_VERSION,
            dry_run: run == FixRun::DryRun,
            changed: run == FixRun::Applied && applied_count > 0,
            plan,
            applied,
            runtimes: runtimes
                .iter()
                .map(|r| FixRuntimeReport::new(r, run))
                .collect(),
            error: None,
        }
    }
}

/// The `list --json` document (README "`trustsync list`").
#[derive(Debug, Serialize)]
pub struct ListReport {
    pub schema_version: u32,
    /// As `status --json`'s `system.flavor`, `system.bundle`, `system.sources`.
    pub flavor: String,
    pub bundle: Option<String>,
    pub sources: Vec<String>,
    /// CAs in the store (trusted and distrusted), before filtering.
    pub total: usize,
    pub certificates: Vec<ListedCa>,
    /// 0 something listed, 1 the filter matched nothing.
    pub exit_code: i32,
}

/// One CA in `list --json`.
#[derive(Debug, Serialize)]
pub struct ListedCa {
    pub sha256: String,
    pub subject: String,
    /// CN, else O, else the subject: what the human list shows.
    pub name: String,
    /// Unix seconds, and the same instant as RFC 3339 UTC.
    pub not_after: i64,
    pub not_after_rfc3339: String,
    pub locally_added: bool,
    pub distrusted: bool,
    pub expired: bool,
}

impl ListReport {
    pub fn new(
        os: &crate::model::system::OsStore,
        listed: &[crate::commands::list::Listed<'_>],
    ) -> ListReport {
        ListReport {
            schema_version: SCHEMA_VERSION,
            flavor: os.flavor.clone(),
            bundle: os.bundle.as_ref().map(|p| p.display().to_string()),
            sources: os.sources.clone(),
            total: os.trusted.len() + os.distrusted.len(),
            certificates: listed
                .iter()
                .map(|l| {
                    let summary = CertSummary::from(l.cert);
                    ListedCa {
                        sha256: summary.sha256,
                        subject: l.cert.subject.clone(),
                        name: summary.subject,
                        not_after: summary.not_after,
                        not_after_rfc3339: summary.not_after_rfc3339,
                        locally_added: l.locally_added,
                        distrusted: l.distrusted,
                        expired: l.expired,
                    }
                })
                .collect(),
            exit_code: crate::commands::list::exit_code(listed),
        }
    }
}
