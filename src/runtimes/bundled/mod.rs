//! CA bundles that applications ship inside their packages (seed S4): `httplib2`'s
//! `cacerts.txt` (used by shotgun_api3), botocore's `cacert.pem`, grpc's `roots.pem`, …
//! They never see the OS store's updates or its locally added CAs. Found by walking each
//! interpreter's site-packages (no symlinks followed, shallow), judged like any
//! runtime, and fixed by pointing the application at a fresh bundle through its variable.
//! The walk lists directories through `trustsync_platform::read::Reader` (bounded listings;
//! inside the tree under `--root`).
//!
//! Applications outside Python ship bundles too (`/opt/<app>/…/cacert.pem`, an app under
//! `/usr/lib/<app>`, a tool unpacked in `~/.local`): [`app_bundles`] walks those places,
//! bounded, and takes a file as a bundle by its content (at least
//! [`MIN_CERTIFICATES`] certificates), looking only at files whose name or extension
//! suggests certificates, so a walk of `/opt` does not read every binary there.

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

/// The family's rows inside site-packages are found through the Python family (it calls
/// [`find`]); its own discovery is [`app_bundles`], the bundles outside Python.
pub struct Bundled;

/// A file holding at least this many certificates is a CA bundle, whatever its name.
pub const MIN_CERTIFICATES: usize = 10;
/// The app walk opens files of at most this size, and at most this many per root: the
/// homes it walks are their owners' to fill (a real bundle is under 1 MiB).
const MAX_APP_BUNDLE_BYTES: u64 = 16 << 20;
const MAX_OPENED_PER_ROOT: usize = 500;

/// Where applications keep bundles of their own, and how deep each is walked.
fn app_roots(opts: &Options) -> Vec<(PathBuf, usize)> {
    let mut roots = vec![
        (PathBuf::from("/opt"), 6),
        (PathBuf::from("/usr/local"), 5),
        (PathBuf::from("/usr/lib"), 3),
    ];
    roots.extend(opts.home_dirs().into_iter().map(|h| (h.join(".local"), 5)));
    roots
}

/// Directories the app walk never enters: Python packages (the Python family reads those,
/// per interpreter), OS anchors and the OS's own certificate trees, and huge trees that
/// hold no application bundle.
const APP_SKIP: &[&str] = &[
    "site-packages",
    "dist-packages",
    "node_modules",
    ".git",
    "ca-certificates",
    "ssl",
    "doc",
    "man",
    "locale",
    "icons",
    "x86_64-linux-gnu",
    "aarch64-linux-gnu",
    "jvm",
    "firmware",
    "modules",
];

/// A name worth opening: a certificate extension, or a name that says certificates.
fn looks_like_bundle(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [".pem", ".crt", ".cer"].iter().any(|e| lower.ends_with(e))
        || ["cacert", "ca-bundle", "cabundle", "roots", "trust", "certs"]
            .iter()
            .any(|w| lower.contains(w))
}

/// How many PEM certificates `bytes` holds.
fn certificate_count(bytes: &[u8]) -> usize {
    const BEGIN: &[u8] = b"-----BEGIN CERTIFICATE-----";
    bytes.windows(BEGIN.len()).filter(|w| *w == BEGIN).count()
}

/// The CA bundles applications keep outside Python, one `bundled` row each.
pub fn app_bundles(reader: &Reader, opts: &Options) -> Vec<Runtime> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (root, depth) in app_roots(opts) {
        if !reader.is_dir(&root) {
            continue;
        }
        let started = std::time::Instant::now();
        let mut entries = 0usize;
        let mut opened = 0usize;
        let mut truncated = false;
        // Listing with walkdir (no symlink followed); each candidate file is then read
        // through the reader, which refuses links, FIFOs and huge files.
        let walk = walkdir::WalkDir::new(&root)
            .min_depth(1)
            .max_depth(depth)
            .follow_links(false)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| {
                let n = e.file_name().to_string_lossy();
                !(e.file_type().is_dir()
                    && (APP_SKIP.contains(&n.as_ref()) || n.starts_with("python")))
            });
        for entry in walk {
            let Ok(entry) = entry else { continue };
            entries += 1;
            if entries > crate::runtimes::python::homes::ENTRIES_PER_ROOT {
                truncated = true;
                break;
            }
            let name = entry.file_name().to_string_lossy();
            if !entry.file_type().is_file() || !looks_like_bundle(&name) {
                continue;
            }
            if entry
                .metadata()
                .map_or(true, |m| m.len() > MAX_APP_BUNDLE_BYTES)
            {
                continue;
            }
            opened += 1;
            if opened > MAX_OPENED_PER_ROOT {
                truncated = true;
                break;
            }
            let path = entry.path();
            let Ok(bytes) = reader.read(path) else {
                continue;
            };
            if certificate_count(&bytes) >= MIN_CERTIFICATES && seen.insert(path.to_path_buf()) {
                out.push(app_runtime(path));
            }
        }
        opts.record(crate::discover::Looked {
            path: root,
            depth,
            entries,
            truncated,
            millis: started.elapsed().as_millis() as u64,
        });
    }
    out
}

fn app_runtime(path: &Path) -> Runtime {
    let mut rt = Runtime::new(KIND, path.to_path_buf(), path.display().to_string());
    rt.cafile = Some(path.to_path_buf());
    rt.affects = vec![
        "the application that ships it; it has no documented variable, so configure it in the application (or `fix --strategy patch-bundle`)".into(),
    ];
    rt
}

impl super::Family for Bundled {
    fn name(&self) -> &'static str {
        "application bundles"
    }

    fn kinds(&self) -> &'static [RuntimeKind] {
        &[KIND]
    }

    fn discover(&self, opts: &Options) -> Vec<Runtime> {
        if opts.scan_common_dirs {
            app_bundles(&Reader::host(), opts)
        } else {
            Vec::new()
        }
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
    fn app_bundles_are_found_by_content_and_huge_files_are_not_opened() {
        let home = tempfile::tempdir().unwrap();
        let cert = "-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n";
        let tool = home.path().join(".local/tool/share");
        std::fs::create_dir_all(&tool).unwrap();
        std::fs::write(tool.join("roots.pem"), cert.repeat(MIN_CERTIFICATES)).unwrap();
        std::fs::write(tool.join("one.pem"), cert).unwrap();
        let huge = cert.repeat((MAX_APP_BUNDLE_BYTES as usize / cert.len()) + 1);
        std::fs::write(tool.join("huge-cacert.pem"), huge).unwrap();
        let mut opts = Options::from_process();
        opts.homes.clear();
        opts.home = Some(home.path().to_path_buf());
        let found: Vec<PathBuf> = app_bundles(&Reader::host(), &opts)
            .into_iter()
            .filter_map(|r| r.cafile)
            .filter(|p| p.starts_with(home.path()))
            .collect();
        assert_eq!(found, vec![tool.join("roots.pem")]);
    }

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
