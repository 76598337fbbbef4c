//! Marked blocks in files other users own (src/apply/posix/plan.rs): set then remove is identity.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::Path;
use trustsync::apply::posix::marked_block::{block_contents, remove_block, upsert_block};

fuzz_target!(|data: &[u8]| {
    let p = Path::new("/f");
    let before = remove_block(p, data, "ca");
    if let Ok(set) = upsert_block(p, data, "ca", "X\n") {
        assert!(block_contents(&set, "ca").is_some());
        let removed = remove_block(p, &set, "ca").unwrap().unwrap();
        if let Ok(Some(without)) = before {
            assert_eq!(removed, without);
        }
    }
});
