//! Benchmark (not a test): rebuilding an OpenSSL hashed directory with trustsync versus
//! `openssl rehash` on the same copy of the Debian store, and 1,000 vs 10,000 synthetic CAs
//! to show that time grows linearly. Run: `cargo bench --bench rehash`.
//!
//! Both sides do the same work inside the timed part: read every certificate file of the
//! store copy, parse it, compute its subject hash, and create the `HASH.N` links. For
//! trustsync that is reading + parsing with its cert model (as `fix` does), planning
//! (listing + `plan_dir`) and `apply` (journal written, each link created atomically with
//! fsyncs); for OpenSSL it is the whole `openssl rehash DIR` process (start-up included,
//! without fsync). Only copying the store into place is untimed. After each run the bench
//! asserts that both produced the same set of `HASH.N` names, and that `openssl rehash`
//! exited 0. Median of several runs.
// The fix engine is Unix-only (see src/lib.rs): elsewhere this bench is an empty program.
#![cfg_attr(not(unix), no_main)]
#![cfg(unix)]
#![forbid(unsafe_code)]

// The engine is POSIX-only (see src/lib.rs), so is its benchmark.
#[cfg(unix)]
mod unix {
    use std::path::{Path, PathBuf};
    use std::process::Command;
    use std::time::{Duration, Instant};

    use trustsync::apply::posix::hashdir::{self, HashDirMode, HashEntry};
    use trustsync::apply::posix::{self as apply, Context, Plan, Planner};

    const RUNS: usize = 7;

    fn median(mut v: Vec<Duration>) -> Duration {
        v.sort();
        v[v.len() / 2]
    }

    fn ms(d: Duration) -> f64 {
        d.as_secs_f64() * 1000.0
    }

    /// Plans and applies a fresh hashed dir for `entries`; returns (plan time, apply time,
    /// the capath made).
    fn trustsync_rebuild(
        work: &Path,
        run: usize,
        entries: &[HashEntry],
    ) -> (Duration, Duration, PathBuf) {
        let capath = work.join(format!("capath-{run}"));
        let ctx = Context::new(PathBuf::from("/"), work.join(format!("state-{run}")));
        let start = Instant::now();
        let planner = Planner::new(&ctx).unwrap();
        let plan = Plan::new(
            hashdir::plan_dir(&planner, &capath, 0o755, entries, HashDirMode::Symlink).unwrap(),
        )
        .without_satisfied();
        let planned = start.elapsed();
        let start = Instant::now();
        apply::apply(&plan, &ctx).unwrap();
        let applied = start.elapsed();
        (planned, applied, capath)
    }

    /// Copies `/etc/ssl/certs/*.pem` into `work/store` (untimed setup).
    fn debian_store(work: &Path) -> PathBuf {
        let store = work.join("store");
        std::fs::create_dir_all(&store).unwrap();
        for e in
            std::fs::read_dir("/etc/ssl/certs").expect("/etc/ssl/certs (install ca-certificates)")
        {
            let src = e.unwrap().path();
            if src.extension().is_some_and(|e| e == "pem") {
                std::fs::copy(&src, store.join(src.file_name().unwrap())).unwrap();
            }
        }
        store
    }

    /// The timed first half of trustsync's side: read and parse every file of the store,
    /// with the subject hash and fingerprint from its cert model, as the real `fix` does
    /// (the subject hash is checked against `openssl x509 -subject_hash` in
    /// tests/subject_hash.rs).
    fn parse_store(store: &Path) -> Vec<HashEntry> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(store)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        names.sort();
        names
            .into_iter()
            .map(|source| {
                let bytes = std::fs::read(&source).unwrap();
                let cert = &trustsync::model::load::parse_bytes(&source, &bytes).certificates[0];
                HashEntry {
                    subject_hash: cert.subject_hash_hex(),
                    sha256: cert.fingerprint(),
                    source,
                }
            })
            .collect()
    }

    /// The `HASH.N` names in `dir`, sorted.
    fn hash_names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| hashdir::parse_hash_name(name).is_some())
            .collect();
        names.sort();
        names
    }

    fn copy_dir(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }

    /// `n` synthetic CAs, about one in ten sharing its subject hash with the previous one.
    fn synthetic(n: usize) -> Vec<HashEntry> {
        let mut hash = 0x9e37_79b9u32;
        (0..n)
            .map(|i| {
                if i % 10 != 9 {
                    hash = hash.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                }
                HashEntry {
                    subject_hash: format!("{hash:08x}"),
                    source: PathBuf::from(format!(
                        "/usr/share/ca-certificates/synthetic/ca-{i}.crt"
                    )),
                    sha256: format!("{:064x}", (i as u128) * 0x1234_5678_9abc_def1),
                }
            })
            .collect()
    }

    pub fn main() {
        // `cargo bench` passes `--bench`; `cargo test --all-targets` runs this binary without it,
        // and a 30-second disk benchmark is no test.
        if !std::env::args().any(|a| a == "--bench") {
            println!("rehash benchmark: run it with `cargo bench --bench rehash`");
            return;
        }
        // Two file systems: the temp dir (disk) and /dev/shm (tmpfs). On this project's VMs
        // creating any inode on the ext4 disk costs 0.3-1 ms whoever does it, which hides the
        // tools' own work; tmpfs shows it.
        let mut bases = vec![("disk (temp dir)", std::env::temp_dir())];
        if Path::new("/dev/shm").is_dir() {
            bases.push(("tmpfs (/dev/shm)", PathBuf::from("/dev/shm")));
        }
        for (label, base) in bases {
            println!("== {label}: {}", base.display());
            suite(&base);
        }
    }

    fn suite(base: &Path) {
        let tmp = tempfile::tempdir_in(base).unwrap();
        let work = tmp.path();
        let store = debian_store(work);
        let count = std::fs::read_dir(&store).unwrap().count();
        println!("Debian store: {count} certificates from /etc/ssl/certs");

        let mut parse_t = Vec::new();
        let mut plan_t = Vec::new();
        let mut apply_t = Vec::new();
        let mut total_t = Vec::new();
        let mut ours_names = Vec::new();
        for run in 0..RUNS {
            let start = Instant::now();
            let entries = parse_store(&store);
            let parsed = start.elapsed();
            let (p, a, capath) = trustsync_rebuild(work, run, &entries);
            parse_t.push(parsed);
            plan_t.push(p);
            apply_t.push(a);
            total_t.push(parsed + p + a);
            ours_names = hash_names(&capath);
        }
        let mut ossl_t = Vec::new();
        let mut ossl_names = Vec::new();
        for run in 0..RUNS {
            let dir = work.join(format!("ossl-{run}"));
            copy_dir(&store, &dir);
            let start = Instant::now();
            let status = Command::new("openssl")
                .arg("rehash")
                .arg(&dir)
                .status()
                .expect("openssl");
            ossl_t.push(start.elapsed());
            assert!(status.success(), "openssl rehash {dir:?}: {status}");
            ossl_names = hash_names(&dir);
        }
        assert!(!ours_names.is_empty(), "trustsync made no HASH.N links");
        assert_eq!(
            ours_names, ossl_names,
            "trustsync and openssl rehash must make the same HASH.N links"
        );
        let links = ours_names.len();
        let ossl_links = ossl_names.len();
        let ours = median(total_t);
        let theirs = median(ossl_t);
        println!(
            "trustsync parse+plan+apply: {:.1} ms median of {RUNS} (parse {:.1} ms, plan {:.1} ms, apply {:.1} ms incl. journal and fsyncs), {links} links",
            ms(ours),
            ms(median(parse_t)),
            ms(median(plan_t)),
            ms(median(apply_t))
        );
        println!(
            "openssl rehash (process incl. start-up): {:.1} ms median of {RUNS}, {ossl_links} links, same names",
            ms(theirs)
        );
        println!(
            "ratio: openssl rehash / trustsync = {:.1}x",
            theirs.as_secs_f64() / ours.as_secs_f64()
        );

        let mut per_entry = Vec::new();
        for n in [1_000usize, 10_000] {
            let entries = synthetic(n);
            let runs = if n > 5_000 { 3 } else { RUNS };
            let mut plan_t = Vec::new();
            let mut total_t = Vec::new();
            for run in 0..runs {
                let (p, a, _) = trustsync_rebuild(&work.join(format!("syn-{n}")), run, &entries);
                plan_t.push(p);
                total_t.push(p + a);
            }
            let total = median(total_t);
            let us = total.as_secs_f64() * 1e6 / n as f64;
            per_entry.push(us);
            println!(
                "synthetic {n:>6} CAs (no files to parse): plan+apply {:.1} ms (plan {:.1} ms), {us:.1} µs per CA",
                ms(total),
                ms(median(plan_t))
            );
        }
        println!(
            "growth 1,000 -> 10,000: {:.2}x time per CA (1.0 = linear)",
            per_entry[1] / per_entry[0]
        );
    }
}

fn main() {
    #[cfg(unix)]
    unix::main();
}
