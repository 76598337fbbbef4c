//! A Python interpreter's answer to the probe (src/runtimes/python/probe.rs `parse_answer`) and
//! the runtimes made from it.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::collections::HashMap;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(mut answer) = trustsync::runtimes::python::probe::parse_answer(&String::from_utf8_lossy(data))
    else {
        return;
    };
    let json = serde_json::to_string(&answer).unwrap();
    let again = trustsync::runtimes::python::probe::parse_answer(&json).unwrap();
    assert_eq!(serde_json::to_string(&again).unwrap(), json);
    // Remembered bundle lists for every site dir, so nothing walks the real file system.
    let dirs = answer.site_dirs.clone();
    let bundles = answer.bundles.get_or_insert_with(Default::default);
    for d in dirs {
        bundles.entry(d).or_default();
    }
    let env: HashMap<String, String> = [("PIP_CERT".to_string(), "/e.pem".to_string())].into();
    let _ =
        trustsync::runtimes::python::probe::runtimes_from_answer(Path::new("/x/python3"), &answer, &env);
    let _ = trustsync::model::runtime::version_key(&answer.version);
});
