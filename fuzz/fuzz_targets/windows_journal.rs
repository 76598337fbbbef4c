//! The Windows fix journal (src/apply/windows/journal.rs), compiled and read on every OS.
#![no_main]
use libfuzzer_sys::fuzz_target;
use trustsync::apply::windows::StateDir;

fuzz_target!(|data: &[u8]| {
    let dir = trustsync_fuzz::scratch().join("win");
    let state = StateDir::create(&dir).unwrap();
    std::fs::write(state.journal_path(), data).unwrap();
    match state.load() {
        Ok(j) => {
            state.save(&j).unwrap();
            assert_eq!(state.load().unwrap(), j);
        }
        Err(e) => assert!(e.to_string().contains("journal.json")),
    }
});
