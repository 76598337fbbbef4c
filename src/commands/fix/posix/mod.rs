//! `trustsync fix`: turns what `status` found into a plan of file actions that make each
//! runtime trust the OS store, plus advice for what trustsync must not change itself.
//!
//! Strategies, per runtime:
//! - OpenSSL-based (`python-ssl`, `openssl`) whose CA file or hashed directory is empty or
//!   missing (seed S1): fill the directory it already reads with `HASH.N` links to the OS
//!   store's files ([`crate::apply::posix::hashdir`]), and link a missing CA file to the OS bundle.
//! - Bundle-based (`requests`, `pip`, `bundled`) lacking OS CAs (S2, S4): by default a
//!   managed bundle (the OS store as PEM) plus a profile snippet and an `environment.d` file
//!   setting the variables these runtimes read; with `--strategy patch-bundle`, a marked,
//!   reversible block of the missing OS CAs appended to the runtime's own bundle. Only CAs
//!   the OS trusts are ever added, so a root the bundle's upstream removed and the OS does
//!   not trust never comes back.
//! - Trust variables set outside trustsync (S6): never edited; the advice names the file
//!   that probably sets them.
//!
//! The plan is data: `--dry-run` renders it, `fix` applies the same value. It also records,
//! per runtime, which of its actions serve that runtime and what advice concerns it
//! ([`RuntimeFix`]), for `fix --json`'s per-runtime outcomes.

use crate::apply::posix::hashdir::{self, HashDirMode, HashEntry};
use crate::apply::posix::safe_fs::TargetState;
use crate::apply::posix::{marked_block, Action, ApplyError, Context, Plan, Planner};
use crate::apply::{managed_var_for, push_advice};
pub use crate::apply::{Advice, RuntimeFix, MANAGED_VARS};
use crate::commands::status::Status;
use crate::diagnose::{Diagnosis, Verdict};
use crate::model::cert::Certificate;
use crate::model::load;
use crate::model::runtime::Repair;
use crate::model::system::OsStore;
use serde::Serialize;
use sha2::Digest;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// The managed copy of the OS store that bundle-reading runtimes are pointed at.
pub const MANAGED_DIR: &str = "/etc/trustsync";
pub const MANAGED_BUNDLE: &str = "/etc/trustsync/ca-bundle.pem";
/// Single-certificate files for OS CAs that have no file of their own in the OS store.
pub const MANAGED_CERT_DIR: &str = "/etc/trustsync/certs";
/// Login shells (`/etc/profile` reads it).
pub const PROFILE_SNIPPET: &str = "/etc/profile.d/trustsync.sh";
/// systemd user managers and the services they start.
pub const ENVIRONMENT_D: &str = "/etc/environment.d/60-trustsync.conf";
/// What pam_env reads at every PAM session (`readenv=1`): sudo (with env_reset too), su,
/// login, sshd and cron on Debian, Ubuntu, Fedora and SUSE.
pub const PAM_ENVIRONMENT: &str = "/etc/environment";
/// The systemd system manager's drop-in (`DefaultEnvironment=`).
pub const SYSTEMD_SYSTEM_CONF: &str = "/etc/systemd/system.conf.d/60-trustsync.conf";
/// sudo's drop-ins; a name with a dot in it would be ignored by sudo.
pub const SUDOERS_DIR: &str = "/etc/sudoers.d";
pub const SUDOERS_DROP_IN: &str = "/etc/sudoers.d/trustsync";
/// The block id of trustsync's lines in [`PAM_ENVIRONMENT`].
pub const PAM_BLOCK_ID: &str = "trust-variables";
/// The block id of patch mode's marked block.
pub const PATCH_BLOCK_ID: &str = "os-store-cas";
/// The block id of trustsync's entries in a JDK's own keystore (see
/// [`marked_block::KEYSTORE_PREFIX`]).
pub const JAVA_BLOCK_ID: &str = "jks:os-store-cas";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// The default: patch-bundle for every bundle only root can change (its file is read
    /// in every context), env for the rest (bundles in other users' directories, links).
    Auto,
    /// The variables runtimes read, pointed at the OS bundle, in every file a context reads.
    Env,
    /// Append a marked block of missing OS CAs to each runtime's own bundle.
    PatchBundle,
}

#[derive(Debug, Clone)]
pub struct FixOptions {
    pub strategy: Strategy,
    /// Copies instead of symlinks in hashed directories.
    pub copy: bool,
    /// The environment the runtimes were judged in (the same map discovery used): which
    /// trust variables are set, and to what, decides what is trustsync's to change.
    pub env: HashMap<String, String>,
    /// The user asked (`--etc-environment`) for the variables in the OS's own
    /// `/etc/environment`: trustsync changes a file it did not create only when asked.
    pub etc_environment: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct FixPlan {
    #[serde(flatten)]
    pub plan: Plan,
    pub advice: Vec<Advice>,
    /// One entry per runtime `status` looked at, in its order: what this plan does for it.
    #[serde(skip)]
    pub runtimes: Vec<RuntimeFix>,
}

mod bundle;
mod hashed_dir;
mod java;
mod managed;

use managed::where_set;
pub use managed::{assignment_line, note_pending_login, variable_reach};

struct Builder<'a> {
    status: &'a Status,
    ctx: &'a Context,
    planner: Planner<'a>,
    opts: &'a FixOptions,
    actions: Vec<Action>,
    advice: Vec<Advice>,
    /// Targets already planned, so runtimes sharing a directory plan it once.
    planned: HashSet<PathBuf>,
    managed_bundle_needed: bool,
    os_files: Option<HashMap<[u8; 32], PathBuf>>,
    /// Per diagnosis (same order as `status.diagnoses`): what the plan does for it.
    runtimes: Vec<RuntimeFix>,
    /// Indexes into `runtimes` of those the actions being planned now serve.
    serving: Vec<usize>,
    /// Every target planned under a key that stands for several actions (a hashed
    /// directory: its parents, entries and the managed single-CA files they link to), so a
    /// runtime reaching a key another runtime planned first still lists what serves it.
    unit_targets: HashMap<PathBuf, Vec<PathBuf>>,
    /// Runtimes the managed bundle and its variables serve.
    managed_serves: Vec<usize>,
}

pub fn plan(status: &Status, ctx: &Context, opts: &FixOptions) -> Result<FixPlan, ApplyError> {
    let mut b = Builder {
        status,
        ctx,
        planner: Planner::new(ctx)?,
        opts,
        actions: Vec::new(),
        advice: Vec::new(),
        planned: HashSet::new(),
        managed_bundle_needed: false,
        os_files: None,
        runtimes: status.diagnoses.iter().map(RuntimeFix::new).collect(),
        serving: Vec::new(),
        unit_targets: HashMap::new(),
        managed_serves: Vec::new(),
    };
    if status.os.trusted.is_empty() {
        return Err(ApplyError::EmptyBundle {
            path: status.os.bundle.clone().unwrap_or_default(),
        });
    }
    for (index, d) in status.diagnoses.iter().enumerate() {
        if d.verdict == Verdict::Ok {
            continue;
        }
        b.serving = vec![index];
        b.runtime(d)?;
    }
    // Once written, the managed bundle follows the OS store on every fix, whether or not a
    // runtime in this environment reads it: a CA removed from the OS must leave it too.
    let managed_exists = b.planner.state(Path::new(MANAGED_BUNDLE))?.0 != TargetState::Absent;
    b.serving = std::mem::take(&mut b.managed_serves);
    if b.managed_bundle_needed || managed_exists {
        b.managed_files()?;
    }
    let plan = Plan::new(b.actions).without_satisfied();
    let planned: Vec<String> = plan
        .actions
        .iter()
        .map(|a| a.target.to_string_lossy().into_owned())
        .collect();
    for r in &mut b.runtimes {
        r.keep_planned(planned.iter().map(String::as_str));
    }
    Ok(FixPlan {
        plan,
        advice: b.advice,
        runtimes: b.runtimes,
    })
}

impl Builder<'_> {
    pub(super) fn advise(&mut self, d: &Diagnosis, code: &'static str, message: crate::i18n::Msg) {
        self.push_runtime_advice(code, Advice::said(d, code, message));
    }

    /// [`Builder::advise`] with text that is not in the catalogue (another module's
    /// error, in English in every language).
    pub(super) fn advise_words(&mut self, d: &Diagnosis, code: &'static str, message: String) {
        self.push_runtime_advice(code, Advice::for_runtime(d, code, message));
    }

    fn push_runtime_advice(&mut self, code: &'static str, advice: Advice) {
        push_advice(&mut self.advice, advice);
        for &i in &self.serving {
            self.runtimes[i].advise(code);
        }
    }

    /// Adds an action to the plan, as serving the runtimes being planned for.
    pub(super) fn push(&mut self, action: Action) {
        self.serve(&action.target);
        self.actions.push(action);
    }

    /// Records that what is planned at `key` (one target, or a whole hashed directory)
    /// serves the runtimes being planned for, also when another runtime planned it first.
    pub(super) fn serve(&mut self, key: &Path) {
        let more = self.unit_targets.get(key).into_iter().flatten();
        for target in std::iter::once(key).chain(more.map(PathBuf::as_path)) {
            let target = target.to_string_lossy();
            for &i in &self.serving {
                self.runtimes[i].serve(&target);
            }
        }
    }

    /// The runtimes being planned for are fixed by the managed bundle and its variables.
    pub(super) fn need_managed_bundle(&mut self) {
        self.managed_bundle_needed = true;
        self.managed_serves.extend(self.serving.iter().copied());
    }

    pub(super) fn has(&self, d: &Diagnosis, code: &str) -> bool {
        d.problems.iter().any(|p| p.code == code)
    }

    pub(super) fn runtime(&mut self, d: &Diagnosis) -> Result<(), ApplyError> {
        let rt = &d.runtime;
        if self.has(d, "not-executed")
            || self.has(d, "probe-failed")
            || self.has(d, "no-ssl-module")
        {
            let msg = d
                .problems
                .iter()
                .find(|p| {
                    p.severity == crate::diagnose::Severity::Broken || p.code == "not-executed"
                })
                .map_or_else(|| "".into(), crate::diagnose::Problem::as_arg);
            self.advise(
                d,
                "cannot-see-runtime",
                msg!("advice-cannot-see-runtime", why = msg),
            );
            return Ok(());
        }
        // Verification off is the user's setting, whatever turned it off: say which and
        // where, never edit it. Only requests' empty CURL_CA_BUNDLE needs finding.
        if self.has(d, "verification-off") {
            let message = if rt.kind == crate::runtimes::python::REQUESTS
                && self.status_env("CURL_CA_BUNDLE").as_deref() == Some("")
            {
                let origin = where_set(
                    "CURL_CA_BUNDLE",
                    self.ctx,
                    self.opts.env.get("HOME").map(String::as_str),
                );
                msg!("advice-curl-ca-bundle-empty", origin = origin)
            } else {
                let said = d
                    .problems
                    .iter()
                    .find(|p| p.code == "verification-off")
                    .map_or_else(|| "".into(), crate::diagnose::Problem::as_arg);
                msg!("advice-verification-off", said = said)
            };
            self.advise(d, "verification-off", message);
            return Ok(());
        }
        if rt.kind == crate::runtimes::java::KIND {
            return self.java_runtime(d);
        }
        // A package manager that refuses its own settings (yarn 3+ and `caFilePath`): the
        // setting must be renamed or removed, by whoever wrote it.
        if let Some(p) = d
            .problems
            .iter()
            .find(|p| p.code == "client-refuses-config")
        {
            let bundle = self
                .status
                .os
                .bundle
                .as_ref()
                .map(|p| self.ctx.logical_path(p).display().to_string())
                .unwrap_or_else(|| MANAGED_BUNDLE.into());
            self.advise(
                d,
                "config-set-elsewhere",
                msg!(
                    "advice-client-refused-setting",
                    said = p.message.clone(),
                    bundle = bundle
                ),
            );
            return Ok(());
        }
        // A configuration file's setting is its writer's choice (and, in another user's
        // file, that user's word): say what to change, never edit it.
        if let Some(origin) = &rt.configured_by {
            if !d.missing.is_empty() {
                let said = msg!("advice-config-set-elsewhere", origin = origin)
                    .arg("bundle", self.os_bundle_shown());
                self.advise(d, "config-set-elsewhere", said);
            }
            return Ok(());
        }
        // Variables set outside trustsync are the user's: say where, never edit.
        let foreign: Vec<&String> = rt
            .overridden_by
            .iter()
            .filter(|v| !self.is_trustsync_value(self.status_env(v).as_deref()))
            .collect();
        if rt.kind.repair == Repair::Variable {
            let var = rt.label.trim_start_matches('$');
            if self.is_trustsync_value(self.status_env(var).as_deref()) {
                self.need_managed_bundle();
            } else {
                let origin =
                    where_set(var, self.ctx, self.opts.env.get("HOME").map(String::as_str));
                let said = msg!(
                    "advice-variable-set-elsewhere",
                    variable = var,
                    origin = origin
                )
                .arg("bundle", self.os_bundle_shown())
                .arg("managed", MANAGED_BUNDLE);
                self.advise(d, "variable-set-elsewhere", said);
            }
            return Ok(());
        }
        if !foreign.is_empty() {
            let vars: Vec<String> = foreign.iter().map(|v| format!("${v}")).collect();
            self.advise(
                d,
                "variable-set-elsewhere",
                msg!("advice-variables-decide", variables = vars.join(", ")),
            );
            return Ok(());
        }
        // Paths another user's program reported are that user's word (an interpreter run as
        // its owner can answer `cafile=/etc/ld.so.preload`): as root, nothing is written
        // where they point. The managed bundle and variables do not depend on them.
        // (Auto never patches a reported path: it falls back to the variable.)
        let writes_reported_paths =
            rt.kind.repair == Repair::HashedDir || self.opts.strategy == Strategy::PatchBundle;
        if let Some(uid) = rt.reported_by_uid {
            if writes_reported_paths
                && crate::apply::posix::safe_fs::running_as_root()
                && !reported_paths_in_own_tree(rt, uid)
            {
                let bundle = self.os_bundle_shown();
                self.advise(
                    d,
                    "reported-by-user",
                    msg!("advice-reported-by-user", uid = uid, bundle = bundle),
                );
                return Ok(());
            }
        }
        match rt.kind.repair {
            Repair::HashedDir => self.openssl_runtime(d),
            Repair::Bundle => self.bundle_runtime(d),
            Repair::Variable => Ok(()),
        }
    }

    /// The OS bundle as a runtime should be pointed at it (the managed bundle when the
    /// store has none), for advice.
    fn os_bundle_shown(&self) -> String {
        self.status
            .os
            .bundle
            .as_ref()
            .map(|p| self.ctx.logical_path(p).display().to_string())
            .unwrap_or_else(|| MANAGED_BUNDLE.into())
    }

    /// The OS CAs whose anchor is not in `have`, as PEM with each one's name and
    /// fingerprint: what a patched bundle's block or a JDK's trustsync entries hold.
    pub(super) fn os_cas_outside(&self, have: &HashSet<[u8; 32]>) -> String {
        let mut contents = String::new();
        for c in self
            .status
            .os
            .trusted
            .iter()
            .filter(|c| !have.contains(&c.anchor_key()))
        {
            contents.push_str(&format!(
                "# {}\n# SHA-256: {}\n{}",
                c.display_name(),
                c.fingerprint(),
                c.to_pem()
            ));
        }
        contents
    }

    pub(super) fn status_env(&self, var: &str) -> Option<String> {
        self.opts.env.get(var).cloned()
    }

    /// `CreateDir` actions for missing ancestors of `path` (outermost first).
    pub(super) fn ensure_parents(
        &mut self,
        path: &Path,
        why: crate::i18n::Msg,
    ) -> Result<(), ApplyError> {
        let Some(parent) = path.parent() else {
            return Ok(());
        };
        for dir in self.planner.missing_dirs(parent)? {
            if self.planned.insert(dir.clone()) {
                let action = self
                    .planner
                    .create_dir(&dir, 0o755, &why.en())?
                    .said(why.clone());
                self.push(action);
            } else {
                // Planned already (for another runtime, or another file of this one): it
                // serves this one too.
                self.serve(&dir);
            }
        }
        Ok(())
    }
}

/// True when every path `rt` reported lies inside the tree trustsync itself found it in
/// (the prefix above its binary), that tree's top belongs to `uid`, and no directory on the
/// way down is a symlink: then the answer names the user's own files, which the engine may
/// write like any bundle in a user's directory (refused unless `--allow-user-dirs`, walked
/// with `O_NOFOLLOW`). Anything else the answer names is not the user's to choose.
fn reported_paths_in_own_tree(rt: &crate::model::runtime::Runtime, uid: u32) -> bool {
    use std::path::Component;
    let Some(prefix) = rt.path.parent().and_then(Path::parent) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let owned = std::fs::symlink_metadata(prefix)
            .is_ok_and(|m| m.is_dir() && !m.file_type().is_symlink() && m.uid() == uid);
        if !owned {
            return false;
        }
    }
    let inside = |p: &Path| {
        let Ok(rest) = p.strip_prefix(prefix) else {
            return false;
        };
        if rest
            .components()
            .any(|c| !matches!(c, Component::Normal(_)))
        {
            return false;
        }
        // Every directory between the prefix and the target is a real directory.
        let mut cur = prefix.to_path_buf();
        let parts: Vec<_> = rest.components().collect();
        for c in parts.iter().take(parts.len().saturating_sub(1)) {
            cur.push(c);
            if std::fs::symlink_metadata(&cur).is_ok_and(|m| m.file_type().is_symlink()) {
                return false;
            }
        }
        true
    };
    rt.cafile.iter().chain(&rt.capath).all(|p| inside(p))
}

#[cfg(test)]
mod tests {
    //! Which runtime each planned action serves: the record behind `fix --json`'s
    //! per-runtime outcomes, checked where several runtimes share what is planned once.
    use super::*;
    use crate::apply::test_support::{ca, os_store};
    use crate::diagnose::diagnose;
    use crate::model::load::Cache;
    use crate::model::runtime::Runtime;

    fn openssl(root: &Path, label: &str, capath: &str) -> Runtime {
        let mut rt = Runtime::new(
            crate::runtimes::openssl::KIND,
            root.join(format!("opt/{label}/bin/openssl")),
            label.into(),
        );
        rt.capath = vec![root.join(capath.trim_start_matches('/'))];
        rt
    }

    /// Two OpenSSL builds reading one empty directory, a certifi lacking the OS CA, and a
    /// certifi in sync, planned with the env strategy.
    fn planned() -> (tempfile::TempDir, FixPlan, Certificate) {
        let root = tempfile::tempdir().unwrap();
        let corp = ca("Corp Root");
        let mut os = os_store(
            "debian",
            "/etc/ssl/certs/ca-certificates.crt",
            std::slice::from_ref(&corp),
        );
        // As the store reader gives it: the host path of the bundle inside the root.
        os.bundle = Some(root.path().join("etc/ssl/certs/ca-certificates.crt"));
        let shared = "/usr/local/ssl/certs";
        std::fs::create_dir_all(root.path().join(shared.trim_start_matches('/'))).unwrap();
        let stale = root.path().join("stale.pem");
        std::fs::write(&stale, ca("Public Root").to_pem()).unwrap();
        let fresh = root.path().join("fresh.pem");
        std::fs::write(&fresh, corp.to_pem()).unwrap();
        let certifi = |label: &str, file: &Path| {
            let mut rt = Runtime::new(
                crate::runtimes::python::REQUESTS,
                root.path().join(label),
                label.into(),
            );
            rt.cafile = Some(file.to_path_buf());
            rt
        };
        let runtimes = vec![
            openssl(root.path(), "first", shared),
            openssl(root.path(), "second", shared),
            certifi("stale", &stale),
            certifi("fresh", &fresh),
        ];
        let mut cache = Cache::default();
        let diagnoses = runtimes
            .into_iter()
            .map(|rt| diagnose(rt, &os, &mut cache))
            .collect();
        let status = Status {
            os,
            diagnoses,
            reference_gap: None,
            looked: Default::default(),
        };
        let ctx = Context::with_root(root.path());
        let opts = FixOptions {
            strategy: Strategy::Env,
            copy: false,
            env: HashMap::new(),
            etc_environment: false,
        };
        let plan = plan(&status, &ctx, &opts).unwrap();
        (root, plan, corp)
    }

    /// Verification turned off by a start file (python-ssl) is advised as what it is, not
    /// as requests' empty CURL_CA_BUNDLE; nothing is planned for it.
    #[test]
    fn verification_off_advice_names_what_turned_it_off() {
        let root = tempfile::tempdir().unwrap();
        let corp = ca("Corp Root");
        let os = os_store(
            "debian",
            "/etc/ssl/certs/ca-certificates.crt",
            std::slice::from_ref(&corp),
        );
        let mut rt = Runtime::new(
            crate::runtimes::python::SSL,
            root.path().join("python3"),
            "python3".into(),
        );
        rt.notes.push(crate::model::runtime::Note {
            msg: None,
            code: "verification-off",
            message: "a .pth installs ssl._create_unverified_context".into(),
            fatal: true,
        });
        let mut cache = Cache::default();
        let status = Status {
            diagnoses: vec![diagnose(rt, &os, &mut cache)],
            os,
            reference_gap: None,
            looked: Default::default(),
        };
        let ctx = Context::with_root(root.path());
        let opts = FixOptions {
            strategy: Strategy::Auto,
            copy: false,
            env: HashMap::new(),
            etc_environment: false,
        };
        let plan = plan(&status, &ctx, &opts).unwrap();
        assert!(plan.plan.actions.is_empty(), "{:?}", plan.plan.actions);
        let advice = &plan.advice[0];
        assert_eq!(advice.code, "verification-off");
        assert!(
            advice.message.contains("_create_unverified_context")
                && !advice.message.contains("CURL_CA_BUNDLE"),
            "{}",
            advice.message
        );
    }

    #[test]
    fn a_directory_planned_once_serves_every_runtime_reading_it() {
        let (_root, plan, corp) = planned();
        let [first, second, stale, fresh] = plan.runtimes.as_slice() else {
            panic!("one record per runtime: {:?}", plan.runtimes);
        };
        let cert_file = format!("{MANAGED_CERT_DIR}/{}.pem", corp.fingerprint());
        let link = format!("/usr/local/ssl/certs/{}.0", corp.subject_hash_hex());
        for t in [&cert_file, &link, &MANAGED_DIR.to_string()] {
            assert!(first.targets.contains(t), "{t} in {:?}", first.targets);
        }
        assert_eq!(
            first.targets, second.targets,
            "the runtime whose directory was already planned lists the same actions"
        );
        assert!(
            stale.targets.contains(&PROFILE_SNIPPET.to_string())
                && stale.targets.contains(&ENVIRONMENT_D.to_string()),
            "{:?}",
            stale.targets
        );
        // On Linux the variables name the OS bundle itself: no frozen copy is written.
        assert_eq!(
            plan.plan
                .actions
                .iter()
                .any(|a| a.target == Path::new(MANAGED_BUNDLE)),
            !cfg!(target_os = "linux"),
            "{:?}",
            plan.plan.actions
        );
        let snippet = plan
            .plan
            .actions
            .iter()
            .find(|a| a.target == Path::new(PROFILE_SNIPPET))
            .expect("the snippet is planned");
        let crate::apply::posix::ActionKind::WriteFile { contents, .. } = &snippet.kind else {
            panic!("{snippet:?}");
        };
        let text = String::from_utf8_lossy(contents);
        if cfg!(target_os = "linux") {
            assert!(
                text.contains("/etc/ssl/certs/ca-certificates.crt"),
                "{text}"
            );
        }
        assert!(
            !stale.targets.contains(&link) && !first.targets.contains(&PROFILE_SNIPPET.into()),
            "a runtime lists only what serves it"
        );
        assert_eq!(fresh.verdict_before, Verdict::Ok);
        assert!(fresh.targets.is_empty() && fresh.advice.is_empty());
        // Every recorded target is an action of the plan.
        let all: Vec<String> = plan
            .plan
            .actions
            .iter()
            .map(|a| a.target.display().to_string())
            .collect();
        for r in &plan.runtimes {
            assert!(r.targets.iter().all(|t| all.contains(t)), "{r:?}");
        }
    }
}
