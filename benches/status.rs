//! Speed figures for the targets, printed, not asserted (timing belongs in
//! benchmarks, never in tests):
//! - parsing + fingerprinting + subject-hashing the Debian store: target < 5 ms;
//! - `trustsync status` on this machine against the slowest single runtime's own
//!   self-report (the floor: spawning that interpreter): target within 1.2x.
//!
//! Run: `cargo bench --bench status`.
//!
//! The probe cache is a temporary one, never the machine's: as root trustsync's cache is the
//! fixed `/var/cache/trustsync`, so the bench re-runs itself once in a private mount
//! namespace with a temp dir bind-mounted over `/var/cache` (the timings are taken inside,
//! without the namespace's start-up); as another user it sets `XDG_CACHE_HOME` to a temp
//! dir. Every `trustsync status` run must exit 0 (in sync) or 1 (drift/broken) with a JSON
//! document; anything else (an error, a crash) stops the bench.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time<R>(runs: usize, mut f: impl FnMut() -> R) -> Duration {
    median(
        (0..runs)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(f());
                t.elapsed()
            })
            .collect(),
    )
}

/// Environment variable marking the re-run inside the private namespace.
#[cfg(unix)]
const IN_NAMESPACE: &str = "TRUSTSYNC_BENCH_PRIVATE_CACHE";

/// Makes sure trustsync's cache is a temporary one; returns the temp dir to keep alive, or
/// `None` after the bench already ran in its re-executed copy (then exit).
#[cfg(unix)]
fn private_cache() -> Option<Option<tempfile::TempDir>> {
    let cache = tempfile::tempdir().expect("a temp dir");
    if !rustix::process::geteuid().is_root() {
        std::env::set_var("XDG_CACHE_HOME", cache.path());
        return Some(Some(cache));
    }
    if std::env::var_os(IN_NAMESPACE).is_some() {
        // Inside: /var/cache is already the temp dir of the parent.
        return Some(None);
    }
    let me = std::env::current_exe().expect("current exe");
    let status = Command::new("/usr/bin/unshare")
        .args(["--mount", "--propagation", "private", "--", "/bin/sh", "-c"])
        .arg("mount --bind -- \"$1\" /var/cache && shift && exec \"$@\"")
        .arg("trustsync-bench")
        .arg(cache.path())
        .arg(me)
        .args(std::env::args_os().skip(1))
        .env(IN_NAMESPACE, "1")
        .status()
        .expect("unshare");
    assert!(
        status.success(),
        "the bench in its private namespace: {status}"
    );
    None
}

/// Windows: trustsync keeps no probe cache in a system directory there.
#[cfg(not(unix))]
fn private_cache() -> Option<Option<tempfile::TempDir>> {
    Some(None)
}

fn main() {
    let Some(_cache) = private_cache() else {
        return;
    };
    let bundle = Path::new("/etc/ssl/certs/ca-certificates.crt");
    let bytes = std::fs::read(bundle).expect("the Debian store");
    let n = trustsync::model::load::parse_bytes(bundle, &bytes)
        .certificates
        .len();
    let parse = time(200, || trustsync::model::load::parse_bytes(bundle, &bytes));
    println!(
        "store: parse + SHA-256 + subject hashes of {n} CAs: {:.2} ms (target < 5 ms)",
        parse.as_secs_f64() * 1e3
    );
    let read_store = time(50, || {
        trustsync::model::system::OsStore::read(Path::new("/")).unwrap()
    });
    println!(
        "store: full OS store read (bundle, local anchors, distrust): {:.2} ms",
        read_store.as_secs_f64() * 1e3
    );

    let opts = trustsync::discover::Options::from_process();
    let pythons = trustsync::runtimes::python::probe::candidates(&opts);
    let mut slowest = (Duration::ZERO, String::new());
    for p in &pythons {
        let policy = trustsync::runtimes::exec::policy_for(p);
        let d = time(5, || {
            trustsync::runtimes::python::probe::ask(p, &policy, &opts).ok()
        });
        if d > slowest.0 {
            slowest = (d, p.display().to_string());
        }
    }
    let exe = env!("CARGO_BIN_EXE_trustsync");
    let run = |args: &[&str]| {
        let t = Instant::now();
        let out = Command::new(exe).args(args).output().unwrap();
        let elapsed = t.elapsed();
        assert!(
            matches!(out.status.code(), Some(0 | 1))
                && serde_json::from_slice::<serde_json::Value>(&out.stdout).is_ok(),
            "trustsync {args:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        elapsed
    };
    // Cold: every interpreter asked afresh (`--fresh`); warm: answers remembered.
    let cold = median(
        (0..5)
            .map(|_| run(&["status", "--json", "--fresh"]))
            .collect(),
    );
    run(&["status", "--json"]);
    let warm = median((0..5).map(|_| run(&["status", "--json"])).collect());
    let floor = slowest.0.as_secs_f64().max(1e-9);
    println!(
        "status: {} interpreters; slowest self-report {:.0} ms ({}); cold {:.0} ms = {:.2}x, warm {:.0} ms = {:.2}x (target <= 1.2x)",
        pythons.len(),
        slowest.0.as_secs_f64() * 1e3,
        slowest.1,
        cold.as_secs_f64() * 1e3,
        cold.as_secs_f64() / floor,
        warm.as_secs_f64() * 1e3,
        warm.as_secs_f64() / floor,
    );
}
