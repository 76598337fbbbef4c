//! The OS trust store as parsed certificates: the reference every runtime is compared to.

use crate::model::cert::Certificate;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use trustsync_platform::{StoreError, SystemStore};

#[derive(Debug, Clone)]
pub struct OsStore {
    pub flavor: String,
    /// Trusted CAs, deduplicated, in store order.
    pub trusted: Vec<Certificate>,
    /// SHA-256 fingerprints of the trusted CAs an administrator added locally.
    pub locally_added: HashSet<[u8; 32]>,
    pub distrusted: Vec<Certificate>,
    pub sources: Vec<String>,
    pub bundle: Option<PathBuf>,
    pub directory: Option<PathBuf>,
    pub update_command: Option<Vec<String>>,
    /// English for `--json`, with the catalogue message for human output.
    pub warnings: Vec<crate::i18n::Said>,
}

impl OsStore {
    pub fn read(root: &Path) -> Result<OsStore, StoreError> {
        Ok(Self::from_platform(trustsync_platform::read_system_store(
            root,
        )?))
    }

    /// Parses what the platform reader returned; unparsable entries become warnings.
    pub fn from_platform(raw: SystemStore) -> OsStore {
        let mut warnings: Vec<crate::i18n::Said> = raw
            .warnings
            .into_iter()
            .map(crate::i18n::Said::words)
            .collect();
        let mut parse = |list: Vec<trustsync_platform::StoreCertificate>| {
            let mut seen = HashSet::new();
            let mut out = Vec::new();
            let mut local = HashSet::new();
            for sc in list {
                match Certificate::from_der(&sc.der) {
                    Ok(c) => {
                        if seen.insert(c.sha256) {
                            if sc.locally_added {
                                local.insert(c.sha256);
                            }
                            out.push(c);
                        }
                    }
                    Err(e) => {
                        warnings.push(crate::i18n::Said::words(format!("{}: {e}", sc.origin)))
                    }
                }
            }
            (out, local)
        };
        let (trusted, locally_added) = parse(raw.trusted);
        let (distrusted, _) = parse(raw.distrusted);
        OsStore {
            flavor: raw.flavor,
            trusted,
            locally_added,
            distrusted,
            sources: raw.sources,
            bundle: raw.bundle,
            directory: raw.directory,
            update_command: raw.update_command,
            warnings,
        }
    }

    pub fn is_locally_added(&self, c: &Certificate) -> bool {
        self.locally_added.contains(&c.sha256)
    }

    /// Seed S5: when most of the store's CAs are expired or not yet valid at `now`, the
    /// machine's clock is the likelier culprit than the store (every TLS connection then
    /// fails with "certificate has expired" or "not yet valid"). A line to warn with, or
    /// `None`. Stores of fewer than 5 CAs say too little to tell.
    pub fn clock_warning(&self, now: i64) -> Option<crate::i18n::Said> {
        let total = self.trusted.len();
        let expired = self.trusted.iter().filter(|c| c.not_after < now).count();
        let future = self.trusted.iter().filter(|c| c.not_before > now).count();
        if total < 5 || (expired + future) * 2 <= total {
            return None;
        }
        let date = crate::model::cert::format_date(now);
        Some(
            msg!(
                "warning-clock",
                date = date,
                expired = expired,
                total = total,
                future = future
            )
            .into(),
        )
    }

    /// CA lint: for each CA added locally on this machine (the company or proxy root,
    /// where these go wrong), a line naming the clients that will refuse it and why, or
    /// that it is expired or not yet valid at `now`.
    pub fn ca_lint(&self, now: i64) -> Vec<crate::i18n::Said> {
        let mut out = Vec::new();
        for c in self.trusted.iter().filter(|c| self.is_locally_added(c)) {
            let name = c.display_name();
            if let Some(why) = c.rejected_as_ca(false) {
                out.push(msg!("warning-local-ca-refused", name = &name, why = why).into());
            } else if let Some(why) = c.rejected_as_ca(true) {
                out.push(msg!("warning-local-ca-strict", name = &name, why = why).into());
            }
            if c.not_after < now {
                let date = crate::model::cert::format_date(c.not_after);
                out.push(msg!("warning-local-ca-expired", name = &name, date = date).into());
            } else if c.not_before > now {
                let date = crate::model::cert::format_date(c.not_before);
                out.push(msg!("warning-local-ca-not-yet", name = &name, date = date).into());
            }
        }
        out
    }

    /// Windows fills its ROOT store lazily from Windows Update, so a public root missing
    /// from the store is not evidence that a runtime trusts too much.
    pub fn is_complete_list(&self) -> bool {
        self.flavor != "windows"
    }
}

#[cfg(test)]
mod tests {
    use crate::apply::test_support::{ca, os_store};

    #[test]
    fn a_store_mostly_out_of_its_validity_means_the_clock_is_wrong() {
        // Test CAs are valid 2001-2049.
        let certs: Vec<_> = (0..6).map(|i| ca(&format!("Root {i}"))).collect();
        let os = os_store("debian", "/etc/ssl/certs/ca-certificates.crt", &certs);
        let y2026 = 1_796_000_000;
        assert_eq!(os.clock_warning(y2026), None);
        let y2060 = 2_840_000_000;
        let w = os.clock_warning(y2060).expect("a warning in 2060").en;
        assert!(w.contains("6 of the 6 CAs") && w.contains("2059"), "{w}");
        let y1990 = 640_000_000;
        assert!(os
            .clock_warning(y1990)
            .unwrap()
            .en
            .contains("6 are not yet valid"));
        // Too few CAs to tell.
        let few = os_store("debian", "x", &certs[..3]);
        assert_eq!(few.clock_warning(y2060), None);
    }
}
