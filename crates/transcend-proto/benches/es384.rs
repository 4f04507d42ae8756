//! ES384 verification of webhook tokens against OpenSSL's on the same machine, in the
//! same run: `VerificationKey::verify` (the signature plus the token's base64url and
//! claims) against `openssl speed ecdsap384` (the bare signature check), against ring's
//! bare check (the default backend) and against the p384 crate's (the code ring replaced).
//!
//! Run: `cargo bench -p transcend-proto --features aws-lc --bench es384` (AWS-LC), or
//! without the feature (ring). Without `openssl` on the PATH the OpenSSL row is left out.

use std::hint::black_box;
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p384::ecdsa::signature::Verifier;
use p384::pkcs8::{DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use transcend_proto::webhook::{SombraTokenClaims, VerificationKey, sign_sombra_token};

const TOKENS: usize = 64;
const ROUNDS: usize = 5;
const PER_ROUND: Duration = Duration::from_secs(2);

/// Verifications per second of `verify` over the tokens, for about `PER_ROUND`.
fn rate(tokens: &[String], mut verify: impl FnMut(&str)) -> f64 {
    let started = Instant::now();
    let mut done = 0usize;
    while started.elapsed() < PER_ROUND {
        for token in tokens {
            verify(token);
        }
        done += tokens.len();
    }
    done as f64 / started.elapsed().as_secs_f64()
}

/// `openssl speed`'s ECDSA P-384 verifications per second, when openssl is here.
fn openssl() -> Option<f64> {
    let output = Command::new("openssl")
        .args(["speed", "-seconds", "2", "ecdsap384"])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let line = text.lines().find(|l| l.contains("ecdsa (nistp384)"))?;
    line.split_whitespace().last()?.parse().ok()
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let secret = p384::SecretKey::random(&mut rand_core::OsRng);
    let private_pem = secret.to_pkcs8_pem(LineEnding::LF).unwrap().to_string();
    let public_pem = secret
        .public_key()
        .to_public_key_pem(LineEnding::LF)
        .unwrap();
    let now = SystemTime::now();
    let tokens: Vec<String> = (0..TOKENS)
        .map(|i| {
            let claims =
                SombraTokenClaims::new("silo", format!("user-{i}"), now, Duration::from_secs(3600))
                    .with_jti(format!("jti-{i}"));
            sign_sombra_token(&claims, &private_pem)
                .unwrap()
                .expose()
                .to_owned()
        })
        .collect();

    let key = VerificationKey::from_pem(&public_pem).unwrap();
    let p384_key = p384::ecdsa::VerifyingKey::from_public_key_pem(&public_pem).unwrap();
    let point = p384_key.to_encoded_point(false).as_bytes().to_vec();
    let ring_key =
        ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P384_SHA384_FIXED, point);
    let (mut ours, mut p384s, mut rings, mut openssls) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        ours.push(rate(&tokens, |token| {
            let token = transcend_proto::SombraToken::new(token);
            black_box(key.verify(&token, "silo", now).unwrap());
        }));
        p384s.push(rate(&tokens, |token| {
            let (signed, signature) = token.rsplit_once('.').unwrap();
            let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
            let signature = p384::ecdsa::Signature::from_slice(&signature).unwrap();
            p384_key.verify(signed.as_bytes(), &signature).unwrap();
        }));
        rings.push(rate(&tokens, |token| {
            let (signed, signature) = token.rsplit_once('.').unwrap();
            let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
            ring_key.verify(signed.as_bytes(), &signature).unwrap();
        }));
        if let Some(rate) = openssl() {
            openssls.push(rate);
        }
    }
    let (ours, p384s, rings) = (median(ours), median(p384s), median(rings));
    let backend = if cfg!(feature = "aws-lc") {
        "AWS-LC"
    } else {
        "ring"
    };
    println!(
        "| ES384 verifications per second (median of {ROUNDS} alternating rounds) | rate | ours against it |"
    );
    println!("|---|---|---|");
    println!(
        "| `VerificationKey::verify` ({backend}; base64url and claims included) | {ours:.0}/s | |"
    );
    println!(
        "| ring, bare signature check | {rings:.0}/s | **{:.2}** |",
        ours / rings
    );
    println!(
        "| p384 crate, bare signature check | {p384s:.0}/s | **{:.2}** |",
        ours / p384s
    );
    if openssls.is_empty() {
        println!("| `openssl speed ecdsap384` | not run (no openssl here) | |");
    } else {
        let openssl = median(openssls);
        println!(
            "| `openssl speed ecdsap384`, bare signature check | {openssl:.0}/s | **{:.2}** |",
            ours / openssl
        );
    }
}
