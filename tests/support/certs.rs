//! Generated certificates, a fake OS tree and running the `trustsync` binary with a clean
//! environment: what most integration tests need.

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct TestCa {
    pub pem: String,
    pub der: Vec<u8>,
    pub fingerprint: String,
}

/// A self-signed certificate; `ca` false gives an end-entity one.
pub fn make_cert(cn: &str, ca: bool, not_after_year: i32) -> TestCa {
    let mut params = CertificateParams::new(vec![]).unwrap();
    params.distinguished_name.push(DnType::CommonName, cn);
    params
        .distinguished_name
        .push(DnType::OrganizationName, "trustsync tests");
    if ca {
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    }
    params.not_before = rcgen::date_time_ymd(2001, 1, 1);
    params.not_after = rcgen::date_time_ymd(not_after_year, 1, 1);
    let key = KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    let der = cert.der().to_vec();
    use sha2::Digest;
    TestCa {
        pem: cert.pem(),
        fingerprint: hex::encode(sha2::Sha256::digest(&der)),
        der,
    }
}

/// `root` + an absolute path.
pub fn under(root: &Path, abs: &str) -> PathBuf {
    root.join(abs.trim_start_matches('/'))
}

pub fn write(root: &Path, abs: &str, data: &[u8]) -> PathBuf {
    let p = under(root, abs);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, data).unwrap();
    p
}

/// Runs `trustsync` with exactly `env` (nothing inherited from the host, which may set
/// SSL_CERT_FILE and friends).
pub fn trustsync(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trustsync"))
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

/// The JSON document a `--json` run printed; panics with its output when there is none,
/// at the caller's line (so a wrapper that is `#[track_caller]` too names the test's call).
#[track_caller]
pub fn json(out: &Output) -> serde_json::Value {
    match serde_json::from_slice(&out.stdout) {
        Ok(doc) => doc,
        Err(e) => panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

/// The certificates a PEM bundle really holds, as DER: every `CERTIFICATE` block decoded,
/// and each one checked to parse as X.509. Comment lines (trustsync writes `# SHA-256: …`
/// above each entry) and other text count for nothing, so a bundle that names a CA in a
/// comment but lost its certificate does not hold it.
#[track_caller]
pub fn bundle_ders(bundle: &[u8]) -> Vec<Vec<u8>> {
    let blocks = pem::parse_many(bundle).unwrap_or_else(|e| {
        panic!(
            "not a PEM bundle ({e}): {}",
            String::from_utf8_lossy(bundle)
        )
    });
    blocks
        .into_iter()
        .filter(|b| b.tag() == "CERTIFICATE")
        .map(|b| {
            let der = b.into_contents();
            if let Err(e) = x509_parser::parse_x509_certificate(&der) {
                panic!("a CERTIFICATE block that is not X.509 ({e})");
            }
            der
        })
        .collect()
}

/// Does the PEM `bundle` hold the certificate `der` (byte for byte, by parsing)?
#[track_caller]
pub fn bundle_holds(bundle: &[u8], der: &[u8]) -> bool {
    bundle_ders(bundle).iter().any(|held| held == der)
}

/// `openssl x509 -noout -subject_hash` of a PEM certificate file, from the real system
/// `openssl` (argv only, no shell, empty environment): the `HASH` of a capath's `HASH.N`.
pub fn openssl_subject_hash(pem_file: &Path) -> String {
    let out = Command::new("/usr/bin/openssl")
        .args(["x509", "-noout", "-subject_hash", "-in"])
        .arg(pem_file)
        .env_clear()
        .current_dir("/")
        .output()
        .expect("run /usr/bin/openssl");
    assert!(
        out.status.success(),
        "openssl x509 -subject_hash {}: {}",
        pem_file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let hash = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert_eq!(hash.len(), 8, "unexpected subject hash {hash:?}");
    hash
}
