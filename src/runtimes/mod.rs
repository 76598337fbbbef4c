//! Runtime families: one folder per family of TLS runtimes (`python/`, `openssl/`,
//! `node/`, `java/`, `env_vars/`, `bundled/`), each holding how its runtimes are found, the rules by which
//! their trust set is computed, and the repair it proposes for them ([`RuntimeKind::repair`]).
//!
//! Why a registry: `status`, `fix` and `probe` iterate the families and know none of them
//! by name. Adding a family is one new folder implementing [`Family`] plus one line in
//! [`Registry::standard`]; nothing above or below this layer changes. Layers point down:
//! commands → families → discovery helpers, model, platform.

pub mod bundled;
pub mod env_vars;
pub mod exec;
pub mod java;
pub mod node;
pub mod openssl;
pub mod probe_cache;
pub mod python;

use crate::diagnose::{self, Diagnosis};
use crate::discover::Options;
use crate::model::load::Cache;
use crate::model::runtime::{Runtime, RuntimeKind};
use crate::model::system::OsStore;
use std::path::Path;

/// One family of runtimes.
pub trait Family: Send + Sync {
    /// A short name (`python`, `openssl`, …), for messages.
    fn name(&self) -> &'static str;

    /// The kinds of rows this family produces: a row is judged by the family owning its
    /// kind.
    fn kinds(&self) -> &'static [RuntimeKind];

    /// The rows for the live machine: find this family's runtimes and learn where each
    /// looks (asking it where that is safe, see [`exec`]).
    fn discover(&self, opts: &Options) -> Vec<Runtime>;

    /// The rows for an offline tree (`--root DIR`, read and never run; host paths under
    /// `root`). `scan` is false with `--only`: then only what the options name counts.
    fn discover_offline(&self, _root: &Path, _opts: &Options, _scan: bool) -> Vec<Runtime> {
        Vec::new()
    }

    /// The trust set of one of its rows and the verdict against the OS store. The default
    /// is OpenSSL's rule (every certificate of the CA file plus the hashed directories),
    /// which every family so far follows.
    fn diagnose(&self, rt: Runtime, os: &OsStore, cache: &mut Cache) -> Diagnosis {
        diagnose::diagnose(rt, os, cache)
    }
}

/// The families a run looks at, in the order their rows are shown.
pub struct Registry {
    families: Vec<Box<dyn Family>>,
}

impl Registry {
    /// Every family trustsync knows.
    pub fn standard() -> Registry {
        Registry::new(vec![
            Box::new(python::Python),
            Box::new(openssl::Openssl),
            Box::new(node::Node),
            Box::new(java::Java),
            Box::new(bundled::Bundled),
            Box::new(env_vars::EnvVars),
        ])
    }

    pub fn new(families: Vec<Box<dyn Family>>) -> Registry {
        Registry { families }
    }

    pub fn families(&self) -> impl Iterator<Item = &dyn Family> {
        self.families.iter().map(|f| f.as_ref())
    }

    /// Every family's rows for the live machine, families asked at the same time, rows in
    /// registry order.
    pub fn discover(&self, opts: &Options) -> Vec<Runtime> {
        std::thread::scope(|s| {
            let handles: Vec<_> = self
                .families
                .iter()
                .map(|f| s.spawn(move || f.discover(opts)))
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().expect("discovery does not panic"))
                .collect()
        })
    }

    /// Every family's rows for an offline tree.
    pub fn discover_offline(&self, root: &Path, opts: &Options) -> Vec<Runtime> {
        self.families
            .iter()
            .flat_map(|f| f.discover_offline(root, opts, opts.scan_common_dirs))
            .collect()
    }

    /// Judges one row by the family that owns its kind (the default rule for a kind no
    /// family claims).
    pub fn diagnose(&self, rt: Runtime, os: &OsStore, cache: &mut Cache) -> Diagnosis {
        match self.families.iter().find(|f| f.kinds().contains(&rt.kind)) {
            Some(f) => f.diagnose(rt, os, cache),
            None => diagnose::diagnose(rt, os, cache),
        }
    }
}
