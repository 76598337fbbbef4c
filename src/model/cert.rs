//! The certificate model: one parsed CA certificate and the facts trustsync compares by.
//!
//! A certificate's identity is the SHA-256 of its DER. Two different certificates for the
//! same CA (a re-issued root: same subject, same key) are still the same trust anchor to a
//! TLS library, so [`Certificate::anchor_key`] lets a diff treat them as equal.

use crate::model::name_hash;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::time::{SystemTime, UNIX_EPOCH};
use x509_parser::prelude::*;

/// A parsed certificate. Only public data: private keys never reach this type.
#[derive(Debug, Clone)]
pub struct Certificate {
    pub der: Vec<u8>,
    /// SHA-256 of the DER: the certificate's identity everywhere in trustsync.
    pub sha256: [u8; 32],
    pub subject: String,
    pub issuer: String,
    /// Validity bounds, seconds since the Unix epoch.
    pub not_before: i64,
    pub not_after: i64,
    /// Basic constraints say CA, or an X.509 v1 self-issued certificate (which OpenSSL
    /// accepts as a trust anchor).
    pub is_ca: bool,
    /// `openssl x509 -subject_hash`: the `HASH` in a capath's `HASH.N` file names.
    pub subject_hash: u32,
    /// `openssl x509 -subject_hash_old` (MD5 form, OpenSSL before 1.0).
    pub subject_hash_old: u32,
    /// SHA-256 over subject DER and SubjectPublicKeyInfo: equal for re-issued copies.
    anchor_key: [u8; 32],
    /// Why OpenSSL refuses it as a CA, with (`strict`) or without `X509_V_FLAG_X509_STRICT`.
    anchor_flaws: AnchorFlaws,
    /// [`readable_name`] of the subject, taken from its parsed attributes (the subject
    /// text cannot be split on commas: a CN may contain one).
    display_name: String,
}

/// What OpenSSL checks of a CA certificate's own extensions when it is in a chain (the
/// leaf's issuer or above), as the real clients showed in `tests/truth_rules.rs`.
#[derive(Debug, Clone, Default)]
struct AnchorFlaws {
    /// Every OpenSSL: a keyUsage extension without keyCertSign ("invalid CA certificate").
    always: Option<&'static str>,
    /// Only under `X509_V_FLAG_X509_STRICT` (Python 3.13's default context): the rest.
    strict: Option<&'static str>,
}

/// Only for a certificate that acts as an issuer (CA:TRUE, a v1 self-issued one, or one
/// without basicConstraints whose keyUsage allows keyCertSign): a self-signed server
/// certificate pinned in a bundle is the end of its chain and is not checked as a CA.
fn anchor_flaws(x509: &X509Certificate<'_>, is_ca: bool) -> AnchorFlaws {
    let key_usage = x509.key_usage().ok().flatten();
    let signs = key_usage
        .as_ref()
        .is_some_and(|ku| ku.value.key_cert_sign());
    let no_bc = matches!(x509.basic_constraints(), Ok(None));
    let issuer_like = is_ca || (no_bc && signs && x509.version() != X509Version::V1);
    if !issuer_like {
        return AnchorFlaws::default();
    }
    let always = key_usage
        .as_ref()
        .filter(|ku| !ku.value.key_cert_sign())
        .map(|_| "its keyUsage extension lacks keyCertSign");
    let strict = if x509.version() == X509Version::V1 {
        Some("it is an X.509 v1 certificate, so what it issues carries no authority key identifier")
    } else {
        match x509.basic_constraints() {
            Ok(None) | Err(_) => Some("it has no basicConstraints extension"),
            Ok(Some(bc)) if !bc.critical => {
                Some("its basicConstraints extension is not marked critical")
            }
            Ok(Some(_)) if key_usage.is_none() => Some("it has no keyUsage extension"),
            Ok(Some(_)) => None,
        }
    };
    AnchorFlaws { always, strict }
}

/// The most readable part of an X.509 name: its CN, else O, else OU, else the whole name.
pub(crate) fn readable_name(name: &x509_parser::x509::X509Name<'_>) -> String {
    name.iter_common_name()
        .find_map(|a| a.as_str().ok())
        .or_else(|| name.iter_organization().find_map(|a| a.as_str().ok()))
        .or_else(|| {
            name.iter_organizational_unit()
                .find_map(|a| a.as_str().ok())
        })
        .map(str::to_string)
        .unwrap_or_else(|| name.to_string())
}

/// Why a blob is not a certificate.
#[derive(Debug, thiserror::Error)]
#[error("not a valid X.509 certificate: {0}")]
pub struct CertError(String);

impl Certificate {
    pub fn from_der(der: &[u8]) -> Result<Self, CertError> {
        // x509-parser does not check the outer tag; OpenSSL (what runtimes load) wants a
        // SEQUENCE, so a blob it would skip is not counted as a certificate here either.
        if der.first() != Some(&0x30) {
            return Err(CertError("not a DER SEQUENCE".into()));
        }
        let (rest, x509) = X509Certificate::from_der(der).map_err(|e| CertError(e.to_string()))?;
        if !rest.is_empty() {
            return Err(CertError(format!("{} trailing bytes", rest.len())));
        }
        let subject = x509.subject();
        let self_issued = subject.as_raw() == x509.issuer().as_raw();
        let is_ca = match x509.basic_constraints() {
            Ok(Some(bc)) => bc.value.ca,
            Ok(None) => x509.version() == X509Version::V1 && self_issued,
            Err(_) => false,
        };
        let mut anchor = Sha256::new();
        anchor.update(subject.as_raw());
        anchor.update(x509.public_key().raw);
        Ok(Certificate {
            sha256: Sha256::digest(der).into(),
            subject: subject.to_string(),
            display_name: readable_name(subject),
            issuer: x509.issuer().to_string(),
            not_before: x509.validity().not_before.timestamp(),
            not_after: x509.validity().not_after.timestamp(),
            is_ca,
            subject_hash: name_hash::subject_hash(subject),
            subject_hash_old: name_hash::subject_hash_old(subject),
            anchor_key: anchor.finalize().into(),
            anchor_flaws: anchor_flaws(&x509, is_ca),
            der: der.to_vec(),
        })
    }

    pub fn fingerprint(&self) -> String {
        hex::encode(self.sha256)
    }

    pub fn subject_hash_hex(&self) -> String {
        format!("{:08x}", self.subject_hash)
    }

    /// Equal for two certificates that are the same trust anchor (same subject and key).
    pub fn anchor_key(&self) -> [u8; 32] {
        self.anchor_key
    }

    /// The most readable part of the subject: its CN, else O, else OU, else the whole name.
    pub fn display_name(&self) -> String {
        self.display_name.clone()
    }

    /// Why an OpenSSL client will not use it as a CA, if it will not: `strict` for one
    /// that verifies with `X509_V_FLAG_X509_STRICT` (Python 3.13+, urllib3 2.3+ there).
    pub fn rejected_as_ca(&self, strict: bool) -> Option<&'static str> {
        self.anchor_flaws.always.or(if strict {
            self.anchor_flaws.strict
        } else {
            None
        })
    }

    pub fn is_expired_at(&self, now: i64) -> bool {
        now > self.not_after
    }

    /// The certificate as one PEM block.
    pub fn to_pem(&self) -> String {
        ::pem::encode(&::pem::Pem::new("CERTIFICATE", self.der.clone()))
    }
}

/// A Unix time as RFC 3339 UTC (`2025-01-31T12:00:00Z`), what every JSON document gives
/// beside its epoch-seconds fields; `@SECONDS` when out of range.
pub fn format_rfc3339(unix: i64) -> String {
    ::time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&::time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| format!("@{unix}"))
}

/// A Unix time as its UTC date (`2026-12-02`), or the number when out of range.
pub fn format_date(unix: i64) -> String {
    ::time::OffsetDateTime::from_unix_timestamp(unix)
        .map(|t| t.date().to_string())
        .unwrap_or_else(|_| unix.to_string())
}

/// Seconds since the Unix epoch, now.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A short summary of a certificate for reports.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CertSummary {
    pub sha256: String,
    pub subject: String,
    /// Unix seconds (kept: JSON fields are only ever added).
    pub not_after: i64,
    /// The same instant as RFC 3339 UTC.
    pub not_after_rfc3339: String,
}

impl From<&Certificate> for CertSummary {
    fn from(c: &Certificate) -> Self {
        CertSummary {
            sha256: c.fingerprint(),
            subject: c.display_name(),
            not_after: c.not_after,
            not_after_rfc3339: format_rfc3339(c.not_after),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn self_signed(dn: &[(rcgen::DnType, &str)]) -> Certificate {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name = rcgen::DistinguishedName::new();
        for (key, value) in dn {
            params.distinguished_name.push(key.clone(), *value);
        }
        let key = rcgen::KeyPair::generate().unwrap();
        Certificate::from_der(params.self_signed(&key).unwrap().der()).unwrap()
    }

    #[test]
    fn display_name_reads_attributes_not_the_subject_text() {
        let comma = self_signed(&[
            (rcgen::DnType::OrganizationName, "Acme"),
            (rcgen::DnType::CommonName, "Acme, Inc. Root CA"),
        ]);
        assert_eq!(comma.display_name(), "Acme, Inc. Root CA");
        let org = self_signed(&[(rcgen::DnType::OrganizationName, "Org Only, Ltd")]);
        assert_eq!(org.display_name(), "Org Only, Ltd");
        let unit = self_signed(&[(rcgen::DnType::OrganizationalUnitName, "Unit")]);
        assert_eq!(unit.display_name(), "Unit");
    }
}
