//! DER length encoding, the one piece of DER writing both the Windows store reader (which
//! rebuilds a sequence around asn1-rs-parsed contents) and the PKCS#12 writer of the Java
//! family need. Hand-written because it is a few lines and no crate in the tree exposes
//! just this.

/// Appends the DER encoding of `len` (short form below 128, else long form).
pub fn push_length(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn short_and_long_forms() {
        let enc = |n| {
            let mut v = Vec::new();
            super::push_length(&mut v, n);
            v
        };
        assert_eq!(enc(0x7f), [0x7f]);
        assert_eq!(enc(0x80), [0x81, 0x80]);
        assert_eq!(enc(0x1234), [0x82, 0x12, 0x34]);
    }
}
