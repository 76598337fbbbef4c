//! The Windows fix as data: from `status`'s diagnoses and plain facts about the machine
//! (the managed bundle's current bytes, the registry values of the managed variables in
//! both scopes, the process environment), the ordered list of changes and the advice for
//! what trustsync leaves alone.
//!
//! Why pure: every decision (which runtime needs the bundle, which variable may be set,
//! what to tell the user about a variable set elsewhere) is unit-tested here on any OS; the
//! Windows-only code only gathers [`Facts`] and performs the [`WinAction`]s.
//!
//! Rules (the POSIX env strategy's, with registry values in place of a profile snippet):
//! - a runtime that lacks OS CAs and reads one of [`MANAGED_VARS`] needs the managed bundle;
//!   once trustsync wrote it, the bundle follows the OS store on every fix;
//! - with the bundle, each managed variable is set in this scope's environment key, unless
//!   it is already set anywhere (this scope's key, the other scope's key, or the process
//!   environment) to something else: then it is the user's, and the advice says where it is
//!   set and what to change;
//! - an action whose target already has the wanted digest is dropped, so a second fix plans
//!   nothing (the bundle carries no timestamp, the variables' order is fixed).

use crate::apply::windows::plan::env_get;
use crate::apply::windows::{
    bytes_digest, value_digest, FileNow, Layout, RegValue, Scope, WinAction, WinActionKind,
    WinError, WinPlan,
};
use crate::apply::{managed_var_for, push_advice, Advice, RuntimeFix, MANAGED_VARS};
use crate::commands::status::Status;
use crate::diagnose::{Diagnosis, Verdict};
use std::collections::{BTreeMap, HashMap};

/// Everything the plan needs to know about the machine, gathered by the caller.
#[derive(Debug, Clone)]
pub struct Facts {
    pub layout: Layout,
    pub bundle_now: FileNow,
    /// Whether the journal records the managed bundle as trustsync's.
    pub bundle_managed: bool,
    /// This scope's environment key: the managed variables that are set there.
    pub registry: BTreeMap<String, RegValue>,
    /// The other scope's key (HKCU when working on HKLM, and the reverse).
    pub other_registry: BTreeMap<String, RegValue>,
    /// The environment this process (and so `status`) runs with.
    pub env: HashMap<String, String>,
}

impl Facts {
    /// Gathers the facts: the bundle's bytes, whether the journal (if any) records it as
    /// trustsync's, and the managed variables in `store`'s scope. Reads only.
    pub fn gather(
        layout: Layout,
        store: &dyn crate::apply::windows::EnvStore,
        other_registry: BTreeMap<String, RegValue>,
        env: HashMap<String, String>,
        state: &crate::apply::windows::StateDir,
    ) -> Result<Facts, WinError> {
        let mut registry = BTreeMap::new();
        for name in MANAGED_VARS {
            if let Some(v) = store.get(name)? {
                registry.insert(name.to_string(), v);
            }
        }
        let bundle_managed = state
            .load()?
            .entry(&crate::apply::windows::journal::Target::File {
                path: layout.bundle.clone(),
            })
            .is_some();
        Ok(Facts {
            bundle_now: FileNow::read(&layout.bundle)?,
            bundle_managed,
            layout,
            registry,
            other_registry,
            env,
        })
    }
}

/// What to do with one managed variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VarDecision {
    /// Not set anywhere: trustsync sets it.
    Set,
    /// Already points at the managed bundle in this scope's key.
    AlreadyOurs,
    /// Set to something else somewhere: the user's; `place` says where.
    SetElsewhere { place: String, value: String },
}

/// Where the process environment alone (no registry value) sets a variable.
const PROCESS_ONLY: &str =
    "this process's environment only, not the registry: a parent process, a script or a CI setting";

impl Facts {
    fn bundle_text(&self) -> String {
        self.layout.bundle.display().to_string()
    }

    /// Whether a variable's value names the managed bundle (paths compare case-insensitively
    /// on Windows).
    fn is_ours(&self, value: &str) -> bool {
        value.eq_ignore_ascii_case(&self.bundle_text())
    }

    /// Decides for one variable; see the module doc.
    pub fn decide_var(&self, name: &str) -> VarDecision {
        let text = |v: &RegValue| v.text().unwrap_or_else(|| format!("(type {})", v.kind));
        if let Some(v) = self.registry.get(name) {
            let value = text(v);
            return if v.kind == crate::apply::windows::REG_SZ && self.is_ours(&value) {
                VarDecision::AlreadyOurs
            } else {
                VarDecision::SetElsewhere {
                    place: self.layout.scope.key_name(),
                    value,
                }
            };
        }
        if let Some(v) = self.other_registry.get(name) {
            return VarDecision::SetElsewhere {
                place: self.layout.scope.other().key_name(),
                value: text(v),
            };
        }
        match env_get(&self.env, name) {
            // The value a stale process still carries after `undo`: set it again.
            Some(v) if !self.is_ours(v) => VarDecision::SetElsewhere {
                place: PROCESS_ONLY.to_string(),
                value: v.to_string(),
            },
            _ => VarDecision::Set,
        }
    }

    /// Where a variable the process sees as `value` is set, and the value as set there (the
    /// registry's unexpanded text when it comes from there).
    fn origin_of(&self, name: &str, value: &str) -> (String, String) {
        match self.decide_var(name) {
            VarDecision::SetElsewhere { place, value } => (place, value),
            // The registry holds the managed path, but something overrides it for this
            // process.
            _ => (PROCESS_ONLY.to_string(), value.to_string()),
        }
    }
}

fn set_elsewhere_advice(facts: &Facts, name: &str, place: &str, value: &str) -> Advice {
    let said = msg!(
        "advice-win-variable-set-elsewhere",
        variable = name,
        place = place,
        value = value,
        managed = if MANAGED_VARS.contains(&name) {
            "yes"
        } else {
            "no"
        },
        bundle = facts.bundle_text()
    );
    Advice::about(&format!("env-var ${name}"), "variable-set-elsewhere", said)
}

struct Builder<'a> {
    facts: &'a Facts,
    advice: Vec<Advice>,
    bundle_needed: bool,
    /// Per diagnosis (same order as `status.diagnoses`): what the plan does for it.
    runtimes: Vec<RuntimeFix>,
    /// Index into `runtimes` of the one being planned for.
    current: usize,
    /// Runtimes the managed bundle and its variables serve.
    bundle_serves: Vec<usize>,
}

impl Builder<'_> {
    /// Advice about the runtime being planned for.
    fn advise(&mut self, advice: Advice) {
        self.runtimes[self.current].advise(advice.code);
        push_advice(&mut self.advice, advice);
    }

    /// The runtime being planned for is fixed by the managed bundle and its variables.
    fn need_bundle(&mut self) {
        self.bundle_needed = true;
        self.bundle_serves.push(self.current);
    }

    fn has(d: &Diagnosis, code: &str) -> bool {
        d.problems.iter().any(|p| p.code == code)
    }

    fn runtime(&mut self, d: &Diagnosis) {
        let rt = &d.runtime;
        if Self::has(d, "not-executed")
            || Self::has(d, "probe-failed")
            || Self::has(d, "no-ssl-module")
        {
            let msg = d
                .problems
                .iter()
                .find(|p| p.severity == crate::diagnose::Severity::Broken)
                .map_or_else(|| "".into(), crate::diagnose::Problem::as_arg);
            self.advise(Advice::said(
                d,
                "cannot-see-runtime",
                msg!("advice-cannot-see-runtime", why = msg),
            ));
            return;
        }
        if Self::has(d, "verification-off") {
            self.advise(Advice::said(
                d,
                "verification-off",
                msg!("advice-win-curl-ca-bundle-empty"),
            ));
            return;
        }
        if rt.kind.is_variable() {
            let name = rt.label.trim_start_matches('$');
            match env_get(&self.facts.env, name) {
                Some(v) if self.facts.is_ours(v) => self.need_bundle(),
                value => {
                    let (place, value) = self.facts.origin_of(name, value.unwrap_or(""));
                    let a = set_elsewhere_advice(self.facts, name, &place, &value);
                    self.advise(a);
                }
            }
            return;
        }
        if let Some(origin) = &rt.configured_by {
            if !d.missing.is_empty() {
                self.advise(Advice::said(
                    d,
                    "config-set-elsewhere",
                    msg!("advice-win-config-set-elsewhere", origin = origin),
                ));
            }
            return;
        }
        let foreign: Vec<String> = rt
            .overridden_by
            .iter()
            .filter(|v| !env_get(&self.facts.env, v).is_some_and(|x| self.facts.is_ours(x)))
            .map(|v| format!("${v}"))
            .collect();
        if !foreign.is_empty() {
            self.advise(Advice::said(
                d,
                "variable-set-elsewhere",
                msg!("advice-variables-decide", variables = foreign.join(", ")),
            ));
            return;
        }
        if !rt.overridden_by.is_empty() {
            // It reads the managed bundle already: refreshing that is the whole fix.
            self.need_bundle();
            return;
        }
        if rt.kind == crate::runtimes::java::KIND && !d.missing.is_empty() {
            // JSSE reads the Windows store itself when asked: the one fix that follows it.
            let store = rt
                .bundle_path
                .as_deref()
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            self.advise(Advice::said(
                d,
                "java-store",
                msg!("advice-win-java-store", store = store),
            ));
            return;
        }
        if d.missing.is_empty() {
            // Only extra CAs: Windows fills ROOT lazily, so a public root the store lacks
            // is not drift to act on, and trustsync never removes trust it did not add.
            return;
        }
        match managed_var_for(d) {
            Some(_) => self.need_bundle(),
            None => self.advise(Advice::said(
                d,
                "no-variable",
                msg!("advice-win-no-variable"),
            )),
        }
    }
}

/// Builds the plan. Errors only when the OS store is empty (a bundle of nothing is never
/// written).
pub fn plan(status: &Status, facts: &Facts) -> Result<WinPlan, WinError> {
    let bundle_text = facts.bundle_text();
    if status.os.trusted.is_empty() {
        return Err(WinError::EmptyBundle {
            target: bundle_text,
        });
    }
    let mut b = Builder {
        facts,
        advice: Vec::new(),
        bundle_needed: false,
        runtimes: status.diagnoses.iter().map(RuntimeFix::new).collect(),
        current: 0,
        bundle_serves: Vec::new(),
    };
    for (index, d) in status.diagnoses.iter().enumerate() {
        if d.verdict != Verdict::Ok {
            b.current = index;
            b.runtime(d);
        }
    }
    let mut actions = Vec::new();
    if b.bundle_needed || facts.bundle_managed {
        let body = crate::apply::managed_bundle(&status.os, &status.os.sources, "").into_bytes();
        let why = if b.bundle_needed {
            crate::msg!("reason-managed-bundle")
        } else {
            crate::msg!("reason-managed-bundle-follows")
        };
        actions.push(WinAction {
            target: bundle_text.clone(),
            current_digest: facts.bundle_now.digest(),
            result_digest: bytes_digest(&body),
            kind: WinActionKind::WriteFile {
                path: facts.layout.bundle.clone(),
                certificates: status.os.trusted.len(),
                contents: body,
            },
            reason: why.en(),
            reason_msg: Some(why),
        });
        let scope = facts.layout.scope;
        let scope_word = match scope {
            Scope::Machine => "machine",
            Scope::User => "user",
        };
        for name in MANAGED_VARS {
            match facts.decide_var(name) {
                VarDecision::AlreadyOurs => {}
                VarDecision::SetElsewhere { place, value } => {
                    let a = set_elsewhere_advice(facts, name, &place, &value);
                    push_advice(&mut b.advice, a);
                }
                VarDecision::Set => {
                    let value = RegValue::string(&bundle_text);
                    actions.push(WinAction {
                        target: format!("{}\\{name}", scope.key_name()),
                        current_digest: value_digest(facts.registry.get(*name)),
                        result_digest: value.digest(),
                        kind: WinActionKind::SetEnvVar {
                            scope,
                            name: name.to_string(),
                            value: bundle_text.clone(),
                        },
                        reason: why_var(scope_word, name).en(),
                        reason_msg: Some(why_var(scope_word, name)),
                    });
                }
            }
        }
    }
    actions.retain(|a| a.current_digest != a.result_digest);
    // The bundle and every variable pointing at it serve each runtime that needs the bundle.
    for &i in &b.bundle_serves {
        for a in &actions {
            b.runtimes[i].serve(&a.target);
        }
    }
    Ok(WinPlan {
        scope: facts.layout.scope,
        actions,
        advice: b.advice,
        runtimes: b.runtimes,
    })
}

/// Why a variable is set: whose new processes read it (`scope`: `machine` or `user`).
fn why_var(scope: &str, name: &str) -> crate::i18n::Msg {
    crate::msg!("reason-windows-variable", scope = scope, variable = name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::windows::ABSENT;
    use crate::diagnose::diagnose;
    use crate::model::cert::Certificate;
    use crate::model::load::Cache;
    use crate::model::runtime::Runtime;
    use crate::model::system::OsStore;
    use std::path::{Path, PathBuf};

    fn cert(cn: &str) -> Certificate {
        crate::apply::test_support::ca(cn)
    }

    fn os(certs: &[Certificate]) -> OsStore {
        crate::apply::test_support::os_store("windows", r"LocalMachine\ROOT", certs)
    }

    /// A `requests` runtime reading `bundle` (certifi), and `status` over it.
    fn status(os: OsStore, runtimes: Vec<Runtime>) -> Status {
        let mut cache = Cache::default();
        let diagnoses = runtimes
            .into_iter()
            .map(|rt| diagnose(rt, &os, &mut cache))
            .collect();
        Status {
            os,
            diagnoses,
            reference_gap: None,
            looked: Default::default(),
        }
    }

    fn requests(dir: &Path, certs: &[Certificate], env_var: Option<(&str, &Path)>) -> Runtime {
        let certifi = dir.join("cacert.pem");
        let pem: String = certs.iter().map(Certificate::to_pem).collect();
        std::fs::write(&certifi, pem).unwrap();
        let mut rt = Runtime::new(
            crate::runtimes::python::REQUESTS,
            PathBuf::from(r"C:\Python312\python.exe"),
            r"python.exe (C:\Python312)".into(),
        );
        rt.cafile = Some(certifi);
        if let Some((var, file)) = env_var {
            rt.cafile = Some(file.to_path_buf());
            rt.overridden_by.push(var.to_string());
        }
        rt
    }

    fn env_row(name: &str, file: &Path) -> Runtime {
        let mut rt = Runtime::new(
            crate::runtimes::env_vars::KIND,
            PathBuf::from(name),
            format!("${name}"),
        );
        rt.cafile = Some(file.to_path_buf());
        rt
    }

    fn facts(scope: Scope, env: &[(&str, &str)]) -> Facts {
        let env: HashMap<String, String> = env
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        let mut base: HashMap<String, String> = env.clone();
        base.insert("ProgramData".into(), r"C:\ProgramData".into());
        base.insert("LOCALAPPDATA".into(), r"C:\Users\u\AppData\Local".into());
        Facts {
            layout: Layout::new(scope, &base).unwrap(),
            bundle_now: FileNow::Absent,
            bundle_managed: false,
            registry: BTreeMap::new(),
            other_registry: BTreeMap::new(),
            env,
        }
    }

    fn var_names(p: &WinPlan) -> Vec<String> {
        p.actions
            .iter()
            .filter_map(|a| match &a.kind {
                WinActionKind::SetEnvVar { name, .. } => Some(name.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn drifting_certifi_gets_the_bundle_and_every_free_variable() {
        let dir = tempfile::tempdir().unwrap();
        let (public, corp) = (cert("Public Root"), cert("Corp Root"));
        let st = status(
            os(&[public.clone(), corp.clone()]),
            vec![requests(dir.path(), std::slice::from_ref(&public), None)],
        );
        let f = facts(Scope::Machine, &[]);
        let p = plan(&st, &f).unwrap();
        assert_eq!(p.scope, Scope::Machine);
        let WinActionKind::WriteFile {
            path,
            contents,
            certificates,
        } = &p.actions[0].kind
        else {
            panic!("bundle first: {p:?}")
        };
        assert_eq!(path, &f.layout.bundle);
        assert_eq!(*certificates, 2);
        let text = String::from_utf8(contents.clone()).unwrap();
        assert!(text.starts_with("# Generated by trustsync from the OS trust store (LocalMachine\\ROOT).\n# Do not edit: `trustsync fix` rewrites it"), "{text}");
        assert!(text.contains(&corp.fingerprint()));
        assert_eq!(p.actions[0].current_digest, ABSENT);
        assert_eq!(var_names(&p), MANAGED_VARS.to_vec());
        for a in &p.actions[1..] {
            assert!(a.target.starts_with(
                r"HKLM\SYSTEM\CurrentControlSet\Control\Session Manager\Environment\"
            ));
            assert_eq!(
                a.reg_value().unwrap().text().unwrap(),
                f.layout.bundle.display().to_string()
            );
        }
        assert!(p.advice.is_empty(), "{:?}", p.advice);
        // Deterministic: the same facts give the same plan.
        assert_eq!(plan(&st, &f).unwrap(), p);
    }

    #[test]
    fn second_plan_after_applying_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        let (public, corp) = (cert("Public Root"), cert("Corp Root"));
        let st = status(
            os(&[public.clone(), corp]),
            vec![requests(dir.path(), &[public], None)],
        );
        let mut f = facts(Scope::User, &[]);
        let first = plan(&st, &f).unwrap();
        // What applying it leaves behind.
        for a in &first.actions {
            match &a.kind {
                WinActionKind::WriteFile { contents, .. } => {
                    f.bundle_now = FileNow::File(contents.clone());
                    f.bundle_managed = true;
                }
                WinActionKind::SetEnvVar { name, .. } => {
                    f.registry.insert(name.clone(), a.reg_value().unwrap());
                }
            }
        }
        let second = plan(&st, &f).unwrap();
        assert!(second.actions.is_empty(), "{}", second.render_human());
        assert_eq!(
            second.render_human(),
            "Nothing to do: everything is already in place.\n"
        );
        // Nothing drifts any more (a new shell reads the variables): the bundle still
        // follows the OS store, e.g. when a CA is added.
        let st2 = status(os(&[cert("Public Root"), cert("Another")]), Vec::new());
        let third = plan(&st2, &f).unwrap();
        assert_eq!(third.actions.len(), 1);
        assert_eq!(
            third.actions[0].target,
            f.layout.bundle.display().to_string()
        );
        assert_ne!(third.actions[0].current_digest, ABSENT);
    }

    #[test]
    fn in_sync_machine_plans_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let public = cert("Public Root");
        let st = status(
            os(std::slice::from_ref(&public)),
            vec![requests(dir.path(), &[public], None)],
        );
        let p = plan(&st, &facts(Scope::User, &[])).unwrap();
        assert!(p.actions.is_empty() && p.advice.is_empty(), "{p:?}");
    }

    #[test]
    fn variables_set_anywhere_else_are_left_with_advice() {
        let dir = tempfile::tempdir().unwrap();
        let (public, corp) = (cert("Public Root"), cert("Corp Root"));
        let st = status(
            os(&[public.clone(), corp]),
            vec![requests(dir.path(), &[public], None)],
        );
        let mut f = facts(Scope::User, &[("node_extra_ca_certs", r"C:\corp\node.pem")]);
        f.registry.insert(
            "AWS_CA_BUNDLE".into(),
            RegValue {
                kind: crate::apply::windows::REG_EXPAND_SZ,
                data: RegValue::string(r"%USERPROFILE%\aws.pem").data,
            },
        );
        f.other_registry
            .insert("GIT_SSL_CAINFO".into(), RegValue::string(r"C:\git.pem"));
        let p = plan(&st, &f).unwrap();
        let names = var_names(&p);
        for kept in ["AWS_CA_BUNDLE", "GIT_SSL_CAINFO", "NODE_EXTRA_CA_CERTS"] {
            assert!(!names.contains(&kept.to_string()), "{kept} must not be set");
        }
        assert_eq!(names.len(), MANAGED_VARS.len() - 3);
        let msg = |var: &str| {
            p.advice
                .iter()
                .find(|a| a.runtime == format!("env-var ${var}"))
                .unwrap_or_else(|| panic!("no advice for {var}: {:?}", p.advice))
                .message
                .clone()
        };
        assert!(msg("AWS_CA_BUNDLE").contains(r"in HKCU\Environment) to %USERPROFILE%\aws.pem"));
        assert!(msg("GIT_SSL_CAINFO").contains(r"HKLM\SYSTEM"));
        assert!(msg("NODE_EXTRA_CA_CERTS").contains("this process's environment only"));
    }

    #[test]
    fn a_process_started_before_fix_gets_a_note() {
        let dir = tempfile::tempdir().unwrap();
        let (public, corp) = (cert("Public Root"), cert("Corp Root"));
        let st = status(
            os(&[public.clone(), corp]),
            vec![requests(dir.path(), std::slice::from_ref(&public), None)],
        );
        let f = facts(Scope::Machine, &[]);
        let bundle = f.layout.bundle.display().to_string();
        let registry: BTreeMap<String, RegValue> =
            [("REQUESTS_CA_BUNDLE".to_string(), RegValue::string(&bundle))].into();
        let notes = |registry: &BTreeMap<String, RegValue>, env: &[(&str, &str)]| {
            let mut diagnoses = st.diagnoses.clone();
            let env: HashMap<String, String> = env
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect();
            crate::apply::windows::note_pending_env(
                &mut diagnoses,
                Scope::Machine,
                registry,
                &f.layout.bundle,
                &env,
            );
            diagnoses[0]
                .problems
                .iter()
                .filter(|p| p.code == "fixed-for-new-shells")
                .count()
        };
        assert_eq!(notes(&registry, &[]), 1);
        assert_eq!(notes(&BTreeMap::new(), &[]), 0, "nothing set: plain drift");
        assert_eq!(
            notes(&registry, &[("REQUESTS_CA_BUNDLE", r"C:\other.pem")]),
            0,
            "the process has its own value: that row's advice applies"
        );
    }

    #[test]
    fn a_registry_variable_seen_expanded_by_the_process_gets_one_advice() {
        // HKLM holds REG_EXPAND_SZ `%SystemRoot%\corp.pem`; the process sees it expanded.
        let dir = tempfile::tempdir().unwrap();
        let (public, corp) = (cert("Public Root"), cert("Corp Root"));
        let old = dir.path().join("corp.pem");
        std::fs::write(&old, public.to_pem()).unwrap();
        let st = status(
            os(&[public.clone(), corp]),
            vec![
                requests(dir.path(), std::slice::from_ref(&public), None),
                env_row("AWS_CA_BUNDLE", &old),
                env_row("SSL_CERT_DIR", dir.path()),
            ],
        );
        let expanded = old.display().to_string();
        let mut f = facts(
            Scope::Machine,
            &[("AWS_CA_BUNDLE", &expanded), ("SSL_CERT_DIR", "C:\\certs")],
        );
        f.registry.insert(
            "AWS_CA_BUNDLE".into(),
            RegValue {
                kind: crate::apply::windows::REG_EXPAND_SZ,
                data: RegValue::string(r"%SystemRoot%\corp.pem").data,
            },
        );
        let p = plan(&st, &f).unwrap();
        let aws: Vec<&Advice> = p
            .advice
            .iter()
            .filter(|a| a.runtime == "env-var $AWS_CA_BUNDLE")
            .collect();
        assert_eq!(aws.len(), 1, "{:?}", p.advice);
        assert!(
            aws[0].message.contains(r"to %SystemRoot%\corp.pem;"),
            "{}",
            aws[0].message
        );
        // Not a variable trustsync manages: no advice to point it at the bundle.
        let dir_advice = p
            .advice
            .iter()
            .find(|a| a.runtime == "env-var $SSL_CERT_DIR")
            .unwrap();
        assert!(
            !dir_advice.message.contains("ca-bundle.pem"),
            "{}",
            dir_advice.message
        );
        assert!(!var_names(&p).contains(&"AWS_CA_BUNDLE".to_string()));
        // Per runtime (`fix --json`): the bundle and its variables serve certifi; the two
        // variable rows get advice only.
        let [certifi, aws_row, dir_row] = p.runtimes.as_slice() else {
            panic!("one record per runtime: {:?}", p.runtimes)
        };
        let all: Vec<&str> = p.actions.iter().map(|a| a.target.as_str()).collect();
        assert!(!all.is_empty());
        assert_eq!(certifi.targets, all);
        assert!(certifi.advice.is_empty());
        for row in [aws_row, dir_row] {
            assert_ne!(row.verdict_before, Verdict::Ok, "{row:?}");
            assert!(row.targets.is_empty(), "{row:?}");
            assert_eq!(row.advice, ["variable-set-elsewhere"]);
        }
    }

    #[test]
    fn a_foreign_variable_row_is_advice_only_and_writes_nothing() {
        // REQUESTS_CA_BUNDLE set (process environment) to a file lacking the OS's CA:
        // requests and the variable's own row drift, and trustsync must not take it over.
        let dir = tempfile::tempdir().unwrap();
        let (public, corp) = (cert("Public Root"), cert("Corp Root"));
        let old = dir.path().join("old.pem");
        std::fs::write(&old, public.to_pem()).unwrap();
        let st = status(
            os(&[public.clone(), corp]),
            vec![
                requests(dir.path(), &[public], Some(("REQUESTS_CA_BUNDLE", &old))),
                env_row("REQUESTS_CA_BUNDLE", &old),
            ],
        );
        let old_text = old.display().to_string();
        let f = facts(Scope::User, &[("REQUESTS_CA_BUNDLE", &old_text)]);
        let p = plan(&st, &f).unwrap();
        assert!(p.actions.is_empty(), "{}", p.render_human());
        let codes: Vec<(&str, &str)> = p
            .advice
            .iter()
            .map(|a| (a.runtime.as_str(), a.code))
            .collect();
        assert!(
            codes.contains(&("env-var $REQUESTS_CA_BUNDLE", "variable-set-elsewhere")),
            "{codes:?}"
        );
        assert!(codes
            .iter()
            .any(|(r, c)| r.starts_with("requests ") && *c == "variable-set-elsewhere"));
    }

    #[test]
    fn a_variable_pointing_at_the_managed_bundle_is_ours() {
        let dir = tempfile::tempdir().unwrap();
        let (public, corp) = (cert("Public Root"), cert("Corp Root"));
        let base = facts(Scope::User, &[]);
        let bundle = base.layout.bundle.clone();
        // A stale copy of the managed bundle (the OS gained a CA since).
        std::fs::write(dir.path().join("stale.pem"), public.to_pem()).unwrap();
        let mut rt = requests(dir.path(), std::slice::from_ref(&public), None);
        rt.cafile = Some(dir.path().join("stale.pem"));
        rt.overridden_by.push("REQUESTS_CA_BUNDLE".into());
        let st = status(os(&[public, corp]), vec![rt]);
        let bundle_upper = bundle.display().to_string().to_uppercase();
        let mut f = facts(Scope::User, &[("requests_ca_bundle", &bundle_upper)]);
        f.registry.insert(
            "REQUESTS_CA_BUNDLE".into(),
            RegValue::string(&bundle.display().to_string()),
        );
        let p = plan(&st, &f).unwrap();
        assert!(p.advice.is_empty(), "{:?}", p.advice);
        assert!(matches!(p.actions[0].kind, WinActionKind::WriteFile { .. }));
        assert!(
            !var_names(&p).contains(&"REQUESTS_CA_BUNDLE".to_string()),
            "already ours"
        );
        assert_eq!(var_names(&p).len(), MANAGED_VARS.len() - 1);
    }

    #[test]
    fn a_package_without_a_variable_gets_advice_and_an_empty_store_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (public, corp) = (cert("Public Root"), cert("Corp Root"));
        let mut rt = requests(dir.path(), std::slice::from_ref(&public), None);
        rt.kind = crate::runtimes::bundled::KIND;
        rt.label = r"shotgun_api3/cacerts.txt (C:\Python312)".into();
        // As the bundled family's discovery sets it: the package's own variable (none).
        rt.managed_var = crate::runtimes::bundled::variable_for("shotgun_api3");
        let st = status(os(&[public.clone(), corp.clone()]), vec![rt]);
        let p = plan(&st, &facts(Scope::User, &[])).unwrap();
        assert!(p.actions.is_empty());
        assert_eq!(p.advice[0].code, "no-variable");
        // A JDK keeps its own store: the advice is JSSE's own way to the Windows store.
        let mut jdk = requests(dir.path(), std::slice::from_ref(&public), None);
        jdk.kind = crate::runtimes::java::KIND;
        jdk.managed_var = None;
        let st = status(os(&[public, corp]), vec![jdk]);
        let p = plan(&st, &facts(Scope::User, &[])).unwrap();
        assert!(p.actions.is_empty(), "{}", p.render_human());
        assert_eq!(p.advice[0].code, "java-store");
        assert!(
            p.advice[0].message.contains("Windows-ROOT"),
            "{:?}",
            p.advice
        );
        let empty = status(os(&[]), Vec::new());
        assert!(matches!(
            plan(&empty, &facts(Scope::User, &[])),
            Err(WinError::EmptyBundle { .. })
        ));
    }
}
