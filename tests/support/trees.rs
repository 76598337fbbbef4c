//! The offline `--root` tree the fix tests start from: the machine of seed S2, where an
//! administrator added the company proxy's root to the OS store and certifi lacks it.

use super::certs::{make_cert, under, write, TestCa};
use std::path::Path;

pub struct CorpTree {
    pub root: tempfile::TempDir,
    pub public: TestCa,
    pub corp: TestCa,
}

/// Where the OS bundle and the company CA's anchor sit in the tree.
const OS_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";
const CORP_ANCHOR: &str = "/usr/local/share/ca-certificates/corp.crt";

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
        OS_BUNDLE,
        format!("{}{}", public.pem, corp.pem).as_bytes(),
    );
    write(root.path(), CORP_ANCHOR, corp.pem.as_bytes());
    write(root.path(), CERTIFI, public.pem.as_bytes());
    write(root.path(), "/etc/profile.d/.keep", b"");
    write(root.path(), "/etc/environment.d/.keep", b"");
    CorpTree { root, public, corp }
}

/// The administrator takes the company CA out of the OS store of a [`corp_tree`] again:
/// out of the bundle, and its anchor file gone.
pub fn drop_corp_from_os_store(root: &Path, corp: &TestCa) {
    let public_only = std::fs::read_to_string(under(root, OS_BUNDLE))
        .unwrap()
        .replace(&corp.pem, "");
    write(root, OS_BUNDLE, public_only.as_bytes());
    std::fs::remove_file(under(root, CORP_ANCHOR)).unwrap();
}
