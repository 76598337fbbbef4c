//! The family seam: a registry holding a toy family (defined here, touching no file of
//! any real family) is discovered, judged and planned for by `status` and `fix` exactly
//! like the real ones, and the standard registry's families keep to the shared tables.

mod support;
use std::path::{Path, PathBuf};
use support::certs::*;
use trustsync::cli::report::StatusReport;
use trustsync::discover::Options;
use trustsync::model::runtime::{Repair, Runtime, RuntimeKind};
use trustsync::runtimes::{Family, Registry};

/// A curl-like runtime: reads one bundle, pointed elsewhere with `CURL_CA_BUNDLE`.
const TOY: RuntimeKind = RuntimeKind {
    name: "toy-tls",
    repair: Repair::Bundle,
    variable: Some("CURL_CA_BUNDLE"),
    cafile_strict: true,
};

/// Where the toy keeps its roots in the tree.
const TOY_BUNDLE: &str = "/opt/toy/roots.pem";

struct Toy;

impl Family for Toy {
    fn name(&self) -> &'static str {
        "toy"
    }

    fn kinds(&self) -> &'static [RuntimeKind] {
        &[TOY]
    }

    fn discover(&self, _opts: &Options) -> Vec<Runtime> {
        Vec::new()
    }

    fn discover_offline(&self, root: &Path, _opts: &Options, _scan: bool) -> Vec<Runtime> {
        let mut rt = Runtime::new(TOY, PathBuf::from("/opt/toy/bin/toy"), "toy 1.0".into());
        rt.cafile = Some(under(root, TOY_BUNDLE));
        vec![rt]
    }
}

/// An OS store with a public CA and a locally added company CA; the toy's bundle holds only
/// the public one. Options as a run would have them, without the machine's variables.
fn machine() -> (tempfile::TempDir, TestCa, Options) {
    let root = tempfile::tempdir().unwrap();
    let public = make_cert("Public Root", true, 2099);
    let corp = make_cert("Corp Proxy Root", true, 2099);
    write(
        root.path(),
        "/etc/ssl/certs/ca-certificates.crt",
        format!("{}{}", public.pem, corp.pem).as_bytes(),
    );
    write(
        root.path(),
        "/usr/local/share/ca-certificates/corp.crt",
        corp.pem.as_bytes(),
    );
    write(root.path(), TOY_BUNDLE, public.pem.as_bytes());
    write(root.path(), "/etc/profile.d/.keep", b"");
    let mut opts = Options::from_process();
    opts.env.clear();
    opts.cache_dir = None;
    (root, corp, opts)
}

#[test]
fn a_toy_family_is_found_judged_and_planned_for() {
    let (root, corp, opts) = machine();
    let registry = Registry::new(vec![Box::new(Toy)]);
    let status = trustsync::commands::status::run_with(&registry, root.path(), &opts).unwrap();

    let report = serde_json::to_value(StatusReport::new(&status)).unwrap();
    let rows = report["runtimes"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{report:#}");
    assert_eq!(rows[0]["kind"], "toy-tls");
    assert_eq!(rows[0]["label"], "toy 1.0");
    assert_eq!(rows[0]["verdict"], "drift", "{report:#}");
    assert_eq!(rows[0]["missing"], serde_json::json!([corp.fingerprint]));
    assert_eq!(report["summary"]["exit_code"], 1);

    // The POSIX planner carries out the toy's proposed repair (its variable at the managed
    // bundle) without knowing the family.
    #[cfg(unix)]
    posix_plan_serves_the_toy(&status, root.path(), &opts);

    // The same registry without the toy sees nothing: the row came from the family.
    let empty = Registry::new(Vec::new());
    let none = trustsync::commands::status::run_with(&empty, root.path(), &opts).unwrap();
    assert!(none.diagnoses.is_empty());
}

#[cfg(unix)]
fn posix_plan_serves_the_toy(
    status: &trustsync::commands::status::Status,
    root: &Path,
    opts: &Options,
) {
    let ctx = trustsync::apply::posix::Context::with_root(root);
    let fix = trustsync::commands::fix::posix::FixOptions {
        strategy: trustsync::commands::fix::posix::Strategy::Env,
        copy: false,
        env: opts.env.clone(),
        etc_environment: false,
    };
    let plan = trustsync::commands::fix::posix::plan(status, &ctx, &fix).unwrap();
    let served = &plan.runtimes[0];
    assert_eq!(served.kind, "toy-tls");
    assert!(
        served
            .targets
            .iter()
            .any(|t| t == "/etc/profile.d/trustsync.sh"),
        "{:?}",
        served.targets
    );
    let snippet = plan
        .plan
        .actions
        .iter()
        .find(|a| a.target == Path::new("/etc/profile.d/trustsync.sh"))
        .expect("a profile snippet");
    let trustsync::apply::posix::ActionKind::WriteFile { contents, .. } = &snippet.kind else {
        panic!("{snippet:?}")
    };
    // On Linux the variable names the OS's own bundle, which its update tool keeps current.
    let want = if cfg!(target_os = "linux") {
        "export CURL_CA_BUNDLE='/etc/ssl/certs/ca-certificates.crt'"
    } else {
        "export CURL_CA_BUNDLE='/etc/trustsync/ca-bundle.pem'"
    };
    assert!(
        String::from_utf8_lossy(contents).contains(want),
        "{}",
        String::from_utf8_lossy(contents)
    );
}

/// The env strategy sets only the variables in `MANAGED_VARS`: a kind whose variable is not
/// there would be "served" by a bundle no variable points it at.
#[test]
fn every_standard_kind_variable_is_one_the_fix_sets() {
    let registry = Registry::standard();
    let mut names = Vec::new();
    for family in registry.families() {
        for kind in family.kinds() {
            names.push(kind.name);
            if let Some(var) = kind.variable {
                assert!(
                    trustsync::apply::MANAGED_VARS.contains(&var),
                    "{} ({}) uses {var}",
                    kind.name,
                    family.name()
                );
            }
        }
    }
    let mut unique = names.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), names.len(), "a kind claimed twice: {names:?}");
    for package in ["httplib2", "botocore", "grpc", "certifi"] {
        let var = trustsync::runtimes::bundled::variable_for(package).unwrap();
        assert!(
            trustsync::apply::MANAGED_VARS.contains(&var),
            "{package}: {var}"
        );
    }
}
