//! The trusted certificates of a Java keystore (JKS), read natively: never by running a
//! JDK's `keytool`, which is that JDK's code (as root, another user's).
//!
//! Hand-written because what is needed is small and the one maintained crate that reads
//! JKS (`jks` 0.3) insists on checking the store password's digest and pulls a
//! release-candidate PKCS#12 stack: a truststore is read without its password (keytool
//! lists one the same way, unverified), and only trusted-certificate entries matter.
//! Layout (`sun.security.provider.JavaKeyStore.engineLoad`): magic `FEEDFEED`, version
//! (1 or 2), entry count, then per entry a tag (1 private key, 2 trusted certificate), the
//! alias (`writeUTF`: u16 length + modified UTF-8), a u64 date, for version 2 the
//! certificate type (`writeUTF`), then u32 length + DER; a private key entry has its key
//! bytes and a certificate chain instead. A 20-byte SHA-1 digest ends the file.

/// What the file is, as far as trust goes.
#[derive(Debug, PartialEq, Eq)]
pub enum Keystore {
    /// JKS: the DER of each trusted-certificate entry, with its alias.
    Jks(Vec<(String, Vec<u8>)>),
    /// A format trustsync does not read yet (PKCS#12, JCEKS), named.
    Unsupported(&'static str),
}

/// At most this many entries and bytes per certificate (a hostile file).
const MAX_ENTRIES: u32 = 20_000;
const MAX_CERT: u32 = 1 << 20;

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], String> {
        let end = self
            .at
            .checked_add(n)
            .filter(|e| *e <= self.bytes.len())
            .ok_or_else(|| format!("truncated at byte {}", self.at))?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }

    fn u16(&mut self) -> Result<u16, String> {
        Ok(u16::from_be_bytes(self.take(2)?.try_into().unwrap()))
    }

    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_be_bytes(self.take(4)?.try_into().unwrap()))
    }

    fn utf(&mut self) -> Result<String, String> {
        let n = self.u16()? as usize;
        Ok(String::from_utf8_lossy(self.take(n)?).into_owned())
    }

    fn blob(&mut self) -> Result<Vec<u8>, String> {
        let n = self.u32()?;
        if n > MAX_CERT {
            return Err(format!("an entry of {n} bytes at byte {}", self.at));
        }
        Ok(self.take(n as usize)?.to_vec())
    }
}

/// Parses a keystore file's bytes. An error says where the file stops making sense.
pub fn parse(bytes: &[u8]) -> Result<Keystore, String> {
    match (bytes.first(), bytes.get(..4)) {
        (_, Some([0xfe, 0xed, 0xfe, 0xed])) => {}
        (_, Some([0xce, 0xce, 0xce, 0xce])) => return Ok(Keystore::Unsupported("JCEKS")),
        // A DER SEQUENCE: PKCS#12.
        (Some(0x30), _) => return Ok(Keystore::Unsupported("PKCS#12")),
        _ => return Err("not a Java keystore (no JKS or PKCS#12 header)".into()),
    }
    let mut r = Reader { bytes, at: 4 };
    let version = r.u32()?;
    if version != 1 && version != 2 {
        return Err(format!("JKS version {version} is unknown"));
    }
    let count = r.u32()?;
    if count > MAX_ENTRIES {
        return Err(format!("{count} entries: more than {MAX_ENTRIES}"));
    }
    let mut trusted = Vec::new();
    for _ in 0..count {
        let tag = r.u32()?;
        let alias = r.utf()?;
        r.take(8)?; // creation date
        match tag {
            1 => {
                r.blob()?; // the protected key
                let chain = r.u32()?;
                if chain > MAX_ENTRIES {
                    return Err(format!("a chain of {chain} certificates"));
                }
                for _ in 0..chain {
                    if version == 2 {
                        r.utf()?;
                    }
                    r.blob()?;
                }
            }
            2 => {
                if version == 2 {
                    r.utf()?;
                }
                trusted.push((alias, r.blob()?));
            }
            other => return Err(format!("entry tag {other} at byte {}", r.at)),
        }
    }
    Ok(Keystore::Jks(trusted))
}

/// A JKS file holding `entries` (alias, DER) as trusted certificates, the way keytool
/// writes one (version 2, type `X.509`, digest keyed by `password`). For tests, and for
/// `fix` once it adds CAs to a JDK's own store.
pub fn write_jks(entries: &[(String, Vec<u8>)], password: &str) -> Vec<u8> {
    use sha1::Digest;
    let mut out = Vec::new();
    out.extend_from_slice(&[0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2]);
    out.extend_from_slice(&(entries.len() as u32).to_be_bytes());
    let utf = |out: &mut Vec<u8>, s: &str| {
        out.extend_from_slice(&(s.len() as u16).to_be_bytes());
        out.extend_from_slice(s.as_bytes());
    };
    for (alias, der) in entries {
        out.extend_from_slice(&2u32.to_be_bytes());
        utf(&mut out, alias);
        out.extend_from_slice(&0u64.to_be_bytes());
        utf(&mut out, "X.509");
        out.extend_from_slice(&(der.len() as u32).to_be_bytes());
        out.extend_from_slice(der);
    }
    // The integrity digest: SHA-1 over the password as UTF-16BE, "Mighty Aphrodite", data.
    let mut digest = sha1::Sha1::new();
    for unit in password.encode_utf16() {
        digest.update(unit.to_be_bytes());
    }
    digest.update(b"Mighty Aphrodite");
    digest.update(&out);
    out.extend_from_slice(&digest.finalize());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_stores_read_back_and_damage_is_said_not_panicked() {
        let entries = vec![
            ("a".to_string(), vec![1, 2, 3]),
            ("trustsync-x".to_string(), vec![4]),
        ];
        let bytes = write_jks(&entries, "changeit");
        assert_eq!(parse(&bytes), Ok(Keystore::Jks(entries)));
        for cut in 0..bytes.len() - 20 {
            let _ = parse(&bytes[..cut]);
        }
        let cut = parse(&bytes[..bytes.len() - 25]).unwrap_err();
        assert!(cut.contains("truncated"), "{cut}");
        assert_eq!(parse(&[0x30, 0x82]), Ok(Keystore::Unsupported("PKCS#12")));
        assert!(parse(b"hello").is_err());
    }
}
