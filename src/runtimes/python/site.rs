//! Discovery without running anything: in an offline filesystem tree (`--root DIR`, a
//! container image being built, which may not even run here) and for a live interpreter
//! that must not run as root (`not-executed`). The CA bundles Python packages carry are
//! found by reading their site-packages: certifi, pip's vendored certifi and the bundles
//! other packages ship. The exec policy uses the same site-dir lookup for its ownership check.
//!
//! In a tree every listing and every "is this a file" goes through
//! `trustsync_platform::read::Reader::under(root)`: a tree's `usr/lib/python3 -> /root/...`
//! is resolved inside the tree, so nothing on the host is listed or shown.

use crate::model::runtime::Runtime;
use crate::runtimes::bundled;
use std::path::{Path, PathBuf};
use trustsync_platform::read::Reader;

/// Every `lib/python*/{site,dist}-packages` (and `lib64`) of one Python prefix.
pub fn site_dirs_of_prefix(prefix: &Path) -> Vec<PathBuf> {
    site_dirs_in(&Reader::host(), prefix)
}

/// [`site_dirs_of_prefix`] through `reader` (inside a tree for `--root`).
pub fn site_dirs_in(reader: &Reader, prefix: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for lib in ["lib", "lib64"] {
        let lib = prefix.join(lib);
        let Ok(entries) = reader.list(&lib) else {
            continue;
        };
        let mut found: Vec<PathBuf> = entries
            .into_iter()
            .filter(|(name, _)| name.to_string_lossy().starts_with("python"))
            .flat_map(|(name, _)| {
                let dir = lib.join(name);
                [dir.join("site-packages"), dir.join("dist-packages")]
            })
            .filter(|p| reader.is_dir(p))
            .collect();
        found.sort();
        out.extend(found);
    }
    out
}

/// The bundle-reading runtimes one site-packages directory holds, found by reading it:
/// certifi (`requests`), pip's vendored certifi, and bundles other packages ship.
pub fn bundle_runtimes(site: &Path, owner: &Path) -> Vec<Runtime> {
    bundle_runtimes_in(&Reader::host(), site, owner)
}

/// [`bundle_runtimes`] through `reader`.
pub fn bundle_runtimes_in(reader: &Reader, site: &Path, owner: &Path) -> Vec<Runtime> {
    let mut out = Vec::new();
    for (kind, rel) in [
        (crate::runtimes::python::REQUESTS, "certifi/cacert.pem"),
        (
            crate::runtimes::python::PIP,
            "pip/_vendor/certifi/cacert.pem",
        ),
    ] {
        let f = site.join(rel);
        if reader.is_file(&f) {
            let mut rt = Runtime::new(
                kind,
                owner.to_path_buf(),
                format!("{} ({})", rel, site.display()),
            );
            rt.cafile = Some(f);
            out.push(rt);
        }
    }
    out.extend(bundled::runtimes_for(
        site,
        &bundled::find_paths_in(reader, site),
        owner,
    ));
    out
}

/// The bundle-reading runtimes of the tree, with host paths (under `root`): every site
/// dir of `usr`, `usr/local` and each `opt/*` prefix.
pub fn runtimes(root: &Path) -> Vec<Runtime> {
    let reader = Reader::under(root);
    let mut prefixes = vec![root.join("usr"), root.join("usr/local")];
    let opt = root.join("opt");
    if let Ok(entries) = reader.list(&opt) {
        prefixes.extend(entries.into_iter().map(|(name, _)| opt.join(name)));
    }
    prefixes
        .iter()
        .flat_map(|p| site_dirs_in(&reader, p))
        .flat_map(|site| bundle_runtimes_in(&reader, &site, &site))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::runtime::RuntimeKind;

    #[test]
    fn finds_bundles_in_a_tree() {
        let t = tempfile::tempdir().unwrap();
        for rel in [
            "usr/lib/python3/dist-packages/certifi/cacert.pem",
            "opt/app/lib/python3.11/site-packages/pip/_vendor/certifi/cacert.pem",
            "usr/local/lib/python3.12/site-packages/httplib2/cacerts.txt",
        ] {
            let p = t.path().join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, b"").unwrap();
        }
        let kinds: Vec<RuntimeKind> = runtimes(t.path()).iter().map(|r| r.kind).collect();
        assert_eq!(
            kinds,
            vec![
                crate::runtimes::python::REQUESTS,
                crate::runtimes::bundled::KIND,
                crate::runtimes::python::PIP
            ]
        );
    }
}
