//! Credentials, nonces and tokens that must never be printed (defined in
//! `transcend-types`, so that the bodies holding them redact them too).

pub use transcend_types::secret::{ApiKey, Nonce, SombraKey, SombraToken};
