//! conda's `~/.conda/environments.txt`, read by Python discovery (src/runtimes/python/probe.rs).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    trustsync_fuzz::put("home/.conda/environments.txt", data);
    let opts = trustsync::discover::Options {
        env: Default::default(),
        home: Some(trustsync_fuzz::scratch().join("home")),
        euid: 0,
        runtimes: Vec::new(),
        timeout: std::time::Duration::from_secs(1),
        // The list is only read when the usual places are scanned too (read-only).
        scan_common_dirs: true,
        cache_dir: None,
    };
    let _ = trustsync::runtimes::python::probe::candidates(&opts);
});
