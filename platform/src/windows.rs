//! The Windows certificate stores through crypt32: the only Windows-specific code in trustsync.
//!
//! It opens stores, copies each certificate's DER and the raw bytes of the properties listed
//! in [`windows_store::PROPERTIES_TO_COPY`] into [`RawStoreEntry`], and performs the writes
//! that `windows_store` decided on. Nothing here decides what anything means: that is
//! `windows_store.rs`, which compiles and is tested on every OS.
//!
//! The `schannel` crate wraps stores and certificate contexts (iteration, DER, friendly name,
//! add, delete). It only opens *logical* system stores, so the *physical* registry stores
//! (needed to know where a root really comes from, and to reach the Enterprise and
//! GroupPolicy locations) are opened with `windows-sys`' `CertOpenStore` and handed to
//! `schannel` to own. Properties schannel has no getter for are read the same way.

use crate::windows_store::{
    self, property, AddOutcome, AddTarget, RawStoreEntry, RawStoreRead, StoreEditError, StoreId,
    StoreLocation, WindowsTrust,
};
use crate::{StoreError, SystemStore};
use schannel::cert_context::CertContext;
use schannel::cert_store::{CertAdd, CertStore, CertStoreBuilder};
use schannel::RawPointer;
use std::io;
use std::time::SystemTime;
use windows_sys::Win32::Foundation::ERROR_FILE_NOT_FOUND;
use windows_sys::Win32::Security::Cryptography as wincrypt;

// The decision code carries its own copies of these ids so it compiles everywhere; make sure
// they are the ones wincrypt.h defines.
const _: () = {
    assert!(property::ENHKEY_USAGE == wincrypt::CERT_ENHKEY_USAGE_PROP_ID);
    assert!(property::FRIENDLY_NAME == wincrypt::CERT_FRIENDLY_NAME_PROP_ID);
    assert!(property::DISALLOWED_FILETIME == wincrypt::CERT_DISALLOWED_FILETIME_PROP_ID);
    assert!(property::DISALLOWED_ENHKEY_USAGE == wincrypt::CERT_DISALLOWED_ENHKEY_USAGE_PROP_ID);
    assert!(property::NOT_BEFORE_FILETIME == wincrypt::CERT_NOT_BEFORE_FILETIME_PROP_ID);
    assert!(property::NOT_BEFORE_ENHKEY_USAGE == wincrypt::CERT_NOT_BEFORE_ENHKEY_USAGE_PROP_ID);
    assert!(property::DESCRIPTION == wincrypt::CERT_DESCRIPTION_PROP_ID);
};

/// Reads every store in [`windows_store::STORES_TO_READ`] and decides what Windows trusts.
pub fn read_system_store() -> Result<SystemStore, StoreError> {
    Ok(read_trust().store)
}

/// Like [`read_system_store`], keeping the `CA` stores' intermediates too.
pub fn read_trust() -> WindowsTrust {
    windows_store::decide(
        &read_stores(windows_store::STORES_TO_READ),
        SystemTime::now(),
    )
}

/// Copies out the given physical stores. A store that does not exist (most machines have no
/// Enterprise or GroupPolicy stores) is skipped; one that cannot be opened is a failure.
pub fn read_stores(ids: &[StoreId]) -> RawStoreRead {
    let mut read = RawStoreRead::default();
    for &id in ids {
        match open_physical_store(id, Access::ReadOnly) {
            Ok(Some(store)) => {
                read.opened.push(id);
                for cert in store.certs() {
                    read.entries.push(copy_entry(id, &cert));
                }
            }
            Ok(None) => {}
            Err(error) => read.failures.push((id, error.to_string())),
        }
    }
    read
}

fn copy_entry(store: StoreId, cert: &CertContext) -> RawStoreEntry {
    RawStoreEntry {
        store,
        der: cert.to_der().to_vec(),
        properties: windows_store::PROPERTIES_TO_COPY
            .iter()
            .filter_map(|&id| property_bytes(cert, id).map(|bytes| (id, bytes)))
            .collect(),
    }
}

/// How [`open_physical_store`] opens a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Read an existing store.
    ReadOnly,
    /// Modify an existing store.
    ReadWrite,
    /// Modify a store, creating it when missing (tests use this to stage policy stores the
    /// way Group Policy or Active Directory would).
    Create,
}

fn location_id(location: StoreLocation) -> u32 {
    match location {
        StoreLocation::CurrentUser => wincrypt::CERT_SYSTEM_STORE_CURRENT_USER_ID,
        StoreLocation::CurrentUserGroupPolicy => {
            wincrypt::CERT_SYSTEM_STORE_CURRENT_USER_GROUP_POLICY_ID
        }
        StoreLocation::LocalMachine => wincrypt::CERT_SYSTEM_STORE_LOCAL_MACHINE_ID,
        StoreLocation::LocalMachineGroupPolicy => {
            wincrypt::CERT_SYSTEM_STORE_LOCAL_MACHINE_GROUP_POLICY_ID
        }
        StoreLocation::LocalMachineEnterprise => {
            wincrypt::CERT_SYSTEM_STORE_LOCAL_MACHINE_ENTERPRISE_ID
        }
    }
}

/// Opens one physical registry store (`CERT_STORE_PROV_SYSTEM_REGISTRY_W`), not the logical
/// system store that merges several. `Ok(None)` when the store does not exist.
pub fn open_physical_store(id: StoreId, access: Access) -> io::Result<Option<CertStore>> {
    let name: Vec<u16> = id
        .name
        .system_name()
        .encode_utf16()
        .chain(std::iter::once(0))
        .collect();
    let mut flags = location_id(id.location) << wincrypt::CERT_SYSTEM_STORE_LOCATION_SHIFT;
    match access {
        Access::ReadOnly => {
            flags |= wincrypt::CERT_STORE_OPEN_EXISTING_FLAG | wincrypt::CERT_STORE_READONLY_FLAG
        }
        Access::ReadWrite => flags |= wincrypt::CERT_STORE_OPEN_EXISTING_FLAG,
        Access::Create => {}
    }
    // SAFETY: `name` is a NUL-terminated UTF-16 string that outlives the call; the other
    // arguments are plain flags. A null return is an error, reported by GetLastError.
    let handle = unsafe {
        wincrypt::CertOpenStore(
            wincrypt::CERT_STORE_PROV_SYSTEM_REGISTRY_W,
            0,
            0,
            flags,
            name.as_ptr().cast(),
        )
    };
    if handle.is_null() {
        let error = io::Error::last_os_error();
        if error.raw_os_error() == Some(ERROR_FILE_NOT_FOUND as i32) {
            return Ok(None);
        }
        return Err(error);
    }
    // SAFETY: `handle` is a store handle we own; CertStore closes it exactly once on drop.
    Ok(Some(unsafe { CertStore::from_ptr(handle) }))
}

/// The bytes of one certificate property, or `None` when the certificate does not have it.
fn property_bytes(cert: &CertContext, id: u32) -> Option<Vec<u8>> {
    // SAFETY: `cert` owns a valid CERT_CONTEXT for the duration of this function.
    let context = unsafe { cert.as_ptr() } as *const wincrypt::CERT_CONTEXT;
    let mut len = 0u32;
    // SAFETY: a null buffer asks for the size only.
    let ok = unsafe {
        wincrypt::CertGetCertificateContextProperty(context, id, std::ptr::null_mut(), &mut len)
    };
    if ok == 0 {
        // Usually CRYPT_E_NOT_FOUND: the certificate does not have this property.
        return None;
    }
    let mut buffer = vec![0u8; len as usize];
    // SAFETY: `buffer` is `len` bytes long, as crypt32 asked.
    let ok = unsafe {
        wincrypt::CertGetCertificateContextProperty(
            context,
            id,
            buffer.as_mut_ptr().cast(),
            &mut len,
        )
    };
    if ok == 0 {
        return None;
    }
    buffer.truncate(len as usize);
    Some(buffer)
}

/// Sets a raw-bytes property (`CRYPT_DATA_BLOB`) on a certificate context.
fn set_property_bytes(cert: &CertContext, id: u32, value: &[u8]) -> io::Result<()> {
    // SAFETY: `cert` owns a valid CERT_CONTEXT for the duration of this function.
    let context = unsafe { cert.as_ptr() } as *const wincrypt::CERT_CONTEXT;
    let blob = wincrypt::CRYPT_INTEGER_BLOB {
        cbData: value.len() as u32,
        pbData: value.as_ptr() as *mut u8,
    };
    // SAFETY: crypt32 copies the blob's bytes; `value` and `blob` outlive the call.
    let ok = unsafe {
        wincrypt::CertSetCertificateContextProperty(
            context,
            id,
            0,
            (&blob as *const wincrypt::CRYPT_INTEGER_BLOB).cast(),
        )
    };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

fn api_error(store: StoreId, operation: &'static str, error: io::Error) -> StoreEditError {
    StoreEditError::Api {
        store: store.origin(),
        operation,
        message: error.to_string(),
    }
}

/// Whether this process may write LocalMachine\ROOT, found by asking for write access the
/// way `add_root` will use it (it fails with "access denied" when not elevated).
pub fn local_machine_root_writable() -> bool {
    CertStoreBuilder::new().open_local_machine("Root").is_ok()
}

/// Adds a CA to LocalMachine\ROOT when elevated, CurrentUser\ROOT otherwise.
pub fn add_root(der: &[u8]) -> Result<AddOutcome, StoreEditError> {
    add_root_to(der, AddTarget::Automatic)
}

/// Adds a CA to the ROOT store `target` picks, marked as trustsync's
/// ([`property::DESCRIPTION`] set to [`windows_store::TRUSTSYNC_MARK`], plus a friendly
/// name) so `remove_root` can later tell it from roots trustsync did not add. A certificate
/// already in that store is left as it is. Refusing non-CA or expired certificates is the
/// caller's job (the core parses certificates; this crate does not).
///
/// Writes go through the logical system store, the way `certutil -addstore` does, so that
/// Windows applies its own rules; for CurrentUser\ROOT that includes the confirmation dialog
/// Windows shows before a user adds a root (declining it makes this fail with
/// "The operation was canceled by the user").
pub fn add_root_to(der: &[u8], target: AddTarget) -> Result<AddOutcome, StoreEditError> {
    let store_id = windows_store::choose_add_store(target, local_machine_root_writable())?;
    let existing = read_stores(&[store_id]);
    if let Some((_, message)) = existing.failures.first() {
        return Err(StoreEditError::Api {
            store: store_id.origin(),
            operation: "read",
            message: message.clone(),
        });
    }
    let outcome = windows_store::plan_add(store_id, &existing.entries, der);
    if !outcome.added {
        return Ok(outcome);
    }
    // The properties go on a standalone context first and are copied into the store with
    // the certificate, so they are written in the same step as the certificate itself.
    let cert = CertContext::new(der).map_err(|e| api_error(store_id, "decode certificate", e))?;
    cert.set_friendly_name(&windows_store::friendly_name_for(&outcome.fingerprint))
        .map_err(|e| api_error(store_id, "set friendly name", e))?;
    set_property_bytes(
        &cert,
        property::DESCRIPTION,
        &windows_store::encode_utf16le(windows_store::TRUSTSYNC_MARK),
    )
    .map_err(|e| api_error(store_id, "mark as added by trustsync", e))?;
    let mut store = match store_id.location {
        StoreLocation::LocalMachine => CertStore::open_local_machine("Root"),
        _ => CertStore::open_current_user("Root"),
    }
    .map_err(|e| api_error(store_id, "open for writing", e))?;
    store
        .add_cert(&cert, CertAdd::New)
        .map_err(|e| api_error(store_id, "add certificate", e))?;
    Ok(outcome)
}

/// Removes the CA with this SHA-256 fingerprint from the ROOT stores `add_root` writes, but
/// only copies carrying trustsync's mark: a root trustsync did not add is refused
/// ([`StoreEditError::NotAddedByTrustsync`]), never deleted. Returns the stores it was
/// removed from.
pub fn remove_root(fingerprint_hex: &str) -> Result<Vec<StoreId>, StoreEditError> {
    let fingerprint = windows_store::parse_fingerprint(fingerprint_hex)?;
    let read = read_stores(windows_store::REMOVABLE_STORES);
    let stores = windows_store::plan_remove(&read.entries, &fingerprint)?;
    for &store_id in &stores {
        let store = open_physical_store(store_id, Access::ReadWrite)
            .map_err(|e| api_error(store_id, "open for writing", e))?
            .ok_or_else(|| StoreEditError::Api {
                store: store_id.origin(),
                operation: "open for writing",
                message: "the store disappeared".into(),
            })?;
        // Collect first, delete after: deleting while enumerating invalidates the
        // enumeration context (and loops forever under Wine 8.0).
        let ours: Vec<CertContext> = store
            .certs()
            .filter(|cert| {
                let entry = copy_entry(store_id, cert);
                entry.sha256() == fingerprint && entry.added_by_trustsync()
            })
            .collect();
        for cert in ours {
            cert.delete()
                .map_err(|e| api_error(store_id, "delete certificate", e))?;
        }
    }
    Ok(stores)
}
