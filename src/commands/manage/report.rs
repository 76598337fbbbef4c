//! What `add` and `remove` report: the `--json` document (schema [`super::SCHEMA_VERSION`])
//! and the same facts for a person.

use super::*;

/// The `--json` document of `add` and `remove`.
#[derive(Debug, Clone, Serialize)]
pub struct ManageReport {
    pub schema_version: u32,
    /// `add` or `remove`.
    pub command: &'static str,
    /// The file or fingerprint as given.
    pub input: String,
    pub outcome: Outcome,
    pub certificates: Vec<CertResult>,
    /// The distro's update command, when one ran (Linux).
    pub update: Option<UpdateReport>,
    pub notes: Vec<String>,
    pub error: Option<ErrorReport>,
    /// What the user should run next, if anything.
    pub next_step: Option<String>,
    pub exit_code: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Added,
    AlreadyTrusted,
    Removed,
    /// `remove`: the store does not trust this fingerprint at all; nothing to do.
    NotPresent,
    Refused,
    Failed,
}

#[derive(Debug, Clone, Serialize)]
pub struct CertResult {
    #[serde(flatten)]
    pub cert: CertSummary,
    pub is_ca: bool,
    /// `added`, `already-trusted`, `already-in-place`, `removed` or `not-ours`.
    pub result: &'static str,
    /// Anchor file or store it is in (or was removed from).
    pub location: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UpdateReport {
    pub command: Vec<String>,
    pub output: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ErrorReport {
    pub code: &'static str,
    pub message: String,
}

/// The next step after a change: the runtimes with bundles of their own do not see it yet.
/// (Always this one: `render_human` shows it in the run's language, the JSON in English.)
fn next_step() -> crate::i18n::Msg {
    if cfg!(windows) {
        msg!("manage-next-step-windows")
    } else {
        msg!("manage-next-step")
    }
}

impl ManageReport {
    pub(super) fn new(command: &'static str, input: String) -> ManageReport {
        ManageReport {
            schema_version: SCHEMA_VERSION,
            command,
            input,
            outcome: Outcome::Failed,
            certificates: Vec::new(),
            update: None,
            notes: Vec::new(),
            error: None,
            next_step: None,
            exit_code: 1,
        }
    }

    pub(super) fn fail(mut self, e: ManageError) -> ManageReport {
        self.outcome = if e.is_refusal() {
            Outcome::Refused
        } else {
            Outcome::Failed
        };
        // A fingerprint that is not one is a usage error (README: 2), like a bad flag.
        self.exit_code = if matches!(e, ManageError::BadFingerprint { .. }) {
            2
        } else {
            1
        };
        self.error = Some(ErrorReport {
            code: e.code(),
            message: e.to_string(),
        });
        self
    }

    pub(super) fn done(mut self, outcome: Outcome) -> ManageReport {
        self.outcome = outcome;
        self.exit_code = 0;
        if matches!(outcome, Outcome::Added | Outcome::Removed) {
            self.next_step = Some(next_step().en());
        }
        self
    }

    /// Whether the store changed.
    pub fn changed(&self) -> bool {
        matches!(self.outcome, Outcome::Added | Outcome::Removed)
    }

    /// The human rendering (stdout part; the error goes to stderr via the printer). Subjects,
    /// paths and what the update command said are shown escaped ([`crate::term::escape`]).
    pub fn render_human(&self) -> String {
        use crate::term::escape;
        let mut out = String::new();
        for c in &self.certificates {
            let short = &c.cert.sha256[..16];
            let at = match c.location.as_deref() {
                Some(l) => escape(l).into_owned(),
                None => t!("manage-the-os-store"),
            };
            let subject = escape(&c.cert.subject);
            let line = match c.result {
                "added" => msg!("manage-added"),
                "already-in-place" => msg!("manage-present"),
                "removed" => msg!("manage-removed"),
                "not-ours" => msg!("manage-kept"),
                _ => msg!("manage-already-trusted"),
            };
            out.push_str(
                &line
                    .arg("subject", subject)
                    .arg("short", short)
                    .arg("at", at)
                    .text(),
            );
            out.push('\n');
        }
        if let Some(u) = &self.update {
            // Debian's summary line if there is one, else the command's last words.
            let said = u
                .output
                .lines()
                .find(|l| l.contains(" added, "))
                .or_else(|| u.output.lines().last())
                .unwrap_or("")
                .trim();
            out.push_str(&t!(
                "manage-ran",
                command = escape(&u.command.join(" ")),
                has_said = if said.is_empty() { "no" } else { "yes" },
                said = escape(said)
            ));
            out.push('\n');
        }
        if self.outcome == Outcome::NotPresent {
            out.push_str(&t!("manage-not-present", sha256 = escape(&self.input)));
            out.push('\n');
        }
        for n in &self.notes {
            out.push_str(&t!("note-line", note = escape(n)));
            out.push('\n');
        }
        if self.next_step.is_some() {
            out.push_str(&t!("manage-next", step = next_step().text()));
            out.push('\n');
        }
        if self.outcome == Outcome::Added {
            let fps: Vec<&str> = self
                .certificates
                .iter()
                .filter(|c| c.result != "already-trusted")
                .map(|c| c.cert.sha256.as_str())
                .collect();
            for fp in fps {
                let sudo = if cfg!(windows) { "" } else { "sudo " };
                out.push_str(&t!("manage-take-out", sudo = sudo, sha256 = fp));
                out.push('\n');
            }
        }
        out
    }
}

pub(super) fn summary(
    c: &Certificate,
    result: &'static str,
    location: Option<String>,
) -> CertResult {
    CertResult {
        cert: CertSummary::from(c),
        is_ca: c.is_ca,
        result,
        location,
    }
}
