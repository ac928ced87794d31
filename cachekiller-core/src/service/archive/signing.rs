//! Records that only the site's instances can write: every path record and manifest carries an
//! HMAC-SHA-256 of what it says, under a key the instances share (`CACHEKILLER_ARCHIVE_KEY`).
//! Blobs need none: they are named by their SHA-1 and hashed again when read. With a key, a
//! record without a valid MAC is ignored (and logged): a writer to the store who does not hold
//! the key can put bytes there, but cannot make them a version of any path or revision, so no
//! request ever gets them.
//!
//! A path record's MAC is in its key (`paths/<path>/@/<sha1>.<mac>`), so that a listing, which
//! a lookup makes anyway, is enough to check it; a manifest's is its first line.

use std::sync::Arc;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::error::{ArchiveError, ArchiveResult};
use crate::rules::hash::{from_hex, to_hex};

/// The variable the instances of a site read their shared key from.
pub const KEY_VARIABLE: &str = "CACHEKILLER_ARCHIVE_KEY";

/// The shortest key accepted: 128 bits of a random key, as 16 bytes or 32 hex digits of text.
const MIN_KEY_BYTES: usize = 16;

/// Hex digits of a path record's MAC (128 bits: what a forger would have to guess).
const RECORD_MAC_HEX: usize = 32;

/// The prefix of a signed manifest's first line.
pub(super) const MANIFEST_MAC_PREFIX: &[u8] = b"hmac-sha256:";

/// The key of a site's archive, shared by its instances.
#[derive(Clone)]
pub struct SigningKey(Arc<[u8]>);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("SigningKey(…)")
    }
}

impl SigningKey {
    /// The key `key` (at least 16 bytes: use a random value, such as `openssl rand -hex 32`).
    ///
    /// # Errors
    /// [`ArchiveError::Configuration`] for a shorter key.
    pub fn new(key: impl AsRef<[u8]>) -> ArchiveResult<Self> {
        let key = key.as_ref();
        if key.len() < MIN_KEY_BYTES {
            return Err(ArchiveError::Configuration {
                url: KEY_VARIABLE.to_owned(),
                reason: format!(
                    "a signing key needs at least {MIN_KEY_BYTES} bytes: use a random value, \
                     such as the output of `openssl rand -hex 32`"
                ),
            });
        }
        Ok(SigningKey(Arc::from(key)))
    }

    /// The key in `$CACHEKILLER_ARCHIVE_KEY`, if it is set.
    ///
    /// # Errors
    /// As [`SigningKey::new`] for a key that is set but too short.
    pub fn from_env() -> ArchiveResult<Option<Self>> {
        match std::env::var(KEY_VARIABLE) {
            Ok(key) if !key.is_empty() => SigningKey::new(key).map(Some),
            _ => Ok(None),
        }
    }

    fn mac(&self, domain: &[u8], parts: &[&[u8]]) -> Hmac<Sha256> {
        // Any key length is valid for HMAC.
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(domain);
        for part in parts {
            mac.update(&u64::try_from(part.len()).unwrap_or(u64::MAX).to_be_bytes());
            mac.update(part);
        }
        mac
    }

    /// The MAC of the record that `sha1_hex` is a version of the (encoded) static path.
    pub(super) fn record_mac(&self, encoded_path: &str, sha1_hex: &str) -> String {
        let tag = self
            .mac(
                b"cachekiller path record 1",
                &[encoded_path.as_bytes(), sha1_hex.as_bytes()],
            )
            .finalize()
            .into_bytes();
        to_hex(&tag)[..RECORD_MAC_HEX].to_owned()
    }

    /// True if `mac_hex` is the record's MAC.
    pub(super) fn verifies_record(
        &self,
        encoded_path: &str,
        sha1_hex: &str,
        mac_hex: &str,
    ) -> bool {
        let Some(mac) = from_hex(mac_hex).filter(|mac| mac.len() * 2 == RECORD_MAC_HEX) else {
            return false;
        };
        self.mac(
            b"cachekiller path record 1",
            &[encoded_path.as_bytes(), sha1_hex.as_bytes()],
        )
        .verify_truncated_left(&mac)
        .is_ok()
    }

    /// A manifest's body, signed: its MAC's line, then the body.
    pub(super) fn sign_manifest(&self, body: &[u8]) -> Vec<u8> {
        let tag = self
            .mac(b"cachekiller manifest 1", &[body])
            .finalize()
            .into_bytes();
        let mut signed = Vec::with_capacity(body.len() + 80);
        signed.extend_from_slice(MANIFEST_MAC_PREFIX);
        signed.extend_from_slice(to_hex(&tag).as_bytes());
        signed.push(b'\n');
        signed.extend_from_slice(body);
        signed
    }

    /// True if `mac_hex` is the MAC of the manifest body `body`.
    pub(super) fn verifies_manifest(&self, body: &[u8], mac_hex: &[u8]) -> bool {
        let Some(mac) = std::str::from_utf8(mac_hex).ok().and_then(from_hex) else {
            return false;
        };
        self.mac(b"cachekiller manifest 1", &[body])
            .verify_slice(&mac)
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::run;

    /// `openssl dgst -sha256 -mac HMAC` of `message` under `key`, as hex.
    fn openssl_hmac(key: &[u8], message: &[u8]) -> String {
        let directory = tempfile::tempdir().unwrap();
        let file = directory.path().join("message");
        std::fs::write(&file, message).unwrap();
        let output = run(
            "openssl",
            directory.path(),
            &[
                "dgst",
                "-sha256",
                "-mac",
                "HMAC",
                "-macopt",
                &format!("hexkey:{}", to_hex(key)),
                "-r",
                file.to_str().unwrap(),
            ],
        );
        output.split(' ').next().unwrap().to_owned()
    }

    /// The bytes the MACs cover: the domain, then each part with its length.
    fn framed(domain: &[u8], parts: &[&[u8]]) -> Vec<u8> {
        let mut message = domain.to_vec();
        for part in parts {
            message.extend_from_slice(&(part.len() as u64).to_be_bytes());
            message.extend_from_slice(part);
        }
        message
    }

    #[test]
    fn macs_are_hmac_sha256_as_openssl_computes_it() {
        let key = SigningKey::new("0123456789abcdef0123456789abcdef").unwrap();
        let sha1 = "0123456789abcdef0123456789abcdef01234567";
        let expected = openssl_hmac(
            &key.0,
            &framed(
                b"cachekiller path record 1",
                &[b"css/a%20b.css", sha1.as_bytes()],
            ),
        );
        let mac = key.record_mac("css/a%20b.css", sha1);
        assert_eq!(mac, expected[..32]);
        assert!(key.verifies_record("css/a%20b.css", sha1, &mac));
        assert!(!key.verifies_record("css/other.css", sha1, &mac));
        assert!(!key.verifies_record("css/a%20b.css", sha1, &mac[..30]));
        let other = SigningKey::new("another key of sixteen bytes or more").unwrap();
        assert!(!other.verifies_record("css/a%20b.css", sha1, &mac));

        let body = b"{\"format\":2}\n";
        let signed = key.sign_manifest(body);
        let expected = openssl_hmac(&key.0, &framed(b"cachekiller manifest 1", &[body]));
        assert_eq!(
            signed,
            [b"hmac-sha256:".as_slice(), expected.as_bytes(), b"\n", body].concat()
        );
        assert!(key.verifies_manifest(body, expected.as_bytes()));
        assert!(!key.verifies_manifest(b"{\"format\":3}\n", expected.as_bytes()));
        assert!(SigningKey::new("short").is_err());
    }
}
