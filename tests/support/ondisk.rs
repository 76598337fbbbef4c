//! "The run applied exactly the dry run", checked against the disk: for every action a dry
//! run printed (`--json` / `Plan::to_json`), what is now at its target has the digest the
//! plan promised, computed here from the bytes, link text and type on disk — not read back
//! from trustsync's own report of what it applied, which is a copy of the plan.

use sha2::{Digest, Sha256};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// What is at `path` now, in the plan's digest forms: `absent`, `dir`,
/// `symlink:<sha256 of the link text>` or the SHA-256 of a regular file's bytes.
pub fn disk_digest(path: &Path) -> String {
    match std::fs::symlink_metadata(path) {
        Err(_) => "absent".to_string(),
        Ok(meta) if meta.is_dir() => "dir".to_string(),
        Ok(meta) if meta.file_type().is_symlink() => {
            let link = std::fs::read_link(path).unwrap();
            let text = link.as_os_str().as_encoded_bytes();
            format!("symlink:{}", hex::encode(Sha256::digest(text)))
        }
        Ok(meta) if meta.is_file() => hex::encode(Sha256::digest(std::fs::read(path).unwrap())),
        Ok(_) => "other".to_string(),
    }
}

/// Asserts that every action of a dry run's `actions` array (non-empty) now holds on disk
/// under `root`: the target's digest is the action's `result_digest`, a written file or
/// made directory has the planned mode, a symlink points where the plan said.
#[track_caller]
pub fn assert_applied(root: &Path, actions: &serde_json::Value) {
    let actions = actions
        .as_array()
        .unwrap_or_else(|| panic!("no actions array: {actions}"));
    assert!(!actions.is_empty(), "a dry run with nothing to check");
    for action in actions {
        let target = action["target"].as_str().expect("target");
        let host = root.join(target.trim_start_matches('/'));
        let want = action["result_digest"].as_str().expect("result_digest");
        assert_eq!(
            disk_digest(&host),
            want,
            "{target} is not what the dry run said it would be: {action}"
        );
        if let Some(mode) = action["mode"].as_str() {
            let planned = u32::from_str_radix(mode, 8).expect("octal mode");
            let meta = std::fs::symlink_metadata(&host).unwrap();
            assert_eq!(
                meta.permissions().mode() & 0o7777,
                planned,
                "{target}: mode differs from the dry run's {mode}"
            );
        }
        if let Some(link) = action["link_target"].as_str() {
            assert_eq!(
                std::fs::read_link(&host).unwrap(),
                Path::new(link),
                "{target}"
            );
        }
    }
}
