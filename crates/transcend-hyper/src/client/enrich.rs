//! An enricher's call: the identifiers it found, or its decision.

use transcend_proto::endpoint::enrich_identifiers::{
    EnrichIdentifiersEndpoint, Enrichment, EnrichmentTarget, is_already_done,
};
use transcend_proto::types::EnrichIdentifiers;

use super::Client;
use crate::error::Error;

/// What an enrichment did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EnrichOutcome {
    /// Applied now.
    Applied,
    /// The enricher had already answered for this request ("Cannot update a resolved
    /// RequestEnricher"): nothing to do, not a failure.
    AlreadyDone,
}

impl Client {
    /// Sends an enricher's identifiers or decision (`POST /v1/enrich-identifiers`), with
    /// the enrichment webhook's nonce or, for a manual enrichment, the request's and the
    /// enricher's ids. An enrichment already resolved comes back as
    /// [`EnrichOutcome::AlreadyDone`].
    pub async fn enrich_identifiers(
        &self,
        target: EnrichmentTarget,
        body: EnrichIdentifiers,
    ) -> Result<EnrichOutcome, Error> {
        match self
            .call::<EnrichIdentifiersEndpoint>(&Enrichment::new(target, body))
            .await
        {
            Ok(_) => Ok(EnrichOutcome::Applied),
            Err(Error::Protocol(error)) if is_already_done(&error) => {
                Ok(EnrichOutcome::AlreadyDone)
            }
            Err(error) => Err(error),
        }
    }
}
