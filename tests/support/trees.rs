//! The offline `--root` tree the fix tests start from: the machine of seed S2, where an
//! administrator added the company proxy's root to the OS store and certifi lacks it.

use super::certs::{make_cert, write, TestCa};

pub struct CorpTree {
    pub root: tempfile::TempDir,
    pub public: TestCa,
    pub corp: TestCa,
}

/// Where certifi's bundle sits in the tree.
pub const CERTIFI: &str = "/usr/lib/python3/dist-packages/certifi/cacert.pem";

/// A Debian-style OS store with a public CA and a locally added company CA; certifi holding
/// only the public one (so it drifts); empty `profile.d` and `environment.d` directories.
pub fn corp_tree() -> CorpTree {
    let root = tempfile::tempdir().unwrap();
    let public = make_cert("Public Root", true, 2099);
    let corp = make_cert("Corp Proxy Root", true, 2099);
    write(
        root.path(),
        "/etc/ssl/certs/ca-certificates.crt",
        format!("{}{}", public.pem, corp.pem).as_bytes(),
    );
    write(
        root.path(),
        "/usr/local/share/ca-certificates/corp.crt",
        corp.pem.as_bytes(),
    );
    write(root.path(), CERTIFI, public.pem.as_bytes());
    write(root.path(), "/etc/profile.d/.keep", b"");
    write(root.path(), "/etc/environment.d/.keep", b"");
    CorpTree { root, public, corp }
}
