//! Speed of the home scan (issue "Reach of discovery"): how long the bounded walk that
//! finds venvs takes over 3 homes holding 10, 50 and 200 venvs in all, each home also
//! carrying the clutter real ones have (a project tree with `node_modules`, a `.git`, a
//! cache of 2,000 files). Target: under 200 ms for 50 venvs. Printed, not asserted.
//!
//! Run: `cargo bench --bench discovery`. Every figure is checked to have found exactly the
//! venvs planted, so a fast but blind walk cannot pass for a fast one.

use std::path::Path;
use std::time::{Duration, Instant};
use trustsync::runtimes::python::homes;

fn plant(root: &Path, venvs: usize) {
    for u in 0..3 {
        let home = root.join(format!("user{u}"));
        for i in 0..2000 {
            let d = home.join(format!(".cache/pip/http/{:02}", i % 40));
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join(format!("{i}")), b"x").unwrap();
        }
        for i in 0..300 {
            let d = home.join(format!("web/node_modules/pkg{i}/lib"));
            std::fs::create_dir_all(&d).unwrap();
        }
        std::fs::create_dir_all(home.join("web/.git/objects/aa")).unwrap();
    }
    for i in 0..venvs {
        let venv = root.join(format!("user{}/projects/p{i}/.venv", i % 3));
        std::fs::create_dir_all(venv.join("bin")).unwrap();
        std::fs::write(venv.join("pyvenv.cfg"), "home = /usr/bin\n").unwrap();
        for n in 0..50 {
            let d = venv.join(format!("lib/python3.11/site-packages/m{n}"));
            std::fs::create_dir_all(&d).unwrap();
        }
    }
}

fn main() {
    for venvs in [10, 50, 200] {
        let dir = tempfile::tempdir().unwrap();
        plant(dir.path(), venvs);
        let homes: Vec<_> = (0..3)
            .map(|u| dir.path().join(format!("user{u}")))
            .collect();
        let mut times = Vec::new();
        for _ in 0..7 {
            let t = Instant::now();
            let mut found = 0;
            let mut entries = 0;
            for h in &homes {
                let s = homes::scan(h, homes::HOME_DEPTH, homes::ENTRIES_PER_ROOT);
                assert!(!s.truncated, "the budget ran out for {venvs} venvs");
                found += s.found.len();
                entries += s.entries;
            }
            times.push(t.elapsed());
            assert_eq!(found, venvs, "the scan found {found} of {venvs} venvs");
            std::hint::black_box(entries);
        }
        times.sort();
        let median: Duration = times[times.len() / 2];
        println!(
            "home scan, 3 homes, {venvs:>3} venvs: {:>7.2} ms (median of 7; target < 200 ms at 50)",
            median.as_secs_f64() * 1000.0
        );
    }
}
