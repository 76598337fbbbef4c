//! Path building and verification against one trust set, with rustls-webpki.
//!
//! webpki is the verifier rustls itself uses: maintained, strict (RFC 5280 plus the
//! CA/Browser Forum profile), and it builds paths through the intermediates the server
//! sent in any order. The probe calls it once per trust set so the answer is "does this
//! chain verify for *that* runtime", not a guess from names.

use std::time::{SystemTime, UNIX_EPOCH};

use rustls::pki_types::{CertificateDer, ServerName, TrustAnchor, UnixTime};
use webpki::{EndEntityCert, KeyUsage};

use super::certinfo::CertInfo;
use super::TrustSetInput;

/// A trust set turned into webpki anchors, with the parsed roots kept alongside.
pub(crate) struct PreparedSet {
    pub label: String,
    /// Roots that x509-parser could read (for name lookups and display).
    pub roots: Vec<CertInfo>,
    anchors: Vec<TrustAnchor<'static>>,
    /// Certificates webpki could not turn into an anchor.
    pub unusable: usize,
}

impl PreparedSet {
    pub fn new(input: &TrustSetInput) -> PreparedSet {
        let mut anchors = Vec::new();
        let mut roots = Vec::new();
        let mut unusable = 0;
        for der in &input.roots {
            let cert = CertificateDer::from(der.as_slice());
            match webpki::anchor_from_trusted_cert(&cert) {
                Ok(anchor) => anchors.push(anchor.to_owned()),
                Err(_) => unusable += 1,
            }
            if let Ok(info) = CertInfo::parse(der) {
                roots.push(info);
            }
        }
        PreparedSet {
            label: input.label.clone(),
            roots,
            anchors,
            unusable,
        }
    }

    /// A root in this set whose subject is `subject_raw`.
    pub fn root_named(&self, subject_raw: &[u8]) -> Option<&CertInfo> {
        self.roots.iter().find(|r| r.subject_raw == subject_raw)
    }
}

/// Result of building a path for the chain in one trust set.
pub(crate) enum PathOutcome {
    /// A path verifies; the anchor's display name when it can be read.
    Verified { anchor: Option<String> },
    /// No path verifies; webpki's reason.
    Failed(webpki::Error),
}

pub(crate) fn unix_time(now: SystemTime) -> UnixTime {
    UnixTime::since_unix_epoch(now.duration_since(UNIX_EPOCH).unwrap_or_default())
}

/// Verifies `chain` (leaf first, the rest as intermediates in any order) for TLS server
/// use at `now`. The name is checked separately by [`check_name`].
pub(crate) fn verify_path(chain: &[Vec<u8>], set: &PreparedSet, now: SystemTime) -> PathOutcome {
    let Some((leaf, rest)) = chain.split_first() else {
        return PathOutcome::Failed(webpki::Error::BadDer);
    };
    let leaf_der = CertificateDer::from(leaf.as_slice());
    let end_entity = match EndEntityCert::try_from(&leaf_der) {
        Ok(ee) => ee,
        Err(e) => return PathOutcome::Failed(e),
    };
    let intermediates: Vec<CertificateDer<'_>> = rest
        .iter()
        .map(|c| CertificateDer::from(c.as_slice()))
        .collect();
    let algorithms = rustls::crypto::ring::default_provider()
        .signature_verification_algorithms
        .all;
    match end_entity.verify_for_usage(
        algorithms,
        &set.anchors,
        &intermediates,
        unix_time(now),
        KeyUsage::server_auth(),
        None,
        None,
    ) {
        Ok(path) => PathOutcome::Verified {
            anchor: super::certinfo::display_name_of_raw(path.anchor().subject.as_ref()),
        },
        Err(e) => PathOutcome::Failed(e),
    }
}

/// Checks the leaf against the name asked for (DNS name or IP address, SANs only, as
/// rustls and modern OpenSSL do). `Err` carries a short reason.
pub(crate) fn check_name(leaf: &[u8], name: &str) -> Result<(), String> {
    let server_name =
        ServerName::try_from(name).map_err(|_| format!("{name:?} is not a valid host name"))?;
    let leaf_der = CertificateDer::from(leaf);
    let end_entity = EndEntityCert::try_from(&leaf_der).map_err(|e| format!("{e:?}"))?;
    end_entity
        .verify_is_valid_for_subject_name(&server_name)
        .map_err(|e| match e {
            webpki::Error::CertNotValidForName(_) => "name not in the certificate".to_string(),
            other => format!("{other:?}"),
        })
}
