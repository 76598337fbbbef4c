//! Every decision about the Windows certificate stores, as plain code that compiles and is
//! unit-tested on every OS.
//!
//! `windows.rs` (compiled on Windows only) does nothing but call crypt32 and copy out what it
//! returns, in the shapes defined here: per certificate its DER, the physical store it was
//! read from ([`StoreId`]) and the raw bytes of the properties listed in
//! [`PROPERTIES_TO_COPY`]. This module decides what that means: which certificates Windows
//! trusts as TLS roots, which it distrusts, which were added by an administrator or user (the
//! company and proxy roots that runtimes' own bundles lack), where `add` writes, and whether a
//! certificate is one trustsync added and may therefore remove.
//!
//! # Windows fills ROOT lazily
//!
//! Windows does not ship its full root program on disk. `LocalMachine\AuthRoot` starts almost
//! empty, and CryptoAPI downloads a root from Windows Update the first time a chain needs it
//! (unless root auto-update is disabled by policy). So a widely trusted public root that is in
//! a runtime's bundle (certifi, Git for Windows' `ca-bundle.crt`) but not in any store read
//! here is normal, not an "extra" CA to report. The core tells this case apart with
//! `SystemStore::flavor == FLAVOR` (`"windows"`) and [`roots_filled_on_demand`]: on such a
//! store, only CAs the store *distrusts* are problems when a bundle has them, never CAs
//! the store merely lacks.

#![forbid(unsafe_code)]

use crate::{StoreCertificate, SystemStore};
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

/// `SystemStore::flavor` of a store read from Windows.
pub const FLAVOR: &str = "windows";

/// True when the OS store of this flavor downloads roots on demand, so that a public root
/// missing from it must not be reported as an extra CA in a runtime's bundle.
pub fn roots_filled_on_demand(flavor: &str) -> bool {
    flavor == FLAVOR
}

/// The registry location a physical store lives in (`CERT_SYSTEM_STORE_*_ID`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StoreLocation {
    /// `HKCU\Software\Microsoft\SystemCertificates`: what this user added.
    CurrentUser,
    /// `HKCU\Software\Policies\Microsoft\SystemCertificates`: user group policy.
    CurrentUserGroupPolicy,
    /// `HKLM\Software\Microsoft\SystemCertificates`: the machine's own stores.
    LocalMachine,
    /// `HKLM\Software\Policies\Microsoft\SystemCertificates`: machine group policy, where
    /// company IT pushes its roots.
    LocalMachineGroupPolicy,
    /// `HKLM\Software\Microsoft\EnterpriseCertificates`: roots published in Active Directory.
    LocalMachineEnterprise,
}

impl StoreLocation {
    /// How the location is named in origins and messages, the way `certlm`/`certmgr` and
    /// `certutil` users know it.
    pub fn display_name(self) -> &'static str {
        match self {
            StoreLocation::CurrentUser => "CurrentUser",
            StoreLocation::CurrentUserGroupPolicy => "CurrentUser\\GroupPolicy",
            StoreLocation::LocalMachine => "LocalMachine",
            StoreLocation::LocalMachineGroupPolicy => "LocalMachine\\GroupPolicy",
            StoreLocation::LocalMachineEnterprise => "LocalMachine\\Enterprise",
        }
    }

    /// Stores someone on this machine (a user, an administrator, company policy) filled,
    /// as opposed to the machine stores that Windows and Windows Update fill.
    pub fn is_local_addition(self) -> bool {
        !matches!(self, StoreLocation::LocalMachine)
    }
}

/// Which of a location's stores (the `pvPara` name given to `CertOpenStore`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StoreName {
    /// `ROOT`: trusted root CAs.
    Root,
    /// `AuthRoot`: third-party roots Windows Update installed (LocalMachine only).
    AuthRoot,
    /// `CA`: intermediate CAs, used to complete chains but never trusted on their own.
    IntermediateCa,
    /// `Disallowed`: explicitly distrusted certificates.
    Disallowed,
}

impl StoreName {
    /// The system store name crypt32 expects.
    pub fn system_name(self) -> &'static str {
        match self {
            StoreName::Root => "ROOT",
            StoreName::AuthRoot => "AuthRoot",
            StoreName::IntermediateCa => "CA",
            StoreName::Disallowed => "Disallowed",
        }
    }
}

/// One physical store: a location and a store name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StoreId {
    pub location: StoreLocation,
    pub name: StoreName,
}

impl StoreId {
    pub const fn new(location: StoreLocation, name: StoreName) -> StoreId {
        StoreId { location, name }
    }

    /// The origin string recorded on each certificate, e.g. `LocalMachine\GroupPolicy\ROOT`.
    pub fn origin(self) -> String {
        format!(
            "{}\\{}",
            self.location.display_name(),
            self.name.system_name()
        )
    }
}

impl fmt::Display for StoreId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.origin())
    }
}

/// The physical stores read, in the order their certificates are listed. They are opened
/// one by one (the registry provider, not the logical system store) because the logical
/// `CurrentUser\ROOT` view also shows every LocalMachine and policy root: reading physical
/// stores is what lets each certificate keep the place it really came from.
pub const STORES_TO_READ: &[StoreId] = &[
    StoreId::new(StoreLocation::LocalMachine, StoreName::Root),
    StoreId::new(StoreLocation::LocalMachine, StoreName::AuthRoot),
    StoreId::new(StoreLocation::LocalMachine, StoreName::IntermediateCa),
    StoreId::new(StoreLocation::LocalMachine, StoreName::Disallowed),
    StoreId::new(StoreLocation::LocalMachineGroupPolicy, StoreName::Root),
    StoreId::new(
        StoreLocation::LocalMachineGroupPolicy,
        StoreName::IntermediateCa,
    ),
    StoreId::new(
        StoreLocation::LocalMachineGroupPolicy,
        StoreName::Disallowed,
    ),
    StoreId::new(StoreLocation::LocalMachineEnterprise, StoreName::Root),
    StoreId::new(
        StoreLocation::LocalMachineEnterprise,
        StoreName::IntermediateCa,
    ),
    StoreId::new(StoreLocation::LocalMachineEnterprise, StoreName::Disallowed),
    StoreId::new(StoreLocation::CurrentUserGroupPolicy, StoreName::Root),
    StoreId::new(StoreLocation::CurrentUserGroupPolicy, StoreName::Disallowed),
    StoreId::new(StoreLocation::CurrentUser, StoreName::Root),
    StoreId::new(StoreLocation::CurrentUser, StoreName::IntermediateCa),
    StoreId::new(StoreLocation::CurrentUser, StoreName::Disallowed),
];

/// crypt32 property ids (wincrypt.h), repeated here so the decision code compiles on every
/// OS. `windows.rs` checks them against `windows-sys` at compile time.
pub mod property {
    /// `CERT_ENHKEY_USAGE_PROP_ID`: DER `SEQUENCE OF OBJECT IDENTIFIER` restricting what the
    /// certificate is trusted for; an empty sequence means "disabled for all purposes".
    pub const ENHKEY_USAGE: u32 = 9;
    /// `CERT_FRIENDLY_NAME_PROP_ID`: UTF-16LE, NUL-terminated.
    pub const FRIENDLY_NAME: u32 = 11;
    /// `CERT_DISALLOWED_FILETIME_PROP_ID`: 8-byte little-endian FILETIME after which Windows
    /// disables the root (for the usages in `DISALLOWED_ENHKEY_USAGE`, or all if absent).
    pub const DISALLOWED_FILETIME: u32 = 104;
    /// `CERT_DISALLOWED_ENHKEY_USAGE_PROP_ID`: DER EKU sequence the disallowed time applies to.
    pub const DISALLOWED_ENHKEY_USAGE: u32 = 122;
    /// `CERT_NOT_BEFORE_FILETIME_PROP_ID`: certificates issued by this root after this time
    /// are rejected (Microsoft's "NotBefore" partial distrust).
    pub const NOT_BEFORE_FILETIME: u32 = 126;
    /// `CERT_NOT_BEFORE_ENHKEY_USAGE_PROP_ID`: DER EKU sequence the not-before time applies to.
    pub const NOT_BEFORE_ENHKEY_USAGE: u32 = 127;
    /// `CERT_DESCRIPTION_PROP_ID`: UTF-16LE, NUL-terminated; the "Description" field of
    /// certmgr's certificate properties. trustsync's mark on what it added: it holds
    /// exactly [`super::TRUSTSYNC_MARK`]. The application range (`CERT_FIRST_USER_PROP_ID`
    /// and up) would be the tidier place, but Wine 8.0's crypt32, where CI proves
    /// add/remove, rejects those ids; the description is honoured by both. A friendly name
    /// alone would not do: people rename certificates in certmgr all the time, while the
    /// description is rarely touched and an edited one only makes trustsync refuse to remove.
    pub const DESCRIPTION: u32 = 13;
}

/// The properties `windows.rs` copies out for every certificate.
pub const PROPERTIES_TO_COPY: &[u32] = &[
    property::ENHKEY_USAGE,
    property::FRIENDLY_NAME,
    property::DISALLOWED_FILETIME,
    property::DISALLOWED_ENHKEY_USAGE,
    property::NOT_BEFORE_FILETIME,
    property::NOT_BEFORE_ENHKEY_USAGE,
    property::DESCRIPTION,
];

/// The [`property::DESCRIPTION`] trustsync gives the certificates it adds, and the only one
/// that makes a certificate removable by trustsync.
pub const TRUSTSYNC_MARK: &str =
    "trustsync-added/v1: added by trustsync; `trustsync remove` takes it out";

/// `id-kp-serverAuth`, the only usage that matters for TLS runtimes.
pub const SERVER_AUTH_OID: &str = "1.3.6.1.5.5.7.3.1";

/// One certificate as `windows.rs` copies it out of a store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawStoreEntry {
    pub store: StoreId,
    /// `CERT_CONTEXT::pbCertEncoded`.
    pub der: Vec<u8>,
    /// `(property id, CertGetCertificateContextProperty bytes)` for each id in
    /// [`PROPERTIES_TO_COPY`] the certificate has.
    pub properties: Vec<(u32, Vec<u8>)>,
}

impl RawStoreEntry {
    pub fn property(&self, id: u32) -> Option<&[u8]> {
        self.properties
            .iter()
            .find(|(p, _)| *p == id)
            .map(|(_, v)| v.as_slice())
    }

    /// The friendly name, decoded from UTF-16LE without its terminating NUL.
    pub fn friendly_name(&self) -> Option<String> {
        self.property(property::FRIENDLY_NAME).map(decode_utf16le)
    }

    /// True only for certificates carrying trustsync's mark with its exact value.
    pub fn added_by_trustsync(&self) -> bool {
        self.property(property::DESCRIPTION)
            .is_some_and(|bytes| decode_utf16le(bytes) == TRUSTSYNC_MARK)
    }

    pub fn sha256(&self) -> [u8; 32] {
        sha256(&self.der)
    }
}

/// Everything `windows.rs` read: the certificates, and the stores it could not open.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawStoreRead {
    pub entries: Vec<RawStoreEntry>,
    /// Stores that exist but could not be read, with the OS error text.
    pub failures: Vec<(StoreId, String)>,
    /// Stores that were opened (missing stores, which are normal, are not listed).
    pub opened: Vec<StoreId>,
}

/// The Windows store, decided: what [`crate::read_system_store`] returns, plus the
/// intermediates from the `CA` stores, which complete chains but are not trust anchors.
#[derive(Debug, Clone, Default)]
pub struct WindowsTrust {
    pub store: SystemStore,
    pub intermediates: Vec<StoreCertificate>,
}

/// Turns raw store contents into what Windows trusts for TLS server authentication at `now`.
///
/// Rules, in the order they apply:
/// - a certificate in any `Disallowed` store is distrusted, wherever else it appears;
/// - a root whose enhanced-key-usage property is empty ("disabled for all purposes") or
///   lacks serverAuth is distrusted for TLS (revoked by property);
/// - a root whose disallowed time (for serverAuth or all usages) has passed is distrusted;
/// - a root with a future disallowed time or a NotBefore partial distrust stays trusted,
///   with a warning (OpenSSL-style bundles cannot express either);
/// - an unreadable property makes the root untrusted (not distrusted), with a warning;
/// - `ROOT`/`AuthRoot` certificates are trusted; those in a store someone on this machine
///   fills (see [`StoreLocation::is_local_addition`]) or that carry trustsync's mark are
///   `locally_added`, and that origin wins when a certificate is in several stores.
pub fn decide(read: &RawStoreRead, now: SystemTime) -> WindowsTrust {
    let mut store = SystemStore {
        flavor: FLAVOR.to_string(),
        ..SystemStore::default()
    };
    store.sources = read.opened.iter().map(|id| id.origin()).collect();
    for (id, error) in &read.failures {
        store
            .warnings
            .push(format!("{id}: could not be read: {error}"));
    }

    let disallowed_by_store: HashSet<&[u8]> = read
        .entries
        .iter()
        .filter(|e| e.store.name == StoreName::Disallowed)
        .map(|e| e.der.as_slice())
        .collect();

    let mut distrusted: Vec<StoreCertificate> = Vec::new();
    let mut push_distrusted = |entry: &RawStoreEntry| {
        if !distrusted.iter().any(|c| c.der == entry.der) {
            distrusted.push(StoreCertificate {
                der: entry.der.clone(),
                origin: entry.store.origin(),
                locally_added: entry.store.location.is_local_addition(),
            });
        }
    };
    for entry in read
        .entries
        .iter()
        .filter(|e| e.store.name == StoreName::Disallowed)
    {
        push_distrusted(entry);
    }

    let mut trusted: Vec<StoreCertificate> = Vec::new();
    let mut intermediates: Vec<StoreCertificate> = Vec::new();
    for entry in &read.entries {
        let list = match entry.store.name {
            StoreName::Disallowed => continue,
            StoreName::IntermediateCa => &mut intermediates,
            StoreName::Root | StoreName::AuthRoot => &mut trusted,
        };
        if disallowed_by_store.contains(entry.der.as_slice()) {
            continue;
        }
        if entry.store.name != StoreName::IntermediateCa {
            match root_verdict(entry, now) {
                RootVerdict::Trusted => {}
                RootVerdict::TrustedWithWarning(warning) => {
                    store.warnings.push(describe(entry, &warning));
                }
                RootVerdict::Distrusted(reason) => {
                    store
                        .warnings
                        .push(describe(entry, &format!("{reason}; treated as distrusted")));
                    push_distrusted(entry);
                    continue;
                }
                RootVerdict::Unusable(reason) => {
                    store
                        .warnings
                        .push(describe(entry, &format!("{reason}; not trusted")));
                    continue;
                }
            }
        }
        // A root trustsync added to LocalMachine\ROOT is as local as one an administrator
        // added by hand; the mark is the one way to tell it from Windows' own there.
        let locally_added = entry.store.location.is_local_addition() || entry.added_by_trustsync();
        match list.iter_mut().find(|c| c.der == entry.der) {
            Some(existing) => {
                if locally_added && !existing.locally_added {
                    existing.locally_added = true;
                    existing.origin = entry.store.origin();
                }
            }
            None => list.push(StoreCertificate {
                der: entry.der.clone(),
                origin: entry.store.origin(),
                locally_added,
            }),
        }
    }
    // A root distrusted by property in one store is not trusted through another.
    trusted.retain(|c| !distrusted.iter().any(|d| d.der == c.der));

    store.trusted = trusted;
    store.distrusted = distrusted;
    WindowsTrust {
        store,
        intermediates,
    }
}

#[derive(Debug, PartialEq, Eq)]
enum RootVerdict {
    Trusted,
    TrustedWithWarning(String),
    Distrusted(String),
    Unusable(String),
}

fn root_verdict(entry: &RawStoreEntry, now: SystemTime) -> RootVerdict {
    if let Some(bytes) = entry.property(property::ENHKEY_USAGE) {
        match decode_eku(bytes) {
            Ok(usages) if usages.is_empty() => {
                return RootVerdict::Distrusted("disabled for all purposes".into())
            }
            Ok(usages) if !usages.iter().any(|u| u == SERVER_AUTH_OID) => {
                return RootVerdict::Distrusted(
                    "its enhanced key usage property does not allow server authentication".into(),
                )
            }
            Ok(_) => {}
            Err(e) => return RootVerdict::Unusable(format!("enhanced key usage property: {e}")),
        }
    }
    let mut warning = None;
    if let Some(bytes) = entry.property(property::DISALLOWED_FILETIME) {
        let applies = match applies_to_server_auth(entry, property::DISALLOWED_ENHKEY_USAGE) {
            Ok(applies) => applies,
            Err(e) => return RootVerdict::Unusable(e),
        };
        match filetime_to_system_time(bytes) {
            Some(when) if applies && when <= now => {
                return RootVerdict::Distrusted(format!(
                    "disallowed by Windows since {}",
                    format_date(when)
                ))
            }
            Some(when) if applies => {
                warning = Some(format!(
                    "Windows will disallow it from {}",
                    format_date(when)
                ))
            }
            Some(_) => {}
            None => return RootVerdict::Unusable("malformed disallowed-time property".into()),
        }
    }
    if let Some(bytes) = entry.property(property::NOT_BEFORE_FILETIME) {
        let applies = match applies_to_server_auth(entry, property::NOT_BEFORE_ENHKEY_USAGE) {
            Ok(applies) => applies,
            Err(e) => return RootVerdict::Unusable(e),
        };
        match filetime_to_system_time(bytes) {
            Some(when) if applies => {
                let text = format!(
                    "Windows rejects certificates it issued after {}; runtimes' bundles cannot express that partial distrust",
                    format_date(when)
                );
                warning = Some(match warning {
                    Some(w) => format!("{w}; {text}"),
                    None => text,
                });
            }
            Some(_) => {}
            None => return RootVerdict::Unusable("malformed not-before-time property".into()),
        }
    }
    match warning {
        Some(w) => RootVerdict::TrustedWithWarning(w),
        None => RootVerdict::Trusted,
    }
}

/// Whether a time-based restriction applies to serverAuth: its EKU companion property
/// lists the usages it covers, and covers every usage when absent.
fn applies_to_server_auth(entry: &RawStoreEntry, eku_property: u32) -> Result<bool, String> {
    match entry.property(eku_property) {
        None => Ok(true),
        Some(bytes) => decode_eku(bytes)
            .map(|usages| usages.iter().any(|u| u == SERVER_AUTH_OID))
            .map_err(|e| format!("property {eku_property}: {e}")),
    }
}

fn describe(entry: &RawStoreEntry, what: &str) -> String {
    let name = entry
        .friendly_name()
        .filter(|n| !n.is_empty())
        .map(|n| format!(" ({n})"))
        .unwrap_or_default();
    format!(
        "{}: certificate SHA-256 {}{name}: {what}",
        entry.store,
        hex::encode(entry.sha256())
    )
}

/// Decodes an enhanced-key-usage property: DER `SEQUENCE OF OBJECT IDENTIFIER` (the
/// `X509_ENHANCED_KEY_USAGE` encoding crypt32 stores) into dotted OIDs.
pub fn decode_eku(bytes: &[u8]) -> Result<Vec<String>, String> {
    use der_parser::der::{parse_der_oid, parse_der_sequence_of};
    let (rest, sequence) = parse_der_sequence_of(parse_der_oid)(bytes)
        .map_err(|e| format!("not a DER sequence of OIDs: {e}"))?;
    if !rest.is_empty() {
        return Err(format!(
            "{} trailing bytes after the OID sequence",
            rest.len()
        ));
    }
    let items = sequence
        .as_sequence()
        .map_err(|e| format!("not a sequence: {e}"))?;
    items
        .iter()
        .map(|item| {
            item.as_oid()
                .map(|oid| oid.to_id_string())
                .map_err(|e| format!("not an OID: {e}"))
        })
        .collect()
}

/// Encodes dotted OIDs the way crypt32 stores an enhanced-key-usage property; used by the
/// tests and by anyone setting the property through `windows.rs`.
pub fn encode_eku(oids: &[&str]) -> Result<Vec<u8>, String> {
    use der_parser::asn1_rs::{Oid, ToDer};
    let mut content = Vec::new();
    for text in oids {
        let oid: Oid = text
            .parse()
            .map_err(|e| format!("{text}: not an OID: {e:?}"))?;
        content.extend(oid.to_der_vec().map_err(|e| format!("{text}: {e}"))?);
    }
    let mut out = vec![0x30];
    crate::der::push_length(&mut out, content.len());
    out.extend(content);
    Ok(out)
}

/// Seconds between 1601-01-01 (FILETIME's epoch) and 1970-01-01.
const FILETIME_UNIX_OFFSET_SECS: u64 = 11_644_473_600;

/// Decodes an 8-byte little-endian FILETIME (100 ns ticks since 1601) property.
pub fn filetime_to_system_time(bytes: &[u8]) -> Option<SystemTime> {
    let ticks = u64::from_le_bytes(bytes.try_into().ok()?);
    let secs = ticks / 10_000_000;
    let nanos = (ticks % 10_000_000) * 100;
    let since_1601 = std::time::Duration::new(secs, nanos as u32);
    let offset = std::time::Duration::from_secs(FILETIME_UNIX_OFFSET_SECS);
    match since_1601.checked_sub(offset) {
        Some(after_epoch) => UNIX_EPOCH.checked_add(after_epoch),
        None => UNIX_EPOCH.checked_sub(offset - since_1601),
    }
}

/// The inverse of [`filetime_to_system_time`], for tests and for setting properties.
pub fn system_time_to_filetime(time: SystemTime) -> [u8; 8] {
    let since_1601 = match time.duration_since(UNIX_EPOCH) {
        Ok(after) => after + std::time::Duration::from_secs(FILETIME_UNIX_OFFSET_SECS),
        Err(before) => std::time::Duration::from_secs(FILETIME_UNIX_OFFSET_SECS)
            .saturating_sub(before.duration()),
    };
    let ticks = since_1601.as_secs() * 10_000_000 + u64::from(since_1601.subsec_nanos()) / 100;
    ticks.to_le_bytes()
}

/// `YYYY-MM-DD` (UTC), enough for warnings; days-to-date from Howard Hinnant's public-domain
/// civil_from_days, written out to avoid a date crate for one message.
fn format_date(time: SystemTime) -> String {
    let secs = match time.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    };
    let days = secs.div_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

fn decode_utf16le(bytes: &[u8]) -> String {
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|pair| u16::from_le_bytes([pair[0], pair[1]]))
        .take_while(|unit| *unit != 0)
        .collect();
    String::from_utf16_lossy(&units)
}

/// UTF-16LE with a terminating NUL, the shape of a string property.
pub fn encode_utf16le(text: &str) -> Vec<u8> {
    text.encode_utf16()
        .chain(std::iter::once(0))
        .flat_map(u16::to_le_bytes)
        .collect()
}

pub fn sha256(der: &[u8]) -> [u8; 32] {
    Sha256::digest(der).into()
}

// ---------------------------------------------------------------------------------------
// add / remove decisions

/// Errors of `add_root` / `remove_root`, naming the store they concern.
#[derive(Debug, thiserror::Error)]
pub enum StoreEditError {
    #[error("{0:?} is not a SHA-256 fingerprint (64 hex digits, colons allowed)")]
    BadFingerprint(String),
    #[error("LocalMachine\\ROOT cannot be written by this process (run it as an administrator, or add to CurrentUser\\ROOT)")]
    LocalMachineNotWritable,
    #[error("no certificate with SHA-256 {fingerprint} in {searched}")]
    NotFound {
        fingerprint: String,
        searched: String,
    },
    #[error(
        "refusing to remove SHA-256 {fingerprint} from {origins}: trustsync did not add it there"
    )]
    NotAddedByTrustsync {
        fingerprint: String,
        origins: String,
    },
    #[error("{store}: {operation}: {message}")]
    Api {
        store: String,
        operation: &'static str,
        message: String,
    },
}

/// Where the caller wants a root added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddTarget {
    /// LocalMachine\ROOT when this process may write it (an elevated administrator),
    /// CurrentUser\ROOT otherwise.
    Automatic,
    CurrentUser,
    LocalMachine,
}

/// Picks the store `add_root` writes. `local_machine_writable` is whether
/// `windows.rs` could open the LocalMachine ROOT system store for writing, which is exactly
/// "running elevated" without asking the token API a proxy question.
pub fn choose_add_store(
    target: AddTarget,
    local_machine_writable: bool,
) -> Result<StoreId, StoreEditError> {
    let location = match target {
        AddTarget::Automatic if local_machine_writable => StoreLocation::LocalMachine,
        AddTarget::Automatic | AddTarget::CurrentUser => StoreLocation::CurrentUser,
        AddTarget::LocalMachine if local_machine_writable => StoreLocation::LocalMachine,
        AddTarget::LocalMachine => return Err(StoreEditError::LocalMachineNotWritable),
    };
    Ok(StoreId::new(location, StoreName::Root))
}

/// What `add_root` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddOutcome {
    /// The store the certificate is now in.
    pub store: StoreId,
    /// False when the certificate was already there; then nothing was written and, unless
    /// `marked_by_trustsync`, `remove_root` will refuse to remove it.
    pub added: bool,
    /// Whether the copy in `store` carries trustsync's mark.
    pub marked_by_trustsync: bool,
    /// SHA-256 of the certificate, lower-case hex: what `remove_root` takes.
    pub fingerprint: String,
}

/// Decides whether `der` must be written to `store`, given what that store already holds.
/// An existing copy is left alone (and not marked): it was trusted before trustsync came,
/// so trustsync must never be the one to remove it.
pub fn plan_add(store: StoreId, existing: &[RawStoreEntry], der: &[u8]) -> AddOutcome {
    let fingerprint = hex::encode(sha256(der));
    match existing.iter().find(|e| e.store == store && e.der == der) {
        Some(entry) => AddOutcome {
            store,
            added: false,
            marked_by_trustsync: entry.added_by_trustsync(),
            fingerprint,
        },
        None => AddOutcome {
            store,
            added: true,
            marked_by_trustsync: true,
            fingerprint,
        },
    }
}

/// The friendly name given to certificates trustsync adds, so people browsing `certmgr`
/// see who put it there. Not used to decide anything (see [`property::DESCRIPTION`]).
pub fn friendly_name_for(fingerprint_hex: &str) -> String {
    let short = &fingerprint_hex[..fingerprint_hex.len().min(16)];
    format!("trustsync: added by trustsync (SHA-256 {short}...)")
}

/// The stores `remove_root` looks in: the ones `add_root` writes.
pub const REMOVABLE_STORES: &[StoreId] = &[
    StoreId::new(StoreLocation::LocalMachine, StoreName::Root),
    StoreId::new(StoreLocation::CurrentUser, StoreName::Root),
];

/// Parses a SHA-256 fingerprint as people paste it: hex, any case, optional colons/spaces.
pub fn parse_fingerprint(text: &str) -> Result<[u8; 32], StoreEditError> {
    let digits: String = text.chars().filter(|c| !matches!(c, ':' | ' ')).collect();
    let bad = || StoreEditError::BadFingerprint(text.to_string());
    if digits.len() != 64 || !digits.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(bad());
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&digits[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
    }
    Ok(out)
}

/// Which stores `remove_root` deletes the certificate from: every removable store whose copy
/// has exactly this fingerprint and carries trustsync's mark. When the fingerprint is only
/// in copies without the mark, nothing is deleted and the answer is a refusal naming them.
pub fn plan_remove(
    entries: &[RawStoreEntry],
    fingerprint: &[u8; 32],
) -> Result<Vec<StoreId>, StoreEditError> {
    let matching: Vec<&RawStoreEntry> = entries
        .iter()
        .filter(|e| REMOVABLE_STORES.contains(&e.store) && &e.sha256() == fingerprint)
        .collect();
    let fingerprint_hex = hex::encode(fingerprint);
    if matching.is_empty() {
        return Err(StoreEditError::NotFound {
            fingerprint: fingerprint_hex,
            searched: join_origins(REMOVABLE_STORES.iter()),
        });
    }
    let mut ours: Vec<StoreId> = matching
        .iter()
        .filter(|e| e.added_by_trustsync())
        .map(|e| e.store)
        .collect();
    ours.sort();
    ours.dedup();
    if ours.is_empty() {
        return Err(StoreEditError::NotAddedByTrustsync {
            fingerprint: fingerprint_hex,
            origins: join_origins(matching.iter().map(|e| &e.store)),
        });
    }
    Ok(ours)
}

fn join_origins<'a>(ids: impl Iterator<Item = &'a StoreId>) -> String {
    let mut names: Vec<String> = ids.map(|id| id.origin()).collect();
    names.dedup();
    names.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// `SEQUENCE { OID 1.3.6.1.5.5.7.3.1 }`: serverAuth only, as crypt32 stores it.
    const EKU_SERVER_AUTH: &[u8] = &[
        0x30, 0x0a, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01,
    ];
    /// `SEQUENCE { OID 1.3.6.1.5.5.7.3.3 }`: codeSigning only.
    const EKU_CODE_SIGNING: &[u8] = &[
        0x30, 0x0a, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x03,
    ];
    /// An empty sequence: "Disable all purposes for this certificate" in certmgr.
    const EKU_NONE: &[u8] = &[0x30, 0x00];

    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_750_000_000) // 2025-06-15
    }

    fn entry(location: StoreLocation, name: StoreName, der: &[u8]) -> RawStoreEntry {
        RawStoreEntry {
            store: StoreId::new(location, name),
            der: der.to_vec(),
            properties: Vec::new(),
        }
    }

    fn with(mut e: RawStoreEntry, id: u32, value: &[u8]) -> RawStoreEntry {
        e.properties.push((id, value.to_vec()));
        e
    }

    fn read(entries: Vec<RawStoreEntry>) -> RawStoreRead {
        RawStoreRead {
            opened: entries.iter().map(|e| e.store).collect(),
            entries,
            failures: Vec::new(),
        }
    }

    fn origins(list: &[StoreCertificate]) -> Vec<(&[u8], &str, bool)> {
        list.iter()
            .map(|c| (c.der.as_slice(), c.origin.as_str(), c.locally_added))
            .collect()
    }

    use StoreLocation::*;
    use StoreName::*;

    #[test]
    fn origins_name_location_and_store() {
        assert_eq!(
            StoreId::new(LocalMachine, Root).origin(),
            "LocalMachine\\ROOT"
        );
        assert_eq!(
            StoreId::new(LocalMachineGroupPolicy, Root).origin(),
            "LocalMachine\\GroupPolicy\\ROOT"
        );
        assert_eq!(
            StoreId::new(LocalMachineEnterprise, Root).origin(),
            "LocalMachine\\Enterprise\\ROOT"
        );
        assert_eq!(
            StoreId::new(CurrentUser, Disallowed).origin(),
            "CurrentUser\\Disallowed"
        );
        assert_eq!(
            StoreId::new(LocalMachine, IntermediateCa).origin(),
            "LocalMachine\\CA"
        );
    }

    #[test]
    fn machine_roots_are_trusted_and_company_roots_are_local_additions() {
        let trust = decide(
            &read(vec![
                entry(LocalMachine, Root, b"public"),
                entry(LocalMachine, AuthRoot, b"windows-update"),
                entry(LocalMachineGroupPolicy, Root, b"gpo"),
                entry(LocalMachineEnterprise, Root, b"ad"),
                entry(CurrentUser, Root, b"user"),
            ]),
            now(),
        );
        assert_eq!(trust.store.flavor, "windows");
        assert!(roots_filled_on_demand(&trust.store.flavor));
        assert_eq!(
            origins(&trust.store.trusted),
            vec![
                (&b"public"[..], "LocalMachine\\ROOT", false),
                (&b"windows-update"[..], "LocalMachine\\AuthRoot", false),
                (&b"gpo"[..], "LocalMachine\\GroupPolicy\\ROOT", true),
                (&b"ad"[..], "LocalMachine\\Enterprise\\ROOT", true),
                (&b"user"[..], "CurrentUser\\ROOT", true),
            ]
        );
        assert!(trust.store.distrusted.is_empty());
        assert!(
            trust.store.warnings.is_empty(),
            "{:?}",
            trust.store.warnings
        );
    }

    #[test]
    fn a_root_in_several_stores_is_listed_once_with_the_local_origin() {
        let trust = decide(
            &read(vec![
                entry(LocalMachine, Root, b"proxy"),
                entry(LocalMachineGroupPolicy, Root, b"proxy"),
                entry(CurrentUser, Root, b"proxy"),
            ]),
            now(),
        );
        assert_eq!(
            origins(&trust.store.trusted),
            vec![(&b"proxy"[..], "LocalMachine\\GroupPolicy\\ROOT", true)]
        );
    }

    #[test]
    fn a_root_trustsync_added_to_local_machine_is_a_local_addition() {
        let trust = decide(
            &read(vec![
                with(
                    entry(LocalMachine, Root, b"ours"),
                    property::DESCRIPTION,
                    &encode_utf16le(TRUSTSYNC_MARK),
                ),
                with(
                    entry(LocalMachine, Root, b"described"),
                    property::DESCRIPTION,
                    &encode_utf16le("VeriSign Class 3"),
                ),
            ]),
            now(),
        );
        assert_eq!(
            origins(&trust.store.trusted),
            vec![
                (&b"ours"[..], "LocalMachine\\ROOT", true),
                (&b"described"[..], "LocalMachine\\ROOT", false),
            ]
        );
    }

    #[test]
    fn disallowed_wins_over_root_in_any_location() {
        let trust = decide(
            &read(vec![
                entry(LocalMachine, Root, b"bad"),
                entry(CurrentUser, Root, b"good"),
                entry(CurrentUser, Disallowed, b"bad"),
                entry(LocalMachine, Disallowed, b"only-distrusted"),
            ]),
            now(),
        );
        assert_eq!(
            origins(&trust.store.trusted),
            vec![(&b"good"[..], "CurrentUser\\ROOT", true)]
        );
        assert_eq!(
            origins(&trust.store.distrusted),
            vec![
                (&b"bad"[..], "CurrentUser\\Disallowed", true),
                (&b"only-distrusted"[..], "LocalMachine\\Disallowed", false),
            ]
        );
    }

    #[test]
    fn intermediates_are_not_trust_anchors_and_disallowed_ones_are_dropped() {
        let trust = decide(
            &read(vec![
                entry(LocalMachine, IntermediateCa, b"issuing-ca"),
                entry(LocalMachine, IntermediateCa, b"revoked-ca"),
                entry(LocalMachine, Disallowed, b"revoked-ca"),
            ]),
            now(),
        );
        assert!(trust.store.trusted.is_empty());
        assert_eq!(
            origins(&trust.intermediates),
            vec![(&b"issuing-ca"[..], "LocalMachine\\CA", false)]
        );
    }

    #[test]
    fn eku_property_without_server_auth_is_distrust_for_tls() {
        let trust = decide(
            &read(vec![
                with(
                    entry(LocalMachine, Root, b"disabled"),
                    property::ENHKEY_USAGE,
                    EKU_NONE,
                ),
                with(
                    entry(LocalMachine, Root, b"code-only"),
                    property::ENHKEY_USAGE,
                    EKU_CODE_SIGNING,
                ),
                with(
                    entry(LocalMachine, Root, b"tls"),
                    property::ENHKEY_USAGE,
                    EKU_SERVER_AUTH,
                ),
            ]),
            now(),
        );
        assert_eq!(
            origins(&trust.store.trusted),
            vec![(&b"tls"[..], "LocalMachine\\ROOT", false)]
        );
        assert_eq!(
            origins(&trust.store.distrusted),
            vec![
                (&b"disabled"[..], "LocalMachine\\ROOT", false),
                (&b"code-only"[..], "LocalMachine\\ROOT", false),
            ]
        );
        assert_eq!(trust.store.warnings.len(), 2);
        assert!(trust.store.warnings[0].contains("disabled for all purposes"));
        assert!(trust.store.warnings[0].contains(&hex::encode(sha256(b"disabled"))));
    }

    #[test]
    fn a_root_distrusted_by_property_in_one_store_is_not_trusted_through_another() {
        let trust = decide(
            &read(vec![
                entry(CurrentUser, Root, b"root"),
                with(
                    entry(LocalMachine, Root, b"root"),
                    property::ENHKEY_USAGE,
                    EKU_NONE,
                ),
            ]),
            now(),
        );
        assert!(trust.store.trusted.is_empty());
        assert_eq!(trust.store.distrusted.len(), 1);
    }

    #[test]
    fn disallowed_time_in_the_past_is_distrust_and_in_the_future_a_warning() {
        let past = system_time_to_filetime(now() - Duration::from_secs(86_400));
        let future = system_time_to_filetime(now() + Duration::from_secs(86_400 * 30));
        let trust = decide(
            &read(vec![
                with(
                    entry(LocalMachine, AuthRoot, b"gone"),
                    property::DISALLOWED_FILETIME,
                    &past,
                ),
                with(
                    entry(LocalMachine, AuthRoot, b"going"),
                    property::DISALLOWED_FILETIME,
                    &future,
                ),
                // Disallowed for code signing only: still fine for TLS.
                with(
                    with(
                        entry(LocalMachine, AuthRoot, b"code-gone"),
                        property::DISALLOWED_FILETIME,
                        &past,
                    ),
                    property::DISALLOWED_ENHKEY_USAGE,
                    EKU_CODE_SIGNING,
                ),
            ]),
            now(),
        );
        assert_eq!(
            origins(&trust.store.trusted),
            vec![
                (&b"going"[..], "LocalMachine\\AuthRoot", false),
                (&b"code-gone"[..], "LocalMachine\\AuthRoot", false),
            ]
        );
        assert_eq!(
            origins(&trust.store.distrusted),
            vec![(&b"gone"[..], "LocalMachine\\AuthRoot", false)]
        );
        assert!(trust.store.warnings[0].contains("disallowed by Windows since 2025-06-14"));
        assert!(trust.store.warnings[1].contains("will disallow it from 2025-07-15"));
    }

    #[test]
    fn not_before_partial_distrust_keeps_the_root_with_a_warning() {
        let when = system_time_to_filetime(now() - Duration::from_secs(86_400 * 365));
        let trust = decide(
            &read(vec![with(
                with(
                    entry(LocalMachine, AuthRoot, b"symantec"),
                    property::NOT_BEFORE_FILETIME,
                    &when,
                ),
                property::NOT_BEFORE_ENHKEY_USAGE,
                EKU_SERVER_AUTH,
            )]),
            now(),
        );
        assert_eq!(trust.store.trusted.len(), 1);
        assert_eq!(trust.store.warnings.len(), 1);
        assert!(trust.store.warnings[0].contains("issued after 2024-06-15"));
    }

    #[test]
    fn corrupt_properties_make_a_root_untrusted_with_a_warning_not_a_panic() {
        let trust = decide(
            &read(vec![
                with(
                    entry(LocalMachine, Root, b"bad-eku"),
                    property::ENHKEY_USAGE,
                    &[0x30, 0x05, 1],
                ),
                with(
                    entry(LocalMachine, Root, b"bad-time"),
                    property::DISALLOWED_FILETIME,
                    &[1, 2, 3],
                ),
            ]),
            now(),
        );
        assert!(trust.store.trusted.is_empty());
        assert!(trust.store.distrusted.is_empty());
        assert_eq!(trust.store.warnings.len(), 2, "{:?}", trust.store.warnings);
        assert!(trust
            .store
            .warnings
            .iter()
            .all(|w| w.ends_with("not trusted")));
    }

    #[test]
    fn unreadable_stores_become_warnings_naming_them() {
        let mut raw = read(vec![entry(LocalMachine, Root, b"a")]);
        raw.failures.push((
            StoreId::new(LocalMachineEnterprise, Root),
            "Access is denied.".into(),
        ));
        let trust = decide(&raw, now());
        assert_eq!(
            trust.store.warnings,
            vec!["LocalMachine\\Enterprise\\ROOT: could not be read: Access is denied."]
        );
        assert_eq!(trust.store.sources, vec!["LocalMachine\\ROOT"]);
    }

    #[test]
    fn eku_round_trips_through_the_crypt32_encoding() {
        assert_eq!(encode_eku(&[SERVER_AUTH_OID]).unwrap(), EKU_SERVER_AUTH);
        assert_eq!(encode_eku(&[]).unwrap(), EKU_NONE);
        assert_eq!(
            decode_eku(EKU_CODE_SIGNING).unwrap(),
            vec!["1.3.6.1.5.5.7.3.3"]
        );
        let many: Vec<String> = (0..20).map(|i| format!("1.2.3.{i}")).collect();
        let refs: Vec<&str> = many.iter().map(String::as_str).collect();
        assert_eq!(decode_eku(&encode_eku(&refs).unwrap()).unwrap(), many);
        assert!(decode_eku(&[0x04, 0x00]).is_err());
    }

    #[test]
    fn filetime_conversion_matches_known_values() {
        // 2000-01-01T00:00:00Z is 125911584000000000 ticks since 1601.
        let bytes = 125_911_584_000_000_000u64.to_le_bytes();
        let time = filetime_to_system_time(&bytes).unwrap();
        assert_eq!(time, UNIX_EPOCH + Duration::from_secs(946_684_800));
        assert_eq!(system_time_to_filetime(time), bytes);
        assert_eq!(format_date(time), "2000-01-01");
        assert_eq!(filetime_to_system_time(&[0; 7]), None);
    }

    #[test]
    fn friendly_names_decode_from_utf16_with_nul() {
        let e = with(
            entry(CurrentUser, Root, b"x"),
            property::FRIENDLY_NAME,
            &encode_utf16le("Zscaler Root CA"),
        );
        assert_eq!(e.friendly_name().as_deref(), Some("Zscaler Root CA"));
    }

    #[test]
    fn add_goes_to_local_machine_only_when_it_is_writable() {
        let lm = StoreId::new(LocalMachine, Root);
        let cu = StoreId::new(CurrentUser, Root);
        assert_eq!(choose_add_store(AddTarget::Automatic, true).unwrap(), lm);
        assert_eq!(choose_add_store(AddTarget::Automatic, false).unwrap(), cu);
        assert_eq!(choose_add_store(AddTarget::CurrentUser, true).unwrap(), cu);
        assert_eq!(choose_add_store(AddTarget::LocalMachine, true).unwrap(), lm);
        assert!(matches!(
            choose_add_store(AddTarget::LocalMachine, false),
            Err(StoreEditError::LocalMachineNotWritable)
        ));
    }

    #[test]
    fn adding_a_cert_already_present_leaves_it_unmarked() {
        let cu = StoreId::new(CurrentUser, Root);
        let existing = vec![
            entry(CurrentUser, Root, b"users-own"),
            entry(LocalMachine, Root, b"new"),
        ];
        let outcome = plan_add(cu, &existing, b"users-own");
        assert!(!outcome.added);
        assert!(!outcome.marked_by_trustsync);
        // The same cert in another store does not count: CurrentUser\ROOT still lacks it.
        let outcome = plan_add(cu, &existing, b"new");
        assert!(outcome.added);
        assert!(outcome.marked_by_trustsync);
        assert_eq!(outcome.fingerprint, hex::encode(sha256(b"new")));
    }

    #[test]
    fn remove_takes_only_marked_copies_with_the_exact_fingerprint() {
        let mark = encode_utf16le(TRUSTSYNC_MARK);
        let ours = with(
            entry(CurrentUser, Root, b"ours"),
            property::DESCRIPTION,
            &mark,
        );
        let users = entry(LocalMachine, Root, b"ours");
        let forged = with(
            entry(CurrentUser, Root, b"forged"),
            property::DESCRIPTION,
            &encode_utf16le("trustsync"),
        );
        let company = with(
            entry(LocalMachineGroupPolicy, Root, b"gpo"),
            property::DESCRIPTION,
            &mark,
        );
        let entries = vec![ours, users, forged, company];

        assert_eq!(
            plan_remove(&entries, &sha256(b"ours")).unwrap(),
            vec![StoreId::new(CurrentUser, Root)]
        );
        let refused = plan_remove(&entries, &sha256(b"forged")).unwrap_err();
        assert!(matches!(
            refused,
            StoreEditError::NotAddedByTrustsync { .. }
        ));
        assert!(
            refused.to_string().contains("CurrentUser\\ROOT"),
            "{refused}"
        );
        // Policy stores are never touched, whatever they carry.
        assert!(matches!(
            plan_remove(&entries, &sha256(b"gpo")).unwrap_err(),
            StoreEditError::NotFound { .. }
        ));
    }

    #[test]
    fn fingerprints_parse_as_people_paste_them() {
        let fp = sha256(b"x");
        let plain = hex::encode(fp);
        assert_eq!(parse_fingerprint(&plain).unwrap(), fp);
        let colons: Vec<String> = fp.iter().map(|b| format!("{b:02X}")).collect();
        assert_eq!(parse_fingerprint(&colons.join(":")).unwrap(), fp);
        assert!(parse_fingerprint(&plain[..62]).is_err());
        assert!(parse_fingerprint(&format!("{}zz", &plain[..62])).is_err());
    }

    #[test]
    fn friendly_name_says_who_added_it() {
        let name = friendly_name_for(&hex::encode(sha256(b"x")));
        assert!(name.starts_with("trustsync: "));
        assert!(name.contains(&hex::encode(sha256(b"x"))[..16]));
    }
}
