//! `trustsync status`: read the OS store and discover runtimes at the same time, then judge
//! every runtime against the store.

use crate::diagnose::{Diagnosis, Verdict};
use crate::discover::Options;
use crate::model::load::Cache;
use crate::model::system::OsStore;
use crate::runtimes::Registry;
use std::path::Path;
use trustsync_platform::StoreError;

pub struct Status {
    pub os: OsStore,
    pub diagnoses: Vec<Diagnosis>,
    /// Roots a newer certifi on this machine trusts that the OS store lacks (seed S7).
    pub reference_gap: Option<crate::commands::reference::ReferenceGap>,
    /// Whose homes were searched, and the bounded walks discovery made.
    pub looked: Looked,
}

/// "Where I looked", so a user can tell "not there" from "not looked at".
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Looked {
    /// The accounts whose homes were searched (besides this run's own `HOME`).
    pub accounts: Vec<String>,
    /// The homes searched.
    pub homes: Vec<String>,
    /// Each bounded walk for venvs: root, depth, entries seen, whether the budget ran out,
    /// milliseconds.
    pub walks: Vec<crate::discover::Looked>,
    /// Milliseconds the whole discovery took (all families, in parallel with the store).
    pub discovery_millis: u64,
}

impl Status {
    /// The worst verdict over all runtimes.
    pub fn worst(&self) -> Verdict {
        self.diagnoses
            .iter()
            .map(|d| d.verdict)
            .max()
            .unwrap_or(Verdict::Ok)
    }

    /// Exit code for provisioning scripts: 0 all in sync, 1 some runtime drifts or is broken.
    pub fn exit_code(&self) -> i32 {
        match self.worst() {
            Verdict::Ok => 0,
            _ => 1,
        }
    }
}

/// `status` with every family trustsync knows.
pub fn run(root: &Path, opts: &Options) -> Result<Status, StoreError> {
    run_with(&Registry::standard(), root, opts)
}

/// `status` over the families of `registry` (a test's registry may hold a toy family).
pub fn run_with(registry: &Registry, root: &Path, opts: &Options) -> Result<Status, StoreError> {
    let (os, runtimes) = std::thread::scope(|s| {
        // An offline tree is read, never executed; the live machine is asked.
        let discovery = s.spawn(|| {
            let started = std::time::Instant::now();
            let found = if root == Path::new("/") {
                registry.discover(opts)
            } else {
                registry.discover_offline(root, opts)
            };
            (found, started.elapsed().as_millis() as u64)
        });
        let os = OsStore::read(root);
        (os, discovery.join().expect("discovery does not panic"))
    });
    let (runtimes, discovery_millis) = runtimes;
    let looked = Looked {
        accounts: opts.homes.iter().map(|a| a.name.clone()).collect(),
        homes: opts
            .home_dirs()
            .iter()
            .map(|h| h.display().to_string())
            .collect(),
        walks: opts.walks(),
        discovery_millis,
    };
    let mut os = os?;
    let now = crate::model::cert::unix_now();
    if let Some(warning) = os.clock_warning(now) {
        os.warnings.push(warning);
    }
    let lint = os.ca_lint(now);
    os.warnings.extend(lint);
    // Under `--root DIR` every CA file and directory is read inside DIR.
    let mut cache = Cache::with_reader(trustsync_platform::read::Reader::under(root));
    #[cfg_attr(not(any(unix, windows)), allow(unused_mut))]
    let mut diagnoses: Vec<_> = runtimes
        .into_iter()
        .map(|rt| registry.diagnose(rt, &os, &mut cache))
        .collect();
    #[cfg(unix)]
    crate::commands::fix::posix::note_pending_login(&mut diagnoses, root, &opts.env);
    #[cfg(windows)]
    for scope in [
        crate::apply::windows::Scope::Machine,
        crate::apply::windows::Scope::User,
    ] {
        if let Ok(layout) = crate::apply::windows::Layout::new(scope, &opts.env) {
            let values =
                crate::apply::windows::registry::read_values(scope, crate::apply::MANAGED_VARS);
            crate::apply::windows::note_pending_env(
                &mut diagnoses,
                scope,
                &values,
                &layout.bundle,
                &opts.env,
            );
        }
    }
    let reference_gap = crate::commands::reference::check(&os, &diagnoses, &mut cache);
    if let Some(gap) = &reference_gap {
        for d in &mut diagnoses {
            d.set_newer_roots_aside(&gap.anchors, &gap.source);
        }
    }
    Ok(Status {
        os,
        diagnoses,
        reference_gap,
        looked,
    })
}
