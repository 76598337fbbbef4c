//! A fix as data: the [`Action`]s a strategy wants, each with its target, a plain-words
//! reason, the digest of what is at the target now and the digest it will have afterwards.
//!
//! Why data rather than code: `trustsync fix --dry-run` must show exactly what `fix` would
//! do. Strategies build a [`Plan`] with a [`Planner`]; the dry run renders it, the real run
//! hands the same value to [`super::apply`], which refuses to act if any target no longer
//! has the digest recorded here ("changed since planned"). A satisfied action (current
//! digest already equals the result digest) is dropped by [`Plan::without_satisfied`], so a
//! second `fix` plans nothing.
//!
//! Digest strings: lower-case hex SHA-256 of a regular file's bytes; `symlink:<sha256 of the
//! link text>`; `dir`; `absent`; `other` (device, fifo, socket).
#![forbid(unsafe_code)]

use crate::apply::printable;
use std::cell::OnceCell;
use std::ffi::OsStr;
use std::fmt::Write as _;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::journal::{read_journal, Journal};
use super::marked_block::{remove_block, upsert_block, KEYSTORE_PREFIX};
use super::safe_fs::{self, SymlinkPolicy, TargetState, Walk};
use super::{ApplyError, Context, Result};

/// One change to one path. `target` is absolute, as seen inside [`Context::root`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Action {
    #[serde(serialize_with = "path_serde::serialize")]
    pub target: PathBuf,
    #[serde(flatten)]
    pub kind: ActionKind,
    /// Why, in plain words, for the person reading the plan (English: the JSON's).
    pub reason: String,
    /// The same reason as a catalogue message, when the planner's caller gave one
    /// ([`Action::said`]): the human plan shows it in the run's language.
    #[serde(skip)]
    pub reason_msg: Option<crate::i18n::Msg>,
    /// Digest of what was at `target` when planned (see module doc for the forms).
    pub current_digest: String,
    /// Digest `target` will have once the action is applied.
    pub result_digest: String,
}

/// What an [`Action`] does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum ActionKind {
    /// Create a directory (parents must exist or be created by earlier actions).
    CreateDir {
        #[serde(serialize_with = "octal")]
        mode: u32,
    },
    /// Create, or replace a file trustsync created. `bundle` turns on the PEM guards (never
    /// empty, never less than half of the certificates it replaces).
    WriteFile {
        #[serde(skip)]
        contents: Vec<u8>,
        #[serde(serialize_with = "octal")]
        mode: u32,
        bundle: bool,
    },
    /// Create, or replace a symlink trustsync created, pointing at `link_target`.
    Symlink {
        #[serde(serialize_with = "path_serde::serialize")]
        link_target: PathBuf,
    },
    /// Patch mode: insert (or replace in place) a marked block in an existing file.
    AppendMarkedBlock { block_id: String, contents: String },
    /// Patch mode: remove a marked block trustsync added.
    RemoveMarkedBlock { block_id: String },
    /// Remove a file, symlink or empty directory that trustsync created (checked against the
    /// journal when applied).
    Remove,
}

fn octal<S: serde::Serializer>(mode: &u32, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&format!("{mode:04o}"))
}

impl Action {
    /// This action with `why` as its reason: English in `reason` (the JSON), the run's
    /// language in the human plan.
    pub fn said(mut self, why: crate::i18n::Msg) -> Action {
        self.reason = why.en();
        self.reason_msg = Some(why);
        self
    }

    /// The reason in the run's language.
    pub fn reason_text(&self) -> String {
        match &self.reason_msg {
            Some(m) => m.text(),
            None => self.reason.clone(),
        }
    }

    /// True when the target already is what the action would make it.
    pub fn is_satisfied(&self) -> bool {
        self.current_digest == self.result_digest
    }

    /// Short verb for rendering and the journal.
    pub fn verb(&self) -> &'static str {
        match self.kind {
            ActionKind::CreateDir { .. } => "create_dir",
            ActionKind::WriteFile { .. } => "write_file",
            ActionKind::Symlink { .. } => "symlink",
            ActionKind::AppendMarkedBlock { .. } => "append_marked_block",
            ActionKind::RemoveMarkedBlock { .. } => "remove_marked_block",
            ActionKind::Remove => "remove",
        }
    }
}

/// The ordered list of actions a fix will apply.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub actions: Vec<Action>,
}

impl Plan {
    pub fn new(actions: Vec<Action>) -> Self {
        Plan { actions }
    }

    pub fn push(&mut self, action: Action) {
        self.actions.push(action);
    }

    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }

    pub fn len(&self) -> usize {
        self.actions.len()
    }

    /// Drops actions whose target is already in the wanted state (idempotence: a second
    /// `fix` right after the first plans nothing).
    pub fn without_satisfied(self) -> Plan {
        Plan {
            actions: self
                .actions
                .into_iter()
                .filter(|a| !a.is_satisfied())
                .collect(),
        }
    }

    /// JSON for `--json` and `--dry-run --json` (file contents appear as digests only).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    /// The plan for a person: one numbered line per action, then its reason. Paths with
    /// control characters are shown quoted and escaped, so a file name containing a newline
    /// cannot forge a line of the plan.
    pub fn render_human(&self) -> String {
        self.render_as(|n| msg!("plan-changes", count = n))
    }

    /// What a real run did: the plan's list under "Applied. N change(s) made:".
    pub fn render_applied(&self) -> String {
        self.render_as(|n| msg!("plan-changes-made", count = n))
    }

    /// The list of actions under the heading `heading` makes of their number, or
    /// "Nothing to do" for an empty plan.
    fn render_as(&self, heading: fn(usize) -> crate::i18n::Msg) -> String {
        if self.actions.is_empty() {
            return t!("plan-nothing-to-do") + "\n";
        }
        let mut out = heading(self.actions.len()).text() + "\n";
        for (i, a) in self.actions.iter().enumerate() {
            let target = show_path(&a.target);
            let what = match &a.kind {
                ActionKind::CreateDir { mode } => t!(
                    "plan-create-dir",
                    target = target,
                    mode = format!("{mode:04o}")
                ),
                ActionKind::WriteFile {
                    contents,
                    mode,
                    bundle,
                } => t!(
                    "plan-write-file",
                    replace = if a.current_digest == safe_fs::ABSENT {
                        "no"
                    } else {
                        "yes"
                    },
                    target = target,
                    mode = format!("{mode:04o}"),
                    bytes = contents.len(),
                    bundle = if *bundle { "yes" } else { "no" },
                    certs = if *bundle {
                        safe_fs::count_certificates(contents)
                    } else {
                        0
                    }
                ),
                ActionKind::Symlink { link_target } => t!(
                    "plan-symlink",
                    target = target,
                    link = show_path(link_target)
                ),
                ActionKind::AppendMarkedBlock { block_id, contents }
                    if block_id.starts_with(KEYSTORE_PREFIX) =>
                {
                    t!(
                        "plan-keystore-add",
                        count = safe_fs::count_certificates(contents.as_bytes()),
                        target = target
                    )
                }
                ActionKind::AppendMarkedBlock { block_id, contents } => t!(
                    "plan-block-add",
                    block = printable(block_id),
                    target = target,
                    count = safe_fs::count_certificates(contents.as_bytes())
                ),
                ActionKind::RemoveMarkedBlock { block_id }
                    if block_id.starts_with(KEYSTORE_PREFIX) =>
                {
                    t!("plan-keystore-remove", target = target)
                }
                ActionKind::RemoveMarkedBlock { block_id } => t!(
                    "plan-block-remove",
                    block = printable(block_id),
                    target = target
                ),
                ActionKind::Remove => t!("plan-remove", target = target),
            };
            let _ = writeln!(out, "{:>3}. {what}", i + 1);
            let _ = writeln!(
                out,
                "     {}",
                t!("plan-why", reason = printable(&a.reason_text()))
            );
        }
        out
    }
}

/// Path for display: control characters and bytes that are not UTF-8 shown as escapes.
pub fn show_path(p: &Path) -> String {
    crate::term::path(p).into_owned()
}

fn check_block_id(target: &Path, block_id: &str) -> Result<()> {
    let ok = !block_id.is_empty()
        && block_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._:-/".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(ApplyError::InvalidAction {
            path: target.to_path_buf(),
            what: format!("block id {block_id:?} must be ASCII letters, digits and ._:-/"),
        })
    }
}

/// Builds actions, recording the current digest of each target. Reads go through the same
/// symlink-refusing walk the engine uses, so planning already reports unsafe targets.
///
/// A planner plans one run: it reads the journal at most once (on the first
/// [`Planner::journal`] call), so every "is this ours?" question of the plan is answered
/// from the same record.
pub struct Planner<'c> {
    ctx: &'c Context,
    root_fd: OwnedFd,
    journal: OnceCell<Journal>,
}

impl<'c> Planner<'c> {
    pub fn new(ctx: &'c Context) -> Result<Self> {
        Ok(Planner {
            ctx,
            root_fd: safe_fs::open_root(ctx)?,
            journal: OnceCell::new(),
        })
    }

    pub fn context(&self) -> &Context {
        self.ctx
    }

    /// The journal as it was when first asked for (empty when there is no state directory
    /// yet; reading never creates it, so `--dry-run` leaves no trace).
    pub fn journal(&self) -> Result<&Journal> {
        if let Some(journal) = self.journal.get() {
            return Ok(journal);
        }
        let journal = read_journal(self.ctx)?;
        Ok(self.journal.get_or_init(|| journal))
    }

    /// True when trustsync made what is at `target` now (see [`Journal::manages`]).
    pub fn manages(&self, target: &Path, current_digest: &str) -> Result<bool> {
        Ok(current_digest != safe_fs::ABSENT && self.journal()?.manages(target, current_digest))
    }

    /// Refuses, as the engine will, a target whose directory the running user must not
    /// write into (see [`safe_fs::check_dir_writable`]); fine when the directory is missing
    /// (whoever creates it is checked then).
    pub fn check_writable(&self, target: &Path) -> Result<()> {
        let (parent, _) = safe_fs::split_target(target)?;
        match safe_fs::walk_dir(self.ctx, &self.root_fd, &parent, SymlinkPolicy::Strict)? {
            Walk::Found(dir) => {
                safe_fs::check_dir_writable(self.ctx, &dir, &self.ctx.host_path(&parent))
            }
            Walk::Missing { .. } => Ok(()),
        }
    }

    /// [`Self::check_writable`] as if `--allow-user-dirs` were not given: as root, the
    /// directory is root's alone. For choices made without asking (auto's patch).
    pub fn check_root_controlled(&self, target: &Path) -> Result<()> {
        let (parent, _) = safe_fs::split_target(target)?;
        match safe_fs::walk_dir(self.ctx, &self.root_fd, &parent, SymlinkPolicy::Strict)? {
            Walk::Found(dir) => safe_fs::check_dir_writable_with(
                self.ctx,
                &dir,
                &self.ctx.host_path(&parent),
                false,
            ),
            Walk::Missing { .. } => Err(ApplyError::io(
                self.ctx.host_path(&parent),
                std::io::Error::from(std::io::ErrorKind::NotFound),
            )),
        }
    }

    /// What is at `target` now (a missing parent means absent), with a file's bytes.
    pub fn state(&self, target: &Path) -> Result<(TargetState, Option<Vec<u8>>)> {
        let (parent, name) = safe_fs::split_target(target)?;
        match safe_fs::walk_dir(self.ctx, &self.root_fd, &parent, SymlinkPolicy::Strict)? {
            Walk::Missing { .. } => Ok((TargetState::Absent, None)),
            Walk::Found(dir) => safe_fs::inspect(&dir, &name)
                .map_err(|e| ApplyError::io(self.ctx.host_path(target), e)),
        }
    }

    /// Digest of what is at `target` now.
    pub fn current_digest(&self, target: &Path) -> Result<String> {
        Ok(self.state(target)?.0.digest())
    }

    /// Reads a file, following symlinks (resolved inside the root). For content that only
    /// feeds a digest or a copy of a certificate, never for deciding where to write.
    pub fn read_following(&self, path: &Path) -> Result<Option<Vec<u8>>> {
        let mut path = path.to_path_buf();
        for _ in 0..40 {
            let (parent, name) = safe_fs::split_target(&path)?;
            let dir = match safe_fs::walk_dir(
                self.ctx,
                &self.root_fd,
                &parent,
                SymlinkPolicy::FollowAny,
            )? {
                Walk::Missing { .. } => return Ok(None),
                Walk::Found(dir) => dir,
            };
            let (state, bytes) = safe_fs::inspect(&dir, &name)
                .map_err(|e| ApplyError::io(self.ctx.host_path(&path), e))?;
            match state {
                TargetState::Symlink { target, .. } => {
                    path = if target.is_absolute() {
                        target
                    } else {
                        lexical_join(&parent, &target)
                    };
                }
                TargetState::File { .. } => return Ok(bytes),
                _ => return Ok(None),
            }
        }
        Err(ApplyError::io(
            self.ctx.host_path(&path),
            std::io::Error::from(rustix::io::Errno::LOOP),
        ))
    }

    fn action(
        &self,
        target: &Path,
        kind: ActionKind,
        reason: &str,
        result: String,
    ) -> Result<Action> {
        safe_fs::split_target(target)?;
        Ok(Action {
            target: target.to_path_buf(),
            current_digest: self.current_digest(target)?,
            kind,
            reason: reason.to_string(),
            reason_msg: None,
            result_digest: result,
        })
    }

    pub fn create_dir(&self, target: &Path, mode: u32, reason: &str) -> Result<Action> {
        self.action(
            target,
            ActionKind::CreateDir { mode },
            reason,
            safe_fs::DIR.to_string(),
        )
    }

    /// A file trustsync manages (profile snippet, copied certificate).
    pub fn write_file(
        &self,
        target: &Path,
        contents: Vec<u8>,
        mode: u32,
        reason: &str,
    ) -> Result<Action> {
        self.file_action(target, contents, mode, false, reason)
    }

    /// A PEM bundle trustsync manages: refused when empty (here and when applied) or when it
    /// would replace a bundle with fewer than half its certificates (when applied).
    pub fn write_bundle(
        &self,
        target: &Path,
        contents: Vec<u8>,
        mode: u32,
        reason: &str,
    ) -> Result<Action> {
        if safe_fs::count_certificates(&contents) == 0 {
            return Err(ApplyError::EmptyBundle {
                path: self.ctx.host_path(target),
            });
        }
        self.file_action(target, contents, mode, true, reason)
    }

    fn file_action(
        &self,
        target: &Path,
        contents: Vec<u8>,
        mode: u32,
        bundle: bool,
        reason: &str,
    ) -> Result<Action> {
        let digest = safe_fs::sha256_hex(&contents);
        self.action(
            target,
            ActionKind::WriteFile {
                contents,
                mode,
                bundle,
            },
            reason,
            digest,
        )
    }

    pub fn symlink(&self, target: &Path, link_target: &Path, reason: &str) -> Result<Action> {
        self.action(
            target,
            ActionKind::Symlink {
                link_target: link_target.to_path_buf(),
            },
            reason,
            safe_fs::symlink_digest(link_target),
        )
    }

    /// Patch mode: put `contents` between trustsync's begin/end lines in the existing regular
    /// file `target`, replacing a previous block with the same id.
    pub fn append_marked_block(
        &self,
        target: &Path,
        block_id: &str,
        contents: &str,
        reason: &str,
    ) -> Result<Action> {
        check_block_id(target, block_id)?;
        let (state, bytes) = self.state(target)?;
        let bytes = match (state, bytes) {
            (TargetState::File { .. }, Some(b)) => b,
            _ => {
                return Err(ApplyError::InvalidAction {
                    path: self.ctx.host_path(target),
                    what: "patch mode needs an existing regular file".to_string(),
                })
            }
        };
        let new = upsert_block(&self.ctx.host_path(target), &bytes, block_id, contents)?;
        Ok(Action {
            target: target.to_path_buf(),
            current_digest: safe_fs::sha256_hex(&bytes),
            kind: ActionKind::AppendMarkedBlock {
                block_id: block_id.to_string(),
                contents: contents.to_string(),
            },
            reason: reason.to_string(),
            reason_msg: None,
            result_digest: safe_fs::sha256_hex(&new),
        })
    }

    /// Patch mode: remove trustsync's block `block_id` from `target` (satisfied if absent).
    pub fn remove_marked_block(
        &self,
        target: &Path,
        block_id: &str,
        reason: &str,
    ) -> Result<Action> {
        check_block_id(target, block_id)?;
        let (state, bytes) = self.state(target)?;
        let current = state.digest();
        let result = match bytes {
            Some(b) => match remove_block(&self.ctx.host_path(target), &b, block_id)? {
                Some(new) => safe_fs::sha256_hex(&new),
                None => current.clone(),
            },
            None => current.clone(),
        };
        Ok(Action {
            target: target.to_path_buf(),
            current_digest: current,
            kind: ActionKind::RemoveMarkedBlock {
                block_id: block_id.to_string(),
            },
            reason: reason.to_string(),
            reason_msg: None,
            result_digest: result,
        })
    }

    /// Remove something trustsync created (the engine checks the journal).
    pub fn remove(&self, target: &Path, reason: &str) -> Result<Action> {
        self.action(
            target,
            ActionKind::Remove,
            reason,
            safe_fs::ABSENT.to_string(),
        )
    }

    /// `dir` and those of its ancestors that do not exist, outermost first: the directories
    /// a plan must create (with [`Planner::create_dir`]) before writing into `dir`.
    pub fn missing_dirs(&self, dir: &Path) -> Result<Vec<PathBuf>> {
        let mut missing = Vec::new();
        let mut cur = Some(dir);
        while let Some(d) = cur.filter(|d| *d != Path::new("/")) {
            if self.state(d)?.0 != TargetState::Absent {
                break;
            }
            missing.push(d.to_path_buf());
            cur = d.parent();
        }
        missing.reverse();
        Ok(missing)
    }

    /// Opens a logical directory for listing (strict symlink rule); `None` if missing.
    pub fn open_dir(&self, dir: &Path) -> Result<Option<OwnedFd>> {
        match safe_fs::walk_dir(self.ctx, &self.root_fd, dir, SymlinkPolicy::Strict)? {
            Walk::Found(fd) => Ok(Some(fd)),
            Walk::Missing { .. } => Ok(None),
        }
    }
}

/// Joins a relative link text to the directory holding the link, resolving `..` lexically
/// (the directory was already resolved, so this matches what the kernel would do).
fn lexical_join(dir: &Path, rel: &Path) -> PathBuf {
    let mut out = dir.to_path_buf();
    for c in rel.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::Normal(n) => out.push(n),
            _ => {}
        }
    }
    if out.as_os_str().is_empty() {
        out.push("/");
    }
    out
}

/// Paths in JSON: a string when valid UTF-8, else `{"bytes_hex": "..."}` so no file name is
/// ever lost or mangled in the plan or the journal.
pub mod path_serde {
    use super::*;
    use serde::{Deserialize, Deserializer, Serializer};
    use std::os::unix::ffi::OsStrExt;

    #[derive(Serialize, Deserialize)]
    #[serde(untagged)]
    enum Repr {
        Text(String),
        Bytes { bytes_hex: String },
    }

    pub fn serialize<S: Serializer>(p: &Path, s: S) -> std::result::Result<S::Ok, S::Error> {
        match p.to_str() {
            Some(t) => s.serialize_str(t),
            None => Repr::Bytes {
                bytes_hex: hex::encode(p.as_os_str().as_bytes()),
            }
            .serialize(s),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<PathBuf, D::Error> {
        match Repr::deserialize(d)? {
            Repr::Text(t) => Ok(PathBuf::from(t)),
            Repr::Bytes { bytes_hex } => {
                let bytes = hex::decode(bytes_hex).map_err(serde::de::Error::custom)?;
                Ok(PathBuf::from(OsStr::from_bytes(&bytes)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::posix::marked_block::*;

    #[test]
    fn block_is_replaced_not_duplicated() {
        let p = Path::new("/x");
        let once = upsert_block(p, b"base\n", "ca", "A\n").unwrap();
        let twice = upsert_block(p, &once, "ca", "B\n").unwrap();
        let text = String::from_utf8(twice.clone()).unwrap();
        assert_eq!(text.matches("# BEGIN trustsync ca ").count(), 1);
        assert!(text.contains("\nB\n# END trustsync ca\n"));
        assert!(!text.contains("\nA\n"));
        assert_eq!(upsert_block(p, &twice, "ca", "B\n").unwrap(), twice);
        assert_eq!(remove_block(p, &twice, "ca").unwrap().unwrap(), b"base\n");
    }

    #[test]
    fn block_without_end_is_refused_and_ids_do_not_prefix_match() {
        let p = Path::new("/x");
        let broken = format!("{}\nA\n", block_begin_line("ca"));
        assert!(matches!(
            upsert_block(p, broken.as_bytes(), "ca", "B"),
            Err(ApplyError::MalformedBlock { .. })
        ));
        let other = upsert_block(p, b"", "ca2", "X").unwrap();
        assert_eq!(remove_block(p, &other, "ca").unwrap(), None);
        let both = upsert_block(p, &other, "ca", "Y").unwrap();
        let removed = remove_block(p, &both, "ca").unwrap().unwrap();
        assert_eq!(removed, other);
    }

    #[test]
    fn appending_to_text_without_final_newline_adds_one() {
        let out = upsert_block(Path::new("/x"), b"abc", "id", "X").unwrap();
        assert!(out.starts_with(b"abc\n# BEGIN trustsync id "));
        assert!(out.ends_with(b"X\n# END trustsync id\n"));
    }

    #[test]
    fn render_escapes_control_characters_in_paths() {
        let plan = Plan::new(vec![Action {
            target: PathBuf::from("/etc/evil\n  2. remove /etc/passwd"),
            kind: ActionKind::Remove,
            reason: "r".into(),
            reason_msg: None,
            current_digest: "x".into(),
            result_digest: safe_fs::ABSENT.into(),
        }]);
        let text = plan.render_human();
        assert_eq!(text.lines().count(), 3, "{text}");
        assert!(text.contains("\\n"));
    }
}
