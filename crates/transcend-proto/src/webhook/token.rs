//! `x-sombra-token`: the ES384 JWT that proves a webhook came from Sombra.
//!
//! Verification is a pure function of the token, the PEM public key, the expected
//! audience and `now`: it reads no clock and fetches nothing.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p384::ecdsa::signature::Signer;
use p384::ecdsa::{Signature, SigningKey, VerifyingKey};
use p384::pkcs8::{DecodePrivateKey, DecodePublicKey};
use serde_json::{Map, Value};

use crate::secret::SombraToken;

/// The only `scope` a webhook token may carry.
pub const SCOPE: &str = "coreIdentifier";
/// The only algorithm accepted.
pub const ALGORITHM: &str = "ES384";
/// Clock skew tolerated on `exp` and `iat`.
pub const LEEWAY: Duration = Duration::from_secs(30);

/// A public key that verifies webhook tokens, parsed once from its PEM.
///
/// The PEM is read with p384 (which checks the point is on the curve). Each signature is
/// then checked by the crate's signature backend: ring by default, or AWS-LC with the
/// `aws-lc` feature (about four times ring's rate, and above OpenSSL 3's: see
/// BENCHMARKS.md). Both accept exactly the same signatures.
#[derive(Clone)]
pub struct VerificationKey {
    key: std::sync::Arc<SignatureKey>,
}

/// The uncompressed point, prepared for the signature backend.
#[cfg(not(feature = "aws-lc"))]
struct SignatureKey(ring::signature::UnparsedPublicKey<Vec<u8>>);

#[cfg(not(feature = "aws-lc"))]
impl SignatureKey {
    fn new(point: Vec<u8>) -> Result<Self, TokenRejection> {
        Ok(Self(ring::signature::UnparsedPublicKey::new(
            &ring::signature::ECDSA_P384_SHA384_FIXED,
            point,
        )))
    }

    fn verify(&self, signed: &[u8], signature: &[u8]) -> bool {
        self.0.verify(signed, signature).is_ok()
    }
}

/// The uncompressed point, parsed once by AWS-LC.
#[cfg(feature = "aws-lc")]
struct SignatureKey(aws_lc_rs::signature::ParsedPublicKey);

#[cfg(feature = "aws-lc")]
impl SignatureKey {
    fn new(point: Vec<u8>) -> Result<Self, TokenRejection> {
        aws_lc_rs::signature::ParsedPublicKey::new(
            &aws_lc_rs::signature::ECDSA_P384_SHA384_FIXED,
            point,
        )
        .map(Self)
        .map_err(|e| TokenRejection::InvalidKey {
            reason: format!("not a P-384 public key: {e}"),
        })
    }

    fn verify(&self, signed: &[u8], signature: &[u8]) -> bool {
        self.0.verify_sig(signed, signature).is_ok()
    }
}

impl fmt::Debug for VerificationKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("VerificationKey(ES384)")
    }
}

impl VerificationKey {
    /// Parses a PEM `PUBLIC KEY` (SPKI) of a P-384 key.
    pub fn from_pem(pem: &str) -> Result<Self, TokenRejection> {
        let key = VerifyingKey::from_public_key_pem(pem.trim()).map_err(|e| {
            TokenRejection::InvalidKey {
                reason: format!("not a P-384 public key: {e}"),
            }
        })?;
        // The uncompressed point (0x04 || x || y), as both backends take it.
        let point = key.to_encoded_point(false).as_bytes().to_vec();
        Ok(Self {
            key: std::sync::Arc::new(SignatureKey::new(point)?),
        })
    }

    /// Verifies a token: see [`verify_sombra_token`].
    pub fn verify(
        &self,
        token: &SombraToken,
        audience: &str,
        now: SystemTime,
    ) -> Result<VerifiedToken, TokenRejection> {
        let parts = split(token.expose())?;
        let alg = algorithm_of(&parts)?;
        if alg != ALGORITHM {
            return Err(TokenRejection::AlgorithmNotAllowed { alg });
        }
        let malformed = |reason: &str| TokenRejection::Malformed {
            reason: reason.to_owned(),
        };
        let signature = URL_SAFE_NO_PAD
            .decode(parts.signature)
            .map_err(|_| malformed("signature is not base64url"))?;
        // JWS ES384 signatures are r || s, 48 bytes each ("fixed"); anything else,
        // and r or s zero or not below the group order, cannot verify.
        if signature.len() != 96 {
            return Err(TokenRejection::BadSignature);
        }
        if !self.key.verify(parts.signed.as_bytes(), &signature) {
            return Err(TokenRejection::BadSignature);
        }
        let payload = URL_SAFE_NO_PAD
            .decode(parts.payload)
            .map_err(|_| malformed("payload is not base64url"))?;
        let claims: Map<String, Value> = serde_json::from_slice(&payload)
            .map_err(|_| malformed("payload is not a JSON object"))?;
        check_claims(&claims, audience, now)
    }
}

/// A compact JWS, split: `header.payload` (what is signed) and its three parts.
struct Parts<'a> {
    signed: &'a str,
    header: &'a str,
    payload: &'a str,
    signature: &'a str,
}

fn split(token: &str) -> Result<Parts<'_>, TokenRejection> {
    let malformed = || TokenRejection::Malformed {
        reason: "expected three base64url segments separated by '.'".into(),
    };
    let (signed, signature) = token.rsplit_once('.').ok_or_else(malformed)?;
    let (header, payload) = signed.split_once('.').ok_or_else(malformed)?;
    if payload.contains('.') {
        return Err(malformed());
    }
    Ok(Parts {
        signed,
        header,
        payload,
        signature,
    })
}

/// Verifies an `x-sombra-token` as Sombra issues them:
/// 1. the algorithm is ES384 (anything else, `none` and `HS*` included, is forged);
/// 2. the signature verifies with the PEM public key;
/// 3. `exp` is present and not past (30 s leeway); `iat`, when present, not in the future;
/// 4. `aud` is `audience` (or a list holding it);
/// 5. `scope` is `coreIdentifier` and `value` (the core identifier) is present.
///
/// Each failure is a distinct [`TokenRejection`], whose message never holds the token.
pub fn verify_sombra_token(
    token: &SombraToken,
    public_key_pem: &str,
    audience: &str,
    now: SystemTime,
) -> Result<VerifiedToken, TokenRejection> {
    // The algorithm is checked before the key is read, so a forged token is named as such
    // even when the key is also wrong.
    let alg = algorithm_of(&split(token.expose())?)?;
    if alg != ALGORITHM {
        return Err(TokenRejection::AlgorithmNotAllowed { alg });
    }
    VerificationKey::from_pem(public_key_pem)?.verify(token, audience, now)
}

/// The claims of a verified token.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifiedToken {
    /// `value`: the core identifier of the person the job is about.
    pub core_identifier: String,
    /// `jti`, when present: refuse a token whose id was seen before (replay).
    pub jti: Option<String>,
    /// `exp`.
    pub expires_at: SystemTime,
    /// `iat`, when present.
    pub issued_at: Option<SystemTime>,
}

/// Why a webhook token is refused. The message says why without quoting the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenRejection {
    /// No token was sent.
    #[error("missing x-sombra-token")]
    Missing,
    /// The token is not a well-formed JWT.
    #[error("malformed token: {reason}")]
    Malformed {
        /// What is wrong.
        reason: String,
    },
    /// The token names an algorithm other than ES384 (`none`, `HS384`, …): forged.
    #[error("algorithm {alg:?} is not accepted: only ES384")]
    AlgorithmNotAllowed {
        /// The algorithm the token names.
        alg: String,
    },
    /// The public key cannot be used.
    #[error("invalid signing key: {reason}")]
    InvalidKey {
        /// What is wrong.
        reason: String,
    },
    /// The signature does not verify with the key: forged, or signed by another key.
    #[error("signature does not verify with the Sombra signing key")]
    BadSignature,
    /// `aud` is not this silo's audience.
    #[error("audience {found:?} is not this data silo's")]
    WrongAudience {
        /// The audiences the token names.
        found: Vec<String>,
    },
    /// `scope` is not `coreIdentifier`.
    #[error("scope {found:?} is not \"coreIdentifier\"")]
    WrongScope {
        /// The scope the token names, if any.
        found: Option<String>,
    },
    /// A required claim is missing or has the wrong type.
    #[error("claim `{claim}` is missing or not of the right type")]
    MissingClaim {
        /// The claim.
        claim: &'static str,
    },
    /// `exp` is past.
    #[error("token expired {} s ago", now_minus(*.expired_at, *.now))]
    Expired {
        /// `exp`.
        expired_at: SystemTime,
        /// The time of verification.
        now: SystemTime,
    },
    /// `iat` is in the future.
    #[error("token issued in the future")]
    IssuedInFuture,
    /// The token's `value` is not the core identifier of the job's body.
    #[error("token was issued for another core identifier than the job's")]
    IdentifierMismatch,
    /// The job's body names no core identifier, so the token cannot be bound to the
    /// person the body is about: refused rather than trusted.
    #[error("the job names no coreIdentifier to bind the token to")]
    UnboundIdentifier,
    /// The token's `jti` was seen before, and the token is still valid: a replay.
    #[error("token id was already used (replay)")]
    Replayed,
}

fn now_minus(at: SystemTime, now: SystemTime) -> u64 {
    now.duration_since(at).unwrap_or_default().as_secs()
}

fn algorithm_of(parts: &Parts<'_>) -> Result<String, TokenRejection> {
    let malformed = |reason: &str| TokenRejection::Malformed {
        reason: reason.to_owned(),
    };
    let bytes = URL_SAFE_NO_PAD
        .decode(parts.header)
        .map_err(|_| malformed("header is not base64url"))?;
    let header: Map<String, Value> =
        serde_json::from_slice(&bytes).map_err(|_| malformed("header is not a JSON object"))?;
    match header.get("alg") {
        Some(Value::String(alg)) => Ok(alg.clone()),
        _ => Err(malformed("header has no `alg`")),
    }
}

fn check_claims(
    claims: &Map<String, Value>,
    audience: &str,
    now: SystemTime,
) -> Result<VerifiedToken, TokenRejection> {
    let time = |claim: &'static str| -> Result<Option<SystemTime>, TokenRejection> {
        match claims.get(claim) {
            None => Ok(None),
            Some(value) => value
                .as_f64()
                .filter(|secs| secs.is_finite() && *secs >= 0.0)
                .map(|secs| Some(UNIX_EPOCH + Duration::from_secs_f64(secs.min(1e11))))
                .ok_or(TokenRejection::MissingClaim { claim }),
        }
    };
    let expires_at = time("exp")?.ok_or(TokenRejection::MissingClaim { claim: "exp" })?;
    if expires_at + LEEWAY <= now {
        return Err(TokenRejection::Expired {
            expired_at: expires_at,
            now,
        });
    }
    let issued_at = time("iat")?;
    if issued_at.is_some_and(|iat| iat > now + LEEWAY) {
        return Err(TokenRejection::IssuedInFuture);
    }
    let audiences: Vec<String> = match claims.get("aud") {
        Some(Value::String(aud)) => vec![aud.clone()],
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(|a| a.as_str().map(str::to_owned))
            .collect(),
        _ => return Err(TokenRejection::MissingClaim { claim: "aud" }),
    };
    if !audiences.iter().any(|a| a == audience) {
        return Err(TokenRejection::WrongAudience { found: audiences });
    }
    let scope = claims.get("scope").and_then(Value::as_str);
    if scope != Some(SCOPE) {
        return Err(TokenRejection::WrongScope {
            found: scope.map(str::to_owned),
        });
    }
    let core_identifier = claims
        .get("value")
        .and_then(Value::as_str)
        .ok_or(TokenRejection::MissingClaim { claim: "value" })?
        .to_owned();
    let jti = claims.get("jti").and_then(Value::as_str).map(str::to_owned);
    Ok(VerifiedToken {
        core_identifier,
        jti,
        expires_at,
        issued_at,
    })
}

/// The claims Sombra puts in a webhook token.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct SombraTokenClaims {
    /// The data silo's audience.
    pub aud: String,
    /// Always `coreIdentifier`.
    pub scope: String,
    /// The core identifier.
    pub value: String,
    /// Issued at (epoch seconds).
    pub iat: u64,
    /// Expires at (epoch seconds).
    pub exp: u64,
    /// A unique token id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
}

impl SombraTokenClaims {
    /// Claims for a job about `core_identifier`, valid from `now` for `lifetime`.
    pub fn new(
        audience: impl Into<String>,
        core_identifier: impl Into<String>,
        now: SystemTime,
        lifetime: Duration,
    ) -> Self {
        let iat = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        Self {
            aud: audience.into(),
            scope: SCOPE.into(),
            value: core_identifier.into(),
            iat,
            exp: iat + lifetime.as_secs(),
            jti: None,
        }
    }

    /// Sets the token id.
    pub fn with_jti(mut self, jti: impl Into<String>) -> Self {
        self.jti = Some(jti.into());
        self
    }
}

/// The signing side (Sombra, the emulator, tests): an ES384 token for these claims,
/// signed with a P-384 private key in PKCS#8 PEM.
pub fn sign_sombra_token(
    claims: &SombraTokenClaims,
    private_key_pem: &str,
) -> Result<SombraToken, TokenRejection> {
    let key = SigningKey::from_pkcs8_pem(private_key_pem.trim()).map_err(|e| {
        TokenRejection::InvalidKey {
            reason: format!("not a P-384 private key: {e}"),
        }
    })?;
    let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"ES384"}"#);
    let payload = serde_json::to_vec(claims).map_err(|e| TokenRejection::Malformed {
        reason: e.to_string(),
    })?;
    let signed = format!("{header}.{}", URL_SAFE_NO_PAD.encode(payload));
    let signature: Signature = key.sign(signed.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(signature.to_bytes());
    Ok(SombraToken::new(format!("{signed}.{signature}")))
}
