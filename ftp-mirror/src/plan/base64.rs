//! A strict decoder for standard base64 (RFC 4648 §4), for `ftp_password`.
//!
//! ASCII whitespace is skipped (the text may be wrapped); padding is
//! optional but, when present, must complete the last group; unused bits in
//! the last group must be zero. Anything else is an error that says where,
//! without echoing the text (it is a password).

/// Why a text is not base64.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Base64Error {
    /// A character outside the alphabet, at this position (from 0, whitespace skipped).
    #[error("invalid character at position {0}")]
    InvalidCharacter(usize),
    /// The length cannot be a whole number of bytes.
    #[error("the length is not a multiple of 4 and cannot be completed")]
    BadLength,
    /// `=` somewhere other than the end, or too many of them.
    #[error("misplaced padding")]
    BadPadding,
    /// The last group has bits set that no byte uses.
    #[error("non-zero trailing bits")]
    TrailingBits,
}

/// Decodes `text`.
pub fn decode(text: &str) -> Result<Vec<u8>, Base64Error> {
    let symbols: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    let padding = symbols.iter().rev().take_while(|&&b| b == b'=').count();
    let data = &symbols[..symbols.len() - padding];
    if padding > 2 || (padding > 0 && !symbols.len().is_multiple_of(4)) {
        return Err(Base64Error::BadPadding);
    }
    if data.len() % 4 == 1 {
        return Err(Base64Error::BadLength);
    }
    let mut out = Vec::with_capacity(data.len() * 3 / 4);
    for (group_index, group) in data.chunks(4).enumerate() {
        let mut acc: u32 = 0;
        for (i, &b) in group.iter().enumerate() {
            let value = match b {
                b'A'..=b'Z' => b - b'A',
                b'a'..=b'z' => b - b'a' + 26,
                b'0'..=b'9' => b - b'0' + 52,
                b'+' => 62,
                b'/' => 63,
                b'=' => return Err(Base64Error::BadPadding),
                _ => return Err(Base64Error::InvalidCharacter(group_index * 4 + i)),
            };
            acc = (acc << 6) | u32::from(value);
        }
        let bytes = match group.len() {
            4 => 3,
            3 => 2,
            _ => 1,
        };
        let unused_bits = group.len() * 6 - bytes * 8;
        if acc & ((1 << unused_bits) - 1) != 0 {
            return Err(Base64Error::TrailingBits);
        }
        let acc = acc >> unused_bits;
        for k in (0..bytes).rev() {
            out.push((acc >> (8 * k)) as u8);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_rfc4648_vectors() {
        let cases = [
            ("", ""),
            ("Zg==", "f"),
            ("Zm8=", "fo"),
            ("Zm9v", "foo"),
            ("Zm9vYg==", "foob"),
            ("Zm9vYmE=", "fooba"),
            ("Zm9vYmFy", "foobar"),
            ("c2VjcmV0", "secret"),
        ];
        for (encoded, plain) in cases {
            assert_eq!(decode(encoded).unwrap(), plain.as_bytes(), "{encoded}");
        }
    }

    #[test]
    fn accepts_missing_padding_and_whitespace() {
        assert_eq!(decode("Zg").unwrap(), b"f");
        assert_eq!(decode("Zm8").unwrap(), b"fo");
        assert_eq!(decode("  Zm9v\n  YmFy \n").unwrap(), b"foobar");
        assert_eq!(decode("+/+/").unwrap(), [0xfb, 0xff, 0xbf]);
    }

    #[test]
    fn rejects_malformed_text() {
        assert_eq!(decode("Zm9v!mFy"), Err(Base64Error::InvalidCharacter(4)));
        assert_eq!(decode("Z"), Err(Base64Error::BadLength));
        assert_eq!(decode("Zm9vY"), Err(Base64Error::BadLength));
        assert_eq!(decode("Zg=a"), Err(Base64Error::BadPadding));
        assert_eq!(decode("Z==="), Err(Base64Error::BadPadding));
        assert_eq!(decode("Zm8=Zm8="), Err(Base64Error::BadPadding));
        assert_eq!(decode("Zg="), Err(Base64Error::BadPadding));
        assert_eq!(decode("Zh=="), Err(Base64Error::TrailingBits));
        assert_eq!(decode("Zm9="), Err(Base64Error::TrailingBits));
        assert_eq!(decode("Zm9v-_"), Err(Base64Error::InvalidCharacter(4)));
    }
}
