//! Windows certificate-store property decoders (platform/src/windows_store.rs): EKU DER,
//! FILETIME, fingerprints, and `decide` over entries whose properties are the input.
#![no_main]
use libfuzzer_sys::fuzz_target;
use trustsync_platform::windows_store::*;

fuzz_target!(|data: &[u8]| {
    if let Ok(oids) = decode_eku(data) {
        let refs: Vec<&str> = oids.iter().map(String::as_str).collect();
        // Not asserted to round-trip: asn1-rs prints an arc beyond u64 as hex or wrapped
        // (see README.md, known gaps); only "no panic" here.
        let _ = encode_eku(&refs).map(|again| decode_eku(&again));
    }
    if let Some(t) = filetime_to_system_time(&data[..data.len().min(8)]) {
        assert_eq!(&system_time_to_filetime(t)[..], &data[..8]);
    }
    let _ = parse_fingerprint(&String::from_utf8_lossy(data));
    let parts = trustsync_fuzz::parts(data, 8);
    let ids = [9, 11, 104, 122, 126, 127, 13];
    let names = [
        StoreName::Root,
        StoreName::AuthRoot,
        StoreName::IntermediateCa,
        StoreName::Disallowed,
    ];
    let mut read = RawStoreRead::default();
    for (i, part) in parts.iter().enumerate() {
        let id = StoreId::new(StoreLocation::LocalMachine, names[i % 4]);
        read.entries.push(RawStoreEntry {
            store: id,
            der: vec![(i % 3) as u8],
            properties: vec![(ids[i % ids.len()], part.to_vec())],
        });
    }
    let decided = decide(&read, std::time::SystemTime::now());
    for d in &decided.store.distrusted {
        assert!(!decided.store.trusted.iter().any(|t| t.der == d.der));
    }
});
