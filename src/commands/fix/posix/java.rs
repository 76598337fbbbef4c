//! The Java repair: the OS CAs a JDK's own store lacks, added to that store as entries
//! trustsync marks as its own (`trustsync-<sha256 prefix>`), where
//! [`crate::runtimes::java::store_fix`] allows it and only root can change the file.
//! Everything else is advice (`java-store`): a store the OS feeds, one a variable chose,
//! one reached through a link, another user's JDK, a store trustsync does not rewrite.
//!
//! Why not a variable: the only one every JVM reads, `JAVA_TOOL_OPTIONS`, makes each JVM
//! print "Picked up JAVA_TOOL_OPTIONS" on stderr, which breaks tools that read it.

use super::*;
use crate::runtimes::java::{self, keystore, StoreFix};

impl Builder<'_> {
    pub(super) fn java_runtime(&mut self, d: &Diagnosis) -> Result<(), ApplyError> {
        // A store JSSE gets no anchor from (a PKCS#12 whose certificates are encrypted,
        // opened without a password) lacks every OS CA, though no single one is listed.
        let lacking = !d.missing.is_empty() || self.has(d, "no-trust-anchors");
        let store = match java::store_fix(&d.runtime) {
            StoreFix::Advise(message) => {
                if lacking {
                    self.advise(d, "java-store", message);
                }
                return Ok(());
            }
            StoreFix::Edit(store) => store,
        };
        let target = self.ctx.logical_path(&store);
        if self.opts.strategy == Strategy::Env {
            if lacking {
                let why = msg!(
                    "advice-java-env-strategy",
                    store = target.display().to_string()
                );
                self.advise(d, "java-store", java::owner_advice(&target, why));
            }
            return Ok(());
        }
        if !self.planned.insert(target.clone()) {
            // Two homes share one store: its entries serve both.
            self.serve(&target);
            return Ok(());
        }
        match self.java_action(d, &target) {
            Ok(Some(action)) => self.push(action),
            Ok(None) => {}
            Err(why) => {
                if lacking {
                    self.advise(d, "java-store", java::owner_advice(&target, why));
                }
            }
        }
        Ok(())
    }

    /// The action that gives `target` (the JDK's store) trustsync's entries for the OS CAs
    /// it lacks, or withdraws those the OS no longer trusts; `Err` says why trustsync
    /// leaves the store alone.
    fn java_action(&self, d: &Diagnosis, target: &Path) -> Result<Option<Action>, String> {
        let shown = target.display();
        let bytes = match self.planner.state(target) {
            Ok((TargetState::File { .. }, Some(bytes))) => bytes,
            Ok(_) => return Err(format!("{shown} is not a regular file")),
            Err(e) => return Err(e.to_string()),
        };
        self.planner
            .check_root_controlled(target)
            .map_err(|e| e.to_string())?;
        let ours =
            keystore::remove_trustsync_entries(&bytes).map_err(|e| format!("{shown} is {e}"))?;
        let had_ours = ours.is_some();
        let without = ours.unwrap_or(bytes);
        let ders: Vec<Vec<u8>> = match keystore::parse(&without) {
            Ok(keystore::Keystore::Jks(entries)) => {
                entries.into_iter().map(|(_, der)| der).collect()
            }
            Ok(keystore::Keystore::Unsupported("PKCS#12")) => {
                java::pkcs12::parse(&without)
                    .map_err(|e| format!("{shown} is not a PKCS#12 file JSSE can load: {e}"))?
                    .trusted
            }
            _ => return Err(format!("{shown} is not a JKS or PKCS#12 keystore")),
        };
        let have: HashSet<[u8; 32]> = ders
            .iter()
            .filter_map(|der| Certificate::from_der(der).ok())
            .map(|c| c.anchor_key())
            .collect();
        let contents = self.os_cas_outside(&have);
        let planned = if contents.is_empty() {
            if !had_ours {
                return Ok(None);
            }
            let why = msg!("reason-withdraw-entries", runtime = d.runtime.label.clone());
            self.planner
                .remove_marked_block(target, JAVA_BLOCK_ID, &why.en())
                .map(|a| a.said(why))
        } else {
            // Counted from what is added: a store JSSE gets no anchor from lists none missing.
            let count = contents.matches("-----BEGIN CERTIFICATE-----").count();
            let why = msg!(
                "reason-append-entries",
                runtime = d.runtime.label.clone(),
                count = count
            );
            self.planner
                .append_marked_block(target, JAVA_BLOCK_ID, &contents, &why.en())
                .map(|a| a.said(why))
        };
        planned.map(Some).map_err(|e| e.to_string())
    }
}
