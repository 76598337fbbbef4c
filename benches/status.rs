//! Speed figures for the targets, printed, not asserted (timing belongs in
//! benchmarks, never in tests):
//! - parsing + fingerprinting + subject-hashing the Debian store: target < 5 ms;
//! - `trustsync status` on this machine against the slowest single runtime's own
//!   self-report (the floor: spawning that interpreter): target within 1.2x.
//!
//! Run: `cargo bench --bench status`.

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

fn main() {
    let bundle = Path::new("/etc/ssl/certs/ca-certificates.crt");
    let bytes = std::fs::read(bundle).expect("the Debian store");
    let n = trustsync::load::parse_bytes(bundle, &bytes)
        .certificates
        .len();
    let parse = time(200, || trustsync::load::parse_bytes(bundle, &bytes));
    println!(
        "store: parse + SHA-256 + subject hashes of {n} CAs: {:.2} ms (target < 5 ms)",
        parse.as_secs_f64() * 1e3
    );
    let read_store = time(50, || {
        trustsync::system::OsStore::read(Path::new("/")).unwrap()
    });
    println!(
        "store: full OS store read (bundle, local anchors, distrust): {:.2} ms",
        read_store.as_secs_f64() * 1e3
    );

    let opts = trustsync::discover::Options::from_process();
    let pythons = trustsync::discover::python::candidates(&opts);
    let mut slowest = (Duration::ZERO, String::new());
    for p in &pythons {
        let policy = trustsync::discover::exec::policy_for(p);
        let d = time(5, || {
            trustsync::discover::python::ask(p, &policy, &opts).ok()
        });
        if d > slowest.0 {
            slowest = (d, p.display().to_string());
        }
    }
    let exe = env!("CARGO_BIN_EXE_trustsync");
    let run = |args: &[&str]| {
        let t = Instant::now();
        Command::new(exe).args(args).output().unwrap();
        t.elapsed()
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
