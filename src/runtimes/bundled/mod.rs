//! CA bundles that applications ship inside their packages (seed S4): `httplib2`'s
//! `cacerts.txt` (used by shotgun_api3), botocore's `cacert.pem`, grpc's `roots.pem`, …
//! They never see the OS store's updates or its locally added CAs. Found by walking each
//! interpreter's site-packages (no symlinks followed, shallow), judged like any
//! runtime, and fixed by pointing the application at a fresh bundle through its variable.
//! The walk lists directories through `trustsync_platform::read::Reader` (bounded listings;
//! inside the tree under `--root`).

use crate::discover::Options;
use crate::model::runtime::{Repair, Runtime, RuntimeKind};
use std::path::{Path, PathBuf};
use trustsync_platform::read::{EntryKind, Reader};

/// How deep below site-packages a bundle is looked for (`pkg/sub/dir/file` and so on).
const MAX_DEPTH: usize = 5;

/// File names that are CA bundles when found inside a package.
const BUNDLE_NAMES: &[&str] = &[
    "cacert.pem",
    "cacerts.txt",
    "cacerts.pem",
    "ca-bundle.crt",
    "ca-certificates.crt",
    "roots.pem",
];

/// A CA bundle an application ships inside its package (httplib2, botocore, …).
pub const KIND: RuntimeKind = RuntimeKind {
    name: "bundled",
    repair: Repair::Bundle,
    variable: None,
    cafile_strict: true,
};

/// The family's rows are found in the site-packages of each Python the Python family
/// discovers (it calls [`find`]), so the family itself only judges them.
pub struct Bundled;

impl super::Family for Bundled {
    fn name(&self) -> &'static str {
        "application bundles"
    }

    fn kinds(&self) -> &'static [RuntimeKind] {
        &[KIND]
    }

    fn discover(&self, _opts: &Options) -> Vec<Runtime> {
        Vec::new()
    }
}

/// The package's own variable for a different bundle, where it has one.
pub fn variable_for(package: &str) -> Option<&'static str> {
    match package {
        "httplib2" => Some("HTTPLIB2_CA_CERTS"),
        "botocore" | "boto3" | "awscli" => Some("AWS_CA_BUNDLE"),
        "grpc" | "grpcio" => Some("GRPC_DEFAULT_SSL_ROOTS_FILE_PATH"),
        "certifi" | "requests" => Some("REQUESTS_CA_BUNDLE"),
        _ => None,
    }
}

/// Bundles under one site-packages directory, except certifi's and pip's (their own rows).
pub fn find(site_dir: &Path, interpreter: &Path) -> Vec<Runtime> {
    runtimes_for(site_dir, &find_paths(site_dir), interpreter)
}

/// The bundle files under `site_dir`: the expensive part (a walk of every package), so
/// its result is remembered with the interpreter's probe answer, whose cache entry already
/// watches the site-packages directory that any install or removal changes.
pub fn find_paths(site_dir: &Path) -> Vec<PathBuf> {
    find_paths_in(&Reader::host(), site_dir)
}

/// [`find_paths`] through `reader`: depth-first in name order, symlinks never followed
/// below `site_dir`.
pub fn find_paths_in(reader: &Reader, site_dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    walk(reader, site_dir, site_dir, 1, &mut out);
    out
}

/// Adds the bundles in `dir`, whose entries are at `depth` below `site_dir`.
fn walk(reader: &Reader, site_dir: &Path, dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    let Ok(entries) = reader.list(dir) else {
        return;
    };
    for (name, kind) in entries {
        let n = name.to_string_lossy();
        // Metadata and byte-code caches never hold a bundle an application reads.
        if n.ends_with(".dist-info") || n == "__pycache__" || n.ends_with(".egg-info") {
            continue;
        }
        let path = dir.join(&name);
        match kind {
            EntryKind::Dir if depth < MAX_DEPTH => walk(reader, site_dir, &path, depth + 1, out),
            EntryKind::File if BUNDLE_NAMES.contains(&n.as_ref()) => {
                let Ok(rel) = path.strip_prefix(site_dir) else {
                    continue;
                };
                if rel.starts_with("certifi") || rel.starts_with("pip/_vendor/certifi") {
                    continue;
                }
                out.push(path);
            }
            _ => {}
        }
    }
}

/// One `bundled` runtime per file found by [`find_paths`].
pub fn runtimes_for(site_dir: &Path, paths: &[PathBuf], interpreter: &Path) -> Vec<Runtime> {
    // `botocore/cacert.pem (/root/.pyenv/versions/3.11.7)`: the prefix owning site-packages.
    let prefix = site_dir
        .ancestors()
        .find(|a| a.file_name().is_some_and(|n| n == "lib"))
        .and_then(Path::parent)
        .unwrap_or(site_dir);
    let mut out = Vec::new();
    for path in paths {
        let Ok(rel) = path.strip_prefix(site_dir) else {
            continue;
        };
        let package = rel
            .components()
            .next()
            .map(|c| c.as_os_str().to_string_lossy().to_string())
            .unwrap_or_default();
        let label = format!("{} ({})", rel.display(), prefix.display());
        let mut rt = Runtime::new(KIND, interpreter.to_path_buf(), label);
        rt.cafile = Some(path.clone());
        rt.managed_var = variable_for(&package);
        rt.affects = vec![match variable_for(&package) {
            Some(var) => format!("{package}; point it elsewhere with ${var}"),
            None => format!(
                "{package}; it has no documented variable, so configure it in the application"
            ),
        }];
        out.push(rt);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_app_bundles_but_not_certifi_or_pip() {
        let t = tempfile::tempdir().unwrap();
        for rel in [
            "httplib2/cacerts.txt",
            "certifi/cacert.pem",
            "pip/_vendor/certifi/cacert.pem",
            "botocore/cacert.pem",
            "x/readme.txt",
        ] {
            let p = t.path().join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, b"").unwrap();
        }
        let found = find(t.path(), Path::new("/usr/bin/python3"));
        let labels: Vec<String> = found
            .iter()
            .map(|r| r.label.split(' ').next().unwrap().to_string())
            .collect();
        assert_eq!(labels, vec!["botocore/cacert.pem", "httplib2/cacerts.txt"]);
        assert!(found[1].affects[0].contains("HTTPLIB2_CA_CERTS"));
    }
}
