//! The macOS trust store FFI: copies trust settings and keychain certificates out of the
//! Security framework as plain data, and performs the keychain and trust-settings writes of
//! `trustsync add` / `remove`.
//!
//! This file only talks to the API. Every decision (Apple's domain precedence, which
//! entries count for TLS, which items are trustsync's own) is in `macos_trust.rs`, which is
//! compiled and unit-tested on every OS. The high-level
//! `TrustSettings::tls_trust_settings_for_certificate` of `security-framework` already
//! collapses a settings array into one answer and drops the distinctions trustsync reports
//! (corrupt records, host- or application-limited entries), so the raw array is read here
//! with `SecTrustSettingsCopyTrustSettings` from `security-framework-sys`.

use crate::macos_trust::{
    self, AddOutcome, AddPlan, Keychain, KeychainCertificate, ManageError, PolicyInfo,
    RawTrustSettings, RemoveOutcome, TrustDomain, TrustRecord, TrustSnapshot, UsageConstraint,
};
use crate::{StoreError, SystemStore};
use core_foundation::array::CFArray;
use core_foundation::base::{CFType, TCFType};
use core_foundation::data::CFData;
use core_foundation::dictionary::CFDictionary;
use core_foundation::number::CFNumber;
use core_foundation::string::CFString;
use core_foundation_sys::array::CFArrayRef;
use core_foundation_sys::base::{CFTypeRef, OSStatus};
use core_foundation_sys::dictionary::CFDictionaryRef;
use core_foundation_sys::string::CFStringRef;
use security_framework::certificate::SecCertificate;
use security_framework::item::{
    AddRef, ItemAddOptions, ItemAddValue, ItemClass, ItemSearchOptions, Limit, Location, Reference,
    SearchResult,
};
use security_framework::os::macos::keychain::SecKeychain;
use security_framework::policy::SecPolicy;
use security_framework::secure_transport::SslProtocolSide;
use security_framework_sys::base::{
    errSecItemNotFound, errSecNoTrustSettings, errSecSuccess, SecCertificateRef, SecPolicyRef,
};
use security_framework_sys::item::{kSecAttrLabel, kSecValueRef};
use security_framework_sys::trust_settings::{
    kSecTrustSettingsDomainAdmin, kSecTrustSettingsDomainSystem, kSecTrustSettingsDomainUser,
    SecTrustSettingsCopyCertificates, SecTrustSettingsCopyTrustSettings, SecTrustSettingsDomain,
    SecTrustSettingsSetTrustSettings,
};
use std::ffi::c_void;
use std::ptr;

// Declared here because security-framework-sys does not bind them (SecPolicy.h and
// SecTrustSettings.h, both in Security.framework).
#[link(name = "Security", kind = "framework")]
extern "C" {
    static kSecPolicyOid: CFStringRef;
    static kSecPolicyName: CFStringRef;
    fn SecPolicyCopyProperties(policy: SecPolicyRef) -> CFDictionaryRef;
    fn SecTrustSettingsRemoveTrustSettings(
        certificate: SecCertificateRef,
        domain: SecTrustSettingsDomain,
    ) -> OSStatus;
}

// Usage-constraint dictionary keys. In SecTrustSettings.h they are `CFSTR` macros, not
// exported symbols, so they are spelled out.
const KEY_POLICY: &str = "kSecTrustSettingsPolicy";
const KEY_POLICY_NAME: &str = "kSecTrustSettingsPolicyName";
const KEY_POLICY_STRING: &str = "kSecTrustSettingsPolicyString";
const KEY_APPLICATION: &str = "kSecTrustSettingsApplication";
const KEY_RESULT: &str = "kSecTrustSettingsResult";
const KEY_ALLOWED_ERROR: &str = "kSecTrustSettingsAllowedError";
const KEY_KEY_USAGE: &str = "kSecTrustSettingsKeyUsage";

fn sys_domain(domain: TrustDomain) -> SecTrustSettingsDomain {
    match domain {
        TrustDomain::User => kSecTrustSettingsDomainUser,
        TrustDomain::Admin => kSecTrustSettingsDomainAdmin,
        TrustDomain::System => kSecTrustSettingsDomainSystem,
    }
}

/// The certificates with trust settings in one domain.
fn copy_certificates(domain: TrustDomain) -> Result<Vec<SecCertificate>, String> {
    let mut array_ptr: CFArrayRef = ptr::null();
    // SAFETY: plain out-parameter call; on success we own the returned array (Copy rule).
    let status = unsafe { SecTrustSettingsCopyCertificates(sys_domain(domain), &mut array_ptr) };
    if status == errSecNoTrustSettings {
        return Ok(Vec::new());
    }
    if status != errSecSuccess || array_ptr.is_null() {
        return Err(format!(
            "{} trust settings: SecTrustSettingsCopyCertificates failed: OSStatus {status}",
            domain.name()
        ));
    }
    // SAFETY: non-null CF object returned under the create rule.
    let array = unsafe { CFType::wrap_under_create_rule(array_ptr as CFTypeRef) };
    let array = array.downcast_into::<CFArray>().ok_or_else(|| {
        format!(
            "{} trust settings: SecTrustSettingsCopyCertificates returned no array",
            domain.name()
        )
    })?;
    Ok(array
        .get_all_values()
        .into_iter()
        .filter(|p| !p.is_null())
        // SAFETY: non-null element of a live array; retained by wrap_under_get_rule.
        .filter_map(|p| unsafe { CFType::wrap_under_get_rule(p) }.downcast_into::<SecCertificate>())
        .collect())
}

/// The raw settings array of one certificate in one domain, `None` if it has none there.
fn copy_trust_settings(cert: &SecCertificate, domain: TrustDomain) -> Option<RawTrustSettings> {
    let mut array_ptr: CFArrayRef = ptr::null();
    // SAFETY: valid certificate reference and out-parameter; Copy rule on success.
    let status = unsafe {
        SecTrustSettingsCopyTrustSettings(
            cert.as_concrete_TypeRef(),
            sys_domain(domain),
            &mut array_ptr,
        )
    };
    if status == errSecItemNotFound || status == errSecNoTrustSettings {
        return None;
    }
    if status != errSecSuccess {
        // errSecInvalidTrustedRootRecord and friends: the record exists but is unreadable.
        return Some(RawTrustSettings::Corrupt(format!(
            "SecTrustSettingsCopyTrustSettings failed: OSStatus {status}"
        )));
    }
    if array_ptr.is_null() {
        return Some(RawTrustSettings::Corrupt(
            "SecTrustSettingsCopyTrustSettings returned no array".to_string(),
        ));
    }
    // SAFETY: non-null CF object returned under the create rule.
    let value = unsafe { CFType::wrap_under_create_rule(array_ptr as CFTypeRef) };
    Some(match decode_settings_array(&value) {
        Ok(constraints) => RawTrustSettings::Constraints(constraints),
        Err(why) => RawTrustSettings::Corrupt(why),
    })
}

fn decode_settings_array(value: &CFType) -> Result<Vec<UsageConstraint>, String> {
    let array = value
        .downcast::<CFArray>()
        .ok_or("trust settings are not an array")?;
    let mut constraints = Vec::new();
    for (index, pointer) in array.get_all_values().into_iter().enumerate() {
        if pointer.is_null() {
            return Err(format!("entry {index} is null"));
        }
        // SAFETY: non-null element of a live array; retained by wrap_under_get_rule.
        let item = unsafe { CFType::wrap_under_get_rule(pointer) };
        let dict = item
            .downcast::<CFDictionary>()
            .ok_or_else(|| format!("entry {index} is not a dictionary"))?;
        constraints.push(decode_constraint(&dict).map_err(|why| format!("entry {index}: {why}"))?);
    }
    Ok(constraints)
}

fn lookup(dict: &CFDictionary, key: &'static str) -> Option<CFType> {
    let key = CFString::from_static_string(key);
    let value = dict.find(key.as_CFTypeRef())?;
    let pointer: *const c_void = *value;
    // SAFETY: a non-null value of a live dictionary; retained by wrap_under_get_rule.
    (!pointer.is_null()).then(|| unsafe { CFType::wrap_under_get_rule(pointer) })
}

fn string_value(dict: &CFDictionary, key: &'static str) -> Result<Option<String>, String> {
    lookup(dict, key)
        .map(|v| {
            v.downcast::<CFString>()
                .map(|s| s.to_string())
                .ok_or_else(|| format!("{key} is not a string"))
        })
        .transpose()
}

fn integer_value(dict: &CFDictionary, key: &'static str) -> Result<Option<i64>, String> {
    lookup(dict, key)
        .map(|v| {
            v.downcast::<CFNumber>()
                .and_then(|n| n.to_i64())
                .ok_or_else(|| format!("{key} is not an integer"))
        })
        .transpose()
}

fn decode_constraint(dict: &CFDictionary) -> Result<UsageConstraint, String> {
    Ok(UsageConstraint {
        policy: lookup(dict, KEY_POLICY).map(policy_info).transpose()?,
        policy_name: string_value(dict, KEY_POLICY_NAME)?,
        policy_string: string_value(dict, KEY_POLICY_STRING)?,
        // A SecTrustedApplicationRef; only its presence matters, its description names it.
        application: lookup(dict, KEY_APPLICATION).map(|app| format!("{app:?}")),
        result: integer_value(dict, KEY_RESULT)?,
        allowed_error: integer_value(dict, KEY_ALLOWED_ERROR)?,
        key_usage: integer_value(dict, KEY_KEY_USAGE)?,
    })
}

/// The public API returns a `SecPolicyRef`; the on-disk form (seen if Apple ever passes it
/// through) is the OID as data or as a string.
fn policy_info(value: CFType) -> Result<PolicyInfo, String> {
    if let Some(policy) = value.downcast::<SecPolicy>() {
        // SAFETY: valid policy reference; the returned dictionary follows the Copy rule.
        let properties = unsafe { SecPolicyCopyProperties(policy.as_concrete_TypeRef()) };
        if properties.is_null() {
            return Ok(PolicyInfo::default());
        }
        // SAFETY: non-null dictionary returned under the create rule.
        let properties: CFDictionary = unsafe { CFDictionary::wrap_under_create_rule(properties) };
        let read = |key: CFStringRef| -> Option<String> {
            let value = properties.find(key as *const c_void)?;
            let pointer: *const c_void = *value;
            if pointer.is_null() {
                return None;
            }
            // SAFETY: non-null value of a live dictionary.
            unsafe { CFType::wrap_under_get_rule(pointer) }
                .downcast::<CFString>()
                .map(|s| s.to_string())
        };
        // SAFETY: reading extern constant CFStringRefs exported by Security.framework.
        let (oid_key, name_key) = unsafe { (kSecPolicyOid, kSecPolicyName) };
        return Ok(PolicyInfo {
            oid: read(oid_key),
            match_name: read(name_key),
        });
    }
    if let Some(oid) = value.downcast::<CFString>() {
        return Ok(PolicyInfo {
            oid: Some(oid.to_string()),
            match_name: None,
        });
    }
    if let Some(data) = value.downcast::<CFData>() {
        let oid = macos_trust::oid_from_der_content(data.bytes())
            .ok_or("kSecTrustSettingsPolicy holds a malformed OID")?;
        return Ok(PolicyInfo {
            oid: Some(oid),
            match_name: None,
        });
    }
    Err("kSecTrustSettingsPolicy is not a policy".to_string())
}

fn open_keychain(keychain: Keychain) -> Result<SecKeychain, String> {
    let opened = match keychain.path() {
        Some(path) => SecKeychain::open(path),
        None => SecKeychain::default(),
    };
    opened.map_err(|e| {
        format!(
            "{}: cannot open: {e} (OSStatus {})",
            keychain.name(),
            e.code()
        )
    })
}

/// Every certificate item in one keychain, as plain data plus the item reference (needed
/// to delete exactly that item).
fn list_keychain(
    handle: &SecKeychain,
    keychain: Keychain,
) -> Result<Vec<(KeychainCertificate, SecCertificate)>, String> {
    let results = ItemSearchOptions::new()
        .class(ItemClass::certificate())
        .keychains(std::slice::from_ref(handle))
        .load_refs(true)
        .load_attributes(true)
        .limit(Limit::All)
        .search();
    let results = match results {
        Ok(results) => results,
        Err(e) if e.code() == errSecItemNotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(format!(
                "{}: cannot list certificates: {e} (OSStatus {})",
                keychain.name(),
                e.code()
            ))
        }
    };
    let mut items = Vec::new();
    for result in results {
        let (cert, label) = match result {
            // With both refs and attributes requested, each result is the attribute
            // dictionary with the reference under kSecValueRef.
            SearchResult::Dict(dict) => {
                // SAFETY: reading extern constant CFStringRefs exported by Security.framework.
                let (value_key, label_key) = unsafe { (kSecValueRef, kSecAttrLabel) };
                let get = |key: CFStringRef| {
                    dict.find(key as *const c_void)
                        .map(|v| *v)
                        .filter(|p| !p.is_null())
                        // SAFETY: non-null value of a live dictionary.
                        .map(|p| unsafe { CFType::wrap_under_get_rule(p) })
                };
                let Some(cert) = get(value_key).and_then(|v| v.downcast_into::<SecCertificate>())
                else {
                    continue;
                };
                let label = get(label_key)
                    .and_then(|v| v.downcast::<CFString>())
                    .map(|s| s.to_string());
                (cert, label)
            }
            SearchResult::Ref(Reference::Certificate(cert)) => (cert, None),
            _ => continue,
        };
        items.push((
            KeychainCertificate {
                keychain,
                der: cert.to_der(),
                label,
            },
            cert,
        ));
    }
    Ok(items)
}

/// Copies everything the decision code needs out of the Security framework.
pub fn read_snapshot() -> TrustSnapshot {
    let mut snapshot = TrustSnapshot::default();
    for domain in TrustDomain::PRECEDENCE {
        let certs = match copy_certificates(domain) {
            Ok(certs) => certs,
            Err(why) => {
                snapshot.read_errors.push(why);
                continue;
            }
        };
        for cert in certs {
            // A certificate listed for the domain whose settings then vanish (changed
            // between the two calls) has nothing to say; skip it.
            if let Some(settings) = copy_trust_settings(&cert, domain) {
                snapshot.records.push(TrustRecord {
                    domain,
                    der: cert.to_der(),
                    settings,
                });
            }
        }
    }
    for keychain in Keychain::ALL {
        match open_keychain(keychain).and_then(|handle| list_keychain(&handle, keychain)) {
            Ok(items) => snapshot
                .keychain_certificates
                .extend(items.into_iter().map(|(item, _)| item)),
            Err(why) => snapshot.read_errors.push(why),
        }
    }
    snapshot
}

/// This machine's TLS trust, decided by [`macos_trust::decide`].
pub fn read_system_store() -> Result<SystemStore, StoreError> {
    Ok(macos_trust::decide(&read_snapshot()))
}

fn system_keychain() -> Result<SecKeychain, ManageError> {
    open_keychain(Keychain::System).map_err(ManageError::Unsupported)
}

/// Writes admin-domain trust settings for TLS server authentication: one `sslServer`
/// entry with `result` (TrustRoot for a self-signed root, TrustAsRoot otherwise).
fn set_admin_ssl_trust(cert: &SecCertificate, result: i64) -> Result<(), ManageError> {
    let policy = SecPolicy::create_ssl(SslProtocolSide::SERVER, None);
    let result = i32::try_from(result)
        .map_err(|_| ManageError::Unsupported(format!("bad trust result {result}")))?;
    let constraint = CFDictionary::from_CFType_pairs(&[
        (
            CFString::from_static_string(KEY_POLICY).into_CFType(),
            policy.into_CFType(),
        ),
        (
            CFString::from_static_string(KEY_RESULT).into_CFType(),
            CFNumber::from(result).into_CFType(),
        ),
    ]);
    let settings = CFArray::from_CFTypes(&[constraint]);
    // SAFETY: valid certificate and CF array references for the duration of the call.
    let status = unsafe {
        SecTrustSettingsSetTrustSettings(
            cert.as_concrete_TypeRef(),
            kSecTrustSettingsDomainAdmin,
            settings.as_CFTypeRef(),
        )
    };
    if status == errSecSuccess {
        Ok(())
    } else {
        Err(macos_trust::api_error(
            "SecTrustSettingsSetTrustSettings (admin domain)",
            status,
        ))
    }
}

/// Deletes the System.keychain items trustsync added for this fingerprint (used to roll
/// back an add whose trust settings could not be written).
fn delete_managed_items(handle: &SecKeychain, fingerprint: &str) -> Result<(), ManageError> {
    let items = list_keychain(handle, Keychain::System).map_err(ManageError::Unsupported)?;
    for (item, cert) in items {
        if macos_trust::is_managed_item(&item, fingerprint) {
            cert.delete()
                .map_err(|e| macos_trust::api_error("SecItemDelete (System.keychain)", e.code()))?;
        }
    }
    Ok(())
}

/// `trustsync add` on macOS: puts the CA into System.keychain, labelled as trustsync's,
/// and trusts it for TLS in the admin domain. Needs root (and, on recent macOS, an
/// administrator's confirmation in the desktop session).
pub fn add_root(der: &[u8]) -> Result<AddOutcome, ManageError> {
    let cert = SecCertificate::from_der(der)
        .map_err(|e| macos_trust::api_error("SecCertificateCreateWithData", e.code()))?;
    let handle = system_keychain()?;
    let listing = list_keychain(&handle, Keychain::System).map_err(ManageError::Unsupported)?;
    let plain: Vec<KeychainCertificate> = listing.into_iter().map(|(item, _)| item).collect();
    let admin = copy_trust_settings(&cert, TrustDomain::Admin);
    let self_signed = cert.subject() == cert.issuer();
    match macos_trust::plan_add(der, self_signed, &plain, admin.as_ref())? {
        AddPlan::AlreadyTrusted => Ok(AddOutcome::AlreadyTrusted),
        AddPlan::TrustExistingManagedItem { result } => {
            set_admin_ssl_trust(&cert, result)?;
            Ok(AddOutcome::Added)
        }
        AddPlan::AddItemAndTrust { label, result } => {
            let mut options =
                ItemAddOptions::new(ItemAddValue::Ref(AddRef::Certificate(cert.clone())));
            options
                .set_label(&label)
                .set_location(Location::FileKeychain(handle.clone()));
            options
                .add()
                .map_err(|e| macos_trust::api_error("SecItemAdd (System.keychain)", e.code()))?;
            if let Err(error) = set_admin_ssl_trust(&cert, result) {
                // Leave nothing half-done: the item without trust would look like ours
                // to a later `add` and do nothing for TLS.
                let fingerprint = macos_trust::sha256_hex(der);
                if let Err(rollback) = delete_managed_items(&handle, &fingerprint) {
                    return Err(ManageError::Unsupported(format!(
                        "{error}; and removing the item added to System.keychain also failed: {rollback}"
                    )));
                }
                return Err(error);
            }
            Ok(AddOutcome::Added)
        }
    }
}

/// `trustsync remove` on macOS: removes the CA with this SHA-256 fingerprint only if
/// trustsync added it (see [`macos_trust::plan_remove`]): its admin trust settings, then
/// its System.keychain item.
pub fn remove_root(fingerprint: &str) -> Result<RemoveOutcome, ManageError> {
    let fingerprint = macos_trust::normalize_fingerprint(fingerprint)?;
    let handle = system_keychain()?;
    let listing = list_keychain(&handle, Keychain::System).map_err(ManageError::Unsupported)?;
    let (plain, certs): (Vec<KeychainCertificate>, Vec<SecCertificate>) =
        listing.into_iter().unzip();
    let admin = plain
        .iter()
        .position(|item| macos_trust::is_managed_item(item, &fingerprint))
        .and_then(|index| copy_trust_settings(&certs[index], TrustDomain::Admin));
    let plan = macos_trust::plan_remove(&fingerprint, &plain, admin.as_ref())?;
    let cert = &certs[plan.item_index];
    if plan.remove_trust_settings {
        // SAFETY: valid certificate reference.
        let status = unsafe {
            SecTrustSettingsRemoveTrustSettings(
                cert.as_concrete_TypeRef(),
                kSecTrustSettingsDomainAdmin,
            )
        };
        if status != errSecSuccess && status != errSecItemNotFound {
            return Err(macos_trust::api_error(
                "SecTrustSettingsRemoveTrustSettings (admin domain)",
                status,
            ));
        }
    }
    cert.delete()
        .map_err(|e| macos_trust::api_error("SecItemDelete (System.keychain)", e.code()))?;
    Ok(RemoveOutcome {
        trust_settings_removed: plan.remove_trust_settings,
    })
}
