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
//!
//! `fix` edits a JDK's own store the same way (hand-written for the same reason): it adds
//! trusted-certificate entries under aliases that mark them as trustsync's
//! ([`alias_for`]), keeps every other entry byte for byte, and re-keys the digest with the
//! JDK's default password; removing its entries gives back the exact original bytes.

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
/// writes one (version 2, type `X.509`, digest keyed by `password`). For tests.
pub fn write_jks(entries: &[(String, Vec<u8>)], password: &str) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&[0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2]);
    out.extend_from_slice(&(entries.len() as u32).to_be_bytes());
    for (alias, der) in entries {
        push_trusted(&mut out, 2, alias, der);
    }
    let digest = integrity_digest(password, &out);
    out.extend_from_slice(&digest);
    out
}

/// One trusted-certificate entry as `JavaKeyStore.engineStore` writes it (date 0, so the
/// same CAs always give the same bytes: a plan names its result by digest).
fn push_trusted(out: &mut Vec<u8>, version: u32, alias: &str, der: &[u8]) {
    let utf = |out: &mut Vec<u8>, s: &str| {
        out.extend_from_slice(&(s.len() as u16).to_be_bytes());
        out.extend_from_slice(s.as_bytes());
    };
    out.extend_from_slice(&2u32.to_be_bytes());
    utf(out, alias);
    out.extend_from_slice(&0u64.to_be_bytes());
    if version == 2 {
        utf(out, "X.509");
    }
    out.extend_from_slice(&(der.len() as u32).to_be_bytes());
    out.extend_from_slice(der);
}

/// The integrity digest: SHA-1 over the password as UTF-16BE, "Mighty Aphrodite", data.
fn integrity_digest(password: &str, data: &[u8]) -> [u8; 20] {
    use sha1::Digest;
    let mut digest = sha1::Sha1::new();
    for unit in password.encode_utf16() {
        digest.update(unit.to_be_bytes());
    }
    digest.update(b"Mighty Aphrodite");
    digest.update(data);
    digest.finalize().into()
}

/// The password every JDK ships its `cacerts` with. trustsync rewrites only a store whose
/// digest this password keys, so `keytool -list -cacerts -storepass changeit` still checks
/// it afterwards (JSSE itself loads a truststore without a password, unchecked).
pub const DEFAULT_PASSWORD: &str = "changeit";

/// What marks an entry as trustsync's: `trustsync-` and the first 16 hex digits of the
/// SHA-256 of the entry's own DER. An alias that does not match its certificate is not
/// trustsync's, whatever its name, and is never removed.
pub const ALIAS_PREFIX: &str = "trustsync-";

/// The alias trustsync gives a CA (JKS lower-cases aliases; hex already is).
pub fn alias_for(der: &[u8]) -> String {
    use sha2::Digest;
    let hash = sha2::Sha256::digest(der);
    format!("{ALIAS_PREFIX}{}", hex::encode(&hash[..8]))
}

/// A JKS split into its entries, each kept as the exact bytes it was read from.
struct Split<'a> {
    version: u32,
    /// (is trustsync's, bytes of the whole entry)
    entries: Vec<(bool, &'a [u8])>,
}

/// Splits a JKS whose digest `DEFAULT_PASSWORD` keys; anything else is refused with why.
fn split(bytes: &[u8]) -> Result<Split<'_>, String> {
    match parse(bytes)? {
        Keystore::Jks(_) => {}
        Keystore::Unsupported(format) => {
            return Err(format!(
                "a {format} file, which trustsync does not rewrite yet"
            ))
        }
    }
    let body_end = bytes
        .len()
        .checked_sub(20)
        .ok_or_else(|| "shorter than its digest".to_string())?;
    if integrity_digest(DEFAULT_PASSWORD, &bytes[..body_end]) != bytes[body_end..] {
        return Err(format!(
            "its integrity digest is not keyed by the default password \"{DEFAULT_PASSWORD}\" (or the file was changed without keytool); trustsync does not rewrite it"
        ));
    }
    let mut r = Reader { bytes, at: 4 };
    let version = r.u32()?;
    let count = r.u32()?;
    let mut entries = Vec::new();
    for _ in 0..count {
        let start = r.at;
        let tag = r.u32()?;
        let alias = r.utf()?;
        r.take(8)?;
        let mut ours = false;
        if tag == 1 {
            r.blob()?;
            for _ in 0..r.u32()? {
                if version == 2 {
                    r.utf()?;
                }
                r.blob()?;
            }
        } else {
            if version == 2 {
                r.utf()?;
            }
            let der = r.blob()?;
            ours = alias == alias_for(&der);
        }
        entries.push((ours, &bytes[start..r.at]));
    }
    if r.at != body_end {
        return Err(format!("{} stray bytes before its digest", body_end - r.at));
    }
    Ok(Split { version, entries })
}

fn assemble(version: u32, entries: &[&[u8]], added: &[Vec<u8>]) -> Vec<u8> {
    let mut out = vec![0xfe, 0xed, 0xfe, 0xed];
    out.extend_from_slice(&version.to_be_bytes());
    out.extend_from_slice(&((entries.len() + added.len()) as u32).to_be_bytes());
    for e in entries {
        out.extend_from_slice(e);
    }
    for der in added {
        push_trusted(&mut out, version, &alias_for(der), der);
    }
    let digest = integrity_digest(DEFAULT_PASSWORD, &out);
    out.extend_from_slice(&digest);
    out
}

/// The store with trustsync's entries replaced by one entry per DER in `add` (in that
/// order, after every other entry, which stays byte for byte). With `add` empty this is
/// [`remove_trustsync_entries`]'s result, so removing what was added gives back the
/// exact bytes the store had. A password-less PKCS#12 store is rewritten the same way
/// ([`super::pkcs12::set_trustsync_entries`]).
pub fn set_trustsync_entries(bytes: &[u8], add: &[Vec<u8>]) -> Result<Vec<u8>, String> {
    if parse(bytes) == Ok(Keystore::Unsupported("PKCS#12")) {
        return super::pkcs12::set_trustsync_entries(bytes, add);
    }
    let split = split(bytes)?;
    let kept: Vec<&[u8]> = split
        .entries
        .iter()
        .filter(|(ours, _)| !ours)
        .map(|(_, e)| *e)
        .collect();
    Ok(assemble(split.version, &kept, add))
}

/// The store without trustsync's entries; `None` when it has none.
pub fn remove_trustsync_entries(bytes: &[u8]) -> Result<Option<Vec<u8>>, String> {
    if parse(bytes) == Ok(Keystore::Unsupported("PKCS#12")) {
        return super::pkcs12::remove_trustsync_entries(bytes);
    }
    let split = split(bytes)?;
    if !split.entries.iter().any(|(ours, _)| *ours) {
        return Ok(None);
    }
    set_trustsync_entries(bytes, &[]).map(Some)
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

    #[test]
    fn trustsync_entries_come_and_go_leaving_the_rest_byte_for_byte() {
        let theirs = vec![("digicert".to_string(), vec![9u8; 40])];
        let original = write_jks(&theirs, DEFAULT_PASSWORD);
        let added = set_trustsync_entries(&original, &[vec![1, 2], vec![3]]).unwrap();
        let Ok(Keystore::Jks(entries)) = parse(&added) else {
            panic!("not a JKS")
        };
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[0], theirs[0]);
        assert_eq!(entries[1], (alias_for(&[1, 2]), vec![1, 2]));
        // Setting again replaces rather than adds; removing gives back the exact bytes.
        let again = set_trustsync_entries(&added, &[vec![3]]).unwrap();
        assert_eq!(again, set_trustsync_entries(&original, &[vec![3]]).unwrap());
        assert_eq!(remove_trustsync_entries(&added).unwrap().unwrap(), original);
        assert_eq!(remove_trustsync_entries(&original).unwrap(), None);
        // An entry named like trustsync's whose certificate does not match is the user's.
        let mimic = write_jks(
            &[("trustsync-0000000000000000".into(), vec![7])],
            DEFAULT_PASSWORD,
        );
        assert_eq!(remove_trustsync_entries(&mimic).unwrap(), None);
    }

    #[test]
    fn a_store_keyed_by_another_password_or_damaged_is_not_rewritten() {
        let other = write_jks(&[("a".into(), vec![1])], "secret");
        let err = set_trustsync_entries(&other, &[vec![2]]).unwrap_err();
        assert!(err.contains("changeit"), "{err}");
        let mut tampered = write_jks(&[("a".into(), vec![1])], DEFAULT_PASSWORD);
        tampered[30] ^= 1;
        assert!(set_trustsync_entries(&tampered, &[vec![2]]).is_err());
        assert!(set_trustsync_entries(&[0x30, 0x82, 0, 0], &[])
            .unwrap_err()
            .contains("PKCS#12"));
    }
}
