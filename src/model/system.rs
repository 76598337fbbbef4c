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
    pub warnings: Vec<String>,
}

impl OsStore {
    pub fn read(root: &Path) -> Result<OsStore, StoreError> {
        Ok(Self::from_platform(trustsync_platform::read_system_store(
            root,
        )?))
    }

    /// Parses what the platform reader returned; unparsable entries become warnings.
    pub fn from_platform(raw: SystemStore) -> OsStore {
        let mut warnings = raw.warnings;
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
                    Err(e) => warnings.push(format!("{}: {e}", sc.origin)),
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

    /// Windows fills its ROOT store lazily from Windows Update, so a public root missing
    /// from the store is not evidence that a runtime trusts too much.
    pub fn is_complete_list(&self) -> bool {
        self.flavor != "windows"
    }
}
