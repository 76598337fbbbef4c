//! Path building and verification against one trust set, with rustls-webpki.
//!
//! webpki is the verifier rustls itself uses: maintained, strict (RFC 5280 plus the
//! CA/Browser Forum profile), and it builds paths through the intermediates the server
//! sent in any order. The probe calls it once per trust set so the answer is "does this
//! chain verify for *that* runtime", not a guess from names.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use rustls::pki_types::{CertificateDer, ServerName, TrustAnchor, UnixTime};
use webpki::{EndEntityCert, KeyUsage};

use super::certinfo::CertInfo;
use super::TrustSetInput;

/// Every distinct root of the trust sets, parsed once (`None`: x509-parser cannot read
/// it). The sets are mostly the same few hundred CAs, the OS store's and every runtime's
/// copy of them, so parsing per set would repeat the same work once per runtime.
pub(crate) fn parse_roots(inputs: &[TrustSetInput]) -> HashMap<&[u8], Option<CertInfo>> {
    let mut parsed = HashMap::new();
    for der in inputs.iter().flat_map(|i| &i.roots) {
        parsed
            .entry(der.as_slice())
            .or_insert_with(|| CertInfo::parse(der).ok());
    }
    parsed
}

/// A trust set turned into webpki anchors, with the parsed roots kept alongside.
pub(crate) struct PreparedSet<'a> {
    pub label: String,
    /// Roots that x509-parser could read (for name lookups and display).
    pub roots: Vec<&'a CertInfo>,
    anchors: Vec<TrustAnchor<'static>>,
    /// The parsed root behind each anchor (same index), to name the anchor a path ends at.
    anchor_roots: Vec<Option<&'a CertInfo>>,
    /// Certificates webpki could not turn into an anchor.
    pub unusable: usize,
}

impl<'a> PreparedSet<'a> {
    /// `parsed` is [`parse_roots`] over all the sets, `input` among them.
    pub fn new(
        input: &TrustSetInput,
        parsed: &'a HashMap<&[u8], Option<CertInfo>>,
    ) -> PreparedSet<'a> {
        let mut set = PreparedSet {
            label: input.label.clone(),
            roots: Vec::new(),
            anchors: Vec::new(),
            anchor_roots: Vec::new(),
            unusable: 0,
        };
        for der in &input.roots {
            let info = parsed.get(der.as_slice()).and_then(Option::as_ref);
            let cert = CertificateDer::from(der.as_slice());
            match webpki::anchor_from_trusted_cert(&cert) {
                Ok(anchor) => {
                    set.anchors.push(anchor.to_owned());
                    set.anchor_roots.push(info);
                }
                Err(_) => set.unusable += 1,
            }
            set.roots.extend(info);
        }
        set
    }

    /// A root in this set whose subject is `subject_raw`.
    pub fn root_named(&self, subject_raw: &[u8]) -> Option<&'a CertInfo> {
        self.roots
            .iter()
            .copied()
            .find(|r| r.subject_raw == subject_raw)
    }

    /// The display name of the root behind `anchor`, one of this set's anchors.
    fn anchor_name(&self, anchor: &TrustAnchor<'_>) -> Option<String> {
        let i = self.anchors.iter().position(|a| a == anchor)?;
        self.anchor_roots[i].map(|r| r.display_name.clone())
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
            anchor: set.anchor_name(path.anchor()),
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
