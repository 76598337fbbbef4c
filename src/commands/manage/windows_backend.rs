//! `add`/`remove` on Windows: the ROOT stores through `trustsync_platform::windows` (the
//! crypt32 FFI lives there); this file maps its results and errors.

use super::*;
use trustsync_platform::windows;
use trustsync_platform::windows_store::StoreEditError;

/// Windows: ROOT stores through crypt32 (`trustsync_platform::windows`).
pub struct WindowsBackend;

fn map(e: StoreEditError) -> ManageError {
    match e {
        StoreEditError::NotAddedByTrustsync {
            fingerprint,
            origins,
        } => ManageError::NotAddedByTrustsync {
            fingerprint,
            detail: format!("its copies in {origins} do not carry trustsync's mark"),
        },
        StoreEditError::BadFingerprint(input) => ManageError::BadFingerprint { input },
        StoreEditError::LocalMachineNotWritable => ManageError::Backend {
            refused: true,
            message: e.to_string(),
        },
        other => ManageError::Backend {
            refused: false,
            message: other.to_string(),
        },
    }
}

impl StoreBackend for WindowsBackend {
    fn needs_root(&self) -> bool {
        false
    }

    fn add(&mut self, certs: &[Certificate]) -> Result<Vec<Placed>, ManageError> {
        certs
            .iter()
            .map(|c| {
                windows::add_root(&c.der).map_err(map).map(|o| Placed {
                    location: o.store.origin(),
                    written: o.added,
                })
            })
            .collect()
    }

    fn remove(&mut self, fingerprint: &[u8; 32]) -> Result<RemoveResult, ManageError> {
        match windows::remove_root(&hex::encode(fingerprint)) {
            Ok(stores) => Ok(RemoveResult::Removed {
                location: stores
                    .iter()
                    .map(|s| s.origin())
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
            Err(StoreEditError::NotFound { .. }) => Ok(RemoveResult::NotFound),
            Err(e) => Err(map(e)),
        }
    }
}
