//! Webhook deliveries and their tokens, with keys generated here: the genuine token is
//! accepted, and every forgery is refused with its own reason.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use http::{Request, StatusCode, Uri};
use p384::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use transcend_proto::types::{CoreIdentifier, DsrJob, RequestAction};
use transcend_proto::webhook::*;
use transcend_proto::{Nonce, SombraToken};

const AUDIENCE: &str = "silo-audience";
const NOW: Duration = Duration::from_secs(1_800_000_000);

/// A token "signed" with HMAC-SHA384 (the key-confusion forgery), made by hand.
fn hs384(claims: &impl serde::Serialize, secret: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"HS384"}"#);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap());
    let signed = format!("{header}.{payload}");
    let mut mac = Hmac::<sha2::Sha384>::new_from_slice(secret).unwrap();
    mac.update(signed.as_bytes());
    format!(
        "{signed}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

fn now() -> SystemTime {
    UNIX_EPOCH + NOW
}

struct Keys {
    private_pem: String,
    public_pem: String,
}

fn keys() -> Keys {
    let secret = p384::SecretKey::random(&mut rand_core::OsRng);
    Keys {
        private_pem: secret.to_pkcs8_pem(LineEnding::LF).unwrap().to_string(),
        public_pem: secret
            .public_key()
            .to_public_key_pem(LineEnding::LF)
            .unwrap(),
    }
}

fn claims() -> SombraTokenClaims {
    SombraTokenClaims::new(AUDIENCE, "id-123456789", now(), Duration::from_secs(300))
        .with_jti("jti-1")
}

fn verify(token: &SombraToken, keys: &Keys) -> Result<VerifiedToken, TokenRejection> {
    verify_sombra_token(token, &keys.public_pem, AUDIENCE, now())
}

fn unsigned(header: &str, claims: &SombraTokenClaims) -> SombraToken {
    let header = URL_SAFE_NO_PAD.encode(header);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap());
    SombraToken::new(format!("{header}.{payload}."))
}

#[test]
fn a_genuine_token_is_accepted() {
    let keys = keys();
    let token = sign_sombra_token(&claims(), &keys.private_pem).unwrap();
    let verified = verify(&token, &keys).unwrap();
    assert_eq!(verified.core_identifier, "id-123456789");
    assert_eq!(verified.jti.as_deref(), Some("jti-1"));
    assert_eq!(verified.expires_at, now() + Duration::from_secs(300));
    assert_eq!(verified.issued_at, Some(now()));
}

#[test]
fn every_forgery_is_refused_with_a_distinct_reason() {
    let keys = keys();
    let other = self::keys();
    let mut reasons = Vec::new();

    // alg none, no signature.
    let none = unsigned(r#"{"alg":"none","typ":"JWT"}"#, &claims());
    let rejection = verify(&none, &keys).unwrap_err();
    assert_eq!(
        rejection,
        TokenRejection::AlgorithmNotAllowed { alg: "none".into() }
    );
    reasons.push(rejection);

    // HS384 "signed" with the public key's bytes (the key-confusion attack).
    let hs = hs384(&claims(), keys.public_pem.as_bytes());
    let rejection = verify(&SombraToken::new(hs), &keys).unwrap_err();
    assert_eq!(
        rejection,
        TokenRejection::AlgorithmNotAllowed {
            alg: "HS384".into()
        }
    );
    reasons.push(rejection);

    // Signed by another key.
    let rejection = verify(
        &sign_sombra_token(&claims(), &other.private_pem).unwrap(),
        &keys,
    )
    .unwrap_err();
    assert_eq!(rejection, TokenRejection::BadSignature);
    reasons.push(rejection);

    // Another silo's audience.
    let mut wrong_audience = claims();
    wrong_audience.aud = "another-silo".into();
    let rejection = verify(
        &sign_sombra_token(&wrong_audience, &keys.private_pem).unwrap(),
        &keys,
    )
    .unwrap_err();
    assert_eq!(
        rejection,
        TokenRejection::WrongAudience {
            found: vec!["another-silo".into()]
        }
    );
    reasons.push(rejection);

    // Another scope.
    let mut wrong_scope = claims();
    wrong_scope.scope = "admin".into();
    let rejection = verify(
        &sign_sombra_token(&wrong_scope, &keys.private_pem).unwrap(),
        &keys,
    )
    .unwrap_err();
    assert_eq!(
        rejection,
        TokenRejection::WrongScope {
            found: Some("admin".into())
        }
    );
    reasons.push(rejection);

    // Expired.
    let expired = SombraTokenClaims::new(
        AUDIENCE,
        "id-1",
        now() - Duration::from_secs(3600),
        Duration::from_secs(300),
    );
    let rejection = verify(
        &sign_sombra_token(&expired, &keys.private_pem).unwrap(),
        &keys,
    )
    .unwrap_err();
    assert!(
        matches!(rejection, TokenRejection::Expired { .. }),
        "{rejection:?}"
    );
    assert_eq!(rejection.to_string(), "token expired 3300 s ago");
    reasons.push(rejection);

    // Garbled.
    let rejection = verify(&SombraToken::new("not.a-token"), &keys).unwrap_err();
    assert!(
        matches!(rejection, TokenRejection::Malformed { .. }),
        "{rejection:?}"
    );
    reasons.push(rejection);

    // A tampered payload under a genuine signature.
    let genuine = sign_sombra_token(&claims(), &keys.private_pem).unwrap();
    let parts: Vec<&str> = genuine.expose().split('.').collect();
    let mut tampered_claims = claims();
    tampered_claims.value = "someone-else".into();
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&tampered_claims).unwrap());
    let tampered = SombraToken::new(format!("{}.{payload}.{}", parts[0], parts[2]));
    assert_eq!(
        verify(&tampered, &keys).unwrap_err(),
        TokenRejection::BadSignature
    );

    let messages: std::collections::HashSet<String> =
        reasons.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages.len(),
        reasons.len(),
        "reasons must differ: {messages:?}"
    );
    for message in &messages {
        assert!(!message.contains(genuine.expose()), "no token in messages");
    }
}

#[test]
fn leeway_and_future_tokens() {
    let keys = keys();
    let just_expired = SombraTokenClaims::new(
        AUDIENCE,
        "id",
        now() - Duration::from_secs(310),
        Duration::from_secs(300),
    );
    verify(
        &sign_sombra_token(&just_expired, &keys.private_pem).unwrap(),
        &keys,
    )
    .unwrap();
    let future = SombraTokenClaims::new(
        AUDIENCE,
        "id",
        now() + Duration::from_secs(600),
        Duration::from_secs(300),
    );
    assert_eq!(
        verify(
            &sign_sombra_token(&future, &keys.private_pem).unwrap(),
            &keys
        )
        .unwrap_err(),
        TokenRejection::IssuedInFuture
    );
}

#[test]
fn a_bad_key_is_reported_as_such() {
    let keys = keys();
    let token = sign_sombra_token(&claims(), &keys.private_pem).unwrap();
    let rejection = verify_sombra_token(
        &token,
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
        AUDIENCE,
        now(),
    )
    .unwrap_err();
    assert!(
        matches!(rejection, TokenRejection::InvalidKey { .. }),
        "{rejection:?}"
    );
}

#[test]
fn a_delivery_reads_back_on_the_silo_side() {
    let keys = keys();
    let token = sign_sombra_token(&claims(), &keys.private_pem).unwrap();
    let mut job = DsrJob::new(RequestAction::Access);
    job.core_identifier = Some(CoreIdentifier::new("id-123456789"));
    let url: Uri = "http://127.0.0.1:9000/transcend/webhook".parse().unwrap();
    let request = build_webhook(&url, &Nonce::new("nonce-1"), &token, &job).unwrap();
    assert!(request.headers()["x-sombra-token"].is_sensitive());
    let delivery = parse_webhook(&request).unwrap();
    assert_eq!(delivery.job, job);
    assert_eq!(delivery.nonce, Nonce::new("nonce-1"));
    let verified = VerificationKey::from_pem(&keys.public_pem)
        .unwrap()
        .verify(&delivery.token, AUDIENCE, now())
        .unwrap();
    assert_eq!(
        Some(verified.core_identifier.as_str()),
        delivery.job.core_identifier()
    );
}

#[test]
fn deliveries_missing_parts_are_refused() {
    let request = Request::post("/hook")
        .header("x-transcend-nonce", "n")
        .body(Bytes::from_static(b"{}"))
        .unwrap();
    let error = parse_webhook(&request).unwrap_err();
    assert_eq!(error, WebhookError::MissingHeader("x-sombra-token"));
    assert_eq!(error.status(), StatusCode::UNAUTHORIZED);

    let request = Request::post("/hook")
        .header("x-transcend-nonce", "n")
        .header("x-sombra-token", "t")
        .body(Bytes::from_static(br#"{"type":17}"#))
        .unwrap();
    let error = parse_webhook(&request).unwrap_err();
    assert!(
        matches!(&error, WebhookError::InvalidBody { path, .. } if path == "type"),
        "{error:?}"
    );
    assert_eq!(error.status(), StatusCode::BAD_REQUEST);
}

#[test]
fn job_answers_round_trip() {
    for answer in [
        JobAnswer::Accepted,
        JobAnswer::NotFound,
        JobAnswer::Failed {
            status: StatusCode::SERVICE_UNAVAILABLE,
            message: Some("db down".into()),
        },
    ] {
        assert_eq!(JobAnswer::from_response(&answer.to_response()), answer);
    }
    assert_eq!(
        JobAnswer::NotFound.to_response().status(),
        StatusCode::NO_CONTENT
    );
}

/// With the `aws-lc` feature the signature is checked by AWS-LC; ring (the default)
/// must accept exactly the same signatures. Each case takes a genuine token and
/// replaces its signature with a variant: itself, a bit flipped, `s` replaced by
/// `n - s` (the other valid form), `r` or `s` zero or the group order, or random bytes.
#[cfg(feature = "aws-lc")]
#[test]
fn aws_lc_and_ring_accept_the_same_signatures() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};

    // The order of P-384's group, big-endian.
    const N: [u8; 48] = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xc7, 0x63, 0x4d, 0x81, 0xf4, 0x37,
        0x2d, 0xdf, 0x58, 0x1a, 0x0d, 0xb2, 0x48, 0xb0, 0xa7, 0x7a, 0xec, 0xec, 0x19, 0x6a, 0xcc,
        0xc5, 0x29, 0x73,
    ];
    fn n_minus(s: &[u8]) -> Vec<u8> {
        let mut out = vec![0u8; 48];
        let mut borrow = 0i16;
        for i in (0..48).rev() {
            let d = N[i] as i16 - s[i] as i16 - borrow;
            borrow = i16::from(d < 0);
            out[i] = d.rem_euclid(256) as u8;
        }
        out
    }

    let keys = keys();
    let spki = p384::pkcs8::DecodePublicKey::from_public_key_pem(&keys.public_pem);
    let public: p384::PublicKey = spki.unwrap();
    let point = p384::elliptic_curve::sec1::ToEncodedPoint::to_encoded_point(&public, false);
    let ring_key = ring::signature::UnparsedPublicKey::new(
        &ring::signature::ECDSA_P384_SHA384_FIXED,
        point.as_bytes().to_vec(),
    );
    let key = VerificationKey::from_pem(&keys.public_pem).unwrap();

    let variant = (
        0u8..6,
        any::<u16>(),
        proptest::collection::vec(any::<u8>(), 96),
    );
    let mut runner = TestRunner::new(Config {
        cases: 256,
        ..Config::default()
    });
    let accepted = std::cell::Cell::new(0usize);
    runner
        .run(&(any::<u32>(), variant), |(user, (kind, bit, random))| {
            let claims = SombraTokenClaims::new(
                AUDIENCE,
                format!("user-{user}"),
                now(),
                Duration::from_secs(300),
            );
            let token = sign_sombra_token(&claims, &keys.private_pem).unwrap();
            let (signed, signature) = token.expose().rsplit_once('.').unwrap();
            let mut sig = URL_SAFE_NO_PAD.decode(signature).unwrap();
            match kind {
                0 => {}
                1 => sig[usize::from(bit) % 96] ^= 1 << (bit % 8),
                2 => {
                    let s = n_minus(&sig[48..]);
                    sig[48..].copy_from_slice(&s);
                }
                3 => sig[..48].fill(0),
                4 => sig[48..].copy_from_slice(&N),
                _ => sig.copy_from_slice(&random),
            }
            let forged = SombraToken::new(format!("{signed}.{}", URL_SAFE_NO_PAD.encode(&sig)));
            let ours = key.verify(&forged, AUDIENCE, now());
            let ring_ok = ring_key.verify(signed.as_bytes(), &sig).is_ok();
            prop_assert_eq!(ours.is_ok(), ring_ok, "variant {}", kind);
            if let Err(rejection) = ours {
                prop_assert!(matches!(rejection, TokenRejection::BadSignature));
            } else {
                accepted.set(accepted.get() + 1);
            }
            Ok(())
        })
        .unwrap();
    assert!(accepted.get() > 0, "no case kept a valid signature");
}
