//! Is the OS store itself behind (seed S7)? The newest certifi on the machine is a
//! snapshot of Mozilla's list with a date; roots it trusts that the OS store lacks (and
//! neither distrusts nor are expired) suggest an old `ca-certificates` package. trustsync
//! never adds these itself: it names them and the OS-proper update.

use crate::diagnose::Diagnosis;
use crate::model::cert::{unix_now, CertSummary, Certificate};
use crate::model::load::{self, FileState};
use crate::model::runtime::version_key;
use crate::model::system::OsStore;
use serde::Serialize;
use std::collections::HashSet;
use std::path::Path;

#[derive(Debug, Clone, Serialize)]
pub struct ReferenceGap {
    /// The bundle compared against (the newest certifi found).
    pub source: String,
    /// certifi's version: the date of its Mozilla snapshot.
    pub version: String,
    /// Roots that bundle trusts and the OS store lacks.
    pub missing: Vec<CertSummary>,
    /// The OS-proper way to update the store.
    pub update: String,
    /// The anchors (subject + key) of `missing`, to set them aside in runtimes' verdicts.
    #[serde(skip)]
    pub anchors: HashSet<[u8; 32]>,
}

/// Compares the OS store with the newest certifi among the diagnosed runtimes.
/// `cache` is the run's file cache: certifi was usually read already for its runtime row.
pub fn check(
    os: &OsStore,
    diagnoses: &[Diagnosis],
    cache: &mut load::Cache,
) -> Option<ReferenceGap> {
    if !os.is_complete_list() {
        return None; // Windows fetches roots on demand: a lacking ROOT store is normal.
    }
    let (_, version, path) = diagnoses
        .iter()
        // A reference is only as good as who could have written it: a far-future "certifi"
        // planted by a user must not become what the OS store is said to lack.
        .filter(|d| d.runtime.reported_by_uid.is_none())
        .filter_map(|d| {
            // Rows with a bundle version are certifi-based (requests, pip): the date of
            // their Mozilla snapshot.
            let v = d.runtime.bundle_version.as_deref()?;
            let path = d.runtime.bundle_path.as_ref()?;
            root_controlled(path).then(|| (version_key(v), v, path))
        })
        .max_by(|a, b| a.0.cmp(&b.0))?;
    let FileState::Loaded(f) = cache.file(path) else {
        return None;
    };
    let known: HashSet<[u8; 32]> = os
        .trusted
        .iter()
        .chain(&os.distrusted)
        .map(Certificate::anchor_key)
        .collect();
    let now = unix_now();
    let missing: Vec<&Certificate> = f
        .certificates
        .iter()
        .filter(|c| c.is_ca && !c.is_expired_at(now) && !known.contains(&c.anchor_key()))
        .collect();
    if missing.is_empty() {
        return None;
    }
    let update = match os.flavor.as_str() {
        "debian" => "apt-get install --only-upgrade ca-certificates (or your distro's equivalent), then update-ca-certificates".to_string(),
        "fedora" | "fedora-legacy" => "dnf upgrade ca-certificates".to_string(),
        "suse" => "zypper update ca-certificates".to_string(),
        "arch" => "pacman -Syu ca-certificates".to_string(),
        "macos" => "install the latest macOS updates".to_string(),
        _ => "update the OS's CA certificates package".to_string(),
    };
    Some(ReferenceGap {
        source: path.display().to_string(),
        version: version.to_string(),
        anchors: missing.iter().map(|c| c.anchor_key()).collect(),
        missing: missing.into_iter().map(CertSummary::from).collect(),
        update,
    })
}

/// True when `path` and every directory above it belong to root (or to the user running
/// trustsync) and no one else can write them (a sticky root-owned directory such as
/// `/tmp` only lets others add names, not replace this one).
#[cfg(unix)]
fn root_controlled(path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let euid = rustix::process::geteuid().as_raw();
    let Ok(real) = std::fs::canonicalize(path) else {
        return false;
    };
    real.ancestors().all(|p| {
        std::fs::symlink_metadata(p).is_ok_and(|m| {
            let sticky_root_dir = m.is_dir() && m.uid() == 0 && m.mode() & 0o1000 != 0;
            (m.uid() == 0 || m.uid() == euid) && (m.mode() & 0o022 == 0 || sticky_root_dir)
        })
    })
}

#[cfg(not(unix))]
fn root_controlled(_path: &Path) -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::runtime::Runtime;
    use trustsync_platform::{StoreCertificate, SystemStore};

    fn ca(cn: &str, year: i32) -> (Vec<u8>, String) {
        let mut p = rcgen::CertificateParams::new(vec![]).unwrap();
        p.distinguished_name.push(rcgen::DnType::CommonName, cn);
        p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        p.not_after = rcgen::date_time_ymd(year, 1, 1);
        let c = p.self_signed(&rcgen::KeyPair::generate().unwrap()).unwrap();
        (c.der().to_vec(), c.pem())
    }

    #[test]
    fn newest_certifi_names_roots_the_os_lacks() {
        let (old_root, old_pem) = ca("In Both", 2099);
        let (_, new_pem) = ca("New Root 2026", 2099);
        let (_, expired_pem) = ca("Expired Root", 2001);
        let os = OsStore::from_platform(SystemStore {
            flavor: "debian".into(),
            trusted: vec![StoreCertificate {
                der: old_root,
                origin: "bundle".into(),
                locally_added: false,
            }],
            ..SystemStore::default()
        });
        let t = tempfile::tempdir().unwrap();
        let older = t.path().join("older.pem");
        let newer = t.path().join("newer.pem");
        std::fs::write(&older, &old_pem).unwrap();
        std::fs::write(&newer, format!("{old_pem}{new_pem}{expired_pem}")).unwrap();
        let mut cache = crate::model::load::Cache::default();
        let diagnoses: Vec<Diagnosis> = [("2023.7.22", &older), ("2026.05.20", &newer)]
            .into_iter()
            .map(|(v, p)| {
                let mut rt =
                    Runtime::new(crate::runtimes::python::REQUESTS, "/py".into(), "py".into());
                rt.cafile = Some(p.clone());
                rt.bundle_version = Some(v.into());
                rt.bundle_path = Some(p.clone());
                crate::diagnose::diagnose(rt, &os, &mut cache)
            })
            .collect();
        let gap = check(&os, &diagnoses, &mut cache).expect("a gap");
        assert_eq!(gap.version, "2026.05.20");
        let names: Vec<&str> = gap.missing.iter().map(|c| c.subject.as_str()).collect();
        assert_eq!(names, vec!["New Root 2026"], "expired roots do not count");
        assert!(gap.update.contains("ca-certificates"));
        assert!(
            check(&os, &diagnoses[..1], &mut cache).is_none(),
            "an older bundle with nothing new: no gap"
        );
    }
}
