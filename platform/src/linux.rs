//! The Linux (and BSD-style) system store: which files form it on each distro family, which
//! CAs were added locally, and which are distrusted.
//!
//! Pure file reading, so it compiles everywhere: `--root DIR` points it at a container
//! image, and tests point it at a temp tree. Paths come from the layouts documented by each
//! distro and collected by openssl-probe and rustls-native-certs. Every read goes through
//! [`crate::read::Reader`]: under DIR, a symlink in the tree resolves inside the tree (an
//! image's `ca-certificates.crt -> /etc/shadow` reads the image's `/etc/shadow`, if any),
//! and a FIFO, device or oversized file is a one-line warning, never a hang.

use crate::bundle;
use crate::read::{EntryKind, Reader};
use crate::{StoreCertificate, StoreError, SystemStore};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// One distro family's layout. The first layout whose bundle exists wins.
pub struct Layout {
    pub flavor: &'static str,
    pub bundle: &'static str,
    pub directory: Option<&'static str>,
    /// Where administrators drop their own CAs (the source of "locally added").
    pub local_anchor_dirs: &'static [&'static str],
    /// p11-kit style directories of explicitly distrusted certificates.
    pub blocklist_dirs: &'static [&'static str],
    /// The command that rebuilds the bundle from the sources, run without a shell.
    pub update_command: &'static [&'static str],
}

pub const LAYOUTS: &[Layout] = &[
    Layout {
        flavor: "fedora",
        bundle: "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
        directory: Some("/etc/pki/ca-trust/extracted/pem/directory-hash"),
        local_anchor_dirs: &[
            "/etc/pki/ca-trust/source/anchors",
            "/usr/share/pki/ca-trust-source/anchors",
        ],
        blocklist_dirs: &[
            "/etc/pki/ca-trust/source/blocklist",
            "/etc/pki/ca-trust/source/blacklist",
            "/usr/share/pki/ca-trust-source/blocklist",
            "/usr/share/pki/ca-trust-source/blacklist",
        ],
        update_command: &["update-ca-trust", "extract"],
    },
    Layout {
        flavor: "arch",
        bundle: "/etc/ca-certificates/extracted/tls-ca-bundle.pem",
        directory: Some("/etc/ssl/certs"),
        local_anchor_dirs: &["/etc/ca-certificates/trust-source/anchors"],
        blocklist_dirs: &[
            "/etc/ca-certificates/trust-source/blocklist",
            "/etc/ca-certificates/trust-source/blacklist",
        ],
        update_command: &["update-ca-trust"],
    },
    Layout {
        flavor: "suse",
        bundle: "/var/lib/ca-certificates/ca-bundle.pem",
        directory: Some("/var/lib/ca-certificates/openssl"),
        local_anchor_dirs: &["/etc/pki/trust/anchors", "/usr/share/pki/trust/anchors"],
        blocklist_dirs: &["/etc/pki/trust/blacklist", "/etc/pki/trust/blocklist"],
        update_command: &["update-ca-certificates"],
    },
    Layout {
        // Debian, Ubuntu, Alpine and Gentoo share this layout.
        flavor: "debian",
        bundle: "/etc/ssl/certs/ca-certificates.crt",
        directory: Some("/etc/ssl/certs"),
        local_anchor_dirs: &["/usr/local/share/ca-certificates"],
        blocklist_dirs: &[],
        update_command: &["update-ca-certificates"],
    },
    Layout {
        flavor: "fedora-legacy",
        bundle: "/etc/pki/tls/certs/ca-bundle.crt",
        directory: Some("/etc/pki/tls/certs"),
        local_anchor_dirs: &["/etc/pki/ca-trust/source/anchors"],
        blocklist_dirs: &[],
        update_command: &["update-ca-trust", "extract"],
    },
    Layout {
        flavor: "generic",
        bundle: "/etc/ssl/cert.pem",
        directory: Some("/etc/ssl/certs"),
        local_anchor_dirs: &[],
        blocklist_dirs: &[],
        update_command: &[],
    },
];

/// Debian's configuration of which shipped CAs are enabled (`!` marks a disabled one).
const DEBIAN_CONF: &str = "/etc/ca-certificates.conf";
const DEBIAN_SHARE: &str = "/usr/share/ca-certificates";

/// `root` joined with an absolute path, the way `dpkg --root` reads it.
pub fn under(root: &Path, absolute: &str) -> PathBuf {
    root.join(absolute.trim_start_matches('/'))
}

/// Finds the layout in use under `root`.
pub fn detect_layout(root: &Path) -> Option<&'static Layout> {
    let reader = Reader::under(root);
    LAYOUTS
        .iter()
        .find(|l| reader.is_file(&under(root, l.bundle)))
}

/// The distro family to report: from `os-release` (`ID`, then `ID_LIKE`) when it names one
/// trustsync knows, kept as the layout's own name when that is a variant of the same family
/// (`fedora-legacy`); else the layout's flavor. An unknown `ID` is reported as itself
/// (letters, digits, `.`, `_`, `-` only: the file is the image's, not trustsync's).
pub fn flavor_from_os_release(text: Option<&str>, layout_flavor: &'static str) -> String {
    const FAMILIES: &[(&str, &[&str])] = &[
        (
            "debian",
            &["debian", "ubuntu", "raspbian", "linuxmint", "pop", "kali"],
        ),
        (
            "fedora",
            &[
                "fedora",
                "rhel",
                "centos",
                "rocky",
                "almalinux",
                "amzn",
                "ol",
            ],
        ),
        (
            "suse",
            &[
                "suse",
                "opensuse",
                "sles",
                "opensuse-leap",
                "opensuse-tumbleweed",
            ],
        ),
        ("arch", &["arch", "manjaro", "endeavouros"]),
        ("alpine", &["alpine"]),
    ];
    let Some(text) = text else {
        return layout_flavor.to_string();
    };
    let field = |name: &str| {
        text.lines().find_map(|l| {
            let v = l.trim().strip_prefix(name)?.strip_prefix('=')?;
            Some(v.trim().trim_matches(['"', '\'']).to_ascii_lowercase())
        })
    };
    let id = field("ID").unwrap_or_default();
    let like = field("ID_LIKE").unwrap_or_default();
    let family = std::iter::once(id.as_str())
        .chain(like.split_whitespace())
        .find_map(|name| {
            FAMILIES
                .iter()
                .find(|(_, members)| members.contains(&name))
                .map(|(f, _)| *f)
        });
    match family {
        Some(f) if layout_flavor.starts_with(f) => layout_flavor.to_string(),
        Some(f) => f.to_string(),
        None => {
            let clean: String = id
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
                .take(32)
                .collect();
            if clean.is_empty() {
                layout_flavor.to_string()
            } else {
                clean
            }
        }
    }
}

pub fn read_system_store(root: &Path) -> Result<SystemStore, StoreError> {
    let reader = Reader::under(root);
    let layout = detect_layout(root).ok_or_else(|| StoreError::NotFound {
        root: root.to_path_buf(),
        looked_for: LAYOUTS
            .iter()
            .map(|l| l.bundle)
            .collect::<Vec<_>>()
            .join(", "),
    })?;
    let bundle_path = under(root, layout.bundle);
    let bytes = reader.read(&bundle_path).map_err(|e| StoreError::Io {
        path: bundle_path.clone(),
        source: std::io::Error::other(e.reason()),
    })?;
    // The family the OS says it is (`/etc/os-release`): an Alpine image has Debian's bundle
    // path but is not Debian (no apt, its own update-ca-certificates).
    let os_release = ["etc/os-release", "usr/lib/os-release"]
        .iter()
        .find_map(|rel| reader.read_to_string(&root.join(rel)).ok());
    let mut store = SystemStore {
        flavor: flavor_from_os_release(os_release.as_deref(), layout.flavor),
        bundle: Some(bundle_path.clone()),
        directory: layout.directory.map(|d| under(root, d)),
        update_command: (!layout.update_command.is_empty()).then(|| {
            layout
                .update_command
                .iter()
                .map(|s| s.to_string())
                .collect()
        }),
        ..SystemStore::default()
    };
    store.sources.push(bundle_path.display().to_string());
    let decoded = bundle::decode(&bytes);
    for e in &decoded.errors {
        store
            .warnings
            .push(format!("{}: {e}", bundle_path.display()));
    }
    let origin = bundle_path.display().to_string();
    let mut seen = HashSet::new();
    for der in decoded.certificates {
        if seen.insert(der.clone()) {
            store.trusted.push(StoreCertificate {
                der,
                origin: origin.clone(),
                locally_added: false,
            });
        }
    }

    // Locally added CAs: mark the bundle's copies; warn about anchors not yet merged.
    for dir in layout.local_anchor_dirs {
        let dir = under(root, dir);
        for (path, der) in read_dir_certificates(&reader, &dir, &mut store.warnings) {
            if !store.sources.contains(&dir.display().to_string()) {
                store.sources.push(dir.display().to_string());
            }
            match store.trusted.iter_mut().find(|c| c.der == der) {
                Some(c) => {
                    c.locally_added = true;
                    c.origin = path.display().to_string();
                }
                None => store.warnings.push(format!(
                    "{}: added locally but not in {} yet; run {}",
                    path.display(),
                    bundle_path.display(),
                    layout.update_command.join(" ")
                )),
            }
        }
    }

    // Distrust: p11-kit blocklists and Debian's `!` lines.
    let mut distrusted: Vec<(PathBuf, Vec<u8>)> = Vec::new();
    for dir in layout.blocklist_dirs {
        distrusted.extend(read_dir_certificates(
            &reader,
            &under(root, dir),
            &mut store.warnings,
        ));
    }
    if layout.flavor == "debian" {
        distrusted.extend(debian_disabled(&reader, root, &mut store.warnings));
    }
    for (path, der) in distrusted {
        // A distrusted CA is not trusted, whatever the bundle says.
        store.trusted.retain(|c| c.der != der);
        if !store.distrusted.iter().any(|c| c.der == der) {
            store.distrusted.push(StoreCertificate {
                der,
                origin: path.display().to_string(),
                locally_added: false,
            });
        }
    }
    Ok(store)
}

/// Certificates of Debian's shipped CAs that `/etc/ca-certificates.conf` disables.
fn debian_disabled(
    reader: &Reader,
    root: &Path,
    warnings: &mut Vec<String>,
) -> Vec<(PathBuf, Vec<u8>)> {
    let conf = under(root, DEBIAN_CONF);
    let text = match reader.read_to_string(&conf) {
        Ok(text) => text,
        Err(e) if e.is_missing() => return Vec::new(),
        Err(e) => {
            warnings.push(e.to_string());
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for line in text.lines() {
        let Some(rel) = line.trim().strip_prefix('!') else {
            continue;
        };
        // An absolute entry would replace the share directory in `join`: a file anywhere,
        // outside a `--root` tree too.
        if rel.contains("..") || Path::new(rel).has_root() {
            warnings.push(format!("{}: ignoring odd entry {line:?}", conf.display()));
            continue;
        }
        let path = under(root, DEBIAN_SHARE).join(rel);
        match reader.read(&path) {
            Ok(bytes) => out.extend(
                bundle::decode(&bytes)
                    .certificates
                    .into_iter()
                    .map(|d| (path.clone(), d)),
            ),
            // A disabled CA whose file is gone cannot be trusted by accident either.
            Err(e) if e.is_missing() => {}
            Err(e) => warnings.push(e.to_string()),
        }
    }
    out
}

/// Every certificate in the regular files directly below or nested in `dir` (anchor
/// directories may have subfolders, as Debian's does). Symlinks are not followed: anchors
/// are files an administrator copied in, and a link could point anywhere.
pub fn read_dir_certificates(
    reader: &Reader,
    dir: &Path,
    warnings: &mut Vec<String>,
) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = match reader.list(&d) {
            Ok(e) => e,
            Err(e) if e.is_missing() => continue,
            Err(e) => {
                warnings.push(e.to_string());
                continue;
            }
        };
        for (name, kind) in entries {
            let path = d.join(name);
            match kind {
                EntryKind::Dir => stack.push(path),
                EntryKind::File => match reader.read(&path) {
                    Ok(bytes) => {
                        let decoded = bundle::decode(&bytes);
                        for e in decoded.errors {
                            warnings.push(format!("{}: {e}", path.display()));
                        }
                        out.extend(decoded.certificates.into_iter().map(|c| (path.clone(), c)));
                    }
                    Err(e) => warnings.push(e.to_string()),
                },
                EntryKind::Symlink | EntryKind::Other => {}
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flavor_comes_from_os_release() {
        let alpine = "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.20.0\n";
        assert_eq!(flavor_from_os_release(Some(alpine), "debian"), "alpine");
        let ubuntu = "ID=ubuntu\nID_LIKE=debian\n";
        assert_eq!(flavor_from_os_release(Some(ubuntu), "debian"), "debian");
        let rocky = "ID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\n";
        assert_eq!(
            flavor_from_os_release(Some(rocky), "fedora-legacy"),
            "fedora-legacy"
        );
        assert_eq!(
            flavor_from_os_release(Some("ID=nixos\n"), "generic"),
            "nixos"
        );
        assert_eq!(
            flavor_from_os_release(Some("ID=\"\x1b[31m\"\n"), "generic"),
            "31m"
        );
        assert_eq!(flavor_from_os_release(None, "debian"), "debian");
    }

    fn cert_pem(der: &[u8]) -> String {
        pem::encode(&pem::Pem::new("CERTIFICATE", der.to_vec()))
    }

    fn write(root: &Path, rel: &str, data: &str) {
        let p = under(root, rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, data).unwrap();
    }

    #[test]
    fn debian_layout_local_and_disabled() {
        let t = tempfile::tempdir().unwrap();
        let (a, b, local, off) = (
            vec![0x30, 0x01, 0x01],
            vec![0x30, 0x01, 0x02],
            vec![0x30, 0x01, 0x03],
            vec![0x30, 0x01, 0x04],
        );
        write(
            t.path(),
            "/etc/ssl/certs/ca-certificates.crt",
            &[&a, &b, &local, &off, &a].map(|c| cert_pem(c)).concat(),
        );
        write(
            t.path(),
            "/usr/local/share/ca-certificates/corp/proxy.crt",
            &cert_pem(&local),
        );
        write(
            t.path(),
            "/usr/local/share/ca-certificates/new.crt",
            &cert_pem(&[0x30, 0x01, 0x09]),
        );
        write(
            t.path(),
            "/usr/share/ca-certificates/mozilla/Old.crt",
            &cert_pem(&off),
        );
        write(
            t.path(),
            "/etc/ca-certificates.conf",
            "# c\nmozilla/A.crt\n!mozilla/Old.crt\n",
        );
        let s = read_system_store(t.path()).unwrap();
        assert_eq!(s.flavor, "debian");
        let ders: Vec<_> = s.trusted.iter().map(|c| c.der.clone()).collect();
        assert_eq!(
            ders,
            vec![a, b, local.clone()],
            "deduplicated, distrusted removed"
        );
        assert!(
            s.trusted
                .iter()
                .find(|c| c.der == local)
                .unwrap()
                .locally_added
        );
        assert_eq!(s.distrusted.len(), 1);
        assert!(s
            .warnings
            .iter()
            .any(|w| w.contains("new.crt") && w.contains("update-ca-certificates")));
    }

    #[test]
    fn fedora_blocklist_and_missing_store() {
        let t = tempfile::tempdir().unwrap();
        assert!(matches!(
            read_system_store(t.path()),
            Err(StoreError::NotFound { .. })
        ));
        let (a, bad) = (vec![0x30, 0x01, 0x01], vec![0x30, 0x01, 0x02]);
        write(
            t.path(),
            "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
            &(cert_pem(&a) + &cert_pem(&bad)),
        );
        write(
            t.path(),
            "/etc/pki/ca-trust/source/blocklist/bad.pem",
            &cert_pem(&bad),
        );
        let s = read_system_store(t.path()).unwrap();
        assert_eq!(s.flavor, "fedora");
        assert_eq!(s.trusted.len(), 1);
        assert_eq!(s.distrusted[0].der, bad);
        assert_eq!(
            s.update_command.as_deref(),
            Some(&["update-ca-trust".to_string(), "extract".into()][..])
        );
    }
}
