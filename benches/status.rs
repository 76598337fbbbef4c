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
    venv_growth(&run);
}

/// Issue "Reach of discovery": how cold and warm `status` grow with 10 and 50 venvs (made
/// here with `python3 -m venv --without-pip`, named with `--runtime`), against the floor:
/// one interpreter's own start-up times the venvs, spread over the cores. Targets: cold
/// within 1.5x of that floor, warm under 100 ms.
fn venv_growth(run: &dyn Fn(&[&str]) -> Duration) {
    let python = Path::new("/usr/bin/python3");
    if !python.exists() {
        println!("venvs: no /usr/bin/python3, skipped");
        return;
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let start_up = time(9, || {
        Command::new(python)
            .args(["-I", "-c", "import ssl, json"])
            .output()
            .unwrap()
    });
    for n in [10usize, 50] {
        let dir = tempfile::tempdir().expect("a temp dir");
        let venvs: Vec<String> = (0..n)
            .map(|i| {
                let v = dir.path().join(format!("v{i}"));
                let ok = Command::new(python)
                    .args(["-m", "venv", "--without-pip"])
                    .arg(&v)
                    .status()
                    .unwrap()
                    .success();
                assert!(ok, "python3 -m venv {}", v.display());
                v.display().to_string()
            })
            .collect();
        let mut args = vec!["status", "--json", "--only"];
        for v in &venvs {
            args.extend(["--runtime", v.as_str()]);
        }
        let mut fresh = args.clone();
        fresh.push("--fresh");
        let cold = median((0..3).map(|_| run(&fresh)).collect());
        run(&args);
        let warm = median((0..5).map(|_| run(&args)).collect());
        let floor = start_up.as_secs_f64() * n as f64 / cores;
        println!(
            "venvs: {n:>3}: cold {:.0} ms = {:.2}x the floor of {:.0} ms (target <= 1.5x), warm {:.0} ms (target < 100 ms)",
            cold.as_secs_f64() * 1e3,
            cold.as_secs_f64() / floor,
            floor * 1e3,
            warm.as_secs_f64() * 1e3,
        );
    }
}
