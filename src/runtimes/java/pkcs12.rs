//! The trusted certificates JSSE takes from a PKCS#12 truststore opened without a
//! password (what `TrustStoreManager` does unless `javax.net.ssl.trustStorePassword` is
//! set): the certificate bags in plain `data` contents that carry Oracle's
//! trusted-key-usage attribute. JDK 18 and later ship `cacerts` this way (password-less
//! PKCS#12, JDK-8275252). `PKCS12KeyStore.engineLoad` skips encrypted contents when no
//! password is given, and a bag without the attribute (an OpenSSL-made store) is no trust
//! anchor, only a chain certificate.
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
fn elements(mut data: &[u8]) -> Result<Vec<Any<'_>>, String> {
    let mut out = Vec::new();
    while !data.is_empty() {
        if out.len() >= MAX_ITEMS {
            return Err(format!("more than {MAX_ITEMS} items"));
        }
        let (rest, item) = any(data)?;
        out.push(item);
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
