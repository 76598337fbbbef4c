//! Bounded random-input tests of every parser that reads bytes another user controls: the
//! stable-Rust, every-CI-run half of the parser fuzzing (the cargo-fuzz targets in `fuzz/`
//! are the open-ended half; `fuzz/README.md` lists both).
//!
//! trustsync runs as root and reads CA bundles, hashed directories, interpreters' answers,
//! its journal and configuration files that other users can write. Each test here takes
//! real samples (the machine's CA bundle, generated certificates, answers and journals the
//! code itself produced), derives a fixed number of inputs from them with a seeded
//! pseudo-random mutator (bit flips, truncations, inserted garbage and tokens, DER headers
//! claiming huge lengths), and asserts, besides "no panic", a property that a wrong parser
//! would break: what parses re-encodes to the same thing, what fails names the file, a bad
//! journal never turns into a restore. Sizes are bounded instead of timing anything, and the
//! seeds are fixed, so a failure reproduces exactly.
#![cfg(unix)]
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sha2::Digest;
use trustsync::model::cert::Certificate;
use trustsync::model::load;
use trustsync_platform::bundle;

// ---------------------------------------------------------------------------------------
// The mutator

/// xorshift64*: small, seeded, the same sequence on every machine.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// Fragments that steer parsers into their interesting branches: PEM markers, DER headers
/// with huge or indefinite lengths, JSON syntax and extreme numbers, the markers of the
/// line-based formats, path tricks, invalid UTF-8.
const TOKENS: &[&[u8]] = &[
    b"-----BEGIN CERTIFICATE-----\n",
    b"-----END CERTIFICATE-----\n",
    b"-----BEGIN TRUSTED CERTIFICATE-----\n",
    b"-----END TRUSTED CERTIFICATE-----",
    b"-----BEGIN PRIVATE KEY-----",
    b"-----BEGIN ",
    b"-----",
    b"\r\n",
    b"\n",
    b"\xEF\xBB\xBF",
    b"\x30\x84\xff\xff\xff\xff",
    b"\x30\x88\xff\xff\xff\xff\xff\xff\xff\xff",
    b"\x30\x80",
    b"\x30\x82\x00",
    b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0b",
    b"\x17\x0d991231235959Z",
    b"\x18\x0f99991231235959Z",
    b"\x1e\x03\xd8\x00\x00",
    b"\x1c\x03\x00\x11\x00",
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b":",
    b",",
    b"null",
    b"true",
    b"1e999",
    b"-1",
    b"18446744073709551616",
    b"\\u0000",
    b"\\ud800",
    b"{\"bytes_hex\":\"ff00\"}",
    b"=",
    b"!",
    b"..",
    b"/",
    b"\\x2f",
    b"%%",
    b"\xff\xfe",
    b"\xc3\x28",
    b"OPENSSLDIR: ",
    b"C:\\",
    b"export ",
    b"#",
    b"ExecStart=",
    b"PathChanged=",
    b"TRUSTSYNC_HOOK=",
    b"# BEGIN trustsync ca",
    b"# END trustsync ca",
    b"SSL_CERT_FILE=",
];

/// One input derived from `seed`: one to four mutations, capped at `max_len` bytes.
fn mutate(rng: &mut Rng, seed: &[u8], extra_tokens: &[&[u8]], max_len: usize) -> Vec<u8> {
    let mut v = seed.to_vec();
    let token = |rng: &mut Rng| -> Vec<u8> {
        let i = rng.below(TOKENS.len() + extra_tokens.len());
        TOKENS
            .get(i)
            .copied()
            .unwrap_or_else(|| extra_tokens[i - TOKENS.len()])
            .to_vec()
    };
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(v.len() + 1);
        match rng.below(9) {
            0 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] ^= 1 << rng.below(8);
            }
            1 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] = rng.next() as u8;
            }
            2 => {
                let n = 1 + rng.below(64);
                let garbage = rng.bytes(n);
                v.splice(at..at, garbage);
            }
            3 => {
                let t = token(rng);
                v.splice(at..at, t);
            }
            4 => {
                let end = (at + 1 + rng.below(64)).min(v.len());
                v.drain(at.min(end)..end);
            }
            5 => v.truncate(at),
            6 if !v.is_empty() => {
                let start = rng.below(v.len());
                let end = (start + 1 + rng.below(256)).min(v.len());
                let chunk = v[start..end].to_vec();
                v.splice(at..at, chunk);
            }
            7 => {
                // A DER header claiming a huge length, where a SEQUENCE starts.
                let starts: Vec<usize> = (0..v.len()).filter(|&i| v[i] == 0x30).collect();
                if !starts.is_empty() {
                    let i = starts[rng.below(starts.len())];
                    let header: &[u8] = match rng.below(3) {
                        0 => &[0x30, 0x84, 0xff, 0xff, 0xff, 0xff],
                        1 => &[0x30, 0x84, 0x7f, 0xff, 0xff, 0xff],
                        _ => &[0x30, 0x80],
                    };
                    let end = (i + 2).min(v.len());
                    v.splice(i..end, header.iter().copied());
                }
            }
            _ => {
                let t = token(rng);
                let end = (at + t.len()).min(v.len());
                v.splice(at..end, t);
            }
        }
    }
    v.truncate(max_len);
    v
}

/// How many times the base counts of inputs each test runs: 4 in CI (the whole file takes
/// seconds in a debug build); `TRUSTSYNC_FUZZ_SCALE=100` for a longer run that is still
/// deterministic.
fn scale() -> usize {
    std::env::var("TRUSTSYNC_FUZZ_SCALE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4)
}

/// The seeds themselves, the empty input, then `n` × [`scale`] mutants, round-robin over
/// the seeds.
fn inputs(seeds: &[Vec<u8>], extra: &[&[u8]], n: usize, seed: u64, max_len: usize) -> Vec<Vec<u8>> {
    let n = n * scale();
    let mut rng = Rng::new(seed);
    let mut out: Vec<Vec<u8>> = seeds.to_vec();
    out.push(Vec::new());
    for i in 0..n {
        let mut v = mutate(&mut rng, &seeds[i % seeds.len()], extra, max_len);
        // Now and then mutate a mutant: errors that need two changes.
        if rng.below(4) == 0 {
            v = mutate(&mut rng, &v, extra, max_len);
        }
        out.push(v);
    }
    out
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

// ---------------------------------------------------------------------------------------
// Samples

struct Issued {
    der: Vec<u8>,
    pem: String,
    cert: rcgen::Certificate,
    key: rcgen::KeyPair,
}

fn params(cn: &str, ca: bool, sans: &[&str]) -> rcgen::CertificateParams {
    let mut p =
        rcgen::CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            .unwrap();
    p.distinguished_name = rcgen::DistinguishedName::new();
    p.distinguished_name.push(rcgen::DnType::CommonName, cn);
    p.distinguished_name
        .push(rcgen::DnType::OrganizationName, "Fuzz, Inc.");
    if ca {
        p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    }
    p.not_before = rcgen::date_time_ymd(2020, 1, 1);
    p.not_after = rcgen::date_time_ymd(2090, 1, 1);
    p
}

fn self_signed(cn: &str) -> Issued {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params(cn, true, &[]).self_signed(&key).unwrap();
    Issued {
        der: cert.der().to_vec(),
        pem: cert.pem(),
        cert,
        key,
    }
}

fn issued_by(cn: &str, ca: bool, sans: &[&str], issuer: &Issued) -> Issued {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params(cn, ca, sans)
        .signed_by(&key, &issuer.cert, &issuer.key)
        .unwrap();
    Issued {
        der: cert.der().to_vec(),
        pem: cert.pem(),
        cert,
        key,
    }
}

/// The first `n` PEM blocks of the machine's CA bundle (real CAs, real encodings: BMP and
/// T61 strings, v1 roots), or none where there is no such bundle.
fn os_bundle_sample(n: usize) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string("/etc/ssl/certs/ca-certificates.crt") else {
        return Vec::new();
    };
    text.split_inclusive("-----END CERTIFICATE-----\n")
        .filter(|b| b.contains("-----BEGIN CERTIFICATE-----"))
        .take(n)
        .map(str::to_string)
        .collect()
}

fn pem_block(label: &str, der: &[u8]) -> String {
    pem::encode(&pem::Pem::new(label, der.to_vec()))
}

/// Bundles as found in the wild: a real sample, generated CAs, CRLF, a BOM, comments, a
/// TRUSTED CERTIFICATE with trust settings after it, a pasted private key, bare DER.
fn bundle_seeds() -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let root = self_signed("Fuzz Root CA");
    let leaf = issued_by("leaf.test", false, &["leaf.test"], &root);
    let os = os_bundle_sample(3);
    let mut with_aux = root.der.clone();
    with_aux.extend_from_slice(&[
        0x30, 0x0c, 0x30, 0x0a, 0x06, 0x08, 0x2b, 6, 1, 5, 5, 7, 3, 1,
    ]);
    let mut seeds: Vec<Vec<u8>> = vec![
        format!("# generated\n{}{}", root.pem, leaf.pem).into_bytes(),
        format!("\u{feff}{}", root.pem.replace('\n', "\r\n")).into_bytes(),
        format!(
            "{}{}",
            pem_block("TRUSTED CERTIFICATE", &with_aux),
            pem_block("PRIVATE KEY", b"not a key")
        )
        .into_bytes(),
        root.der.clone(),
        leaf.der.clone(),
    ];
    if !os.is_empty() {
        seeds.push(os.concat().into_bytes());
    }
    let ders: Vec<Vec<u8>> = seeds
        .iter()
        .flat_map(|s| bundle::decode(s).certificates)
        .collect();
    (seeds, ders)
}

// ---------------------------------------------------------------------------------------
// Certificates: PEM/DER bundles, single DER certificates, hashed-directory names

/// Every certificate `parse_bytes` returns is one the bundle decoder found, re-encodes to PEM
/// that parses again to the same certificate, and every bad entry names the file.
#[test]
fn bundles_parse_to_certificates_that_round_trip() {
    let (seeds, _) = bundle_seeds();
    let path = Path::new("/fuzz/bundle.pem");
    let mut certificates_seen = 0;
    for input in inputs(&seeds, &[], 400, 1, 12 * 1024) {
        let decoded = bundle::decode(&input);
        let loaded = load::parse_bytes(path, &input);
        assert!(loaded.certificates.len() <= decoded.certificates.len());
        assert_eq!(loaded.private_keys_skipped, decoded.private_keys_skipped);
        for line in &loaded.bad_entries {
            assert!(line.starts_with("/fuzz/bundle.pem: "), "{line}");
        }
        assert_eq!(
            loaded.certificates.len() + loaded.bad_entries.len(),
            decoded.certificates.len() + decoded.errors.len(),
            "each block is a certificate or one error line"
        );
        for c in &loaded.certificates {
            certificates_seen += 1;
            assert!(decoded.certificates.contains(&c.der));
            let again = load::parse_bytes(path, c.to_pem().as_bytes());
            assert!(again.bad_entries.is_empty(), "{:?}", again.bad_entries);
            let [same] = again.certificates.as_slice() else {
                panic!(
                    "{} certificates from one PEM block",
                    again.certificates.len()
                );
            };
            assert_eq!(same.fingerprint(), c.fingerprint());
            assert_eq!(same.subject_hash, c.subject_hash);
            assert_eq!(same.anchor_key(), c.anchor_key());
        }
        // The hashed-directory planner identifies a file by the same decoder.
        assert_eq!(
            trustsync::apply::posix::hashdir::certificate_sha256(&input),
            decoded
                .certificates
                .first()
                .map(|d| hex::encode(sha2::Sha256::digest(d)))
        );
    }
    assert!(
        certificates_seen > 50,
        "the mutants still exercise parsing ({certificates_seen})"
    );
}

/// A DER blob parses only if it is exactly one whole element; a parsed certificate keeps its
/// bytes, and its PEM form parses to the same fingerprint.
#[test]
fn single_der_certificates() {
    let (_, ders) = bundle_seeds();
    let mut parsed = 0;
    for input in inputs(&ders, &[], 500, 2, 8 * 1024) {
        let whole = bundle::first_der_element(&input);
        if let Some(len) = whole {
            assert!(len <= input.len());
        }
        if let Ok(c) = Certificate::from_der(&input) {
            parsed += 1;
            assert_eq!(
                whole,
                Some(input.len()),
                "a certificate is one whole element: {}",
                hex::encode(&input[..input.len().min(12)])
            );
            assert_eq!(c.der, input);
            assert_eq!(c.fingerprint(), hex::encode(sha2::Sha256::digest(&input)));
            let again = load::parse_bytes(Path::new("x"), c.to_pem().as_bytes());
            assert_eq!(again.certificates[0].fingerprint(), c.fingerprint());
            let _ = (c.display_name(), c.subject_hash_hex(), c.is_expired_at(0));
        }
    }
    assert!(parsed > 20, "{parsed}");
    // Not asserted: x509-parser also accepts wrong tags inside a certificate (a Name's
    // attribute tagged [20] instead of SEQUENCE) that OpenSSL rejects (fuzz/README.md).
}

/// `HASH.N` is accepted exactly when it is OpenSSL's `%08lx.%d` spelling, by both readers of
/// the rule; and a capath only yields certificates stored under their own hash.
#[test]
fn hashed_dir_entry_names() {
    let ca = self_signed("Hash Name CA");
    let cert = Certificate::from_der(&ca.der).unwrap();
    let own = format!("{}.0", cert.subject_hash_hex());
    let seeds: Vec<Vec<u8>> = [
        own.as_str(),
        "5ad8a5d6.0",
        "ffffffff.4294967295",
        "00000000.1",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    let names = inputs(&seeds, &[b"+", b"-", b"r", b"0", b"."], 1500, 3, 40);
    for name in &names {
        let name = text(name);
        let parsed = load::parse_hash_name(&name);
        if let Some((hash, n)) = parsed {
            assert_eq!(name, format!("{hash:08x}.{n}"));
        }
        assert_eq!(
            trustsync::apply::posix::hashdir::parse_hash_name(&name),
            parsed.map(|(_, n)| (&name[..8], n))
        );
    }
    // A real directory of the CA under 40 of those names.
    let dir = tempfile::tempdir().unwrap();
    let mut valid = 0;
    for name in names.iter().map(|n| text(n)).take(40) {
        if name.is_empty()
            || name.contains('/')
            || name.contains('\0')
            || name == "."
            || name == ".."
        {
            continue;
        }
        if std::fs::write(dir.path().join(&name), &ca.pem).is_ok()
            && load::parse_hash_name(&name).is_some()
        {
            valid += 1;
        }
    }
    let load::DirState::Loaded(loaded) = load::load_hashed_dir(dir.path()) else {
        panic!("the directory exists");
    };
    assert_eq!(loaded.hash_named, valid);
    assert!(loaded
        .certificates
        .iter()
        .all(|c| c.subject_hash == cert.subject_hash));
}

// ---------------------------------------------------------------------------------------
// Interpreters' answers: the Python probe, `openssl version -v -d`, `py -0p`

/// A real answer from the machine's Python (the probe script run the way discovery runs it),
/// and a constructed one with every optional field.
fn probe_answer_seeds() -> Vec<Vec<u8>> {
    let mut seeds = vec![br#"{"executable":"/x/bin/python3","version":"3.11.7","prefix":"/x","platform":"linux",
        "openssl_version":"OpenSSL 3.0.2","verify_paths":{"cafile_env":"SSL_CERT_FILE","cafile":"/usr/local/ssl/cert.pem","capath_env":"SSL_CERT_DIR","capath":"/usr/local/ssl/certs"},
        "ssl_error":null,"certifi":{"path":"/x/certifi/cacert.pem","version":"2024.2.2"},
        "pip":{"version":"24.2","bundle":"/x/pip/_vendor/certifi/cacert.pem","certifi_version":"2024.07.04"},
        "requests":{"version":"2.31.0"},"site_dirs":["/x/lib/python3.11/site-packages"],"user_site":"/root/.local/lib",
        "bundles":{"/x/lib/python3.11/site-packages":["/x/lib/python3.11/site-packages/botocore/cacert.pem"]}}"#.to_vec()];
    let opts = trustsync::discover::Options::from_process();
    let policy = trustsync::runtimes::exec::ExecPolicy::Run;
    if let Ok(raw) =
        trustsync::runtimes::python::probe::ask_raw(Path::new("/usr/bin/python3"), &policy, &opts)
    {
        seeds.push(raw.into_bytes());
    }
    seeds
}

/// A probe answer that parses survives a serde round trip unchanged, and turns into runtimes
/// of the interpreter it came from; one that does not parse says so in one message.
#[test]
fn python_probe_answers() {
    let seeds = probe_answer_seeds();
    let binary = Path::new("/x/bin/python3");
    let env: HashMap<String, String> = [("SSL_CERT_FILE", "/e/ca.pem"), ("PIP_CERT", "/e/pip.pem")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let mut parsed = 0;
    for input in inputs(&seeds, &[b"\"win32\"", b"\"darwin\""], 600, 4, 8 * 1024) {
        match trustsync::runtimes::python::probe::parse_answer(&text(&input)) {
            Ok(mut answer) => {
                parsed += 1;
                // A site dir without a remembered bundle list would be walked: keep the test
                // off the real file system (a mutant may name `/`).
                let dirs = answer.site_dirs.clone();
                let bundles = answer.bundles.get_or_insert_with(Default::default);
                for d in dirs {
                    bundles.entry(d).or_default();
                }
                let json = serde_json::to_string(&answer).unwrap();
                let again = trustsync::runtimes::python::probe::parse_answer(&json).unwrap();
                assert_eq!(serde_json::to_string(&again).unwrap(), json);
                for rt in trustsync::runtimes::python::probe::runtimes_from_answer(
                    binary,
                    &answer,
                    &env,
                    &Default::default(),
                ) {
                    assert_eq!(rt.path, binary);
                }
                let key = trustsync::model::runtime::version_key(&answer.version);
                assert!(key.len() <= answer.version.split('.').count());
            }
            Err(e) => assert!(e.starts_with("unexpected probe output ("), "{e}"),
        }
    }
    assert!(parsed > 30, "{parsed}");
}

/// `OPENSSLDIR:` is found iff a line starts with it; the version is the first other
/// non-blank line, trimmed.
#[test]
fn openssl_version_output() {
    let mut seeds: Vec<Vec<u8>> = vec![
        b"OpenSSL 1.1.1w  11 Sep 2023\nOPENSSLDIR: \"/usr/local/openssl111\"\n".to_vec(),
        b"LibreSSL 3.3.6\nOPENSSLDIR: \"/private/etc/ssl\"\r\n".to_vec(),
    ];
    let private = std::env::var_os("HOME")
        .map(|h| PathBuf::from(h).join(".cache/trustsync"))
        .and_then(|d| std::fs::read_dir(d).ok())
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin/openssl"));
    for binary in std::iter::once(PathBuf::from("openssl")).chain(private) {
        if let Ok(out) = std::process::Command::new(&binary)
            .args(["version", "-v", "-d"])
            .output()
        {
            seeds.push(out.stdout);
        }
    }
    for input in inputs(&seeds, &[], 800, 5, 2048) {
        let input = text(&input);
        let (version, dir) = trustsync::runtimes::openssl::parse_version_output(&input);
        assert_eq!(
            dir.is_some(),
            input.lines().any(|l| l.starts_with("OPENSSLDIR:"))
        );
        if let Some(v) = version {
            assert!(!v.is_empty() && v == v.trim());
            assert!(input
                .lines()
                .any(|l| l.trim() == v && !l.starts_with("OPENSSLDIR:")));
        }
    }
}

/// Every path taken from `py -0p` starts at a drive letter and is the tail of its line.
#[test]
fn py_launcher_list() {
    let seeds = vec![
        b" -V:3.12 *        C:\\Program Files\\Python312\\python.exe\n -V:3.11          C:\\Users\\ann\\AppData\\Local\\Programs\\Python\\Python311\\python.exe\n\n".to_vec(),
        b"No installed Pythons found!\r\n".to_vec(),
    ];
    for input in inputs(&seeds, &["é:\\".as_bytes(), b"Z:\\"], 800, 6, 1024) {
        let input = text(&input);
        let found = trustsync::discover::os_paths::parse_py_launcher_list(&input);
        assert!(found.len() <= input.lines().count());
        for p in found {
            let p = p.to_str().unwrap().to_string();
            let b = p.as_bytes();
            assert!(b[0].is_ascii_alphabetic() && &b[1..3] == b":\\", "{p:?}");
            assert!(input.lines().any(|l| l.trim_end().ends_with(&p)));
        }
    }
}

// ---------------------------------------------------------------------------------------
// trustsync's own records: the probe cache, the journals, hook run records

/// The probe cache is all or nothing: a file that is not JSON is ignored whole, the intact
/// file gives back exactly the answer that was saved, and nothing in between panics.
#[test]
fn probe_cache_file() {
    use trustsync::runtimes::exec::ExecPolicy;
    use trustsync::runtimes::probe_cache::ProbeCache;
    use trustsync::runtimes::python::probe::{self as python, PROBE};
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("cache");
    let binary = t.path().join("bin/python3");
    std::fs::create_dir_all(binary.parent().unwrap()).unwrap();
    std::fs::write(&binary, "#!/bin/sh\n").unwrap();
    let euid = rustix::process::geteuid().as_raw();
    let seeds = probe_answer_seeds();
    let answer = python::parse_answer(&text(&seeds[seeds.len() - 1])).unwrap();
    let mut cache = ProbeCache::open(Some(dir.clone()), euid, "python-probes.json", PROBE);
    let raw = serde_json::to_string(&answer).unwrap();
    cache.put(&binary, &ExecPolicy::Run, raw, vec![binary.clone()]);
    cache.save();
    let file = dir.join("python-probes.json");
    let saved = std::fs::read(&file).unwrap();
    let remembered = ProbeCache::open(Some(dir.clone()), euid, "python-probes.json", PROBE)
        .get(&binary, &ExecPolicy::Run)
        .expect("the intact cache answers");
    assert_eq!(remembered, serde_json::to_string(&answer).unwrap());
    for input in inputs(&[saved], &[], 300, 7, 16 * 1024) {
        std::fs::write(&file, &input).unwrap();
        let got = ProbeCache::open(Some(dir.clone()), euid, "python-probes.json", PROBE)
            .get(&binary, &ExecPolicy::Run);
        if serde_json::from_slice::<serde_json::Value>(&input).is_err() {
            assert_eq!(got, None, "a file that is not JSON is not half-read");
        }
        if let Some(raw) = got {
            let _ = python::parse_answer(&raw);
        }
    }
}

/// A real journal, written by the engine applying a plan to a tree, and that tree.
fn journal_tree() -> (tempfile::TempDir, trustsync::apply::posix::Context, Vec<u8>) {
    use trustsync::apply::posix::{self as apply, Plan, Planner};
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("root");
    std::fs::create_dir_all(root.join("etc/ssl")).unwrap();
    std::fs::write(root.join("etc/ssl/old.pem"), "old bytes\n").unwrap();
    let ctx = apply::Context::with_root(&root);
    let planner = Planner::new(&ctx).unwrap();
    let mut plan = Plan::default();
    plan.push(
        planner
            .create_dir(Path::new("/etc/ssl/new"), 0o755, "dir")
            .unwrap(),
    );
    plan.push(
        planner
            .append_marked_block(Path::new("/etc/ssl/old.pem"), "ca", "new bytes\n", "patch")
            .unwrap(),
    );
    plan.push(
        planner
            .write_file(
                Path::new("/etc/ssl/new/ca.pem"),
                b"new\n".to_vec(),
                0o644,
                "new",
            )
            .unwrap(),
    );
    plan.push(
        planner
            .symlink(
                Path::new("/etc/ssl/link \"q\".pem"),
                Path::new("old.pem"),
                "link",
            )
            .unwrap(),
    );
    drop(planner);
    apply::apply(&plan, &ctx).unwrap();
    let journal = std::fs::read(ctx.state_dir.join("journal.json")).unwrap();
    (t, ctx, journal)
}

/// Every file under `dir` (but the state directory) with its bytes or link text.
fn tree_state(dir: &Path, skip: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for e in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let e = e.unwrap();
        if e.path().starts_with(skip) {
            continue;
        }
        let bytes = if e.path_is_symlink() {
            std::fs::read_link(e.path())
                .unwrap()
                .into_os_string()
                .into_encoded_bytes()
        } else if e.file_type().is_file() {
            std::fs::read(e.path()).unwrap()
        } else {
            b"dir".to_vec()
        };
        out.push((e.path().to_path_buf(), bytes));
    }
    out
}

/// A journal that parses round-trips through serde; one that does not is an error naming
/// `journal.json`, and `undo` with it changes nothing: never a partial restore.
#[test]
fn posix_journal() {
    use trustsync::apply::posix::{self as apply, journal};
    let (_t, ctx, seed) = journal_tree();
    let path = ctx.state_dir.join("journal.json");
    let before = tree_state(&ctx.root, &ctx.state_dir);
    let mut undos = 0;
    let extra: &[&[u8]] = &[
        b"\"pending\"",
        b"\"done\"",
        b"\"symlink\"",
        b"\"absent\"",
        b"\"dir\"",
    ];
    for (i, input) in inputs(&[seed], extra, 300, 8, 8 * 1024)
        .into_iter()
        .enumerate()
    {
        std::fs::write(&path, &input).unwrap();
        match journal::read_journal(&ctx) {
            Ok(j) => {
                let again: journal::Journal =
                    serde_json::from_slice(&serde_json::to_vec(&j).unwrap()).unwrap();
                assert_eq!(again, j);
            }
            Err(e) => {
                let message = e.to_string();
                assert!(message.contains(&path.display().to_string()), "{message}");
                // Undo (and the recovery it runs first) refuses the same journal.
                if i % 4 == 0 {
                    undos += 1;
                    let e = apply::undo(&ctx).expect_err("undo with an unreadable journal");
                    assert!(e.to_string().contains("journal.json"), "{e}");
                    assert_eq!(tree_state(&ctx.root, &ctx.state_dir), before);
                }
            }
        }
    }
    assert!(undos > 20, "{undos}");
}

/// The Windows engine's journal (compiled and read on every OS): the same two rules.
#[test]
fn windows_journal() {
    use trustsync::apply::windows::journal::{Entry, Journal, Prior, StateDir, Target};
    use trustsync::apply::windows::{RegValue, Scope};
    let t = tempfile::tempdir().unwrap();
    let state = StateDir::create(t.path().join("trustsync")).unwrap();
    let journal = Journal {
        entries: vec![
            Entry {
                target: Target::EnvVar {
                    scope: Scope::User,
                    name: "SSL_CERT_FILE".into(),
                },
                original: Prior::Value {
                    value: RegValue::string(r"C:\old\ca.pem"),
                },
                written: Some("reg:00".into()),
                pending: None,
            },
            Entry {
                target: Target::File {
                    path: t.path().join("bundle.pem"),
                },
                original: Prior::File {
                    bytes: b"old\x00\xff".to_vec(),
                },
                written: None,
                pending: Some("abc".into()),
            },
            Entry {
                target: Target::File {
                    path: t.path().join("new.pem"),
                },
                original: Prior::Absent,
                written: Some("x".into()),
                pending: None,
            },
        ],
        ..Journal::default()
    };
    state.save(&journal).unwrap();
    let seed = std::fs::read(state.journal_path()).unwrap();
    for input in inputs(&[seed], &[b"\"env_var\"", b"\"value\""], 400, 9, 8 * 1024) {
        std::fs::write(state.journal_path(), &input).unwrap();
        match state.load() {
            Ok(j) => {
                state.save(&j).unwrap();
                assert_eq!(state.load().unwrap(), j);
                for e in &j.entries {
                    let _ = (e.target.display(), e.original.digest());
                }
            }
            Err(e) => {
                let message = e.to_string();
                assert!(message.contains("journal.json"), "{message}");
            }
        }
    }
}

/// Hook run records and the files hooks read back (`/etc/default/trustsync`, the installed
/// units and update.d script), seeded with what `hook install` writes.
#[test]
fn hook_records_and_files() {
    use trustsync::commands::fix::posix::Strategy;
    use trustsync::commands::hooks::layout::{self, Facts, Trigger};
    use trustsync::commands::hooks::run::{last_run, RunRecord};
    let t = tempfile::tempdir().unwrap();
    let ctx = trustsync::apply::posix::Context::with_root(t.path());
    std::fs::create_dir_all(&ctx.state_dir).unwrap();
    let record = RunRecord {
        trigger: "store".into(),
        started: 1.5,
        finished: 2.25,
        // Left empty as a record from before these fields would be: reading fills them.
        started_rfc3339: String::new(),
        finished_rfc3339: String::new(),
        outcome: "applied".into(),
        changes: 3,
        message: "3 change(s) made \"quoted\"\n".into(),
    };
    let record_path = ctx.state_dir.join("hook-store.json");
    for input in inputs(&[serde_json::to_vec(&record).unwrap()], &[], 300, 10, 4096) {
        std::fs::write(&record_path, &input).unwrap();
        if let Some(r) = last_run(&ctx, Trigger::Store) {
            let again: RunRecord =
                serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
            // serde_json's float parsing may be one ulp off; everything else is exact.
            let close = |a: f64, b: f64| (a - b).abs() <= a.abs().max(1.0) * 1e-12;
            assert!(close(again.started, r.started) && close(again.finished, r.finished));
            assert_eq!(
                (again.trigger, again.outcome, again.changes, again.message),
                (r.trigger, r.outcome, r.changes, r.message)
            );
        }
    }

    let facts = Facts {
        update_d: true,
        systemd: true,
        apt: true,
        store_files: vec!["/etc/ssl/certs/ca-certificates.crt".into()],
        patched_bundles: vec![
            "/opt/app dir/cacert%.pem".into(),
            "/usr/lib/pyth\\on/ca.pem".into(),
        ],
    };
    let (hooks, _) = layout::choose(&facts, "/usr/bin/trustsync", Strategy::PatchBundle);
    let mut seeds: Vec<Vec<u8>> = hooks
        .iter()
        .flat_map(|h| h.files.iter().map(|f| f.contents.clone().into_bytes()))
        .collect();
    seeds.push(b"# trustsync hooks\nTRUSTSYNC_HOOK=\"off\"\n".to_vec());
    assert!(seeds.len() >= 3, "{}", seeds.len());
    let script = t
        .path()
        .join(layout::UPDATE_D_SCRIPT.trim_start_matches('/'));
    std::fs::create_dir_all(script.parent().unwrap()).unwrap();
    for input in inputs(&seeds, &[b"off", b"'no'", b"%", b"\\x"], 600, 11, 4096) {
        let input = text(&input);
        let disabled = layout::hooks_disabled(&input);
        assert!(layout::hooks_disabled(&format!(
            "{input}\nTRUSTSYNC_HOOK=off\n"
        )));
        let without: String = input
            .lines()
            .filter(|l| !l.contains("TRUSTSYNC_HOOK="))
            .collect::<Vec<_>>()
            .join("\n");
        assert!(!layout::hooks_disabled(&without));
        assert!(!disabled || input.contains("TRUSTSYNC_HOOK="));
        if let Some(argv) = layout::exec_start(&input) {
            assert!(argv
                .iter()
                .all(|a| !a.is_empty() && !a.contains(char::is_whitespace)));
        }
        let watched = layout::watched_paths(&input);
        assert!(watched.len() <= input.matches("PathChanged=").count());
        std::fs::write(&script, &input).unwrap();
        if let Some(opts) = trustsync::commands::hooks::installed_options(&ctx) {
            assert!(!opts.binary.as_os_str().is_empty());
        }
    }
}

// ---------------------------------------------------------------------------------------
// Configuration files trustsync reads

fn write_file(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// Debian's `/etc/ca-certificates.conf`: `!` lines distrust shipped CAs, and only files under
/// the tree's own `/usr/share/ca-certificates` (an absolute or `..` entry must not reach a
/// file elsewhere); a distrusted CA is never also trusted.
#[test]
fn debian_ca_certificates_conf() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("root");
    let [a, b, c] = ["Conf A", "Conf B", "Conf C"].map(self_signed);
    write_file(
        &root.join("etc/ssl/certs/ca-certificates.crt"),
        format!("{}{}{}", a.pem, b.pem, c.pem).as_bytes(),
    );
    write_file(
        &root.join("usr/share/ca-certificates/mozilla/A.crt"),
        a.pem.as_bytes(),
    );
    write_file(
        &root.join("usr/share/ca-certificates/mozilla/B.crt"),
        b.pem.as_bytes(),
    );
    let outside = t.path().join("outside/C.crt");
    write_file(&outside, c.pem.as_bytes());
    let outside_line = format!("!{}", outside.display());
    let seed = format!(
        "# Debian\nmozilla/A.crt\n!mozilla/B.crt\n{outside_line}\n!../../../outside/C.crt\n"
    );
    let conf = root.join("etc/ca-certificates.conf");
    let extra: &[&[u8]] = &[outside_line.as_bytes(), b"!mozilla/A.crt", b"mozilla/"];
    for input in inputs(&[seed.into_bytes()], extra, 250, 12, 2048) {
        write_file(&conf, &input);
        let store = trustsync_platform::linux::read_system_store(&root).unwrap();
        assert_eq!(store.flavor, "debian");
        for d in &store.distrusted {
            assert!(!store.trusted.iter().any(|c| c.der == d.der));
            assert!(
                Path::new(&d.origin).starts_with(&root),
                "{} distrusted from outside the tree",
                d.origin
            );
        }
        assert!(!store.distrusted.iter().any(|d| d.der == c.der));
        assert!(
            store.trusted.iter().any(|t| t.der == c.der),
            "C is only in the bundle"
        );
    }
}

/// p11-kit blocklist files (Fedora layout): whatever a blocklist file holds, only the
/// certificates the decoder finds in it are distrusted, and they are not trusted.
#[test]
fn p11_kit_blocklists() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    let (mut seeds, _) = bundle_seeds();
    let [a, b] = ["Block A", "Block B"].map(self_signed);
    write_file(
        &root.join("etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem"),
        format!("{}{}", a.pem, b.pem).as_bytes(),
    );
    seeds.push(b.pem.clone().into_bytes());
    seeds.push(format!("{}{}", b.der.len(), b.pem.replace('\n', "\r\n")).into_bytes());
    let file = root.join("etc/pki/ca-trust/source/blocklist/distrusted.pem");
    for input in inputs(&seeds, &[], 250, 13, 8 * 1024) {
        write_file(&file, &input);
        let decoded = bundle::decode(&input);
        let store = trustsync_platform::linux::read_system_store(root).unwrap();
        assert_eq!(store.flavor, "fedora");
        for d in &store.distrusted {
            assert!(decoded.certificates.contains(&d.der));
            assert!(!store.trusted.iter().any(|c| c.der == d.der));
        }
        for w in &store.warnings {
            assert!(w.contains(&root.display().to_string()), "{w}");
        }
        let b_blocked = decoded.certificates.contains(&b.der);
        assert_eq!(store.trusted.iter().any(|c| c.der == b.der), !b_blocked);
    }
}

/// conda's `~/.conda/environments.txt`: the interpreters found under the home directory are
/// exactly `LINE/bin/python*` of lines in the file.
#[test]
fn conda_environments_txt() {
    let t = tempfile::tempdir().unwrap();
    let home = t.path().to_path_buf();
    let mut seed = String::new();
    for env in ["envs/one", "envs/two words", "envs/three"] {
        let python = home.join(env).join("bin/python3");
        write_file(&python, b"#!/bin/sh\n");
        std::fs::set_permissions(&python, std::fs::Permissions::from_mode(0o755)).unwrap();
        seed.push_str(&format!("  {}\r\n", home.join(env).display()));
    }
    let opts = trustsync::discover::Options {
        env: HashMap::new(),
        home: Some(home.clone()),
        euid: rustix::process::geteuid().as_raw(),
        runtimes: Vec::new(),
        timeout: Duration::from_secs(5),
        scan_common_dirs: true,
        cache_dir: None,
        accounts: Vec::new(),
        homes: Vec::new(),
        looked: Default::default(),
    };
    let list = home.join(".conda/environments.txt");
    let mut found_any = false;
    for input in inputs(&[seed.into_bytes()], &[b"\n", b"envs/"], 60, 14, 2048) {
        write_file(&list, &input);
        let listed = text(&input);
        for p in trustsync::runtimes::python::probe::candidates(&opts) {
            if !p.starts_with(&home) {
                continue;
            }
            found_any = true;
            let env = p.parent().and_then(Path::parent).unwrap();
            assert!(
                listed.lines().any(|l| Path::new(l.trim()) == env),
                "{p:?} is not from a line of {listed:?}"
            );
        }
    }
    assert!(found_any);
}

/// Profile and environment files (where `fix` says a variable is set): the line reported
/// assigns the variable, uncommented; an assignment appended is always found.
#[test]
fn profile_assignments() {
    use trustsync::commands::fix::posix::assignment_line;
    let seeds = vec![
        b"# ~/.bashrc\nexport PATH=/usr/bin\n  export   SSL_CERT_FILE=/etc/ssl/x.pem\n".to_vec(),
        b"SSL_CERT_FILE_OLD=1\n#SSL_CERT_FILE=/x\nSSL_CERT_FILE=\"/y\"\r\n".to_vec(),
    ];
    for input in inputs(&seeds, &[b"SSL_CERT_FILE", b" "], 1000, 15, 2048) {
        let input = text(&input);
        match assignment_line(&input, "SSL_CERT_FILE") {
            Some(n) => {
                let line = input.lines().nth(n - 1).unwrap().trim_start();
                assert!(!line.starts_with('#'));
                assert!(line.contains("SSL_CERT_FILE="), "{line:?}");
            }
            None => {
                let more = format!("{input}\nexport SSL_CERT_FILE=/z\n");
                assert_eq!(
                    assignment_line(&more, "SSL_CERT_FILE"),
                    Some(more.lines().count())
                );
            }
        }
    }
}

/// npmrc files (another user's text): whatever the bytes, a `cafile` found is one a line
/// set, and a `strict-ssl=false` appended always turns verification off.
#[test]
fn npmrc_tls_keys() {
    use trustsync::runtimes::node::npm::parse_npmrc;
    let env: std::collections::HashMap<String, String> =
        [("HOME".to_string(), "/home/ann".to_string())]
            .into_iter()
            .collect();
    let seeds = vec![
        b"; npmrc\ncafile=${HOME}/corp.pem\nca[]=\"-----BEGIN CERTIFICATE-----\\nAA\"\nstrict-ssl=true\n".to_vec(),
        b"[section]\nregistry=https://r/\n#cafile=/x\nca=\n${\n".to_vec(),
    ];
    for input in inputs(
        &seeds,
        &[b"cafile=", b"${HOME}", b"ca[]=", b"strict-ssl"],
        1000,
        17,
        4096,
    ) {
        let input = text(&input);
        let (cafile, _, _) = parse_npmrc(&input, &env);
        if let Some(f) = cafile {
            assert!(
                input.lines().any(|l| l.trim().starts_with("cafile")),
                "{f:?} from {input:?}"
            );
        }
        let more = format!("{input}\nstrict-ssl=false\n");
        assert_eq!(parse_npmrc(&more, &env).2, Some(false), "{more:?}");
    }
}

/// Maven's and Gradle's settings files (another user's text): whatever the bytes, no
/// panic, a store found is one the text names, and a `systemProp` line appended always
/// decides (it wins over `org.gradle.jvmargs`).
#[test]
fn build_tool_settings() {
    use trustsync::runtimes::java::build_tools::{gradle_properties, mavenrc};
    let seeds = vec![
        b"org.gradle.jvmargs=-Xmx1g \\\n -Djavax.net.ssl.trustStore=/a.jks\nsystemProp.x=\\u00e9\n"
            .to_vec(),
        b"MAVEN_OPTS=\"$MAVEN_OPTS -Djavax.net.ssl.trustStore=/etc/c.jks\" # note\n".to_vec(),
    ];
    for input in inputs(
        &seeds,
        &[
            b"systemProp.javax.net.ssl.trustStore",
            b"-Djavax.net.ssl.trustStore=",
            b"\\",
            b"\\u",
        ],
        1000,
        23,
        4096,
    ) {
        if let Some((store, _, _)) = gradle_properties(&input) {
            assert!(!store.as_os_str().is_empty(), "{input:?}");
        }
        if let Some((store, _)) = mavenrc(&text(&input)) {
            let shown = store.to_string_lossy().into_owned();
            assert!(text(&input).contains(&shown), "{shown:?} from {input:?}");
        }
        let mut more = input.clone();
        more.extend_from_slice(b"\nsystemProp.javax.net.ssl.trustStore=/decided.jks\n");
        // A dangling `\\` before it would join the lines (Properties.load does the same),
        // and a malformed `\\uXXXX` makes `Properties.load` throw (Gradle fails to start,
        // no TLS is tried) as java-properties refuses the file: only other inputs decide.
        let has_escape = input.windows(2).any(|w| w == b"\\u");
        if !input.ends_with(b"\\") && !has_escape {
            assert_eq!(
                gradle_properties(&more).map(|g| g.0),
                Some("/decided.jks".into()),
                "{more:?}"
            );
        }
    }
}

/// `.yarnrc` and `.yarnrc.yml` files (another user's text): whatever the bytes, parsing
/// ends; every `.yarnrc` key found starts a line that is not indented, and an appended
/// `strict-ssl false` line is read as the boolean false; a `.yarnrc.yml` that parses and
/// gets an `enableStrictSsl: false` line appended at the top level says so.
#[test]
fn yarnrc_tls_keys() {
    use trustsync::runtimes::node::yarn::{parse_yarnrc, parse_yarnrc_yml, RcValue};
    let seeds = vec![
        b"# yarn\ncafile \"/etc/a b.pem\"\nstrict-ssl false\n\"ca\" x\n  nested true\nregistry: https://r/\n".to_vec(),
        b"httpsCaFilePath: /etc/corp.pem\nnetworkSettings:\n  \"*.corp\":\n    httpsCaFilePath: ./x.pem\nenableStrictSsl: \"0\"\n".to_vec(),
        b"caFilePath: [a, {b: c}]\n&x y: *x\n---\n- 1\n".to_vec(),
    ];
    for input in inputs(
        &seeds,
        &[
            b"cafile ",
            b"\"\\u001b",
            b"strict-ssl",
            b": ",
            b"\n  ",
            b"&a ",
            b"*a",
            b"{",
            b"[",
        ],
        1000,
        23,
        4096,
    ) {
        let input = text(&input);
        let top_lines = input
            .lines()
            .filter(|l| !l.starts_with(' ') && !l.starts_with('\t'))
            .count();
        assert!(parse_yarnrc(&input).len() <= top_lines, "{input:?}");
        let more = format!("{input}\nstrict-ssl false\n");
        assert_eq!(
            parse_yarnrc(&more)
                .last()
                .map(|(k, v)| (k.clone(), v.clone())),
            Some(("strict-ssl".to_string(), RcValue::Bool(false))),
            "{more:?}"
        );
        if let Some(rc) = parse_yarnrc_yml(&input) {
            assert!(rc.per_host.len() <= 512, "{input:?}");
        }
    }
    let top = parse_yarnrc_yml("httpsCaFilePath: /a.pem\nenableStrictSsl: false\n").unwrap();
    assert_eq!(top.enable_strict_ssl, Some(false));
    assert!(parse_yarnrc_yml(&"[".repeat(100_000)).is_none());
}

/// Java keystores (a JDK's store may be another user's file): whatever the bytes, parsing
/// and fix's edit end with entries or a message, what trustsync writes reads back exactly,
/// and an edit that succeeds is undone byte for byte.
#[test]
fn java_keystores() {
    use trustsync::runtimes::java::keystore::{
        parse, remove_trustsync_entries, set_trustsync_entries, write_jks, Keystore,
    };
    let entries: Vec<(String, Vec<u8>)> = ["a", "trustsync-0123"]
        .iter()
        .map(|n| (n.to_string(), self_signed(n).der))
        .collect();
    let good = write_jks(&entries, "changeit");
    assert_eq!(parse(&good), Ok(Keystore::Jks(entries)));
    for input in inputs(
        &[good],
        &[
            b"\xfe\xed\xfe\xed",
            b"\x00\x00\x00\x02",
            b"\x30\x82",
            b"\xa0\x80",
        ],
        1000,
        18,
        8192,
    ) {
        let _ = parse(&input);
        let _ = trustsync::runtimes::java::pkcs12::parse(&input);
        if let Ok(edited) = set_trustsync_entries(&input, &[vec![1, 2, 3]]) {
            let back = remove_trustsync_entries(&edited).unwrap().unwrap();
            assert_eq!(set_trustsync_entries(&back, &[]).unwrap(), back);
        }
    }
}

// ---------------------------------------------------------------------------------------
// OS trust data: macOS trust settings, Windows store properties

/// Trust-settings data as the macOS FFI layer copies it (constraint dictionaries, policy
/// OIDs read from on-disk plists, keychain items), made up from random bytes: no
/// certificate is both trusted and distrusted, and only snapshot certificates appear.
#[test]
fn macos_trust_settings() {
    use trustsync_platform::macos_trust::*;
    let ders: Vec<Vec<u8>> = ["Mac A", "Mac B", "Mac C"]
        .map(|n| self_signed(n).der)
        .to_vec();
    let mut rng = Rng::new(16);
    let pick =
        |rng: &mut Rng, opts: &[Option<&str>]| opts[rng.below(opts.len())].map(str::to_string);
    for _ in 0..100 * scale() {
        let mut snapshot = TrustSnapshot::default();
        for _ in 0..rng.below(6) {
            let constraints = (0..rng.below(4))
                .map(|_| UsageConstraint {
                    policy: (rng.below(3) > 0).then(|| PolicyInfo {
                        oid: pick(
                            &mut rng,
                            &[Some(SSL_POLICY_OID), Some(SMIME_POLICY_OID), None, Some("")],
                        ),
                        match_name: pick(&mut rng, &[None, None, Some("host.test")]),
                    }),
                    policy_name: pick(
                        &mut rng,
                        &[None, Some("sslServer"), Some("sslClient"), Some("")],
                    ),
                    policy_string: pick(&mut rng, &[None, None, Some("a.test")]),
                    application: pick(&mut rng, &[None, None, Some("/Applications/X.app")]),
                    result: [
                        None,
                        Some(0),
                        Some(1),
                        Some(2),
                        Some(3),
                        Some(4),
                        Some(-1),
                        Some(i64::MAX),
                    ][rng.below(8)],
                    allowed_error: [None, Some(-2147409654)][rng.below(2)],
                    key_usage: [
                        None,
                        Some(-1),
                        Some(0xffff_ffff),
                        Some(8),
                        Some(1),
                        Some(i64::MIN),
                    ][rng.below(6)],
                })
                .collect();
            snapshot.records.push(TrustRecord {
                domain: TrustDomain::PRECEDENCE[rng.below(3)],
                der: ders[rng.below(3)].clone(),
                settings: if rng.below(8) == 0 {
                    RawTrustSettings::Corrupt("bad plist".into())
                } else {
                    RawTrustSettings::Constraints(constraints)
                },
            });
        }
        for _ in 0..rng.below(4) {
            snapshot.keychain_certificates.push(KeychainCertificate {
                keychain: Keychain::ALL[rng.below(3)],
                der: ders[rng.below(3)].clone(),
                label: pick(&mut rng, &[None, Some("trustsync"), Some("")]),
            });
        }
        let store = decide(&snapshot);
        for d in &store.distrusted {
            assert!(!store.trusted.iter().any(|t| t.der == d.der));
        }
        for c in store.trusted.iter().chain(&store.distrusted) {
            assert!(ders.contains(&c.der));
        }
    }
    // Policy OIDs as stored in on-disk trust settings (DER content bytes, no header).
    let ssl = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x63, 0x64, 0x01, 0x03];
    assert_eq!(oid_from_der_content(&ssl).as_deref(), Some(SSL_POLICY_OID));
    for input in inputs(
        &[ssl.to_vec(), vec![0x55, 0x1d, 0x25]],
        &[b"\x80", b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f"],
        800,
        17,
        64,
    ) {
        if let Some(oid) = oid_from_der_content(&input) {
            assert!(
                oid.split('.').count() >= 2 && oid.split('.').all(|a| a.parse::<u64>().is_ok()),
                "{oid}"
            );
        }
    }
    let fp = sha256_hex(&ders[0]);
    for input in inputs(
        &[
            fp.clone().into_bytes(),
            format!("sha256:{}", fp.to_uppercase()).into_bytes(),
        ],
        &[b":"],
        400,
        18,
        200,
    ) {
        if let Ok(hex) = normalize_fingerprint(&text(&input)) {
            assert!(
                hex.len() == 64
                    && hex
                        .bytes()
                        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
            );
        }
    }
}

/// Windows certificate properties: an EKU that decodes re-encodes to itself, a FILETIME
/// that decodes converts back to the same ticks, fingerprints parse to their digits, and
/// store contents with garbage properties never yield a CA both trusted and distrusted.
#[test]
fn windows_store_properties() {
    use trustsync_platform::windows_store::*;
    let eku = encode_eku(&[SERVER_AUTH_OID, "1.3.6.1.5.5.7.3.2"]).unwrap();
    let long_eku = encode_eku(&["1.2.840.113549.1.1.11"; 12]).unwrap();
    for input in inputs(
        &[eku.clone(), long_eku, vec![0x30, 0x00]],
        &[],
        800,
        19,
        512,
    ) {
        if let Ok(oids) = decode_eku(&input) {
            let refs: Vec<&str> = oids.iter().map(String::as_str).collect();
            let again = encode_eku(&refs).unwrap();
            assert_eq!(decode_eku(&again).unwrap(), oids);
        }
    }
    let mut rng = Rng::new(20);
    for i in 0..2000u64 {
        let ticks = match i % 4 {
            0 => rng.next(),
            1 => rng.next() >> 8,
            2 => u64::MAX - (rng.next() >> 40),
            _ => 116_444_736_000_000_000 + (rng.next() >> 20) - (1 << 43),
        };
        if let Some(t) = filetime_to_system_time(&ticks.to_le_bytes()) {
            assert_eq!(u64::from_le_bytes(system_time_to_filetime(t)), ticks);
        }
        assert_eq!(
            filetime_to_system_time(&ticks.to_le_bytes()[..(i % 8) as usize]),
            None
        );
    }
    let fp = hex::encode(sha256(b"x"));
    for input in inputs(
        &[fp.clone().into_bytes(), fp.to_uppercase().into_bytes()],
        &[b":", b" "],
        400,
        21,
        200,
    ) {
        let input = text(&input);
        if let Ok(bytes) = parse_fingerprint(&input) {
            let digits: String = input.chars().filter(|c| !matches!(c, ':' | ' ')).collect();
            assert_eq!(hex::encode(bytes), digits.to_ascii_lowercase());
        }
    }

    let ders: Vec<Vec<u8>> = ["Win A", "Win B", "Win C"]
        .map(|n| self_signed(n).der)
        .to_vec();
    let locations = [
        StoreLocation::CurrentUser,
        StoreLocation::CurrentUserGroupPolicy,
        StoreLocation::LocalMachine,
        StoreLocation::LocalMachineGroupPolicy,
        StoreLocation::LocalMachineEnterprise,
    ];
    let names = [
        StoreName::Root,
        StoreName::AuthRoot,
        StoreName::IntermediateCa,
        StoreName::Disallowed,
    ];
    let ids = [
        property::ENHKEY_USAGE,
        property::FRIENDLY_NAME,
        property::DISALLOWED_FILETIME,
        property::DISALLOWED_ENHKEY_USAGE,
        property::NOT_BEFORE_FILETIME,
        property::NOT_BEFORE_ENHKEY_USAGE,
        property::DESCRIPTION,
    ];
    let value_seeds = vec![
        eku.clone(),
        system_time_to_filetime(SystemTime::now()).to_vec(),
        encode_utf16le(TRUSTSYNC_MARK),
        encode_utf16le("Friendly \u{1F512}"),
    ];
    let values = inputs(&value_seeds, &[], 300, 22, 128);
    for _ in 0..100 * scale() {
        let mut read = RawStoreRead::default();
        for _ in 0..rng.below(6) {
            let properties = (0..rng.below(4))
                .map(|_| {
                    (
                        ids[rng.below(ids.len())],
                        values[rng.below(values.len())].clone(),
                    )
                })
                .collect();
            let id = StoreId::new(locations[rng.below(5)], names[rng.below(4)]);
            read.opened.push(id);
            read.entries.push(RawStoreEntry {
                store: id,
                der: ders[rng.below(3)].clone(),
                properties,
            });
        }
        let decided = decide(&read, SystemTime::now());
        for d in &decided.store.distrusted {
            assert!(!decided.store.trusted.iter().any(|t| t.der == d.der));
        }
        for e in &read.entries {
            let _ = (e.friendly_name(), e.added_by_trustsync());
        }
    }
}

// ---------------------------------------------------------------------------------------
// The probe: what a TLS server sends, saved chains, targets and proxies

/// A chain as a server may send it (any bytes, any order, truncated certificates) against
/// a trust set with a mutated root: the report has one verdict per set and one entry per
/// certificate, serialises, renders, and the untouched chain verifies.
#[test]
fn probe_chains() {
    use trustsync::commands::probe::{analyse, load_chain_file, render_human, TrustSetInput};
    let root = self_signed("Probe Root");
    let mid = issued_by("Probe Intermediate", true, &[], &root);
    let leaf = issued_by("leaf.test", false, &["leaf.test", "127.0.0.1"], &mid);
    let good = vec![leaf.der.clone(), mid.der.clone()];
    let now = UNIX_EPOCH + Duration::from_secs(1_900_000_000);
    let sets = |root_der: Vec<u8>| {
        vec![
            TrustSetInput {
                label: "OS store".into(),
                roots: vec![root_der],
            },
            TrustSetInput {
                label: "empty".into(),
                roots: Vec::new(),
            },
        ]
    };
    let report = analyse(&good, "leaf.test", &sets(root.der.clone()), now, false);
    assert!(report.verdicts[0].verified, "{:?}", report.verdicts[0]);

    let seeds = vec![leaf.der.clone(), mid.der.clone(), root.der.clone()];
    let mutants = inputs(&seeds, &[], 300, 23, 4096);
    let mut rng = Rng::new(24);
    let t = tempfile::tempdir().unwrap();
    let file = t.path().join("chain.pem");
    for i in 0..50 * scale() {
        let mut chain: Vec<Vec<u8>> = (0..rng.below(4))
            .map(|_| match rng.below(3) {
                0 => seeds[rng.below(3)].clone(),
                _ => mutants[rng.below(mutants.len())].clone(),
            })
            .collect();
        if i % 5 == 0 {
            chain.insert(0, leaf.der.clone());
        }
        let root_der = if rng.below(2) == 0 {
            root.der.clone()
        } else {
            mutants[rng.below(mutants.len())].clone()
        };
        let name = ["leaf.test", "127.0.0.1", "other.test", "::1"][rng.below(4)];
        let report = analyse(&chain, name, &sets(root_der), now, rng.below(2) == 0);
        assert_eq!(report.verdicts.len(), 2);
        assert_eq!(report.chain.len(), chain.len());
        assert!(report
            .verdicts
            .iter()
            .all(|v| !v.verified || !chain.is_empty()));
        serde_json::to_value(&report).unwrap();
        let _ = render_human(&report, false);
        // The same chain saved as PEM: offline mode reads back the same DER blobs.
        let pem: String = chain.iter().map(|d| pem_block("CERTIFICATE", d)).collect();
        std::fs::write(&file, &pem).unwrap();
        match load_chain_file(&file) {
            Ok(read) => assert_eq!(read, chain),
            Err(e) => {
                assert!(chain.is_empty());
                assert!(e.to_string().contains("chain.pem"), "{e}");
            }
        }
    }
}

/// `HOST[:PORT]` targets and proxy URLs: a parsed one has a host and a port, and a proxy
/// never shows its credentials.
#[test]
fn probe_targets_and_proxies() {
    use trustsync::commands::probe::{ProxyUrl, Target};
    let seeds: Vec<Vec<u8>> = [
        "https://example.com:8443/path",
        "[::1]:443",
        "http://user:secret@proxy.test:3128/",
        "proxy.test:8080",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    for input in inputs(
        &seeds,
        &[b"[", b"]", b"@", b"://", b":0", b":65536"],
        1500,
        25,
        200,
    ) {
        let input = text(&input);
        if let Ok(t) = Target::parse(&input) {
            assert!(!t.host.is_empty() && t.port != 0);
        }
        if let Ok(p) = input.parse::<ProxyUrl>() {
            assert!(!p.host.is_empty() && p.port != 0);
            let shown = format!("{p} {p:?}");
            if !p.host.contains("secret") {
                assert!(!shown.contains("secret"), "{shown}");
            }
        }
        // Text before the last `@` is credentials: no error message repeats it.
        if let (Err(e), Some((creds, host))) = (input.parse::<ProxyUrl>(), input.rsplit_once('@')) {
            let message = e.to_string();
            if creds.contains("secret") && !host.contains("secret") {
                assert!(!message.contains("secret"), "{message}");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Marked blocks in files other users own (patch strategy, profile files)

/// Setting a block and removing it again gives back the text (with at most one newline
/// added); a begin line without an end line is an error naming the file, for both.
#[test]
fn marked_blocks() {
    use trustsync::apply::posix::marked_block::{block_contents, remove_block, upsert_block};
    let path = Path::new("/fuzz/cacert.pem");
    let root = self_signed("Block CA");
    let base = format!("# certifi\n{}", root.pem);
    let with_block = upsert_block(path, base.as_bytes(), "ca", &root.pem).unwrap();
    let seeds = vec![base.into_bytes(), with_block];
    for input in inputs(
        &seeds,
        &[
            b"# BEGIN trustsync ca \xe2\x80\x94",
            b"# END trustsync ca  \r\n",
        ],
        800,
        26,
        8 * 1024,
    ) {
        let before = remove_block(path, &input, "ca");
        match upsert_block(path, &input, "ca", "X\n") {
            Ok(set) => {
                let block = block_contents(&set, "ca").expect("the block just set");
                assert!(block.ends_with(b"# END trustsync ca\n"));
                let removed = remove_block(path, &set, "ca").unwrap().expect("present");
                match before.unwrap() {
                    Some(without) => assert_eq!(removed, without),
                    None => {
                        let mut expected = input.clone();
                        if !expected.is_empty() && !expected.ends_with(b"\n") {
                            expected.push(b'\n');
                        }
                        assert_eq!(removed, expected);
                    }
                }
            }
            Err(e) => {
                assert!(e.to_string().contains("/fuzz/cacert.pem"), "{e}");
                assert!(before.is_err());
                assert_eq!(block_contents(&input, "ca"), None);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Regressions: what the random inputs above found, pinned

/// Found by `debian_ca_certificates_conf`: `!/abs/path` in ca-certificates.conf was joined
/// onto the share directory, which an absolute path replaces, so root read (and distrusted
/// the certificates of) any file on the host, outside a `--root` tree too.
#[test]
fn regression_debian_absolute_entry_is_ignored_with_a_warning() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("root");
    let ca = self_signed("Outside CA");
    write_file(
        &root.join("etc/ssl/certs/ca-certificates.crt"),
        ca.pem.as_bytes(),
    );
    let outside = t.path().join("outside.crt");
    write_file(&outside, ca.pem.as_bytes());
    write_file(
        &root.join("etc/ca-certificates.conf"),
        format!("!{}\n", outside.display()).as_bytes(),
    );
    let store = trustsync_platform::linux::read_system_store(&root).unwrap();
    assert!(store.distrusted.is_empty(), "{:?}", store.distrusted);
    assert_eq!(store.trusted.len(), 1);
    assert!(
        store
            .warnings
            .iter()
            .any(|w| w.contains("ca-certificates.conf") && w.contains("odd entry")),
        "{:?}",
        store.warnings
    );
}

/// Found by `single_der_certificates`: x509-parser took a blob whose outer tag is not a
/// SEQUENCE (0x70 here, one flipped bit) for a certificate that OpenSSL never loads.
#[test]
fn regression_certificate_needs_an_outer_sequence() {
    let mut der = self_signed("Tag CA").der;
    der[0] = 0x70;
    assert!(Certificate::from_der(&der).is_err());
    let text = pem_block("CERTIFICATE", &der);
    let loaded = load::parse_bytes(Path::new("/x.pem"), text.as_bytes());
    assert!(loaded.certificates.is_empty());
    assert!(
        loaded.bad_entries[0].contains("not a DER SEQUENCE"),
        "{:?}",
        loaded.bad_entries
    );
}

/// Found by `probe_targets_and_proxies`: a proxy value with credentials before a `://` that
/// is not a scheme (`user:secret@host/x://…`) was echoed, password and all, as the
/// "unsupported scheme" in the error message.
#[test]
fn regression_proxy_error_never_echoes_credentials_before_a_fake_scheme() {
    use trustsync::commands::probe::ProxyUrl;
    for input in [
        "/user:secret@proxy:3128/x/http://p:1",
        "user:secret@http://p:1",
        "user:secret@socks5://p:1",
    ] {
        let e = input.parse::<ProxyUrl>().unwrap_err().to_string();
        assert!(!e.contains("secret"), "{e}");
        assert!(e.contains("invalid proxy"), "{e}");
    }
    let e = "socks5://bob:secret@p:1"
        .parse::<ProxyUrl>()
        .unwrap_err()
        .to_string();
    assert!(e.contains("not socks5://") && !e.contains("secret"), "{e}");
}
