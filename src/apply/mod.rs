//! Plans and their executors, per OS: [`posix`] (files, hashed directories, marked blocks;
//! unix only) and [`windows`] (trustsync's bundle plus registry variables; compiled and
//! unit-tested everywhere). Both apply a plan made as data, journal it so `undo` restores
//! the exact previous bytes, and hold a lock so two runs cannot interleave.
//!
//! This file holds what both plan models share and what does not depend on how an OS
//! stores files or settings: the variables the env strategy sets, the managed bundle's
//! text, the advice type and the per-runtime record of what a plan does ([`RuntimeFix`]).
//! One copy, compiled on every OS, is what makes the POSIX and Windows fixes agree.

#[cfg(unix)]
pub mod posix;
pub mod windows;

use crate::diagnose::{Diagnosis, Verdict};
use crate::model::system::OsStore;
use serde::Serialize;

/// Variables the env strategy sets (each only where not set already).
pub const MANAGED_VARS: &[&str] = &[
    "SSL_CERT_FILE",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "PIP_CERT",
    "NODE_EXTRA_CA_CERTS",
    "AWS_CA_BUNDLE",
    "GIT_SSL_CAINFO",
    "HTTPLIB2_CA_CERTS",
    "GRPC_DEFAULT_SSL_ROOTS_FILE_PATH",
];

/// Something trustsync will not change itself, and what the user should do.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Advice {
    pub runtime: String,
    pub code: &'static str,
    /// In English (`--json` is never translated).
    pub message: String,
    /// The catalogue message of `message`, for human output (`None`: in words).
    #[serde(skip)]
    pub msg: Option<crate::i18n::Msg>,
}

impl Advice {
    /// Advice about one diagnosed runtime (`requests python3 (/usr)`), in words (English
    /// only: not yet in the catalogue).
    pub fn for_runtime(d: &Diagnosis, code: &'static str, message: String) -> Advice {
        Advice {
            runtime: format!("{} {}", d.runtime.kind.as_str(), d.runtime.label),
            code,
            message,
            msg: None,
        }
    }

    /// [`Advice::for_runtime`] with a catalogue message.
    pub fn said(d: &Diagnosis, code: &'static str, msg: crate::i18n::Msg) -> Advice {
        Advice::about(
            &format!("{} {}", d.runtime.kind.as_str(), d.runtime.label),
            code,
            msg,
        )
    }

    /// Advice about something that is not one runtime (`login shells`, `sudo`).
    pub fn about(runtime: &str, code: &'static str, msg: crate::i18n::Msg) -> Advice {
        Advice {
            runtime: runtime.to_string(),
            code,
            message: msg.en(),
            msg: Some(msg),
        }
    }

    /// The advice in the run's language.
    pub fn text(&self) -> String {
        crate::i18n::shown(self.msg.as_ref(), &self.message)
    }
}

/// What one fix plan does for one runtime `status` looked at. Recorded by the planner while
/// it plans, because only it knows which action serves whom: several runtimes share one
/// managed bundle or one hashed directory, planned once. `fix --json` reports it per runtime
/// (the provisioning contract, README "`fix --json`").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeFix {
    pub kind: &'static str,
    pub label: String,
    /// As `status --json` shows it (`runtimes[].path`), so the two documents join on it.
    pub path: String,
    /// The verdict `status` gave before the fix.
    pub verdict_before: Verdict,
    /// Targets of this plan's actions that serve this runtime, in plan order, each once
    /// (as `actions[].target` shows them).
    pub targets: Vec<String>,
    /// Codes of the advice about this runtime: what trustsync leaves to the user.
    pub advice: Vec<&'static str>,
}

impl RuntimeFix {
    pub fn new(d: &Diagnosis) -> RuntimeFix {
        RuntimeFix {
            kind: d.runtime.kind.as_str(),
            label: d.runtime.label.clone(),
            path: d.runtime.path.display().to_string(),
            verdict_before: d.verdict,
            targets: Vec::new(),
            advice: Vec::new(),
        }
    }

    /// Records that an action on `target` serves this runtime.
    pub fn serve(&mut self, target: &str) {
        if !self.targets.iter().any(|t| t == target) {
            self.targets.push(target.to_string());
        }
    }

    /// Records an advice code about this runtime.
    pub fn advise(&mut self, code: &'static str) {
        if !self.advice.contains(&code) {
            self.advice.push(code);
        }
    }

    /// Keeps only the targets the final plan still acts on (a satisfied action is dropped
    /// from the plan, so it serves no one), in the plan's order.
    pub fn keep_planned<'a>(&mut self, plan_targets: impl IntoIterator<Item = &'a str>) {
        let mine = std::mem::take(&mut self.targets);
        for t in plan_targets {
            if mine.iter().any(|m| m == t) {
                self.serve(t);
            }
        }
    }
}

/// Adds `advice` unless the same advice is already there (several runtimes often share
/// one cause).
pub fn push_advice(list: &mut Vec<Advice>, advice: Advice) {
    if !list.contains(&advice) {
        list.push(advice);
    }
}

/// `botocore/cacert.pem (/prefix)` → `botocore` (`botocore\cacert.pem (C:\…)` on Windows).
pub fn package_of(label: &str) -> Option<&str> {
    label.split(['/', '\\']).next()
}

/// The variable a runtime takes from the env strategy, if it has one (its family says
/// which: [`crate::model::runtime::Runtime::managed_var`]).
pub fn managed_var_for(d: &Diagnosis) -> Option<&'static str> {
    d.runtime.managed_var
}

/// The managed bundle: a header, then each OS CA with its name and fingerprint. No
/// timestamp, so an unchanged store gives identical bytes (a second fix plans nothing).
/// `sources` are the store's sources as the reader should see them; `elevate` is what a
/// user types before `trustsync` to run it with the rights `fix` needs (`sudo ` on POSIX,
/// nothing on Windows, where the prompt itself is elevated).
pub fn managed_bundle(os: &OsStore, sources: &[String], elevate: &str) -> String {
    let mut out = format!(
        "# Generated by trustsync from the OS trust store ({}).\n# Do not edit: `{elevate}trustsync fix` rewrites it, `{elevate}trustsync undo` removes it.\n# {} CAs.\n",
        sources.join(", "),
        os.trusted.len()
    );
    for c in &os.trusted {
        out.push_str(&format!(
            "\n# {}\n# SHA-256: {}\n{}",
            c.display_name(),
            c.fingerprint(),
            c.to_pem()
        ));
    }
    out
}

/// Text for a plan shown to a person: the one terminal escaping function
/// ([`crate::term::escape`]) under the name both plan renderers (POSIX and Windows) use, so
/// a file name with a newline or an escape sequence cannot forge lines of the plan.
pub use crate::term::escape as printable;

/// Test helpers shared by the unit tests of both fix engines (POSIX [`crate::commands::fix::posix`] and
/// [`crate::apply::windows`]): a generated CA and an OS store holding given CAs.
#[cfg(test)]
pub(crate) mod test_support {
    use crate::model::cert::Certificate;
    use crate::model::system::OsStore;

    /// A self-signed CA named `cn`, valid 2001–2049.
    pub fn ca(cn: &str) -> Certificate {
        let mut params = rcgen::CertificateParams::new(vec![]).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, cn);
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.not_before = rcgen::date_time_ymd(2001, 1, 1);
        params.not_after = rcgen::date_time_ymd(2049, 1, 1);
        let key = rcgen::KeyPair::generate().unwrap();
        let der = params.self_signed(&key).unwrap().der().to_vec();
        Certificate::from_der(&der).unwrap()
    }

    /// An OS store of `flavor` read from `source`, trusting `certs` (none added locally).
    pub fn os_store(flavor: &str, source: &str, certs: &[Certificate]) -> OsStore {
        OsStore {
            flavor: flavor.into(),
            trusted: certs.to_vec(),
            locally_added: Default::default(),
            distrusted: Vec::new(),
            sources: vec![source.into()],
            bundle: None,
            directory: None,
            update_command: None,
            warnings: Vec::new(),
        }
    }
}
