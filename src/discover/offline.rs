//! Discovery without running anything: in an offline filesystem tree (`--root DIR`, a
//! container image being built, which may not even run here) and for a live interpreter
//! that must not run as root (`not-executed`). The CA bundles Python packages carry are
//! found by reading their site-packages: certifi, pip's vendored certifi and the bundles
//! other packages ship. The exec policy uses the same site-dir lookup for its ownership check.

use super::bundled;
use crate::runtime::{Runtime, RuntimeKind};
use std::path::{Path, PathBuf};

/// Every `lib/python*/{site,dist}-packages` (and `lib64`) of one Python prefix.
pub fn site_dirs_of_prefix(prefix: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for lib in ["lib", "lib64"] {
        let Ok(entries) = std::fs::read_dir(prefix.join(lib)) else {
            continue;
        };
        let mut found: Vec<PathBuf> = entries
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("python"))
            .flat_map(|e| {
                [
                    e.path().join("site-packages"),
                    e.path().join("dist-packages"),
                ]
            })
            .filter(|p| p.is_dir())
            .collect();
        found.sort();
        out.extend(found);
    }
    out
}

/// The bundle-reading runtimes one site-packages directory holds, found by reading it:
/// certifi (`requests`), pip's vendored certifi, and bundles other packages ship.
pub fn bundle_runtimes(site: &Path, owner: &Path) -> Vec<Runtime> {
    let mut out = Vec::new();
    for (kind, rel) in [
        (RuntimeKind::Requests, "certifi/cacert.pem"),
        (RuntimeKind::Pip, "pip/_vendor/certifi/cacert.pem"),
    ] {
        let f = site.join(rel);
        if f.is_file() {
            let mut rt = Runtime::new(
                kind,
                owner.to_path_buf(),
                format!("{} ({})", rel, site.display()),
            );
            rt.cafile = Some(f);
            out.push(rt);
        }
    }
    out.extend(bundled::find(site, owner));
    out
}

/// The bundle-reading runtimes of the tree, with host paths (under `root`): every site
/// dir of `usr`, `usr/local` and each `opt/*` prefix.
pub fn runtimes(root: &Path) -> Vec<Runtime> {
    let mut prefixes = vec![root.join("usr"), root.join("usr/local")];
    if let Ok(opt) = std::fs::read_dir(root.join("opt")) {
        let mut more: Vec<PathBuf> = opt.flatten().map(|e| e.path()).collect();
        more.sort();
        prefixes.extend(more);
    }
    prefixes
        .iter()
        .flat_map(|p| site_dirs_of_prefix(p))
        .flat_map(|site| bundle_runtimes(&site, &site))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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
                RuntimeKind::Requests,
                RuntimeKind::Bundled,
                RuntimeKind::Pip
            ]
        );
    }
}
