//! OpenSSL's subject-name hashes, computed without OpenSSL.
//!
//! OpenSSL finds a CA in a hashed directory (`capath`) by the file name `HASH.N`, where HASH
//! is `X509_NAME_hash` of the CA's subject: the first four bytes, little-endian, of the SHA-1
//! of the name's *canonical* encoding (each string value converted to UTF-8, trimmed,
//! internal white space collapsed, ASCII lower-cased, re-tagged as UTF8String; the RDN SETs
//! concatenated without the outer SEQUENCE). OpenSSL 0.9.x used MD5 of the plain DER
//! (`-subject_hash_old`). No crate exposes this canonical form, so it is written here by
//! hand, following `x509_name_canon` and `asn1_string_canon` in OpenSSL's `crypto/x509/x_name.c`;
//! a test checks it against the real `openssl x509 -subject_hash` for every CA on the machine.

use md5::Md5;
use sha1::{Digest, Sha1};
use x509_parser::x509::X509Name;

// DER tags of the string types OpenSSL canonicalises (ASN1_MASK_CANON).
const UTF8_STRING: u8 = 0x0c;
const PRINTABLE_STRING: u8 = 0x13;
const T61_STRING: u8 = 0x14;
const IA5_STRING: u8 = 0x16;
const VISIBLE_STRING: u8 = 0x1a;
const UNIVERSAL_STRING: u8 = 0x1c;
const BMP_STRING: u8 = 0x1e;

/// `X509_NAME_hash`: what `openssl x509 -subject_hash` prints (as `{:08x}`).
pub fn subject_hash(name: &X509Name) -> u32 {
    let digest = Sha1::digest(canonical_encoding(name));
    u32::from_le_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// `X509_NAME_hash_old`: MD5 over the name's DER, as `-subject_hash_old` prints.
pub fn subject_hash_old(name: &X509Name) -> u32 {
    let digest = Md5::digest(name.as_raw());
    u32::from_le_bytes([digest[0], digest[1], digest[2], digest[3]])
}

fn canonical_encoding(name: &X509Name) -> Vec<u8> {
    let mut out = Vec::new();
    for rdn in name.iter_rdn() {
        let mut entries: Vec<Vec<u8>> = rdn
            .iter()
            .map(|atv| {
                let value = atv.attr_value();
                let tag = value.header.tag().0 as u8;
                let (tag, data) = match to_utf8(tag, value.data) {
                    Some(text) => (UTF8_STRING, canonical_text(&text)),
                    None => (tag, value.data.to_vec()),
                };
                let mut seq = tlv(0x06, atv.attr_type().as_bytes());
                seq.extend(tlv(tag, &data));
                tlv(0x30, &seq)
            })
            .collect();
        // DER orders the members of a SET OF by their encodings; OpenSSL's i2d does too.
        entries.sort();
        out.extend(tlv(0x31, &entries.concat()));
    }
    out
}

/// The value as UTF-8 if its type is one OpenSSL canonicalises, as `ASN1_STRING_to_UTF8`.
fn to_utf8(tag: u8, data: &[u8]) -> Option<Vec<u8>> {
    match tag {
        UTF8_STRING => Some(data.to_vec()),
        // One byte per character, read as Latin-1 (ASN1_tag2nbyte gives 1 for these).
        PRINTABLE_STRING | T61_STRING | IA5_STRING | VISIBLE_STRING => Some(
            data.iter()
                .map(|&b| b as char)
                .collect::<String>()
                .into_bytes(),
        ),
        BMP_STRING => Some(
            char::decode_utf16(
                data.chunks(2)
                    .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])),
            )
            .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect::<String>()
            .into_bytes(),
        ),
        UNIVERSAL_STRING => Some(
            data.chunks(4)
                .filter_map(|c| {
                    let mut b = [0u8; 4];
                    b[..c.len()].copy_from_slice(c);
                    char::from_u32(u32::from_be_bytes(b))
                })
                .collect::<String>()
                .into_bytes(),
        ),
        _ => None,
    }
}

/// Trim, collapse white space runs to one space, lower-case ASCII; other bytes unchanged.
fn canonical_text(utf8: &[u8]) -> Vec<u8> {
    // OpenSSL's ossl_isspace: space, \t, \n, \v, \f, \r.
    let is_space = |b: u8| matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r');
    let start = utf8
        .iter()
        .position(|&b| !is_space(b))
        .unwrap_or(utf8.len());
    let end = utf8
        .iter()
        .rposition(|&b| !is_space(b))
        .map_or(start, |p| p + 1);
    let mut out = Vec::with_capacity(end - start);
    let mut in_space = false;
    for &b in &utf8[start..end] {
        if is_space(b) {
            if !in_space {
                out.push(b' ');
            }
            in_space = true;
        } else {
            in_space = false;
            out.push(b.to_ascii_lowercase());
        }
    }
    out
}

/// One DER tag-length-value. Lengths up to 2^32 are plenty for names.
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = (len as u32).to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (4 - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_text_follows_openssl() {
        assert_eq!(canonical_text(b"  Foo \t\n BAR  "), b"foo bar");
        assert_eq!(canonical_text("ÄÖ Ab".as_bytes()), "ÄÖ ab".as_bytes());
        assert_eq!(canonical_text(b"   "), b"");
    }

    #[test]
    fn long_lengths_encode_in_long_form() {
        let v = tlv(0x04, &[0u8; 300]);
        assert_eq!(&v[..4], &[0x04, 0x82, 0x01, 0x2c]);
    }
}
