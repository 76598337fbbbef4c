//! `HASH.N` names of a capath's entries (src/model/load.rs, src/apply/posix/hashdir.rs).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let name = String::from_utf8_lossy(data);
    let parsed = trustsync::model::load::parse_hash_name(&name);
    if let Some((hash, n)) = parsed {
        assert_eq!(name, format!("{hash:08x}.{n}"));
    }
    assert_eq!(
        trustsync::apply::posix::hashdir::parse_hash_name(&name).map(|(_, n)| n),
        parsed.map(|(_, n)| n)
    );
});
