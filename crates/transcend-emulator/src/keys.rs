//! The P-384 key pair that signs webhook tokens, made at start.

use p384::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use transcend_proto::endpoint::signing_key::SigningKeyPem;

/// The signing key pair: the private half signs webhooks, the public half is served at
/// `/public-keys/sombra-general-signing-key`.
pub(crate) struct SigningKeys {
    pub private_pem: String,
    pub public: SigningKeyPem,
}

impl SigningKeys {
    pub(crate) fn generate() -> Result<Self, String> {
        Self::from_secret(&p384::SecretKey::random(&mut rand_core::OsRng))
    }

    /// The pair from a kept private key (PKCS#8 PEM).
    pub(crate) fn from_private_pem(pem: &str) -> Result<Self, String> {
        Self::from_secret(&p384::SecretKey::from_pkcs8_pem(pem).map_err(|e| e.to_string())?)
    }

    fn from_secret(secret: &p384::SecretKey) -> Result<Self, String> {
        let private_pem = secret
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| e.to_string())?
            .to_string();
        let public_pem = secret
            .public_key()
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| e.to_string())?;
        Ok(Self {
            private_pem,
            public: SigningKeyPem::parse(public_pem)?,
        })
    }
}
