//! Who may call what: the Sombra key, API keys, their scopes, the silo a key belongs
//! to, and the rate limit per key.

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use transcend_proto::endpoint::Scope as Required;
use transcend_proto::server::{Credentials, ServerError};
use transcend_proto::{Nonce, Route};

use crate::config::{ApiKeyConfig, Scope};
use crate::nonce::NonceClaims;
use crate::state::Shared;

/// The key a request authenticates with, after the Sombra key (self-hosted mode).
pub(crate) fn authenticate(
    shared: &Shared,
    credentials: &Credentials,
) -> Result<Arc<ApiKeyConfig>, ServerError> {
    if let Some(expected) = &shared.config.sombra_key {
        let given = credentials.sombra_key.as_ref().map(|k| k.expose());
        if given != Some(expected.as_str()) {
            return Err(ServerError::Unauthorized {
                message: "missing or wrong x-sombra-authorization (this Sombra is self-hosted)"
                    .into(),
            });
        }
    }
    let Some(api_key) = &credentials.api_key else {
        return Err(ServerError::Unauthorized {
            message: "missing authorization: Bearer <API key>".into(),
        });
    };
    shared
        .api_keys
        .get(api_key.expose())
        .cloned()
        .ok_or_else(|| ServerError::Unauthorized {
            message: "invalid API key".into(),
        })
}

/// Authenticates, takes a token from the key's rate limit, and checks the scope the
/// endpoint table names for `route`.
pub(crate) fn authorize(
    shared: &Shared,
    route: Route,
    credentials: &Credentials,
) -> Result<Arc<ApiKeyConfig>, ServerError> {
    let key = authenticate(shared, credentials)?;
    if let Some(limiter) = &shared.rate {
        let taken = limiter
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take(&key.key, Instant::now(), SystemTime::now());
        if let Err(limited) = taken {
            return Err(ServerError::RateLimited {
                retry_after: limited.retry_after,
                rate_limit: limited.rate_limit,
            });
        }
    }
    if let Some(scope) = configured_scope(route.info().scope) {
        require(&key, scope)?;
    }
    Ok(key)
}

/// The configured scope that grants what the table requires; `None` for "any key".
fn configured_scope(required: Required) -> Option<Scope> {
    match required {
        Required::SubmitRequests => Some(Scope::Submit),
        Required::ViewRequests => Some(Scope::View),
        Required::DataSilo => Some(Scope::Report),
        Required::IdentityVerification => Some(Scope::Enrich),
        _ => None,
    }
}

pub(crate) fn require(key: &ApiKeyConfig, scope: Scope) -> Result<(), ServerError> {
    if key.scopes.contains(&scope) {
        Ok(())
    } else {
        let name = scope.title();
        Err(ServerError::Unauthorized {
            message: format!("the API key lacks the scope {name:?}"),
        })
    }
}

/// The job a nonce stands for, once the key may report for it: the nonce was issued
/// here, and a key tied to a silo reports only for that silo's jobs.
pub(crate) fn job_of(
    shared: &Shared,
    key: &ApiKeyConfig,
    nonce: &Nonce,
) -> Result<NonceClaims, ServerError> {
    let claims = shared
        .nonces
        .check(nonce.expose())
        .ok_or_else(|| ServerError::BadRequest {
            message: "invalid x-transcend-nonce: it was not issued by this Sombra for any job"
                .into(),
        })?;
    if let Some(silo) = &key.data_silo
        && *silo != claims.silo_id
    {
        return Err(ServerError::Unauthorized {
            message: "the API key belongs to another data silo".into(),
        });
    }
    Ok(claims)
}
