//! Checksums that survive editors: a BOM or Windows line endings do not make a file "modified".

use sha2::{Digest, Sha256};

/// Version of the checksum algorithm, stored beside every checksum so it can change safely later.
pub const CHECKSUM_ALGORITHM: i16 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Checksum(pub String);

impl Checksum {
    /// SHA-256 (hex) of the text with a leading BOM dropped and CRLF normalized to LF.
    pub fn of(text: &str) -> Checksum {
        let text = normalize(text);
        // Into a buffer: `hex::encode` collects its digits a char at a time, which cost more than
        // the SHA-256 of a small migration (a thousand of them at every start).
        let mut digits = [0u8; 64];
        hex::encode_to_slice(Sha256::digest(text.as_bytes()), &mut digits).expect("32 bytes are 64 hex digits");
        Checksum(std::str::from_utf8(&digits).expect("hex digits are ASCII").to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The text as checksummed and as stored in the history: BOM dropped, CRLF as LF.
pub fn normalize(text: &str) -> std::borrow::Cow<'_, str> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.contains("\r\n") {
        std::borrow::Cow::Owned(text.replace("\r\n", "\n"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// [`normalize`] for an owned string, without copying when there is nothing to change.
pub fn normalized(text: String) -> String {
    match normalize(&text) {
        std::borrow::Cow::Borrowed(b) if b.len() == text.len() => text,
        other => other.into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bom_and_crlf_do_not_change_the_checksum() {
        let plain = Checksum::of("create table t (id int);\nselect 1;\n");
        assert_eq!(plain, Checksum::of("\u{feff}create table t (id int);\r\nselect 1;\r\n"));
        assert_ne!(plain, Checksum::of("create table t (id bigint);\nselect 1;\n"));
        assert_eq!(plain.as_str().len(), 64);
    }
}
