//! `add`/`remove` on Linux: an anchor file `trustsync-<16 hex>.crt` in the distro's admin
//! anchors directory, written through the POSIX fix engine (lock, journal, atomic write, so
//! `undo` reverts it), then the distro's update command. Not FFI: files and one program.

use super::*;
use crate::apply::posix::safe_fs::TargetState;
use crate::apply::posix::{apply_locked, Context, Plan, Planner, StateLock};
use trustsync_platform::linux::detect_layout;
use trustsync_platform::linux_anchors::{self, UpdateError, UpdateRun};

/// Runs the distro's update command; replaced in unit tests, which cannot run the real
/// one against a temp tree.
pub type Updater = Box<dyn FnMut(&[String]) -> Result<UpdateRun, UpdateError>>;

/// Linux: anchor files through the fix engine, then the distro's update command.
pub struct LinuxBackend {
    ctx: Context,
    updater: Updater,
    /// From the last [`StoreBackend::read_store`].
    flavor: String,
    update_command: Option<Vec<String>>,
    last_update: Option<UpdateReport>,
}

/// The anchor file's content: the certificate alone, PEM with Unix line endings
/// (`Certificate::to_pem` writes CRLF, which `update-ca-certificates` would copy into
/// the middle of the bundle).
pub(super) fn anchor_pem(c: &Certificate) -> String {
    let block = ::pem::Pem::new("CERTIFICATE", c.der.clone());
    ::pem::encode_config(
        &block,
        ::pem::EncodeConfig::new().set_line_ending(::pem::LineEnding::LF),
    )
}

impl LinuxBackend {
    /// The live system: root `/`, journal in `/var/lib/trustsync`, the real update
    /// command.
    pub fn system() -> LinuxBackend {
        LinuxBackend::new(
            Context::system(),
            Box::new(|cmd: &[String]| linux_anchors::run_update(cmd)),
        )
    }

    pub fn new(ctx: Context, updater: Updater) -> LinuxBackend {
        LinuxBackend {
            ctx,
            updater,
            flavor: String::new(),
            update_command: None,
            last_update: None,
        }
    }

    /// The anchors directory, as a path inside the context's root.
    fn anchor_dir(&self) -> Result<PathBuf, ManageError> {
        let layout = detect_layout(&self.ctx.root);
        layout
            .and_then(linux_anchors::anchor_dir)
            .map(PathBuf::from)
            .ok_or_else(|| ManageError::Unsupported {
                flavor: layout.map_or("unknown", |l| l.flavor).to_string(),
            })
    }

    fn run_update(&mut self, removing: bool) -> Result<(), ManageError> {
        let Some(mut command) = self.update_command.clone() else {
            return Err(ManageError::Unsupported {
                flavor: self.flavor.clone(),
            });
        };
        if removing {
            command = linux_anchors::update_command_for_removal(&self.flavor, command);
        }
        let run = (self.updater)(&command)?;
        self.last_update = Some(UpdateReport {
            command: run.argv,
            output: run.output,
        });
        Ok(())
    }
}

impl StoreBackend for LinuxBackend {
    fn needs_root(&self) -> bool {
        true
    }

    fn read_store(&mut self) -> Result<OsStore, ManageError> {
        let os = OsStore::read(&self.ctx.root)?;
        self.flavor = os.flavor.clone();
        // The store reader takes it from the distro layout table already.
        self.update_command = os.update_command.clone();
        Ok(os)
    }

    fn add(&mut self, certs: &[Certificate]) -> Result<Vec<Placed>, ManageError> {
        let dir = self.anchor_dir()?;
        let lock = StateLock::acquire(&self.ctx)?;
        let planner = Planner::new(&self.ctx)?;
        let mut actions = Vec::new();
        for d in planner.missing_dirs(&dir)? {
            actions.push(planner.create_dir(
                &d,
                0o755,
                "the distro reads locally added CAs from here",
            )?);
        }
        let mut targets = Vec::new();
        for c in certs {
            let target = dir.join(linux_anchors::anchor_file_name(&c.sha256));
            actions.push(planner.write_file(
                &target,
                anchor_pem(c).into_bytes(),
                0o644,
                &format!(
                    "trust {} (SHA-256 {}) as a locally added CA",
                    c.display_name(),
                    c.fingerprint()
                ),
            )?);
            targets.push(target);
        }
        let plan = Plan::new(actions).without_satisfied();
        if !plan.is_empty() {
            apply_locked(&plan, &self.ctx, &lock)?;
        }
        self.run_update(false)?;
        Ok(targets
            .into_iter()
            .map(|t| Placed {
                written: plan.actions.iter().any(|a| a.target == t),
                location: t.display().to_string(),
            })
            .collect())
    }

    fn remove(&mut self, fingerprint: &[u8; 32]) -> Result<RemoveResult, ManageError> {
        let dir = self.anchor_dir()?;
        let target = dir.join(linux_anchors::anchor_file_name(fingerprint));
        let fingerprint_hex = hex::encode(fingerprint);
        // Decide before taking the lock, so a refusal leaves no trace (not even the
        // state directory); the engine re-checks the digest under the lock.
        let planner = Planner::new(&self.ctx)?;
        let (state, bytes) = planner.state(&target)?;
        let not_ours = |detail: String| ManageError::NotAddedByTrustsync {
            fingerprint: fingerprint_hex.clone(),
            detail,
        };
        match (&state, bytes) {
            (TargetState::Absent, _) => return Ok(RemoveResult::NotFound),
            (TargetState::File { .. }, Some(bytes)) => {
                if !planner.manages(&target, &state.digest())? {
                    return Err(not_ours(format!(
                        "{} was not written by trustsync (or was changed since)",
                        target.display()
                    )));
                }
                let holds = crate::model::load::parse_bytes(&target, &bytes)
                    .certificates
                    .iter()
                    .any(|c| &c.sha256 == fingerprint);
                if !holds {
                    return Err(not_ours(format!(
                        "{} holds a different certificate",
                        target.display()
                    )));
                }
            }
            _ => {
                return Err(not_ours(format!(
                    "{} is not a regular file",
                    target.display()
                )))
            }
        }
        let lock = StateLock::acquire(&self.ctx)?;
        let plan = Plan::new(vec![planner.remove(
            &target,
            &format!("stop trusting the CA with SHA-256 {fingerprint_hex}, which trustsync added"),
        )?]);
        apply_locked(&plan, &self.ctx, &lock)?;
        self.run_update(true)?;
        Ok(RemoveResult::Removed {
            location: target.display().to_string(),
        })
    }

    fn take_update(&mut self) -> Option<UpdateReport> {
        self.last_update.take()
    }
}

/// After `undo` put back or removed a file in the distro's anchors directory (an `add`
/// undone), the OS bundle still holds the old state until the update command runs again:
/// run it, as `remove` does. Only on a live Linux system (`root` = `/`); `None` when no
/// anchor file was touched.
pub fn refresh_store_after_undo(
    root: &Path,
    touched: &[PathBuf],
) -> Option<
    Result<
        trustsync_platform::linux_anchors::UpdateRun,
        trustsync_platform::linux_anchors::UpdateError,
    >,
> {
    use trustsync_platform::{linux, linux_anchors};
    if root != Path::new("/") {
        return None;
    }
    let layout = linux::detect_layout(root)?;
    let dir = linux_anchors::anchor_dir(layout)?;
    if !touched.iter().any(|p| p.starts_with(dir)) {
        return None;
    }
    let command: Vec<String> = layout
        .update_command
        .iter()
        .map(|s| s.to_string())
        .collect();
    Some(linux_anchors::run_update(
        &linux_anchors::update_command_for_removal(layout.flavor, command),
    ))
}
