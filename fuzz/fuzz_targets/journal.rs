//! The POSIX fix journal (src/apply/posix/journal.rs): parsed round-trips, unparsable names the file.
#![no_main]
use libfuzzer_sys::fuzz_target;
use trustsync::apply::posix::{journal, Context};

fuzz_target!(|data: &[u8]| {
    let ctx = Context::with_root(trustsync_fuzz::scratch().join("root"));
    let path = ctx.state_dir.join("journal.json");
    std::fs::create_dir_all(&ctx.state_dir).unwrap();
    std::fs::write(&path, data).unwrap();
    match journal::read_journal(&ctx) {
        Ok(j) => {
            let again: journal::Journal =
                serde_json::from_slice(&serde_json::to_vec(&j).unwrap()).unwrap();
            assert_eq!(again, j);
        }
        Err(e) => assert!(e.to_string().contains("journal.json")),
    }
});
