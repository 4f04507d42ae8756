//! Signing webhooks offline, to unit-test a silo's handlers without an emulator or
//! Sombra (feature `test-util`).
//!
//! ```
//! use transcend_hyper::Client;
//! use transcend_hyper::silo::testing::TestSigner;
//! use transcend_hyper::types::{DsrJob, RequestAction};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let signer = TestSigner::new()?;
//! // Reports would go to this client's Sombra; point it at a test server or the emulator.
//! let client = Client::builder().base_url("http://127.0.0.1:9").api_key("test").build()?;
//! let verifier = signer.verifier(client, "my-silo");
//!
//! let job = DsrJob::new(RequestAction::Erasure).with_core_identifier("user-1");
//! let delivery = signer.webhook("my-silo", &job, "nonce-1")?;
//! let verified = verifier.verify(&delivery).await?;
//! assert_eq!(verified.core_identifier, "user-1");
//! // The same delivery again is a replay.
//! assert!(verifier.verify(&delivery).await.is_err());
//! # Ok(()) }
//! ```

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{Request, Uri};
use p384::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use transcend_proto::types::{DsrJob, EnrichmentJob};
use transcend_proto::webhook::{
    SombraTokenClaims, VerificationKey, build_webhook, sign_sombra_token,
};
use transcend_proto::{Nonce, SombraToken};

use super::verifier::WebhookVerifier;
use crate::client::Client;
use crate::error::Error;

/// A P-384 key pair made for a test: signs tokens and webhooks the way Sombra does, and
/// builds verifiers that trust it.
pub struct TestSigner {
    private_pem: String,
    public_pem: String,
    key: VerificationKey,
}

impl std::fmt::Debug for TestSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestSigner").finish_non_exhaustive()
    }
}

/// How long tokens made by [`TestSigner`] are valid.
pub const TEST_TOKEN_LIFETIME: Duration = Duration::from_secs(300);

impl TestSigner {
    /// A fresh key pair.
    pub fn new() -> Result<Self, Error> {
        let secret = p384::SecretKey::random(&mut rand_core::OsRng);
        let setup = |e: &dyn std::fmt::Display| Error::Config(format!("test key: {e}"));
        let private_pem = secret
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| setup(&e))?
            .to_string();
        let public_pem = secret
            .public_key()
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| setup(&e))?;
        let key = VerificationKey::from_pem(&public_pem).map_err(|e| setup(&e))?;
        Ok(Self {
            private_pem,
            public_pem,
            key,
        })
    }

    /// The public key, PEM (what a Sombra would serve).
    pub fn public_key_pem(&self) -> &str {
        &self.public_pem
    }

    /// A verifier for `audience` that trusts this key (never fetches one); reports go
    /// through `client`.
    pub fn verifier(&self, client: Client, audience: impl Into<String>) -> WebhookVerifier {
        WebhookVerifier::with_key(client, audience, self.key.clone())
    }

    /// A token for a job about `core_identifier`, for `audience`, with a fresh `jti`.
    pub fn token(&self, audience: &str, core_identifier: &str) -> Result<SombraToken, Error> {
        let claims = SombraTokenClaims::new(
            audience,
            core_identifier,
            SystemTime::now(),
            TEST_TOKEN_LIFETIME,
        )
        .with_jti(format!("{:032x}", fastrand::u128(..)));
        self.sign(&claims)
    }

    /// A token with any claims (expired, another audience, no `jti`, …).
    pub fn sign(&self, claims: &SombraTokenClaims) -> Result<SombraToken, Error> {
        sign_sombra_token(claims, &self.private_pem)
            .map_err(|e| Error::Config(format!("cannot sign: {e}")))
    }

    /// A whole enrichment delivery of `job` for `audience`, with `nonce`, signed for the
    /// identifier it names (an empty one when it names none).
    pub fn enrichment_webhook(
        &self,
        audience: &str,
        job: &EnrichmentJob,
        nonce: impl Into<Nonce>,
    ) -> Result<Request<Bytes>, Error> {
        let token = self.token(audience, job.identifier().unwrap_or_default())?;
        Ok(build_webhook(
            &Uri::from_static("http://enricher.test/transcend/enrich"),
            &nonce.into(),
            &token,
            job,
        )?)
    }

    /// A whole delivery of `job` for `audience`, with `nonce`, signed for the job's core
    /// identifier (an empty one when the job names none).
    pub fn webhook(
        &self,
        audience: &str,
        job: &DsrJob,
        nonce: impl Into<Nonce>,
    ) -> Result<Request<Bytes>, Error> {
        let token = self.token(audience, job.core_identifier().unwrap_or_default())?;
        Ok(build_webhook(
            &Uri::from_static("http://silo.test/transcend/webhook"),
            &nonce.into(),
            &token,
            job,
        )?)
    }
}
