//! The probe cache file (src/runtimes/python/probe_cache.rs), read back as `open` + `get` do.
#![no_main]
use libfuzzer_sys::fuzz_target;
use trustsync::runtimes::exec::ExecPolicy;
use trustsync::runtimes::python::probe_cache::ProbeCache;

fuzz_target!(|data: &[u8]| {
    let file = trustsync_fuzz::put("cache/python-probes.json", data);
    let euid = rustix::process::geteuid().as_raw();
    let cache = ProbeCache::open(
        file.parent().map(Into::into),
        euid,
        trustsync::runtimes::python::probe::PROBE,
    );
    for binary in ["/usr/bin/python3", "/x/bin/python3"] {
        if let Some(raw) = cache.get(std::path::Path::new(binary), &ExecPolicy::Run) {
            let _ = trustsync::runtimes::python::probe::parse_answer(&raw);
        }
    }
});
