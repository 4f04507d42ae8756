//! Nonces that cannot be forged: a MAC over the request and the silo.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Issues and checks nonces with a secret made at start.
pub(crate) struct NonceKey {
    secret: [u8; 32],
}

/// What a nonce stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NonceClaims {
    pub request_id: String,
    pub silo_id: String,
}

impl NonceKey {
    pub(crate) fn random() -> Self {
        let mut secret = [0u8; 32];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut secret);
        Self { secret }
    }

    /// The key kept in a data directory, so nonces outlive a restart.
    pub(crate) fn from_bytes(bytes: &[u8]) -> Option<Self> {
        Some(Self {
            secret: bytes.try_into().ok()?,
        })
    }

    /// The key's bytes, to keep.
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        self.secret.to_vec()
    }

    fn mac(&self, payload: &str) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.secret)
            .unwrap_or_else(|_| unreachable!("any key length"));
        mac.update(payload.as_bytes());
        mac
    }

    /// `base64url(request_id "\n" silo_id) "." base64url(mac)`.
    pub(crate) fn issue(&self, request_id: &str, silo_id: &str) -> String {
        let payload = format!("{request_id}\n{silo_id}");
        let tag = self.mac(&payload).finalize().into_bytes();
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(payload),
            URL_SAFE_NO_PAD.encode(tag)
        )
    }

    /// A download key for file `index` of a request's report, valid until `expires`:
    /// `base64url("download" "\n" request_id "\n" index "\n" expires) "." base64url(mac)`.
    /// The prefix keeps keys and nonces apart: one is never taken for the other.
    pub(crate) fn issue_download(
        &self,
        request_id: &str,
        index: usize,
        expires: std::time::SystemTime,
    ) -> String {
        let payload = format!(
            "download\n{request_id}\n{index}\n{}",
            crate::report::epoch_seconds(expires)
        );
        let tag = self.mac(&payload).finalize().into_bytes();
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(payload),
            URL_SAFE_NO_PAD.encode(tag)
        )
    }

    /// The request and file index of a download key this emulator issued, with when it
    /// expires; `None` for anything else.
    pub(crate) fn check_download(&self, key: &str) -> Option<(String, usize, u64)> {
        let (payload, tag) = key.split_once('.')?;
        let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        self.mac(&payload).verify_slice(&tag).ok()?;
        let mut parts = payload.split('\n');
        (parts.next()? == "download").then_some(())?;
        let request_id = parts.next()?.to_owned();
        let index = parts.next()?.parse().ok()?;
        let expires = parts.next()?.parse().ok()?;
        Some((request_id, index, expires))
    }

    /// The claims of a nonce this emulator issued; `None` for anything else.
    pub(crate) fn check(&self, nonce: &str) -> Option<NonceClaims> {
        let (payload, tag) = nonce.split_once('.')?;
        let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        self.mac(&payload).verify_slice(&tag).ok()?;
        let (request_id, silo_id) = payload.split_once('\n')?;
        if request_id == "download" {
            return None;
        }
        Some(NonceClaims {
            request_id: request_id.to_owned(),
            silo_id: silo_id.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_nonces_check_and_forgeries_do_not() {
        let key = NonceKey::random();
        let nonce = key.issue("req-1", "silo-1");
        assert_eq!(
            key.check(&nonce),
            Some(NonceClaims {
                request_id: "req-1".into(),
                silo_id: "silo-1".into()
            })
        );
        // Reusable.
        assert!(key.check(&nonce).is_some());
        // Another request, same MAC: refused.
        let (_, tag) = nonce.split_once('.').unwrap();
        let forged = format!("{}.{tag}", URL_SAFE_NO_PAD.encode("req-2\nsilo-1"));
        assert_eq!(key.check(&forged), None);
        // Another emulator's nonce: refused.
        assert_eq!(NonceKey::random().check(&nonce), None);
        for garbage in ["", ".", "abc", "a.b.c", "%%%.%%%"] {
            assert_eq!(key.check(garbage), None, "{garbage:?}");
        }
    }
}
