//! The Windows `py -0p` list (src/discover/os_paths.rs `parse_py_launcher_list`).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for p in trustsync::discover::os_paths::parse_py_launcher_list(&text) {
        assert_eq!(&p.to_str().unwrap().as_bytes()[1..3], b":\\");
    }
});
