//! The hand-written OpenSSL subject hash must equal what the real `openssl` prints, for
//! every CA on this machine. This is what makes trustsync's hashed directories work.

use std::path::Path;
use std::process::Command;
use trustsync::model::cert::Certificate;

fn openssl_hash(path: &Path, flag: &str) -> String {
    let out = Command::new("openssl")
        .args(["x509", "-noout", flag, "-in"])
        .arg(path)
        .output()
        .expect("the openssl CLI must be installed for this test");
    assert!(out.status.success(), "openssl failed on {}", path.display());
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn subject_hashes_match_openssl_for_every_ca_in_etc_ssl_certs() {
    let dir = Path::new("/etc/ssl/certs");
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).expect("/etc/ssl/certs must exist (ca-certificates)") {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "pem") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        let decoded = trustsync_platform::bundle::decode(&bytes);
        assert_eq!(decoded.certificates.len(), 1, "{}", path.display());
        let cert = Certificate::from_der(&decoded.certificates[0]).unwrap();
        assert_eq!(
            cert.subject_hash_hex(),
            openssl_hash(&path, "-subject_hash"),
            "{}",
            path.display()
        );
        assert_eq!(
            format!("{:08x}", cert.subject_hash_old),
            openssl_hash(&path, "-subject_hash_old"),
            "{}",
            path.display()
        );
        checked += 1;
    }
    assert!(
        checked > 100,
        "only {checked} CAs found in {}",
        dir.display()
    );
}
