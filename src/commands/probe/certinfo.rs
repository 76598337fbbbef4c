//! The facts about one certificate that the probe reports and classifies on.
//!
//! rustls-webpki decides whether a path verifies but deliberately exposes little about
//! the certificates (no names, dates or AIA); x509-parser reads those. Parsing once into
//! this plain struct keeps the classifier free of ASN.1 details.

use std::net::{Ipv4Addr, Ipv6Addr};

use sha2::{Digest, Sha256};
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::oid_registry::OID_PKIX_ACCESS_DESCRIPTOR_CA_ISSUERS;
use x509_parser::prelude::{FromDer, X509Certificate, X509Name};

use super::report::Validity;

/// What the probe knows about one certificate.
#[derive(Debug, Clone)]
pub(crate) struct CertInfo {
    pub der: Vec<u8>,
    pub subject: String,
    pub issuer: String,
    /// DER of the subject and issuer Names, compared byte for byte (RFC 5280 name
    /// chaining as implemented by webpki: exact encoding).
    pub subject_raw: Vec<u8>,
    pub issuer_raw: Vec<u8>,
    /// Common name, else organisation, else the full subject: what a person calls it.
    pub display_name: String,
    pub issuer_display_name: String,
    /// Organisation (O=) of the subject and the issuer, for the public-CA heuristic.
    pub organisation: Option<String>,
    pub issuer_organisation: Option<String>,
    pub not_before: i64,
    pub not_after: i64,
    /// DNS and IP subject alternative names, as text.
    pub names: Vec<String>,
    pub is_ca: bool,
    /// Issuer equals subject (and, when both key identifiers are present, they agree).
    pub self_signed: bool,
    /// AIA "CA Issuers" URLs: where the issuer's certificate can be downloaded.
    pub ca_issuers: Vec<String>,
    /// SHA-256 of the DER, lowercase hex.
    pub sha256: String,
}

impl CertInfo {
    pub fn parse(der: &[u8]) -> Result<CertInfo, String> {
        let (rest, cert) = X509Certificate::from_der(der).map_err(|e| e.to_string())?;
        if !rest.is_empty() {
            return Err("trailing bytes after the certificate".into());
        }
        let mut names = Vec::new();
        let mut ca_issuers = Vec::new();
        let mut ski = None;
        let mut aki = None;
        for ext in cert.extensions() {
            match ext.parsed_extension() {
                ParsedExtension::SubjectAlternativeName(san) => {
                    for gn in &san.general_names {
                        match gn {
                            GeneralName::DNSName(n) => names.push(n.to_string()),
                            GeneralName::IPAddress(b) => names.push(ip_text(b)),
                            _ => {}
                        }
                    }
                }
                ParsedExtension::AuthorityInfoAccess(aia) => {
                    for desc in aia.iter() {
                        if desc.access_method == OID_PKIX_ACCESS_DESCRIPTOR_CA_ISSUERS {
                            if let GeneralName::URI(uri) = desc.access_location {
                                ca_issuers.push(uri.to_string());
                            }
                        }
                    }
                }
                ParsedExtension::SubjectKeyIdentifier(k) => ski = Some(k.0.to_vec()),
                ParsedExtension::AuthorityKeyIdentifier(a) => {
                    aki = a.key_identifier.as_ref().map(|k| k.0.to_vec())
                }
                _ => {}
            }
        }
        let subject_raw = cert.subject().as_raw().to_vec();
        let issuer_raw = cert.issuer().as_raw().to_vec();
        let keys_agree = match (&ski, &aki) {
            (Some(s), Some(a)) => s == a,
            _ => true,
        };
        Ok(CertInfo {
            der: der.to_vec(),
            subject: cert.subject().to_string(),
            issuer: cert.issuer().to_string(),
            self_signed: subject_raw == issuer_raw && keys_agree,
            subject_raw,
            issuer_raw,
            display_name: crate::model::cert::readable_name(cert.subject()),
            issuer_display_name: crate::model::cert::readable_name(cert.issuer()),
            organisation: first_org(cert.subject()),
            issuer_organisation: first_org(cert.issuer()),
            not_before: cert.validity().not_before.timestamp(),
            not_after: cert.validity().not_after.timestamp(),
            names,
            is_ca: cert.is_ca(),
            ca_issuers,
            sha256: hex::encode(Sha256::digest(der)),
        })
    }

    /// Whether the certificate is within its validity at `now` (unix seconds).
    pub fn validity_at(&self, now: i64) -> Validity {
        if now < self.not_before {
            Validity::NotYetValid
        } else if now > self.not_after {
            Validity::Expired
        } else {
            Validity::Valid
        }
    }
}

fn ip_text(bytes: &[u8]) -> String {
    match bytes.len() {
        4 => Ipv4Addr::from(<[u8; 4]>::try_from(bytes).expect("4 bytes")).to_string(),
        16 => Ipv6Addr::from(<[u8; 16]>::try_from(bytes).expect("16 bytes")).to_string(),
        _ => hex::encode(bytes),
    }
}

fn first_org(name: &X509Name<'_>) -> Option<String> {
    name.iter_organization()
        .find_map(|a| a.as_str().ok())
        .map(str::to_string)
}
