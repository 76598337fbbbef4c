//! Decoding certificate files: PEM bundles and DER files, as found in the wild.
//!
//! Real bundles carry comments between blocks, CRLF line ends, a UTF-8 BOM, no final
//! newline, Fedora's `BEGIN TRUSTED CERTIFICATE` blocks, and now and then a private key
//! someone pasted in. The `pem` crate decodes one block well but gives up on a whole file
//! at the first bad block, so this module finds the block boundaries itself and hands each
//! block to `pem` alone: one bad block costs that block, not the file.

/// What one file held.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// DER encodings of the certificates found, in file order.
    pub certificates: Vec<Vec<u8>>,
    /// OpenSSL's trust settings of a `TRUSTED CERTIFICATE` block, by index into
    /// [`Decoded::certificates`] (absent for plain certificates).
    pub trust_settings: Vec<(usize, TrustSettings)>,
    /// How many of [`Decoded::certificates`] came before the first block that could not be
    /// decoded (`None`: no such block). OpenSSL's PEM readers stop there.
    pub before_first_error: Option<usize>,
    /// Private keys found and dropped (never carried anywhere).
    pub private_keys_skipped: usize,
    /// One line per block that could not be decoded (block number and reason).
    pub errors: Vec<String>,
}

/// The `X509_CERT_AUX` that follows the certificate in a `TRUSTED CERTIFICATE` block
/// (`openssl x509 -addtrust/-addreject`): the purposes it is trusted and rejected for, as
/// the content bytes of each OBJECT IDENTIFIER. Hand-read (a few TLVs): x509-parser and
/// der-parser know no such structure.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustSettings {
    /// `None`: no trust list (then only the reject list can refuse it).
    pub trust: Option<Vec<Vec<u8>>>,
    pub reject: Vec<Vec<u8>>,
}

/// One DER TLV at the start of `der`: (tag, contents, total length).
fn tlv(der: &[u8]) -> Option<(u8, &[u8], usize)> {
    let (&tag, rest) = der.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (header, len) = if first < 0x80 {
        (2, first as usize)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        (
            2 + n,
            rest[..n].iter().fold(0usize, |a, b| (a << 8) | *b as usize),
        )
    };
    let total = header.checked_add(len)?;
    (total <= der.len()).then(|| (tag, &der[header..total], total))
}

/// The OBJECT IDENTIFIERs of a SEQUENCE OF OBJECT's contents.
fn oids(mut contents: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    while !contents.is_empty() {
        let (tag, oid, total) = tlv(contents)?;
        if tag != 0x06 {
            return None;
        }
        out.push(oid.to_vec());
        contents = &contents[total..];
    }
    Some(out)
}

/// Parses the aux structure; `None` when it is malformed (OpenSSL then fails the block).
pub fn parse_trust_settings(aux: &[u8]) -> Option<TrustSettings> {
    let mut out = TrustSettings::default();
    if aux.is_empty() {
        return Some(out);
    }
    let (tag, mut fields, _) = tlv(aux)?;
    if tag != 0x30 {
        return None;
    }
    while !fields.is_empty() {
        let (tag, contents, total) = tlv(fields)?;
        match tag {
            0x30 => out.trust = Some(oids(contents)?),
            0xA0 => out.reject = oids(contents)?,
            _ => {} // alias, keyid, other: no bearing on trust
        }
        fields = &fields[total..];
    }
    Some(out)
}

/// Decodes a file's bytes as DER (if it looks like a bare certificate) or as PEM.
impl Decoded {
    fn error(&mut self, message: String) {
        self.before_first_error
            .get_or_insert(self.certificates.len());
        self.errors.push(message);
    }
}

pub fn decode(bytes: &[u8]) -> Decoded {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.first() == Some(&0x30) {
        return decode_der(bytes);
    }
    decode_pem(bytes)
}

fn decode_der(bytes: &[u8]) -> Decoded {
    let mut out = Decoded::default();
    match first_der_element(bytes) {
        Some(len) if len == bytes.len() => out.certificates.push(bytes.to_vec()),
        Some(_) => out.error("DER file has trailing bytes after the certificate".into()),
        None => out.error("DER data is truncated or not a certificate".into()),
    }
    out
}

const BEGIN: &[u8] = b"-----BEGIN ";
const DASHES: &[u8] = b"-----";

fn decode_pem(bytes: &[u8]) -> Decoded {
    let mut out = Decoded::default();
    let mut rest = bytes;
    let mut block_no = 0;
    while let Some(start) = find(rest, BEGIN) {
        block_no += 1;
        let after_begin = &rest[start + BEGIN.len()..];
        let Some(label_end) = find(after_begin, DASHES) else {
            out.error(format!("block {block_no}: BEGIN line is not terminated"));
            break;
        };
        let label = String::from_utf8_lossy(&after_begin[..label_end]).into_owned();
        let end_marker = format!("-----END {label}-----");
        let Some(end_rel) = find(after_begin, end_marker.as_bytes()) else {
            out.error(format!(
                "block {block_no} ({label}): no matching END line (file truncated?)"
            ));
            break;
        };
        let block_end = start + BEGIN.len() + end_rel + end_marker.len();
        let block = &rest[start..block_end];
        rest = &rest[block_end..];
        if label.contains("PRIVATE KEY") {
            out.private_keys_skipped += 1;
            // OpenSSL's CA file reader (PEM_X509_INFO_read_bio_ex) decodes the unencrypted
            // key blocks it knows by name, and one that does not decode fails the whole
            // file; others ("ENCRYPTED PRIVATE KEY", Proc-Type encrypted) it skips. Only the
            // DER structure is checked here: the key itself is never kept or parsed.
            let decoded = matches!(
                label.as_str(),
                "PRIVATE KEY" | "RSA PRIVATE KEY" | "DSA PRIVATE KEY" | "EC PRIVATE KEY"
            );
            if decoded {
                let whole = match pem::parse(block) {
                    Ok(p) if p.headers().get("Proc-Type").is_some() => true,
                    Ok(p) => {
                        let der = p.contents();
                        der.first() == Some(&0x30) && first_der_element(der) == Some(der.len())
                    }
                    Err(_) => false,
                };
                if !whole {
                    out.error(format!(
                        "block {block_no} ({label}): the key inside does not decode"
                    ));
                }
            }
            continue;
        }
        let is_cert = matches!(
            label.as_str(),
            "CERTIFICATE" | "TRUSTED CERTIFICATE" | "X509 CERTIFICATE"
        );
        if !is_cert {
            continue; // CRLs, parameters and the like are not trust anchors.
        }
        match pem::parse(block) {
            Ok(p) => {
                let contents = p.contents();
                // A TRUSTED CERTIFICATE is the certificate followed by OpenSSL's
                // X509_CERT_AUX trust settings; the certificate is the first element.
                let der = if label == "TRUSTED CERTIFICATE" {
                    match first_der_element(contents) {
                        Some(len) => {
                            match parse_trust_settings(&contents[len..]) {
                                Some(t) if t != TrustSettings::default() => {
                                    out.trust_settings.push((out.certificates.len(), t))
                                }
                                Some(_) => {}
                                None => {
                                    out.error(format!(
                                        "block {block_no} ({label}): its trust settings are malformed"
                                    ));
                                    continue;
                                }
                            }
                            contents[..len].to_vec()
                        }
                        None => {
                            out.error(format!(
                                "block {block_no} ({label}): DER inside is truncated"
                            ));
                            continue;
                        }
                    }
                } else {
                    contents.to_vec()
                };
                out.certificates.push(der);
            }
            Err(e) => out.error(format!("block {block_no} ({label}): {e}")),
        }
    }
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Length of the first DER element (tag, length, contents) in `der`, if it is whole.
/// Hand-written because only the outer length is needed; a full ASN.1 parser is used
/// later (x509-parser) on the bytes this returns.
pub fn first_der_element(der: &[u8]) -> Option<usize> {
    if der.len() < 2 || der[0] != 0x30 {
        return None;
    }
    let first = der[1] as usize;
    let (header, len) = if first < 0x80 {
        (2, first)
    } else {
        let n = first & 0x7f;
        if n == 0 || n > 4 || der.len() < 2 + n {
            return None;
        }
        let len = der[2..2 + n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | *b as usize);
        (2 + n, len)
    };
    let total = header.checked_add(len)?;
    (total <= der.len()).then_some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pem_block(label: &str, der: &[u8]) -> String {
        pem::encode(&pem::Pem::new(label, der.to_vec()))
    }
    // A syntactically whole DER SEQUENCE; bundle decoding does not parse X.509.
    const FAKE_CERT: &[u8] = &[0x30, 0x03, 0x02, 0x01, 0x05];

    #[test]
    fn text_between_blocks_crlf_bom_no_final_newline() {
        let one = pem_block("CERTIFICATE", FAKE_CERT).replace('\n', "\r\n");
        let text = format!(
            "\u{feff}# Comment\r\n{one}some text\n{}",
            pem_block("CERTIFICATE", &[0x30, 0x00]).trim_end()
        );
        let d = decode(text.as_bytes());
        assert_eq!(d.certificates, vec![FAKE_CERT.to_vec(), vec![0x30, 0x00]]);
        assert!(d.errors.is_empty(), "{:?}", d.errors);
    }

    #[test]
    fn private_keys_are_dropped_and_counted() {
        let text = format!(
            "{}{}",
            pem_block("PRIVATE KEY", &[0x30, 0x03, 0x02, 0x01, 0x00]),
            pem_block("CERTIFICATE", FAKE_CERT)
        );
        let d = decode(text.as_bytes());
        assert_eq!(d.private_keys_skipped, 1);
        assert_eq!(d.certificates.len(), 1);
        assert!(d.errors.is_empty(), "{:?}", d.errors);
    }

    #[test]
    fn a_key_block_that_does_not_decode_fails_the_file_as_in_openssl() {
        let text = format!(
            "{}{}",
            pem_block("EC PRIVATE KEY", b"secret"),
            pem_block("CERTIFICATE", FAKE_CERT)
        );
        let d = decode(text.as_bytes());
        assert_eq!(d.errors.len(), 1, "{:?}", d.errors);
        assert_eq!(d.before_first_error, Some(0));
        // A key OpenSSL does not decode (encrypted PKCS#8) changes nothing.
        let text = format!(
            "{}{}",
            pem_block("ENCRYPTED PRIVATE KEY", b"secret"),
            pem_block("CERTIFICATE", FAKE_CERT)
        );
        assert!(decode(text.as_bytes()).errors.is_empty());
    }

    #[test]
    fn trusted_certificate_keeps_only_the_certificate() {
        let mut with_aux = FAKE_CERT.to_vec();
        with_aux.extend_from_slice(&[0x30, 0x02, 0x05, 0x00]);
        let d = decode(pem_block("TRUSTED CERTIFICATE", &with_aux).as_bytes());
        assert_eq!(d.certificates, vec![FAKE_CERT.to_vec()]);
    }

    #[test]
    fn bad_block_does_not_lose_the_rest() {
        let text = format!(
            "-----BEGIN CERTIFICATE-----\n!!!notbase64!!!\n-----END CERTIFICATE-----\n{}",
            pem_block("CERTIFICATE", FAKE_CERT)
        );
        let d = decode(text.as_bytes());
        assert_eq!(d.certificates.len(), 1);
        assert_eq!(d.errors.len(), 1);
        assert!(d.errors[0].starts_with("block 1"));
    }

    #[test]
    fn truncated_pem_and_der_are_errors() {
        let full = pem_block("CERTIFICATE", FAKE_CERT);
        let d = decode(&full.as_bytes()[..full.len() - 10]);
        assert!(d.certificates.is_empty());
        assert!(d.errors[0].contains("no matching END"));
        let d = decode(&FAKE_CERT[..3]);
        assert!(d.certificates.is_empty());
        assert!(d.errors[0].contains("truncated"));
    }

    #[test]
    fn der_file_and_empty_file() {
        assert_eq!(decode(FAKE_CERT).certificates.len(), 1);
        let d = decode(b"");
        assert!(d.certificates.is_empty() && d.errors.is_empty());
    }
}
