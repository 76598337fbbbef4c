//! The `Bundle` repair (runtimes with one bundle of their own: certifi for requests and
//! pip, application bundles): a marked block of the missing OS CAs appended to the
//! runtime's own file (patch-bundle, and auto wherever root may write that file), or the
//! variable the runtime reads pointed at the OS bundle (env, and auto for the rest).
//!
//! Why auto prefers the block: a runtime's own file is read in every context it runs in
//! (cron, services, `sudo -u`, `env -i`), a variable only where something sets it.

use super::*;

impl Builder<'_> {
    pub(super) fn bundle_runtime(&mut self, d: &Diagnosis) -> Result<(), ApplyError> {
        if d.missing.is_empty() {
            if !d.not_in_os.is_empty() || !d.distrusted_trusted.is_empty() {
                let target = self.variable_target();
                self.advise(
                    d,
                    "extra-cas-kept",
                    msg!("advice-extra-cas-kept-bundle", target = target.to_string()),
                );
            }
            // A block trustsync appended earlier may hold a CA the OS has since dropped.
            if self.opts.strategy == Strategy::PatchBundle || self.patchable(d) {
                return self.patch_bundle(d);
            }
            return Ok(());
        }
        match self.opts.strategy {
            Strategy::Auto if self.patchable(d) => self.patch_bundle(d),
            // No file of its own to patch (node's roots are compiled in): the variable.
            Strategy::PatchBundle if d.runtime.cafile.is_some() => self.patch_bundle(d),
            Strategy::Env | Strategy::Auto | Strategy::PatchBundle => {
                match managed_var_for(d) {
                    Some(_) => self.need_managed_bundle(),
                    None => self.advise(d, "no-variable", msg!("advice-no-variable")),
                }
                Ok(())
            }
        }
    }

    /// Auto patches a runtime's own bundle only when nobody but root decides what is
    /// there: a regular file (not a link: that would write where the link points) whose
    /// path came from trustsync's own reading or a root-run answer, in directories root
    /// may write (none another user controls, no symlinked directory on the way). Every
    /// other bundle gets the variable instead, so auto never needs `--allow-user-dirs`.
    pub(super) fn patchable(&self, d: &Diagnosis) -> bool {
        if self.opts.strategy != Strategy::Auto {
            return false;
        }
        let Some(cafile) = &d.runtime.cafile else {
            return false;
        };
        if d.runtime.reported_by_uid.is_some() {
            return false;
        }
        let target = self.ctx.logical_path(cafile);
        let regular = matches!(
            self.planner.state(&target),
            Ok((TargetState::File { .. }, _))
        );
        regular && self.planner.check_root_controlled(&target).is_ok()
    }

    pub(super) fn patch_bundle(&mut self, d: &Diagnosis) -> Result<(), ApplyError> {
        let Some(cafile) = &d.runtime.cafile else {
            return Ok(());
        };
        let target = self.ctx.logical_path(cafile);
        if !self.planned.insert(target.clone()) {
            // Another runtime reads the same bundle: its block serves both.
            self.serve(&target);
            return Ok(());
        }
        // The block is rebuilt from the bundle *without* it, so CAs it already carries stay
        // when the OS gains one more.
        let (_, bytes) = self.planner.state(&target)?;
        let Some(bytes) = bytes else {
            self.advise(
                d,
                "not-a-file",
                msg!("advice-not-a-file", target = target.display().to_string()),
            );
            return Ok(());
        };
        let bytes_with_block = bytes.clone();
        let without = marked_block::remove_block(&target, &bytes, PATCH_BLOCK_ID)?.unwrap_or(bytes);
        let upstream = load::parse_bytes(&target, &without).certificates;
        let have: HashSet<[u8; 32]> = upstream.iter().map(Certificate::anchor_key).collect();
        let contents = self.os_cas_outside(&have);
        if contents.is_empty() {
            if marked_block::block_contents(&bytes_with_block, PATCH_BLOCK_ID).is_some() {
                let why = msg!("reason-withdraw-block", runtime = d.runtime.label.clone());
                let withdraw = self
                    .planner
                    .remove_marked_block(&target, PATCH_BLOCK_ID, &why.en())?
                    .said(why);
                self.push(withdraw);
            }
            return Ok(());
        }
        let why = msg!(
            "reason-append-block",
            runtime = d.runtime.label.clone(),
            count = d.missing.len()
        );
        let action = self
            .planner
            .append_marked_block(&target, PATCH_BLOCK_ID, &contents, &why.en())?
            .said(why);
        // A bundle in a directory another user controls (their venv) is theirs: say so and
        // fix the rest, rather than refusing the whole run at apply time.
        match self.planner.check_writable(&target) {
            Err(e @ ApplyError::UserControlledDir { .. }) => {
                self.advise_words(d, "user-owned-bundle", e.to_string());
            }
            _ => self.push(action),
        }
        Ok(())
    }
}
