//! macOS trust decisions, applied to plain data: what the user, admin and system trust
//! settings domains together say about each certificate, and which keychain items
//! trustsync itself added.
//!
//! This module exists so that every decision about macOS trust compiles and is unit-tested
//! on Linux. `macos.rs` (behind `cfg(target_os = "macos")`) only copies what
//! `SecTrustSettingsCopyCertificates`, `SecTrustSettingsCopyTrustSettings` and the keychain
//! search API return into the types below, in the exact shape those APIs return it: an
//! array of usage-constraint dictionaries per certificate and domain. The rules applied here
//! are Apple's, as documented in `SecTrustSettings.h` and implemented in the Security
//! framework's `TrustSettings.cpp`:
//!
//! * domains are consulted in the order user, admin, system; the first one with a decisive
//!   answer wins;
//! * within a domain's array, entries are read in order and only those with no policy or
//!   the `sslServer` policy count for TLS; the first counting entry whose result is not
//!   `Unspecified` decides;
//! * an empty array means "always trust this certificate as a root";
//! * a missing `kSecTrustSettingsResult` means `TrustRoot`.
//!
//! On top of those, trustsync is stricter where a runtime's flat CA bundle cannot express a
//! constraint: entries limited to one application, one host name (`PolicyString`) or a key
//! usage that excludes signing certificates are not counted, and say so in a warning.

#![forbid(unsafe_code)]

use crate::{StoreCertificate, SystemStore};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// `kSecPolicyAppleSSL`, the OID of the SSL policy in `SecPolicyCopyProperties`.
pub const SSL_POLICY_OID: &str = "1.2.840.113635.100.1.3";
/// `kSecPolicyAppleSMIME`: an example of a policy that does not count for TLS.
pub const SMIME_POLICY_OID: &str = "1.2.840.113635.100.1.8";
/// `kSecTrustSettingsPolicyName` of TLS server authentication. The SSL OID is shared by
/// `sslServer` and `sslClient`; the name tells them apart.
pub const SSL_SERVER_POLICY_NAME: &str = "sslServer";

/// `kSecTrustSettingsResult` values (`SecTrustSettingsResult` in `SecTrustSettings.h`).
pub const RESULT_INVALID: i64 = 0;
pub const RESULT_TRUST_ROOT: i64 = 1;
pub const RESULT_TRUST_AS_ROOT: i64 = 2;
pub const RESULT_DENY: i64 = 3;
pub const RESULT_UNSPECIFIED: i64 = 4;

/// `kSecTrustSettingsKeyUseSignCert`: a root's key signs certificates, so a constraint whose
/// key usage lacks this bit does not make the certificate a TLS root.
pub const KEY_USE_SIGN_CERT: u32 = 0x08;

/// One of the three trust settings domains (`SecTrustSettingsDomain`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrustDomain {
    /// `kSecTrustSettingsDomainUser`: what the logged-in user set in Keychain Access.
    User,
    /// `kSecTrustSettingsDomainAdmin`: machine-wide, set by an administrator or an MDM
    /// profile; where company and TLS-inspecting proxy roots live.
    Admin,
    /// `kSecTrustSettingsDomainSystem`: Apple's own, read-only.
    System,
}

impl TrustDomain {
    /// Apple's precedence: the first domain with a decisive answer wins.
    pub const PRECEDENCE: [TrustDomain; 3] =
        [TrustDomain::User, TrustDomain::Admin, TrustDomain::System];

    pub fn name(self) -> &'static str {
        match self {
            TrustDomain::User => "user",
            TrustDomain::Admin => "admin",
            TrustDomain::System => "system",
        }
    }

    /// Keychains to name as a certificate's home, most likely first, when it is found in
    /// more than one.
    fn preferred_keychains(self) -> [Keychain; 3] {
        match self {
            TrustDomain::User => [Keychain::Login, Keychain::System, Keychain::SystemRoots],
            TrustDomain::Admin => [Keychain::System, Keychain::Login, Keychain::SystemRoots],
            TrustDomain::System => [Keychain::SystemRoots, Keychain::System, Keychain::Login],
        }
    }
}

/// The keychains trustsync reads certificates from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Keychain {
    /// The user's default keychain (normally `login.keychain-db`).
    Login,
    /// `/Library/Keychains/System.keychain`: machine-wide, where admin-trusted roots live.
    System,
    /// `/System/Library/Keychains/SystemRootCertificates.keychain`: Apple's roots.
    SystemRoots,
}

impl Keychain {
    pub const ALL: [Keychain; 3] = [Keychain::Login, Keychain::System, Keychain::SystemRoots];

    pub fn name(self) -> &'static str {
        match self {
            Keychain::Login => "login keychain",
            Keychain::System => "System.keychain",
            Keychain::SystemRoots => "SystemRootCertificates.keychain",
        }
    }

    /// The keychain file, where it is fixed (the login keychain is per user).
    pub fn path(self) -> Option<&'static str> {
        match self {
            Keychain::Login => None,
            Keychain::System => Some("/Library/Keychains/System.keychain"),
            Keychain::SystemRoots => {
                Some("/System/Library/Keychains/SystemRootCertificates.keychain")
            }
        }
    }
}

/// `kSecTrustSettingsPolicy` as `SecTrustSettingsCopyTrustSettings` returns it: a
/// `SecPolicyRef`, read through `SecPolicyCopyProperties`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyInfo {
    /// `kSecPolicyOid`, e.g. `1.2.840.113635.100.1.3` for SSL. `None` if unreadable.
    pub oid: Option<String>,
    /// `kSecPolicyName` of the policy object. Despite the key's name this is not the
    /// policy's name but, for SSL, the server name the policy is limited to; policies
    /// rebuilt from stored trust settings normally have none.
    pub match_name: Option<String>,
}

/// One usage-constraints dictionary of a trust settings array. Every field is optional in
/// the real API too; a key present with a value of the wrong type makes the FFI layer
/// report the whole record as [`RawTrustSettings::Corrupt`] instead.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UsageConstraint {
    /// `kSecTrustSettingsPolicy`.
    pub policy: Option<PolicyInfo>,
    /// `kSecTrustSettingsPolicyName` (`sslServer`, `sslClient`, `smime`, …).
    pub policy_name: Option<String>,
    /// `kSecTrustSettingsPolicyString`: for SSL a host name the entry is limited to.
    pub policy_string: Option<String>,
    /// `kSecTrustSettingsApplication`: the description of the `SecTrustedApplicationRef`
    /// the entry is limited to.
    pub application: Option<String>,
    /// `kSecTrustSettingsResult`; absent means `TrustRoot`.
    pub result: Option<i64>,
    /// `kSecTrustSettingsAllowedError`: an error code the entry tells the verifier to ignore.
    pub allowed_error: Option<i64>,
    /// `kSecTrustSettingsKeyUsage`: a `SecTrustSettingsKeyUsage` bit mask (`-1` or
    /// `0xffffffff` for any use, depending on how the number was stored).
    pub key_usage: Option<i64>,
}

/// A certificate's trust settings in one domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawTrustSettings {
    /// The array `SecTrustSettingsCopyTrustSettings` returned, possibly empty.
    Constraints(Vec<UsageConstraint>),
    /// The record exists but could not be read or decoded; the text says why.
    Corrupt(String),
}

/// A certificate with trust settings in one domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustRecord {
    pub domain: TrustDomain,
    /// The certificate's DER, from `SecCertificateCopyData`.
    pub der: Vec<u8>,
    pub settings: RawTrustSettings,
}

/// A certificate item found in one of the keychains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeychainCertificate {
    pub keychain: Keychain,
    pub der: Vec<u8>,
    /// `kSecAttrLabel`, which trustsync uses to recognise the items it added.
    pub label: Option<String>,
}

/// Everything the macOS FFI layer read, as plain data.
#[derive(Debug, Clone, Default)]
pub struct TrustSnapshot {
    /// Trust settings records of all three domains.
    pub records: Vec<TrustRecord>,
    /// The certificates in the keychains that were readable.
    pub keychain_certificates: Vec<KeychainCertificate>,
    /// Domains and keychains that could not be listed at all, one line each, naming them.
    pub read_errors: Vec<String>,
}

impl TrustSnapshot {
    /// The keychain a record's certificate lives in, as its origin names it: of the
    /// keychains holding that DER, the one most likely for the record's domain (login for
    /// user, System.keychain for admin, SystemRootCertificates.keychain for system).
    pub fn keychain_of(&self, record: &TrustRecord) -> Option<Keychain> {
        let found: Vec<Keychain> = self
            .keychain_certificates
            .iter()
            .filter(|item| item.der == record.der)
            .map(|item| item.keychain)
            .collect();
        record
            .domain
            .preferred_keychains()
            .into_iter()
            .find(|k| found.contains(k))
    }
}

/// What one domain's trust settings say about a certificate for TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DomainVerdict {
    /// `TrustRoot` or `TrustAsRoot` (or an empty array).
    Trusted,
    /// `Deny`.
    Denied,
    /// Nothing decisive here: ask the next domain.
    FallThrough,
}

/// Lowercase hex SHA-256 of a DER certificate, the fingerprint trustsync names CAs by.
pub fn sha256_hex(der: &[u8]) -> String {
    hex::encode(Sha256::digest(der))
}

/// Whether a constraint's policy is TLS server authentication or absent (applies to all).
fn applies_to_tls_server(c: &UsageConstraint) -> bool {
    // The name narrows the OID: sslServer and sslClient share the SSL OID.
    if let Some(name) = &c.policy_name {
        if name != SSL_SERVER_POLICY_NAME {
            return false;
        }
    }
    match &c.policy {
        None => true,
        Some(policy) => match &policy.oid {
            Some(oid) => oid == SSL_POLICY_OID,
            // A policy object whose OID could not be read only counts if the entry names
            // sslServer itself.
            None => c.policy_name.as_deref() == Some(SSL_SERVER_POLICY_NAME),
        },
    }
}

/// Why a TLS-server entry cannot become whole-machine trust in a runtime's bundle, if so.
fn narrowing_constraint(c: &UsageConstraint) -> Option<String> {
    if let Some(app) = &c.application {
        return Some(format!("limited to application {app}"));
    }
    if let Some(host) = &c.policy_string {
        return Some(format!("limited to host {host}"));
    }
    if let Some(host) = c.policy.as_ref().and_then(|p| p.match_name.as_ref()) {
        return Some(format!("limited to host {host} by its policy"));
    }
    if let Some(usage) = c.key_usage {
        // Stored as a signed 32-bit CFNumber, so "any use" may read as -1; keep the low 32
        // bits either way.
        let bits = usage as u32;
        if bits & KEY_USE_SIGN_CERT == 0 {
            return Some(format!("key usage {bits:#x} excludes signing certificates"));
        }
    }
    None
}

/// Applies Apple's in-domain rule to one settings array. `notes` gets a line for every
/// entry that was skipped for a reason the user may want to know.
pub fn evaluate_constraints(
    constraints: &[UsageConstraint],
    notes: &mut Vec<String>,
) -> DomainVerdict {
    // "An empty Trust Settings array means always trust this cert, with a resulting
    // kSecTrustSettingsResult of kSecTrustSettingsResultTrustRoot" (SecTrustSettings.h).
    if constraints.is_empty() {
        return DomainVerdict::Trusted;
    }
    for (index, c) in constraints.iter().enumerate() {
        if !applies_to_tls_server(c) {
            continue;
        }
        let result = c.result.unwrap_or(RESULT_TRUST_ROOT);
        if result == RESULT_UNSPECIFIED {
            continue;
        }
        if let Some(why) = narrowing_constraint(c) {
            notes.push(format!(
                "entry {index} ({}) is {why}; not counted",
                result_name(result)
            ));
            continue;
        }
        match result {
            RESULT_TRUST_ROOT | RESULT_TRUST_AS_ROOT => return DomainVerdict::Trusted,
            RESULT_DENY => return DomainVerdict::Denied,
            other => {
                notes.push(format!(
                    "entry {index} has invalid result {other}; not counted"
                ));
            }
        }
    }
    DomainVerdict::FallThrough
}

fn result_name(result: i64) -> &'static str {
    match result {
        RESULT_TRUST_ROOT => "TrustRoot",
        RESULT_TRUST_AS_ROOT => "TrustAsRoot",
        RESULT_DENY => "Deny",
        RESULT_UNSPECIFIED => "Unspecified",
        RESULT_INVALID => "Invalid",
        _ => "unknown result",
    }
}

/// Where the certificate lives, for origin strings: the first of the domain's preferred
/// keychains that holds it.
fn home_keychain(
    domain: TrustDomain,
    der: &[u8],
    keychains_of: &HashMap<&[u8], Vec<Keychain>>,
) -> Option<Keychain> {
    let found = keychains_of.get(der)?;
    domain
        .preferred_keychains()
        .into_iter()
        .find(|k| found.contains(k))
}

fn origin(domain: TrustDomain, keychain: Option<Keychain>) -> String {
    match keychain {
        Some(k) => format!("{} trust settings ({})", domain.name(), k.name()),
        None => format!("{} trust settings", domain.name()),
    }
}

/// Turns a snapshot into what the machine trusts and distrusts for TLS.
///
/// A certificate is decided by the first domain (user, admin, system) whose settings are
/// decisive. One that no domain decides is trusted only if it is one of Apple's roots in
/// `SystemRootCertificates.keychain` (those are anchors by default); a certificate that
/// merely sits in the login or System keychain without trust settings is not a root.
pub fn decide(snapshot: &TrustSnapshot) -> SystemStore {
    let mut store = SystemStore {
        flavor: "macos".to_string(),
        ..SystemStore::default()
    };
    for domain in TrustDomain::PRECEDENCE {
        store
            .sources
            .push(format!("{} trust settings", domain.name()));
    }
    for keychain in Keychain::ALL {
        store
            .sources
            .push(keychain.path().unwrap_or(keychain.name()).to_string());
    }
    store.warnings.extend(snapshot.read_errors.iter().cloned());

    let mut keychains_of: HashMap<&[u8], Vec<Keychain>> = HashMap::new();
    for item in &snapshot.keychain_certificates {
        let list = keychains_of.entry(item.der.as_slice()).or_default();
        if !list.contains(&item.keychain) {
            list.push(item.keychain);
        }
    }

    // Every certificate once, in the order first seen: records, then keychain roots.
    let mut order: Vec<&[u8]> = Vec::new();
    let mut records_of: HashMap<&[u8], Vec<&TrustRecord>> = HashMap::new();
    for record in &snapshot.records {
        let entry = records_of.entry(record.der.as_slice()).or_default();
        if entry.is_empty() {
            order.push(record.der.as_slice());
        }
        entry.push(record);
    }
    for item in &snapshot.keychain_certificates {
        if item.keychain == Keychain::SystemRoots && !records_of.contains_key(item.der.as_slice()) {
            records_of.insert(item.der.as_slice(), Vec::new());
            order.push(item.der.as_slice());
        }
    }

    for der in order {
        let records = &records_of[der];
        let mut decided = false;
        for domain in TrustDomain::PRECEDENCE {
            let Some(record) = records.iter().find(|r| r.domain == domain) else {
                continue;
            };
            let keychain = home_keychain(domain, der, &keychains_of);
            let where_ = origin(domain, keychain);
            let verdict = match &record.settings {
                RawTrustSettings::Corrupt(why) => {
                    store.warnings.push(format!(
                        "{where_}: certificate SHA-256 {}: trust settings record could not be \
                         decoded ({why}); it is not counted",
                        sha256_hex(der)
                    ));
                    DomainVerdict::FallThrough
                }
                RawTrustSettings::Constraints(constraints) => {
                    let mut notes = Vec::new();
                    let verdict = evaluate_constraints(constraints, &mut notes);
                    for note in notes {
                        store.warnings.push(format!(
                            "{where_}: certificate SHA-256 {}: {note}",
                            sha256_hex(der)
                        ));
                    }
                    verdict
                }
            };
            let cert = StoreCertificate {
                der: der.to_vec(),
                origin: where_,
                // Trust set in the user or admin domain is this machine's own (company and
                // proxy roots); the system domain is Apple's.
                locally_added: domain != TrustDomain::System,
            };
            match verdict {
                DomainVerdict::Trusted => store.trusted.push(cert),
                DomainVerdict::Denied => store.distrusted.push(cert),
                DomainVerdict::FallThrough => continue,
            }
            decided = true;
            break;
        }
        if !decided
            && keychains_of
                .get(der)
                .is_some_and(|k| k.contains(&Keychain::SystemRoots))
        {
            store.trusted.push(StoreCertificate {
                der: der.to_vec(),
                origin: format!("system roots ({})", Keychain::SystemRoots.name()),
                locally_added: false,
            });
        }
    }
    store
}

// ---------------------------------------------------------------------------------------
// add / remove: which keychain items and trust settings are trustsync's own.
// ---------------------------------------------------------------------------------------

/// Prefix of the `kSecAttrLabel` trustsync gives the System.keychain items it adds. The
/// label carries the certificate's SHA-256 so that an item is only ever recognised as ours
/// if its label and its content agree.
pub const MANAGED_LABEL_PREFIX: &str = "trustsync-managed sha256:";

/// The label trustsync gives the keychain item of the certificate with this fingerprint.
pub fn managed_label(fingerprint: &str) -> String {
    format!("{MANAGED_LABEL_PREFIX}{fingerprint}")
}

/// Why an add or remove was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum ManageError {
    #[error("{input:?} is not a SHA-256 fingerprint (64 hex digits, colons allowed)")]
    BadFingerprint { input: String },
    #[error("certificate SHA-256 {fingerprint} was not added by trustsync (no item labelled {label:?} with that content in System.keychain); nothing removed")]
    NotManaged { fingerprint: String, label: String },
    #[error("certificate SHA-256 {fingerprint} is already in System.keychain, put there by someone else; trustsync leaves it alone (set its trust in Keychain Access)")]
    ForeignItem { fingerprint: String },
    #[error("certificate SHA-256 {fingerprint} is explicitly denied in the admin trust settings; trustsync never overrides a deny")]
    AdminDenies { fingerprint: String },
    #[error("certificate SHA-256 {fingerprint} already has admin trust settings that trustsync did not write ({detail}); leaving them alone")]
    ForeignSettings { fingerprint: String, detail: String },
    #[error("{operation} failed: OSStatus {status}{hint}")]
    Api {
        operation: String,
        status: i32,
        hint: String,
    },
    #[error("{0}")]
    Unsupported(String),
}

/// Accepts `AB:CD:…`, `abcd…`, with or without a `sha256:` prefix; returns lowercase hex.
pub fn normalize_fingerprint(input: &str) -> Result<String, ManageError> {
    let trimmed = input.trim();
    let body = trimmed
        .strip_prefix("sha256:")
        .or_else(|| trimmed.strip_prefix("SHA256:"))
        .unwrap_or(trimmed);
    let hex: String = body
        .chars()
        .filter(|c| *c != ':')
        .collect::<String>()
        .to_ascii_lowercase();
    if hex.len() == 64 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
        Ok(hex)
    } else {
        Err(ManageError::BadFingerprint {
            input: input.to_string(),
        })
    }
}

/// Whether a keychain item is one trustsync added for this fingerprint: in System.keychain,
/// labelled by trustsync for exactly this fingerprint, and with content that hashes to it.
pub fn is_managed_item(item: &KeychainCertificate, fingerprint: &str) -> bool {
    item.keychain == Keychain::System
        && item.label.as_deref() == Some(managed_label(fingerprint).as_str())
        && sha256_hex(&item.der) == fingerprint
}

/// The `kSecTrustSettingsResult` trustsync writes: Apple accepts `TrustRoot` only for
/// self-signed certificates and `TrustAsRoot` only for the others.
pub fn result_to_write(self_signed: bool) -> i64 {
    if self_signed {
        RESULT_TRUST_ROOT
    } else {
        RESULT_TRUST_AS_ROOT
    }
}

/// Whether an admin settings array is exactly what trustsync writes: one `sslServer`
/// entry trusting the certificate, with no other constraint.
pub fn is_trustsync_shaped(constraints: &[UsageConstraint]) -> bool {
    let [only] = constraints else {
        return false;
    };
    let policy_is_ssl = match &only.policy {
        Some(p) => p.oid.as_deref() == Some(SSL_POLICY_OID) && p.match_name.is_none(),
        None => false,
    };
    policy_is_ssl
        && only
            .policy_name
            .as_deref()
            .is_none_or(|n| n == SSL_SERVER_POLICY_NAME)
        && only.policy_string.is_none()
        && only.application.is_none()
        && only.allowed_error.is_none()
        && only.key_usage.is_none_or(|k| k as u32 == u32::MAX)
        && matches!(
            only.result,
            None | Some(RESULT_TRUST_ROOT) | Some(RESULT_TRUST_AS_ROOT)
        )
}

/// What `add_root` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddOutcome {
    /// The certificate is now in System.keychain and trusted for TLS in the admin domain.
    Added,
    /// The admin domain already trusted it for TLS; nothing was changed.
    AlreadyTrusted,
}

/// What `remove_root` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemoveOutcome {
    /// Whether admin trust settings were removed along with the keychain item.
    pub trust_settings_removed: bool,
}

/// An API failure as a [`ManageError`], with a hint for the failures users actually hit.
pub fn api_error(operation: &str, status: i32) -> ManageError {
    let hint = match status {
        // errAuthorizationDenied, errAuthorizationCanceled, errAuthorizationInteractionNotAllowed
        -60007..=-60005 => {
            " (macOS asks an administrator to confirm changes to admin trust settings: run \
             `sudo trustsync` in a logged-in desktop session, not over SSH)"
        }
        // errSecInteractionNotAllowed, errSecAuthFailed
        -25308 | -25293 => " (the keychain is locked or needs a password; unlock it and retry)",
        // errSecWrPerm, errSecNoAccessForItem
        -61 | -25243 => " (permission denied: System.keychain needs root)",
        _ => "",
    };
    ManageError::Api {
        operation: operation.to_string(),
        status,
        hint: hint.to_string(),
    }
}

/// Dotted form of an OID from its DER content bytes (no tag or length), as trust settings
/// stored on disk carry it in `kSecTrustSettingsPolicy`. Hand-written because it is ten
/// lines and the platform crate has no ASN.1 parser; `None` for a malformed encoding.
pub fn oid_from_der_content(bytes: &[u8]) -> Option<String> {
    let (&first, rest) = bytes.split_first()?;
    let mut arcs = vec![u64::from(first / 40).min(2), 0];
    arcs[1] = u64::from(first) - arcs[0] * 40;
    let mut value: u64 = 0;
    for (i, &b) in rest.iter().enumerate() {
        value = value.checked_mul(128)?.checked_add(u64::from(b & 0x7f))?;
        if b & 0x80 == 0 {
            arcs.push(value);
            value = 0;
        } else if i + 1 == rest.len() {
            return None;
        }
    }
    Some(
        arcs.iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join("."),
    )
}

/// What `add_root` must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddPlan {
    /// Add the certificate to System.keychain with `label`, then write admin trust settings
    /// for sslServer with `result`.
    AddItemAndTrust { label: String, result: i64 },
    /// trustsync's item is already there without trust settings: write them again.
    TrustExistingManagedItem { result: i64 },
    /// The admin domain already trusts it for TLS: nothing to do.
    AlreadyTrusted,
}

/// Decides how to add a root, given what System.keychain holds and the certificate's
/// current admin trust settings (`None`: it has none).
pub fn plan_add(
    der: &[u8],
    self_signed: bool,
    system_keychain: &[KeychainCertificate],
    admin_settings: Option<&RawTrustSettings>,
) -> Result<AddPlan, ManageError> {
    let fingerprint = sha256_hex(der);
    let same: Vec<&KeychainCertificate> = system_keychain
        .iter()
        .filter(|item| item.keychain == Keychain::System && item.der == der)
        .collect();
    let ours = same.iter().any(|item| is_managed_item(item, &fingerprint));
    let result = result_to_write(self_signed);
    match admin_settings {
        Some(RawTrustSettings::Corrupt(why)) => {
            return Err(ManageError::ForeignSettings {
                fingerprint,
                detail: format!("unreadable: {why}"),
            })
        }
        Some(RawTrustSettings::Constraints(constraints)) => {
            let mut notes = Vec::new();
            match evaluate_constraints(constraints, &mut notes) {
                DomainVerdict::Denied => return Err(ManageError::AdminDenies { fingerprint }),
                DomainVerdict::Trusted => return Ok(AddPlan::AlreadyTrusted),
                // Writing ours would replace someone's array (SecTrustSettingsSetTrustSettings
                // replaces the whole record), so only an array we wrote may be rewritten.
                DomainVerdict::FallThrough if !(ours && is_trustsync_shaped(constraints)) => {
                    return Err(ManageError::ForeignSettings {
                        fingerprint,
                        detail: format!("{} entries, none trusting it for TLS", constraints.len()),
                    })
                }
                DomainVerdict::FallThrough => {}
            }
        }
        None => {}
    }
    if ours {
        Ok(AddPlan::TrustExistingManagedItem { result })
    } else if !same.is_empty() {
        Err(ManageError::ForeignItem { fingerprint })
    } else {
        Ok(AddPlan::AddItemAndTrust {
            label: managed_label(&fingerprint),
            result,
        })
    }
}

/// What `remove_root` must do to the managed item at `item_index` of the System.keychain
/// listing it was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemovePlan {
    pub item_index: usize,
    /// Remove the certificate's admin trust settings first (they are trustsync's).
    pub remove_trust_settings: bool,
}

/// Decides how to remove the root trustsync added with this fingerprint: only an item that
/// [`is_managed_item`], and its admin trust settings only if they are still the ones
/// trustsync wrote.
pub fn plan_remove(
    fingerprint: &str,
    system_keychain: &[KeychainCertificate],
    admin_settings: Option<&RawTrustSettings>,
) -> Result<RemovePlan, ManageError> {
    let fingerprint = normalize_fingerprint(fingerprint)?;
    let Some(item_index) = system_keychain
        .iter()
        .position(|item| is_managed_item(item, &fingerprint))
    else {
        return Err(ManageError::NotManaged {
            label: managed_label(&fingerprint),
            fingerprint,
        });
    };
    let remove_trust_settings = match admin_settings {
        None => false,
        Some(RawTrustSettings::Constraints(c)) if is_trustsync_shaped(c) => true,
        Some(RawTrustSettings::Constraints(c)) => {
            return Err(ManageError::ForeignSettings {
                fingerprint,
                detail: format!("changed since trustsync wrote them: {} entries", c.len()),
            })
        }
        Some(RawTrustSettings::Corrupt(why)) => {
            return Err(ManageError::ForeignSettings {
                fingerprint,
                detail: format!("unreadable: {why}"),
            })
        }
    };
    Ok(RemovePlan {
        item_index,
        remove_trust_settings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // Distinct byte strings stand in for certificates: the decision code only compares
    // and hashes DER, it never parses it.
    const COMPANY_ROOT: &[u8] = b"company-root-der";
    const APPLE_ROOT: &[u8] = b"apple-root-der";
    const OTHER_ROOT: &[u8] = b"other-root-der";

    fn ssl_server(result: Option<i64>) -> UsageConstraint {
        // The shape SecTrustSettingsCopyTrustSettings returns for `security
        // add-trusted-cert -p ssl`: a SecPolicyRef plus its name.
        UsageConstraint {
            policy: Some(PolicyInfo {
                oid: Some(SSL_POLICY_OID.to_string()),
                match_name: None,
            }),
            policy_name: Some(SSL_SERVER_POLICY_NAME.to_string()),
            result,
            ..UsageConstraint::default()
        }
    }

    fn smime(result: Option<i64>) -> UsageConstraint {
        UsageConstraint {
            policy: Some(PolicyInfo {
                oid: Some(SMIME_POLICY_OID.to_string()),
                match_name: None,
            }),
            policy_name: Some("smime".to_string()),
            result,
            ..UsageConstraint::default()
        }
    }

    fn record(domain: TrustDomain, der: &[u8], constraints: Vec<UsageConstraint>) -> TrustRecord {
        TrustRecord {
            domain,
            der: der.to_vec(),
            settings: RawTrustSettings::Constraints(constraints),
        }
    }

    fn in_keychain(keychain: Keychain, der: &[u8]) -> KeychainCertificate {
        KeychainCertificate {
            keychain,
            der: der.to_vec(),
            label: None,
        }
    }

    fn find<'a>(list: &'a [StoreCertificate], der: &[u8]) -> Option<&'a StoreCertificate> {
        list.iter().find(|c| c.der == der)
    }

    #[test]
    fn user_deny_beats_admin_trust() {
        let snapshot = TrustSnapshot {
            records: vec![
                record(
                    TrustDomain::Admin,
                    COMPANY_ROOT,
                    vec![ssl_server(Some(RESULT_TRUST_ROOT))],
                ),
                record(
                    TrustDomain::User,
                    COMPANY_ROOT,
                    vec![ssl_server(Some(RESULT_DENY))],
                ),
            ],
            keychain_certificates: vec![in_keychain(Keychain::System, COMPANY_ROOT)],
            ..TrustSnapshot::default()
        };
        let store = decide(&snapshot);
        assert!(find(&store.trusted, COMPANY_ROOT).is_none());
        let denied = find(&store.distrusted, COMPANY_ROOT).expect("user deny wins");
        assert_eq!(denied.origin, "user trust settings (System.keychain)");
        assert_eq!(store.flavor, "macos");
    }

    #[test]
    fn admin_trust_is_locally_added_and_names_its_keychain() {
        let snapshot = TrustSnapshot {
            records: vec![record(
                TrustDomain::Admin,
                COMPANY_ROOT,
                vec![ssl_server(Some(RESULT_TRUST_ROOT))],
            )],
            keychain_certificates: vec![in_keychain(Keychain::System, COMPANY_ROOT)],
            ..TrustSnapshot::default()
        };
        let store = decide(&snapshot);
        let trusted = find(&store.trusted, COMPANY_ROOT).expect("admin trust");
        assert_eq!(trusted.origin, "admin trust settings (System.keychain)");
        assert!(trusted.locally_added);
        assert!(store.warnings.is_empty(), "{:?}", store.warnings);
    }

    #[test]
    fn empty_settings_array_means_trust_as_root() {
        let snapshot = TrustSnapshot {
            records: vec![record(TrustDomain::Admin, COMPANY_ROOT, vec![])],
            ..TrustSnapshot::default()
        };
        let store = decide(&snapshot);
        let trusted = find(&store.trusted, COMPANY_ROOT).expect("empty array trusts");
        assert_eq!(trusted.origin, "admin trust settings");
        assert!(store.distrusted.is_empty());
    }

    #[test]
    fn missing_result_defaults_to_trust_root() {
        let mut notes = Vec::new();
        assert_eq!(
            evaluate_constraints(&[ssl_server(None)], &mut notes),
            DomainVerdict::Trusted
        );
    }

    #[test]
    fn non_ssl_server_policy_is_ignored() {
        // An S/MIME-only deny and an S/MIME-only trust say nothing about TLS: the first
        // cannot hide the system's trust, the second cannot create trust.
        let snapshot = TrustSnapshot {
            records: vec![
                record(
                    TrustDomain::User,
                    APPLE_ROOT,
                    vec![smime(Some(RESULT_DENY))],
                ),
                record(TrustDomain::System, APPLE_ROOT, vec![]),
                record(
                    TrustDomain::Admin,
                    COMPANY_ROOT,
                    vec![smime(Some(RESULT_TRUST_ROOT))],
                ),
            ],
            keychain_certificates: vec![in_keychain(Keychain::SystemRoots, APPLE_ROOT)],
            ..TrustSnapshot::default()
        };
        let store = decide(&snapshot);
        let apple = find(&store.trusted, APPLE_ROOT).expect("system trust stands");
        assert_eq!(
            apple.origin,
            "system trust settings (SystemRootCertificates.keychain)"
        );
        assert!(!apple.locally_added);
        assert!(find(&store.trusted, COMPANY_ROOT).is_none());
        assert!(find(&store.distrusted, COMPANY_ROOT).is_none());
        assert!(store.distrusted.is_empty());
    }

    #[test]
    fn ssl_client_name_on_the_shared_ssl_oid_does_not_count() {
        let mut client = ssl_server(Some(RESULT_TRUST_ROOT));
        client.policy_name = Some("sslClient".to_string());
        let mut notes = Vec::new();
        assert_eq!(
            evaluate_constraints(&[client], &mut notes),
            DomainVerdict::FallThrough
        );
    }

    #[test]
    fn policy_less_entry_counts() {
        let entry = UsageConstraint {
            result: Some(RESULT_DENY),
            ..UsageConstraint::default()
        };
        let mut notes = Vec::new();
        assert_eq!(
            evaluate_constraints(&[entry], &mut notes),
            DomainVerdict::Denied
        );
    }

    #[test]
    fn unspecified_falls_through_to_system() {
        let snapshot = TrustSnapshot {
            records: vec![
                record(
                    TrustDomain::User,
                    APPLE_ROOT,
                    vec![ssl_server(Some(RESULT_UNSPECIFIED))],
                ),
                record(
                    TrustDomain::Admin,
                    APPLE_ROOT,
                    vec![ssl_server(Some(RESULT_UNSPECIFIED))],
                ),
                record(
                    TrustDomain::System,
                    APPLE_ROOT,
                    vec![ssl_server(Some(RESULT_DENY))],
                ),
            ],
            keychain_certificates: vec![in_keychain(Keychain::SystemRoots, APPLE_ROOT)],
            ..TrustSnapshot::default()
        };
        let store = decide(&snapshot);
        let denied = find(&store.distrusted, APPLE_ROOT).expect("system deny reached");
        assert_eq!(
            denied.origin,
            "system trust settings (SystemRootCertificates.keychain)"
        );
        assert!(find(&store.trusted, APPLE_ROOT).is_none());
    }

    #[test]
    fn first_decisive_entry_in_a_domain_wins() {
        let mut notes = Vec::new();
        let entries = [
            ssl_server(Some(RESULT_UNSPECIFIED)),
            ssl_server(Some(RESULT_TRUST_AS_ROOT)),
            ssl_server(Some(RESULT_DENY)),
        ];
        assert_eq!(
            evaluate_constraints(&entries, &mut notes),
            DomainVerdict::Trusted
        );
    }

    #[test]
    fn record_without_usable_entries_falls_through_and_is_not_trusted() {
        let snapshot = TrustSnapshot {
            records: vec![record(
                TrustDomain::Admin,
                OTHER_ROOT,
                vec![smime(Some(RESULT_TRUST_ROOT))],
            )],
            keychain_certificates: vec![in_keychain(Keychain::System, OTHER_ROOT)],
            ..TrustSnapshot::default()
        };
        let store = decide(&snapshot);
        assert!(store.trusted.is_empty());
        assert!(store.distrusted.is_empty());
    }

    #[test]
    fn corrupt_record_is_a_warning_and_not_trust() {
        let snapshot = TrustSnapshot {
            records: vec![TrustRecord {
                domain: TrustDomain::Admin,
                der: COMPANY_ROOT.to_vec(),
                settings: RawTrustSettings::Corrupt("OSStatus -67653".to_string()),
            }],
            keychain_certificates: vec![in_keychain(Keychain::System, COMPANY_ROOT)],
            ..TrustSnapshot::default()
        };
        let store = decide(&snapshot);
        assert!(find(&store.trusted, COMPANY_ROOT).is_none());
        assert!(find(&store.distrusted, COMPANY_ROOT).is_none());
        assert_eq!(store.warnings.len(), 1, "{:?}", store.warnings);
        let warning = &store.warnings[0];
        assert!(warning.starts_with("admin trust settings (System.keychain): certificate SHA-256 "));
        assert!(warning.contains(&sha256_hex(COMPANY_ROOT)));
        assert!(warning.contains("OSStatus -67653"));
    }

    #[test]
    fn corrupt_user_record_falls_through_to_system_trust() {
        let snapshot = TrustSnapshot {
            records: vec![
                TrustRecord {
                    domain: TrustDomain::User,
                    der: APPLE_ROOT.to_vec(),
                    settings: RawTrustSettings::Corrupt(
                        "kSecTrustSettingsResult is not a number".to_string(),
                    ),
                },
                record(TrustDomain::System, APPLE_ROOT, vec![]),
            ],
            ..TrustSnapshot::default()
        };
        let store = decide(&snapshot);
        assert_eq!(
            find(&store.trusted, APPLE_ROOT).unwrap().origin,
            "system trust settings"
        );
        assert!(store.warnings[0].starts_with("user trust settings: "));
    }

    #[test]
    fn system_root_without_any_record_is_an_anchor_but_plain_keychain_items_are_not() {
        let snapshot = TrustSnapshot {
            keychain_certificates: vec![
                in_keychain(Keychain::SystemRoots, APPLE_ROOT),
                in_keychain(Keychain::System, OTHER_ROOT),
                in_keychain(Keychain::Login, COMPANY_ROOT),
            ],
            ..TrustSnapshot::default()
        };
        let store = decide(&snapshot);
        assert_eq!(store.trusted.len(), 1);
        assert_eq!(store.trusted[0].der, APPLE_ROOT);
        assert_eq!(
            store.trusted[0].origin,
            "system roots (SystemRootCertificates.keychain)"
        );
    }

    #[test]
    fn host_limited_trust_is_not_whole_machine_trust() {
        let mut limited = ssl_server(Some(RESULT_TRUST_ROOT));
        limited.policy_string = Some("intranet.example".to_string());
        let snapshot = TrustSnapshot {
            records: vec![record(TrustDomain::Admin, COMPANY_ROOT, vec![limited])],
            ..TrustSnapshot::default()
        };
        let store = decide(&snapshot);
        assert!(store.trusted.is_empty());
        assert_eq!(store.warnings.len(), 1);
        assert!(store.warnings[0].contains("limited to host intranet.example"));
    }

    #[test]
    fn policy_limited_to_a_server_name_is_not_whole_machine_trust() {
        let mut limited = ssl_server(Some(RESULT_TRUST_ROOT));
        limited.policy.as_mut().unwrap().match_name = Some("git.example".to_string());
        let mut notes = Vec::new();
        assert_eq!(
            evaluate_constraints(&[limited.clone()], &mut notes),
            DomainVerdict::FallThrough
        );
        assert!(notes[0].contains("git.example"), "{notes:?}");
        assert!(!is_trustsync_shaped(&[limited]));
    }

    #[test]
    fn key_usage_any_counts_and_encryption_only_does_not() {
        let mut any = ssl_server(Some(RESULT_TRUST_ROOT));
        any.key_usage = Some(-1);
        let mut notes = Vec::new();
        assert_eq!(
            evaluate_constraints(&[any], &mut notes),
            DomainVerdict::Trusted
        );
        let mut encrypt_only = ssl_server(Some(RESULT_TRUST_ROOT));
        encrypt_only.key_usage = Some(0x02);
        assert_eq!(
            evaluate_constraints(&[encrypt_only], &mut notes),
            DomainVerdict::FallThrough
        );
        assert_eq!(notes.len(), 1);
    }

    #[test]
    fn keychain_of_prefers_the_domain_s_usual_keychain() {
        let admin = record(TrustDomain::Admin, COMPANY_ROOT, vec![]);
        let user = record(TrustDomain::User, COMPANY_ROOT, vec![]);
        let snapshot = TrustSnapshot {
            keychain_certificates: vec![
                in_keychain(Keychain::Login, COMPANY_ROOT),
                in_keychain(Keychain::System, COMPANY_ROOT),
            ],
            ..TrustSnapshot::default()
        };
        assert_eq!(snapshot.keychain_of(&admin), Some(Keychain::System));
        assert_eq!(snapshot.keychain_of(&user), Some(Keychain::Login));
        assert_eq!(TrustSnapshot::default().keychain_of(&user), None);
    }

    #[test]
    fn read_errors_become_warnings() {
        let snapshot = TrustSnapshot {
            read_errors: vec![
                "admin trust settings: SecTrustSettingsCopyCertificates failed: OSStatus -1"
                    .to_string(),
            ],
            ..TrustSnapshot::default()
        };
        let store = decide(&snapshot);
        assert_eq!(store.warnings, snapshot.read_errors);
    }

    #[test]
    fn oid_bytes_decode_like_the_on_disk_policy() {
        // "KoZIhvdjZAED" in on-disk trust settings plists: the SSL policy OID.
        let ssl = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x63, 0x64, 0x01, 0x03];
        assert_eq!(oid_from_der_content(&ssl).as_deref(), Some(SSL_POLICY_OID));
        assert_eq!(oid_from_der_content(&[0x2a, 0x86]), None);
        assert_eq!(oid_from_der_content(&[]), None);
    }

    #[test]
    fn authorization_failures_get_a_hint() {
        let e = api_error("SecTrustSettingsSetTrustSettings", -60007).to_string();
        assert!(e.contains("OSStatus -60007"), "{e}");
        assert!(e.contains("not over SSH"), "{e}");
        assert!(!api_error("x", -1).to_string().contains('('));
    }

    // --- add / remove -------------------------------------------------------------------

    fn managed(der: &[u8]) -> KeychainCertificate {
        KeychainCertificate {
            keychain: Keychain::System,
            der: der.to_vec(),
            label: Some(managed_label(&sha256_hex(der))),
        }
    }

    #[test]
    fn fingerprints_normalise() {
        let hex = sha256_hex(COMPANY_ROOT);
        let colons = hex
            .to_ascii_uppercase()
            .as_bytes()
            .chunks(2)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join(":");
        assert_eq!(normalize_fingerprint(&colons).unwrap(), hex);
        assert_eq!(
            normalize_fingerprint(&format!("sha256:{hex}")).unwrap(),
            hex
        );
        assert!(normalize_fingerprint("abcd").is_err());
        assert!(normalize_fingerprint(&"g".repeat(64)).is_err());
    }

    #[test]
    fn add_new_root_adds_item_and_trust() {
        let plan = plan_add(COMPANY_ROOT, true, &[], None).unwrap();
        assert_eq!(
            plan,
            AddPlan::AddItemAndTrust {
                label: format!("trustsync-managed sha256:{}", sha256_hex(COMPANY_ROOT)),
                result: RESULT_TRUST_ROOT,
            }
        );
        let intermediate = plan_add(OTHER_ROOT, false, &[], None).unwrap();
        assert!(matches!(
            intermediate,
            AddPlan::AddItemAndTrust {
                result: RESULT_TRUST_AS_ROOT,
                ..
            }
        ));
    }

    #[test]
    fn add_refuses_to_override_an_admin_deny() {
        let deny = RawTrustSettings::Constraints(vec![ssl_server(Some(RESULT_DENY))]);
        let err = plan_add(COMPANY_ROOT, true, &[managed(COMPANY_ROOT)], Some(&deny)).unwrap_err();
        assert!(matches!(err, ManageError::AdminDenies { .. }), "{err}");
    }

    #[test]
    fn add_leaves_foreign_items_and_settings_alone() {
        let foreign = in_keychain(Keychain::System, COMPANY_ROOT);
        let err = plan_add(COMPANY_ROOT, true, &[foreign], None).unwrap_err();
        assert!(matches!(err, ManageError::ForeignItem { .. }), "{err}");
        let smime_only = RawTrustSettings::Constraints(vec![smime(Some(RESULT_TRUST_ROOT))]);
        let err = plan_add(COMPANY_ROOT, true, &[], Some(&smime_only)).unwrap_err();
        assert!(matches!(err, ManageError::ForeignSettings { .. }), "{err}");
    }

    #[test]
    fn add_is_idempotent() {
        let ours = RawTrustSettings::Constraints(vec![ssl_server(Some(RESULT_TRUST_ROOT))]);
        assert_eq!(
            plan_add(COMPANY_ROOT, true, &[managed(COMPANY_ROOT)], Some(&ours)).unwrap(),
            AddPlan::AlreadyTrusted
        );
        assert_eq!(
            plan_add(COMPANY_ROOT, true, &[managed(COMPANY_ROOT)], None).unwrap(),
            AddPlan::TrustExistingManagedItem {
                result: RESULT_TRUST_ROOT
            }
        );
    }

    #[test]
    fn remove_only_touches_trustsyncs_own_item() {
        let fingerprint = sha256_hex(COMPANY_ROOT);
        let ours = RawTrustSettings::Constraints(vec![ssl_server(Some(RESULT_TRUST_ROOT))]);
        let listing = vec![
            in_keychain(Keychain::System, OTHER_ROOT),
            managed(COMPANY_ROOT),
        ];
        let plan = plan_remove(&fingerprint.to_ascii_uppercase(), &listing, Some(&ours)).unwrap();
        assert_eq!(
            plan,
            RemovePlan {
                item_index: 1,
                remove_trust_settings: true
            }
        );

        // Same certificate, added by someone else: not ours.
        let foreign = vec![in_keychain(Keychain::System, COMPANY_ROOT)];
        let err = plan_remove(&fingerprint, &foreign, Some(&ours)).unwrap_err();
        assert!(matches!(err, ManageError::NotManaged { .. }), "{err}");

        // Our label copied onto a different certificate: not ours either.
        let mut forged = in_keychain(Keychain::System, OTHER_ROOT);
        forged.label = Some(managed_label(&fingerprint));
        let err = plan_remove(&fingerprint, &[forged], None).unwrap_err();
        assert!(matches!(err, ManageError::NotManaged { .. }), "{err}");
    }

    #[test]
    fn remove_leaves_settings_someone_changed() {
        let fingerprint = sha256_hex(COMPANY_ROOT);
        let changed =
            RawTrustSettings::Constraints(vec![ssl_server(Some(RESULT_DENY)), smime(None)]);
        let err = plan_remove(&fingerprint, &[managed(COMPANY_ROOT)], Some(&changed)).unwrap_err();
        assert!(matches!(err, ManageError::ForeignSettings { .. }), "{err}");
        let plan = plan_remove(&fingerprint, &[managed(COMPANY_ROOT)], None).unwrap();
        assert!(!plan.remove_trust_settings);
    }
}
