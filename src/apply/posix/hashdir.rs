//! Planner for OpenSSL hashed certificate directories (`capath`, `SSL_CERT_DIR`): which
//! `HASH.N` names to create so that OpenSSL finds every CA of the OS store, without a shell
//! and without `c_rehash`.
//!
//! How OpenSSL looks names up (crypto/x509/by_dir.c): for a subject hash `h` it tries
//! `h.0`, `h.1`, … and stops at the first name that does not exist. So names per hash must
//! be consecutive from `.0`; a gap hides everything after it. This planner:
//! - leaves every name it does not manage (per the journal) alone, and counts its index as
//!   taken; a CA already present under its hash (by certificate SHA-256) is not added again;
//! - gives the remaining CAs of a hash the lowest free indices, in order of certificate
//!   SHA-256 (stable across runs whatever order the store lists them in), which closes gaps
//!   instead of leaving them;
//! - rewrites or removes only names it manages (stale links to CAs the OS no longer has).
//!
//! `HASH.rN` (CRL) names and any other name are never touched.
#![forbid(unsafe_code)]

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

use super::plan::{Action, ActionKind, Planner};
use super::safe_fs::{self, TargetState};
use super::{ApplyError, Result};

/// One CA the directory must provide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashEntry {
    /// OpenSSL subject hash, 8 lower-case hex digits (`openssl x509 -subject_hash`).
    pub subject_hash: String,
    /// Logical path of the OS store's file for this CA (link target, or copy source).
    pub source: PathBuf,
    /// SHA-256 of the certificate's DER (its fingerprint), lower-case hex.
    pub sha256: String,
}

/// How entries are materialised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashDirMode {
    /// `HASH.N -> source` symlinks (default: follows OS store updates of the same file).
    Symlink,
    /// `HASH.N` copies (`--copy`, or where a link cannot work, e.g. the runtime runs in a
    /// chroot that cannot see the source).
    Copy,
}

/// An existing `HASH.N` name in the directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExistingEntry {
    pub name: String,
    /// Digest of what is at the name (plan digest format).
    pub current_digest: String,
    /// Fingerprint of the certificate it provides, if it resolves to one.
    pub cert_sha256: Option<String>,
    /// Link text when it is a symlink.
    pub link_target: Option<PathBuf>,
    /// trustsync created it (the journal's newest entry for it wrote `current_digest`).
    pub managed: bool,
}

/// `Some((hash, index))` for the names OpenSSL opens (`%08lx.%d`): the rule is
/// [`crate::model::load::parse_hash_name`]'s, so what is written here is what is read there.
pub fn parse_hash_name(name: &str) -> Option<(&str, u32)> {
    let (_, index) = crate::model::load::parse_hash_name(name)?;
    Some((&name[..8], index))
}

/// SHA-256 of the first certificate's DER in `bytes` (PEM, TRUSTED CERTIFICATE, or a bare
/// DER certificate), decoded by the same code that reads every other bundle.
pub fn certificate_sha256(bytes: &[u8]) -> Option<String> {
    trustsync_platform::bundle::decode(bytes)
        .certificates
        .first()
        .map(|der| safe_fs::sha256_hex(der))
}

/// Reads the `HASH.N` names of `dir` (`None` if the directory is missing), with what each
/// provides and whether trustsync manages it.
pub fn read_listing(planner: &Planner<'_>, dir: &Path) -> Result<Option<Vec<ExistingEntry>>> {
    let ctx = planner.context();
    let journal = planner.journal()?;
    let Some(fd) = planner.open_dir(dir)? else {
        return Ok(None);
    };
    let names = safe_fs::list_dir(&fd).map_err(|e| ApplyError::io(ctx.host_path(dir), e))?;
    let mut out = Vec::new();
    for name in names {
        let Some(text) = name.to_str() else { continue };
        if parse_hash_name(text).is_none() {
            continue;
        }
        let path = dir.join(&name);
        let (state, bytes) =
            safe_fs::inspect(&fd, &name).map_err(|e| ApplyError::io(ctx.host_path(&path), e))?;
        let digest = state.digest();
        let (cert_sha256, link_target) = match &state {
            TargetState::File { .. } => (bytes.as_deref().and_then(certificate_sha256), None),
            TargetState::Symlink { target, .. } => (
                planner
                    .read_following(&path)?
                    .as_deref()
                    .and_then(certificate_sha256),
                Some(target.clone()),
            ),
            _ => (None, None),
        };
        out.push(ExistingEntry {
            name: text.to_string(),
            managed: journal.manages(&path, &digest),
            current_digest: digest,
            cert_sha256,
            link_target,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Some(out))
}

/// Actions that make `dir` provide exactly `entries` under OpenSSL's names, given its
/// current `listing` (see the module doc for the rules). `read_source` supplies file bytes
/// in [`HashDirMode::Copy`]. Pure apart from `read_source`: planning 10,000 entries is
/// O(n log n).
pub fn plan_hashed_dir(
    dir: &Path,
    entries: &[HashEntry],
    listing: &[ExistingEntry],
    mode: HashDirMode,
    read_source: &mut dyn FnMut(&Path) -> Result<Vec<u8>>,
) -> Result<Vec<Action>> {
    let mut wanted: BTreeMap<&str, Vec<&HashEntry>> = BTreeMap::new();
    for e in entries {
        if parse_hash_name(&format!("{}.0", e.subject_hash)).is_none() {
            return Err(ApplyError::InvalidAction {
                path: e.source.clone(),
                what: format!(
                    "subject hash {:?} is not 8 lower-case hex digits",
                    e.subject_hash
                ),
            });
        }
        wanted.entry(e.subject_hash.as_str()).or_default().push(e);
    }
    let mut existing: BTreeMap<&str, BTreeMap<u32, &ExistingEntry>> = BTreeMap::new();
    for x in listing {
        if let Some((hash, index)) = parse_hash_name(&x.name) {
            existing.entry(hash).or_default().insert(index, x);
        }
    }
    let hashes: BTreeSet<&str> = wanted.keys().chain(existing.keys()).copied().collect();
    let empty_wanted = Vec::new();
    let empty_existing = BTreeMap::new();
    let mut actions = Vec::new();

    for hash in hashes {
        let here = existing.get(hash).unwrap_or(&empty_existing);
        let foreign_certs: HashSet<&str> = here
            .values()
            .filter(|x| !x.managed)
            .filter_map(|x| x.cert_sha256.as_deref())
            .collect();
        let mut todo: Vec<&HashEntry> = wanted
            .get(hash)
            .unwrap_or(&empty_wanted)
            .iter()
            .copied()
            .filter(|e| !foreign_certs.contains(e.sha256.as_str()))
            .collect();
        todo.sort_by(|a, b| (&a.sha256, &a.source).cmp(&(&b.sha256, &b.source)));
        todo.dedup_by(|a, b| a.sha256 == b.sha256);

        let mut assigned: HashMap<u32, &HashEntry> = HashMap::new();
        let mut index = 0u32;
        for e in todo {
            while here.get(&index).is_some_and(|x| !x.managed) {
                index += 1;
            }
            assigned.insert(index, e);
            index += 1;
        }
        let mut indices: Vec<u32> = assigned.keys().copied().collect();
        indices.sort_unstable();
        for i in indices {
            let e = assigned[&i];
            let target = dir.join(format!("{hash}.{i}"));
            let current = here.get(&i);
            let already = current.is_some_and(|x| {
                x.cert_sha256.as_deref() == Some(e.sha256.as_str())
                    && match mode {
                        HashDirMode::Symlink => {
                            x.link_target.as_deref() == Some(e.source.as_path())
                        }
                        HashDirMode::Copy => x.link_target.is_none(),
                    }
            });
            if already {
                continue;
            }
            let current_digest = current
                .map(|x| x.current_digest.clone())
                .unwrap_or_else(|| safe_fs::ABSENT.to_string());
            let why = crate::msg!(
                "reason-hash-link",
                dir = dir.display().to_string(),
                name = format!("{hash}.{i}"),
                source = e.source.display().to_string()
            );
            let reason = why.en();
            let action = match mode {
                HashDirMode::Symlink => Action {
                    result_digest: safe_fs::symlink_digest(&e.source),
                    kind: ActionKind::Symlink {
                        link_target: e.source.clone(),
                    },
                    target,
                    reason,
                    reason_msg: Some(why),
                    current_digest,
                },
                HashDirMode::Copy => {
                    let contents = read_source(&e.source)?;
                    Action {
                        result_digest: safe_fs::sha256_hex(&contents),
                        kind: ActionKind::WriteFile {
                            contents,
                            mode: 0o644,
                            bundle: false,
                        },
                        target,
                        reason,
                        reason_msg: Some(why),
                        current_digest,
                    }
                }
            };
            actions.push(action);
        }
        // Names we manage that are no longer needed (a CA left the OS store).
        for (i, x) in here {
            if x.managed && !assigned.contains_key(i) {
                let why = crate::msg!("reason-hash-unlink", name = x.name.clone());
                actions.push(Action {
                    target: dir.join(&x.name),
                    kind: ActionKind::Remove,
                    reason: why.en(),
                    reason_msg: Some(why),
                    current_digest: x.current_digest.clone(),
                    result_digest: safe_fs::ABSENT.to_string(),
                });
            }
        }
    }
    Ok(actions)
}

/// Everything for one hashed directory: a `CreateDir` when it is missing, then the link (or
/// copy) actions. This is what a capath strategy calls.
pub fn plan_dir(
    planner: &Planner<'_>,
    dir: &Path,
    dir_mode: u32,
    entries: &[HashEntry],
    mode: HashDirMode,
) -> Result<Vec<Action>> {
    let mut actions = Vec::new();
    let listing = match read_listing(planner, dir)? {
        Some(listing) => listing,
        None => {
            actions.push(planner.create_dir(
                dir,
                dir_mode,
                "the OpenSSL certificate directory this runtime uses does not exist",
            )?);
            Vec::new()
        }
    };
    let mut read = |p: &Path| -> Result<Vec<u8>> {
        planner.read_following(p)?.ok_or_else(|| {
            ApplyError::io(
                planner.context().host_path(p),
                std::io::Error::from(std::io::ErrorKind::NotFound),
            )
        })
    };
    actions.extend(plan_hashed_dir(dir, entries, &listing, mode, &mut read)?);
    Ok(actions)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(hash: &str, n: u8) -> HashEntry {
        HashEntry {
            subject_hash: hash.to_string(),
            source: PathBuf::from(format!("/store/{hash}-{n}.pem")),
            sha256: format!("{n:02x}").repeat(32),
        }
    }

    fn existing(name: &str, sha: Option<u8>, managed: bool, link: Option<&str>) -> ExistingEntry {
        ExistingEntry {
            name: name.to_string(),
            current_digest: format!("digest-of-{name}"),
            cert_sha256: sha.map(|n| format!("{n:02x}").repeat(32)),
            link_target: link.map(PathBuf::from),
            managed,
        }
    }

    fn no_read(_: &Path) -> Result<Vec<u8>> {
        panic!("not in copy mode")
    }

    fn names(actions: &[Action]) -> Vec<String> {
        actions
            .iter()
            .map(|a| a.target.file_name().unwrap().to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn collisions_are_numbered_consecutively_in_fingerprint_order() {
        let entries = vec![
            entry("aaaaaaaa", 3),
            entry("aaaaaaaa", 1),
            entry("bbbbbbbb", 2),
        ];
        let actions = plan_hashed_dir(
            Path::new("/c"),
            &entries,
            &[],
            HashDirMode::Symlink,
            &mut no_read,
        )
        .unwrap();
        assert_eq!(names(&actions), ["aaaaaaaa.0", "aaaaaaaa.1", "bbbbbbbb.0"]);
        let ActionKind::Symlink { link_target } = &actions[0].kind else {
            panic!()
        };
        assert_eq!(link_target, Path::new("/store/aaaaaaaa-1.pem"));
    }

    #[test]
    fn foreign_names_are_kept_and_their_certs_not_duplicated() {
        let entries = vec![
            entry("aaaaaaaa", 1),
            entry("aaaaaaaa", 2),
            entry("aaaaaaaa", 3),
        ];
        // .0 is someone else's copy of cert 2; .2 is someone else's unrelated file.
        let listing = vec![
            existing("aaaaaaaa.0", Some(2), false, None),
            existing("aaaaaaaa.2", Some(9), false, None),
        ];
        let actions = plan_hashed_dir(
            Path::new("/c"),
            &entries,
            &listing,
            HashDirMode::Symlink,
            &mut no_read,
        )
        .unwrap();
        assert_eq!(names(&actions), ["aaaaaaaa.1", "aaaaaaaa.3"]);
        assert!(actions.iter().all(|a| a.current_digest == safe_fs::ABSENT));
    }

    #[test]
    fn satisfied_managed_names_plan_nothing_and_stale_ones_are_removed() {
        let entries = vec![entry("aaaaaaaa", 1)];
        let listing = vec![
            existing("aaaaaaaa.0", Some(1), true, Some("/store/aaaaaaaa-1.pem")),
            existing("aaaaaaaa.1", Some(7), true, Some("/store/gone.pem")),
            existing("cccccccc.0", Some(8), true, Some("/store/gone2.pem")),
            existing("dddddddd.0", Some(8), false, Some("/elsewhere.pem")),
        ];
        let actions = plan_hashed_dir(
            Path::new("/c"),
            &entries,
            &listing,
            HashDirMode::Symlink,
            &mut no_read,
        )
        .unwrap();
        assert_eq!(names(&actions), ["aaaaaaaa.1", "cccccccc.0"]);
        assert!(actions.iter().all(|a| a.kind == ActionKind::Remove));
    }

    #[test]
    fn removing_a_ca_shifts_later_managed_names_down_so_no_gap_hides_them() {
        let entries = vec![entry("aaaaaaaa", 2)];
        let listing = vec![
            existing("aaaaaaaa.0", Some(1), true, Some("/store/aaaaaaaa-1.pem")),
            existing("aaaaaaaa.1", Some(2), true, Some("/store/aaaaaaaa-2.pem")),
        ];
        let actions = plan_hashed_dir(
            Path::new("/c"),
            &entries,
            &listing,
            HashDirMode::Symlink,
            &mut no_read,
        )
        .unwrap();
        assert_eq!(names(&actions), ["aaaaaaaa.0", "aaaaaaaa.1"]);
        assert_eq!(actions[0].current_digest, "digest-of-aaaaaaaa.0");
        assert_eq!(actions[1].kind, ActionKind::Remove);
    }

    #[test]
    fn names_are_parsed_strictly() {
        assert_eq!(parse_hash_name("5ad8a5d6.0"), Some(("5ad8a5d6", 0)));
        assert_eq!(parse_hash_name("5ad8a5d6.12"), Some(("5ad8a5d6", 12)));
        for bad in [
            "5AD8A5D6.0",
            "5ad8a5d6.r0",
            "5ad8a5d6.01",
            "5ad8a5d.0",
            "x.pem",
            "5ad8a5d6.",
        ] {
            assert_eq!(parse_hash_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn copy_mode_writes_the_source_bytes() {
        let entries = vec![entry("aaaaaaaa", 1)];
        let mut read = |p: &Path| Ok(p.to_string_lossy().as_bytes().to_vec());
        let actions =
            plan_hashed_dir(Path::new("/c"), &entries, &[], HashDirMode::Copy, &mut read).unwrap();
        let ActionKind::WriteFile { contents, .. } = &actions[0].kind else {
            panic!()
        };
        assert_eq!(contents, b"/store/aaaaaaaa-1.pem");
    }
}
