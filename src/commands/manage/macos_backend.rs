//! `add`/`remove` on macOS: System.keychain plus admin trust settings through
//! `trustsync_platform::macos` (the Security.framework FFI lives there); this file maps its
//! results and errors.

use super::*;
use trustsync_platform::macos;
use trustsync_platform::macos_trust::{AddOutcome, ManageError as MacError};

/// macOS: System.keychain plus admin-domain trust settings (`trustsync_platform::macos`).
pub struct MacBackend;

const LOCATION: &str = "System.keychain (admin trust settings for TLS)";

fn map(e: MacError) -> ManageError {
    match e {
        MacError::BadFingerprint { input } => ManageError::BadFingerprint { input },
        MacError::NotManaged { fingerprint, .. } => ManageError::NotAddedByTrustsync {
            fingerprint,
            detail: "System.keychain has no item trustsync added for it".into(),
        },
        e @ (MacError::ForeignItem { .. }
        | MacError::AdminDenies { .. }
        | MacError::ForeignSettings { .. }) => ManageError::Backend {
            refused: true,
            message: e.to_string(),
        },
        e => ManageError::Backend {
            refused: false,
            message: e.to_string(),
        },
    }
}

impl StoreBackend for MacBackend {
    fn needs_root(&self) -> bool {
        true
    }

    fn add(&mut self, certs: &[Certificate]) -> Result<Vec<Placed>, ManageError> {
        certs
            .iter()
            .map(|c| {
                macos::add_root(&c.der).map_err(map).map(|o| Placed {
                    location: LOCATION.to_string(),
                    written: o == AddOutcome::Added,
                })
            })
            .collect()
    }

    fn remove(&mut self, fingerprint: &[u8; 32]) -> Result<RemoveResult, ManageError> {
        match macos::remove_root(&hex::encode(fingerprint)) {
            Ok(_) => Ok(RemoveResult::Removed {
                location: LOCATION.to_string(),
            }),
            Err(MacError::NotManaged { .. }) => Ok(RemoveResult::NotFound),
            Err(e) => Err(map(e)),
        }
    }
}
