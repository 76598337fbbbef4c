//! The trusted certificates JSSE takes from a PKCS#12 truststore opened without a
//! password (what `TrustStoreManager` does unless `javax.net.ssl.trustStorePassword` is
//! set): the certificate bags in plain `data` contents that carry Oracle's
//! trusted-key-usage attribute. JDK 18 and later ship `cacerts` this way (password-less
//! PKCS#12, JDK-8275252). `PKCS12KeyStore.engineLoad` skips encrypted contents when no
//! password is given, and a bag without the attribute (an OpenSSL-made store) is no trust
//! anchor, only a chain certificate.
//!
//! `fix` writes such a store too ([`set_trustsync_entries`]): trustsync's CAs go in as
//! certificate bags of a plain `data` content of their own, each with a `friendlyName`
//! alias `trustsync-<sha256 prefix>` and the trusted-key-usage mark, exactly the shape
//! `keytool` gives a trusted entry of a password-less store; every other content keeps
//! its bytes. Only a store without a MAC is rewritten: one keyed by a password would need
//! it to recompute the MAC, and trustsync does not guess passwords.
//!
//! Hand-written over `asn1-rs`'s DER reader because the PKCS#12 crates (`p12-keystore`,
//! `jks`' PKCS#12 side) refuse stores whose contents are not encrypted, which is exactly
//! the JDK's own `cacerts`, and need the password trustsync does not have.

use asn1_rs::{Any, Class, FromDer, Tag};

const DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01]; // 1.2.840.113549.1.7.1
const CERT_BAG: &[u8] = &[
    0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x0a, 0x01, 0x03,
]; // 1.2.840.113549.1.12.10.1.3
const X509_CERT: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x16, 0x01]; // 1.2.840.113549.1.9.22.1
/// Oracle's `TrustedKeyUsage` (2.16.840.1.113894.746875.1.1): what makes a bag an anchor.
const TRUSTED_KEY_USAGE: &[u8] = &[
    0x60, 0x86, 0x48, 0x01, 0x86, 0xf9, 0x66, 0xad, 0xca, 0x7b, 0x01, 0x01,
];

/// What a password-less load of the store gives.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Pkcs12Trust {
    /// DER of each trusted certificate, in file order.
    pub trusted: Vec<Vec<u8>>,
    /// How many contents are encrypted (skipped without a password).
    pub encrypted_parts: usize,
}

/// At most this many contents and bags (a hostile file).
const MAX_ITEMS: usize = 20_000;

fn any(input: &[u8]) -> Result<(&[u8], Any<'_>), String> {
    Any::from_der(input).map_err(|e| format!("not DER ({e})"))
}

/// The elements of a SEQUENCE (or SET) given as its content bytes.
fn elements(data: &[u8]) -> Result<Vec<Any<'_>>, String> {
    Ok(raw_elements(data)?
        .into_iter()
        .map(|(item, _)| item)
        .collect())
}

/// The elements with the exact bytes (header and content) each was read from.
fn raw_elements(mut data: &[u8]) -> Result<Vec<(Any<'_>, &[u8])>, String> {
    let mut out = Vec::new();
    while !data.is_empty() {
        if out.len() >= MAX_ITEMS {
            return Err(format!("more than {MAX_ITEMS} items"));
        }
        let (rest, item) = any(data)?;
        out.push((item, &data[..data.len() - rest.len()]));
        data = rest;
    }
    Ok(out)
}

fn expect<'a>(item: &Any<'a>, tag: Tag, what: &str) -> Result<&'a [u8], String> {
    if item.class() == Class::Universal && item.tag() == tag {
        Ok(item.data)
    } else {
        Err(format!("{what} is not where PKCS#12 has it"))
    }
}

/// `[0] EXPLICIT` content: the one element inside.
fn explicit0<'a>(item: &Any<'a>, what: &str) -> Result<Any<'a>, String> {
    if item.class() != Class::ContextSpecific || item.tag() != Tag(0) {
        return Err(format!("{what} has no [0] content"));
    }
    Ok(any(item.data)?.1)
}

/// Parses a PKCS#12 file's bytes as JSSE loads it without a password.
pub fn parse(bytes: &[u8]) -> Result<Pkcs12Trust, String> {
    let (_, pfx) = any(bytes)?;
    let pfx = elements(expect(&pfx, Tag::Sequence, "the PFX")?)?;
    let [version, auth_safe, ..] = pfx.as_slice() else {
        return Err("the PFX is too short".into());
    };
    expect(version, Tag::Integer, "the version")?;
    let outer = elements(expect(auth_safe, Tag::Sequence, "the authenticated safe")?)?;
    let [kind, content] = outer.as_slice() else {
        return Err("the authenticated safe is not a ContentInfo".into());
    };
    if expect(kind, Tag::Oid, "its content type")? != DATA {
        return Err("its contents are signed, not data (public-key integrity mode)".into());
    }
    let safe = explicit0(content, "the authenticated safe")?;
    let (_, infos) = any(expect(&safe, Tag::OctetString, "the authenticated safe")?)?;
    let mut out = Pkcs12Trust::default();
    for info in elements(expect(&infos, Tag::Sequence, "the content list")?)? {
        let parts = elements(expect(&info, Tag::Sequence, "a ContentInfo")?)?;
        let [kind, content, ..] = parts.as_slice() else {
            return Err("a ContentInfo is too short".into());
        };
        if expect(kind, Tag::Oid, "a content type")? != DATA {
            out.encrypted_parts += 1;
            continue;
        }
        let inner = explicit0(content, "a ContentInfo")?;
        let (_, bags) = any(expect(&inner, Tag::OctetString, "safe contents")?)?;
        for bag in elements(expect(&bags, Tag::Sequence, "safe contents")?)? {
            if let Some(der) = trusted_cert(&bag)? {
                out.trusted.push(der);
            }
        }
    }
    Ok(out)
}

/// The certificate of a cert bag that carries the trusted-key-usage attribute.
fn trusted_cert(bag: &Any<'_>) -> Result<Option<Vec<u8>>, String> {
    let parts = elements(expect(bag, Tag::Sequence, "a safe bag")?)?;
    let [id, value, rest @ ..] = parts.as_slice() else {
        return Err("a safe bag is too short".into());
    };
    if expect(id, Tag::Oid, "a bag type")? != CERT_BAG {
        return Ok(None);
    }
    let trusted = match rest.first() {
        Some(attrs) => elements(expect(attrs, Tag::Set, "bag attributes")?)?
            .iter()
            .any(|attr| {
                expect(attr, Tag::Sequence, "an attribute")
                    .and_then(elements)
                    .is_ok_and(|a| {
                        a.first().is_some_and(|oid| {
                            oid.tag() == Tag::Oid && oid.data == TRUSTED_KEY_USAGE
                        })
                    })
            }),
        None => false,
    };
    if !trusted {
        return Ok(None);
    }
    let cert_bag = explicit0(value, "a cert bag")?;
    let cert = elements(expect(&cert_bag, Tag::Sequence, "a cert bag")?)?;
    let [kind, value] = cert.as_slice() else {
        return Err("a cert bag is not (type, value)".into());
    };
    if expect(kind, Tag::Oid, "a certificate type")? != X509_CERT {
        return Ok(None);
    }
    let der = explicit0(value, "a cert bag")?;
    Ok(Some(
        expect(&der, Tag::OctetString, "a certificate")?.to_vec(),
    ))
}

const FRIENDLY_NAME: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x14]; // 1.2.840.113549.1.9.20
const ANY_EXTENDED_KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x25, 0x00]; // 2.5.29.37.0

/// A DER TLV (the few structures `fix` writes are fixed shapes: no DER writer needed).
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    trustsync_platform::der::push_length(&mut out, content.len());
    out.extend_from_slice(content);
    out
}

fn seq(parts: &[&[u8]]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

/// A data ContentInfo around `inner` (DER): `SEQUENCE { data, [0] { OCTET STRING } }`.
fn data_info(inner: &[u8]) -> Vec<u8> {
    seq(&[&tlv(0x06, DATA), &tlv(0xa0, &tlv(0x04, inner))])
}

/// A trusted certificate bag as keytool writes one: friendlyName `alias`, trusted for
/// any purpose.
fn trusted_bag(alias: &str, der: &[u8]) -> Vec<u8> {
    let bmp: Vec<u8> = alias.encode_utf16().flat_map(u16::to_be_bytes).collect();
    let name = seq(&[&tlv(0x06, FRIENDLY_NAME), &tlv(0x31, &tlv(0x1e, &bmp))]);
    let usage = seq(&[
        &tlv(0x06, TRUSTED_KEY_USAGE),
        &tlv(0x31, &tlv(0x06, ANY_EXTENDED_KEY_USAGE)),
    ]);
    let cert = seq(&[&tlv(0x06, X509_CERT), &tlv(0xa0, &tlv(0x04, der))]);
    seq(&[
        &tlv(0x06, CERT_BAG),
        &tlv(0xa0, &cert),
        &tlv(0x31, &[name, usage].concat()),
    ])
}

/// Whether a bag's friendlyName marks it as trustsync's.
fn is_ours(bag: &Any<'_>) -> bool {
    let Ok(parts) = expect(bag, Tag::Sequence, "a bag").and_then(elements) else {
        return false;
    };
    let Some(attrs) = parts.get(2) else {
        return false;
    };
    let Ok(attrs) = expect(attrs, Tag::Set, "bag attributes").and_then(elements) else {
        return false;
    };
    attrs.iter().any(|attr| {
        let Ok(a) = expect(attr, Tag::Sequence, "an attribute").and_then(elements) else {
            return false;
        };
        let (Some(oid), Some(values)) = (a.first(), a.get(1)) else {
            return false;
        };
        if oid.tag() != Tag::Oid || oid.data != FRIENDLY_NAME {
            return false;
        }
        let Ok(values) = elements(values.data) else {
            return false;
        };
        values.iter().any(|v| {
            let units: Vec<u16> = v
                .data
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16_lossy(&units).starts_with(super::keystore::ALIAS_PREFIX)
        })
    })
}

/// The store with trustsync's bags replaced by one for each of `add` (DER certificates),
/// every other content and bag kept byte for byte; refused with why for a store keyed by
/// a password.
pub fn set_trustsync_entries(bytes: &[u8], add: &[Vec<u8>]) -> Result<Vec<u8>, String> {
    let (infos, version) = split(bytes)?;
    let mut out: Vec<Vec<u8>> = Vec::new();
    for (info, raw) in raw_elements(infos)? {
        let parts = elements(expect(&info, Tag::Sequence, "a ContentInfo")?)?;
        let plain = parts
            .first()
            .is_some_and(|k| k.tag() == Tag::Oid && k.data == DATA);
        if !plain {
            out.push(raw.to_vec());
            continue;
        }
        let inner = explicit0(&parts[1], "a ContentInfo")?;
        let (_, bags) = any(expect(&inner, Tag::OctetString, "safe contents")?)?;
        let bags = raw_elements(expect(&bags, Tag::Sequence, "safe contents")?)?;
        if !bags.iter().any(|(bag, _)| is_ours(bag)) {
            out.push(raw.to_vec());
            continue;
        }
        let kept: Vec<&[u8]> = bags
            .iter()
            .filter(|(bag, _)| !is_ours(bag))
            .map(|(_, raw)| *raw)
            .collect();
        if !kept.is_empty() {
            out.push(data_info(&seq(&kept)));
        }
    }
    if !add.is_empty() {
        let bags: Vec<Vec<u8>> = add
            .iter()
            .map(|der| trusted_bag(&super::keystore::alias_for(der), der))
            .collect();
        let refs: Vec<&[u8]> = bags.iter().map(Vec::as_slice).collect();
        out.push(data_info(&seq(&refs)));
    }
    let refs: Vec<&[u8]> = out.iter().map(Vec::as_slice).collect();
    Ok(seq(&[version, &data_info(&seq(&refs))]))
}

/// The store without trustsync's bags; `None` when it has none.
pub fn remove_trustsync_entries(bytes: &[u8]) -> Result<Option<Vec<u8>>, String> {
    let (infos, _) = split(bytes)?;
    let mut any_ours = false;
    for info in elements(infos)? {
        let parts = elements(expect(&info, Tag::Sequence, "a ContentInfo")?)?;
        if !parts
            .first()
            .is_some_and(|k| k.tag() == Tag::Oid && k.data == DATA)
        {
            continue;
        }
        let inner = explicit0(&parts[1], "a ContentInfo")?;
        let (_, bags) = any(expect(&inner, Tag::OctetString, "safe contents")?)?;
        any_ours |= elements(expect(&bags, Tag::Sequence, "safe contents")?)?
            .iter()
            .any(is_ours);
    }
    if !any_ours {
        return Ok(None);
    }
    set_trustsync_entries(bytes, &[]).map(Some)
}

/// The content list of a password-less store and its version's bytes; refused with why
/// for one with a MAC.
fn split(bytes: &[u8]) -> Result<(&[u8], &[u8]), String> {
    let (_, pfx) = any(bytes)?;
    let pfx = raw_elements(expect(&pfx, Tag::Sequence, "the PFX")?)?;
    let [(version, version_raw), (auth_safe, _), rest @ ..] = pfx.as_slice() else {
        return Err("a PKCS#12 file that is too short".into());
    };
    expect(version, Tag::Integer, "the version")?;
    if !rest.is_empty() {
        return Err("a PKCS#12 file keyed by a password (it has a MAC), which trustsync does not rewrite: only password-less stores, as JDK 18 and later ship cacerts".into());
    }
    let outer = elements(expect(auth_safe, Tag::Sequence, "the authenticated safe")?)?;
    let [kind, content] = outer.as_slice() else {
        return Err("a PKCS#12 file whose authenticated safe is not a ContentInfo".into());
    };
    if expect(kind, Tag::Oid, "its content type")? != DATA {
        return Err("a signed PKCS#12 file (public-key integrity mode)".into());
    }
    let safe = explicit0(content, "the authenticated safe")?;
    let (_, infos) = any(expect(&safe, Tag::OctetString, "the authenticated safe")?)?;
    Ok((
        expect(&infos, Tag::Sequence, "the content list")?,
        version_raw,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(bags: &[Vec<u8>], mac: bool) -> Vec<u8> {
        let refs: Vec<&[u8]> = bags.iter().map(Vec::as_slice).collect();
        let infos = seq(&[&data_info(&seq(&refs))]);
        let version = tlv(0x02, &[3]);
        let mac_data = seq(&[&tlv(0x04, b"not a real mac")]);
        if mac {
            seq(&[&version, &data_info(&infos), &mac_data])
        } else {
            seq(&[&version, &data_info(&infos)])
        }
    }

    /// Adding keeps every other bag, reads back as trusted, and removing gives back the
    /// exact bytes; a store with a MAC is refused; long contents get long-form lengths.
    #[test]
    fn trustsync_bags_go_in_and_out_exactly() {
        let public = vec![0x30, 0x03, 0x02, 0x01, 0x01];
        let base = store(&[trusted_bag("public", &public)], false);
        assert_eq!(parse(&base).unwrap().trusted, std::slice::from_ref(&public));
        assert_eq!(remove_trustsync_entries(&base), Ok(None));
        let corp = vec![0x42; 300];
        let added = set_trustsync_entries(&base, std::slice::from_ref(&corp)).unwrap();
        assert_eq!(
            parse(&added).unwrap().trusted,
            [public.clone(), corp.clone()]
        );
        // Setting again replaces, never duplicates.
        let again = set_trustsync_entries(&added, std::slice::from_ref(&corp)).unwrap();
        assert_eq!(again, added);
        assert_eq!(remove_trustsync_entries(&added), Ok(Some(base.clone())));
        let with_mac = store(&[trusted_bag("public", &public)], true);
        let refused = set_trustsync_entries(&with_mac, &[corp]).unwrap_err();
        assert!(refused.contains("MAC"), "{refused}");
        for cut in 0..added.len() {
            let _ = set_trustsync_entries(&added[..cut], &[]);
            let _ = remove_trustsync_entries(&added[..cut]);
        }
    }
}
