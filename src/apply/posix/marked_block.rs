//! trustsync's marked blocks in files it did not create (patch mode: the OS CAs a bundle
//! lacks, appended between a begin and an end line): find, set, remove and read one, as
//! bytes, so the rest of the file stays exactly as it was.
//!
//! A block id starting with [`KEYSTORE_PREFIX`] names trustsync's entries in a Java
//! keystore instead (`fix` for a JDK's own store): the same set / replace / remove, done
//! in JKS by [`crate::runtimes::java::keystore`], with the block's contents the PEM of the
//! CAs to hold. One id scheme keeps the plan, the engine's digest checks, the journal and
//! `undo` (which removes only trustsync's part of a file changed since) the same for both.
#![forbid(unsafe_code)]

use super::{ApplyError, Result};
use std::path::Path;

/// Begin line of a marked block.
pub fn block_begin_line(block_id: &str) -> String {
    format!("# BEGIN trustsync {block_id} — managed block, remove with `trustsync undo`")
}

/// End line of a marked block.
pub fn block_end_line(block_id: &str) -> String {
    format!("# END trustsync {block_id}")
}

/// Where block `block_id` sits in `text` (byte range covering the begin line through the end
/// line and its newline), `Ok(None)` if absent, `Err(())` if a begin line has no end line.
fn find_block(text: &[u8], block_id: &str) -> std::result::Result<Option<(usize, usize)>, ()> {
    let begin_prefix = format!("# BEGIN trustsync {block_id}");
    let end_line = block_end_line(block_id);
    let mut offset = 0;
    let mut start = None;
    for line in text.split_inclusive(|b| *b == b'\n') {
        let bare = trim_eol(line);
        match start {
            None => {
                if bare.starts_with(begin_prefix.as_bytes())
                    && matches!(bare.get(begin_prefix.len()), None | Some(b' '))
                {
                    start = Some(offset);
                }
            }
            Some(s) => {
                if trim_trailing_space(bare) == end_line.as_bytes() {
                    return Ok(Some((s, offset + line.len())));
                }
            }
        }
        offset += line.len();
    }
    match start {
        Some(_) => Err(()),
        None => Ok(None),
    }
}

fn trim_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn trim_trailing_space(line: &[u8]) -> &[u8] {
    let end = line
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(0, |i| i + 1);
    &line[..end]
}

fn block_text(block_id: &str, contents: &str) -> String {
    let mut block = block_begin_line(block_id);
    block.push('\n');
    block.push_str(contents);
    if !contents.is_empty() && !contents.ends_with('\n') {
        block.push('\n');
    }
    block.push_str(&block_end_line(block_id));
    block.push('\n');
    block
}

/// Block ids of this form are entries in a Java keystore (see the module doc).
pub const KEYSTORE_PREFIX: &str = "jks:";

fn is_keystore(block_id: &str) -> bool {
    block_id.starts_with(KEYSTORE_PREFIX)
}

fn keystore_error(path: &Path, what: String) -> ApplyError {
    ApplyError::InvalidAction {
        path: path.to_path_buf(),
        what: format!("the Java keystore is {what}"),
    }
}

/// `text` with block `block_id` set to `contents`: replaced in place if present, else
/// appended (after a newline if `text` does not end with one). For a keystore id, the
/// store with trustsync's entries set to the certificates of the PEM `contents`.
pub fn upsert_block(path: &Path, text: &[u8], block_id: &str, contents: &str) -> Result<Vec<u8>> {
    if is_keystore(block_id) {
        let ders: Vec<Vec<u8>> = crate::model::load::parse_bytes(path, contents.as_bytes())
            .certificates
            .into_iter()
            .map(|c| c.der)
            .collect();
        return crate::runtimes::java::keystore::set_trustsync_entries(text, &ders)
            .map_err(|e| keystore_error(path, e));
    }
    let block = block_text(block_id, contents);
    match find_block(text, block_id) {
        Ok(Some((start, end))) => {
            let mut out = text[..start].to_vec();
            out.extend_from_slice(block.as_bytes());
            out.extend_from_slice(&text[end..]);
            Ok(out)
        }
        Ok(None) => {
            let mut out = text.to_vec();
            if !out.is_empty() && !out.ends_with(b"\n") {
                out.push(b'\n');
            }
            out.extend_from_slice(block.as_bytes());
            Ok(out)
        }
        Err(()) => Err(ApplyError::MalformedBlock {
            path: path.to_path_buf(),
            block_id: block_id.to_string(),
        }),
    }
}

/// `text` without block `block_id`; `None` when the block is not there.
pub fn remove_block(path: &Path, text: &[u8], block_id: &str) -> Result<Option<Vec<u8>>> {
    if is_keystore(block_id) {
        return crate::runtimes::java::keystore::remove_trustsync_entries(text)
            .map_err(|e| keystore_error(path, e));
    }
    match find_block(text, block_id) {
        Ok(Some((start, end))) => {
            let mut out = text[..start].to_vec();
            out.extend_from_slice(&text[end..]);
            Ok(Some(out))
        }
        Ok(None) => Ok(None),
        Err(()) => Err(ApplyError::MalformedBlock {
            path: path.to_path_buf(),
            block_id: block_id.to_string(),
        }),
    }
}

/// The contents of block `block_id` in `text` as trustsync wrote it (begin..end lines), if
/// present and well formed; undo uses it to tell our block from an edited one.
pub fn block_contents(text: &[u8], block_id: &str) -> Option<Vec<u8>> {
    match find_block(text, block_id) {
        Ok(Some((start, end))) => Some(text[start..end].to_vec()),
        _ => None,
    }
}
