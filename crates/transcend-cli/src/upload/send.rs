//! Sending one submission until its outcome is known.
//!
//! The client itself never retries here (a submission is not idempotent): this loop
//! decides, knowing what the client cannot, that an "already made" answer after a lost
//! one means the earlier attempt took effect.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use transcend_hyper::proto::{RetryPolicy, Transport};
use transcend_hyper::types::SubmitDsr;
use transcend_hyper::{Body, Client, Error, HyperTransport, HyperTransportError, http};

use super::pace::Pacer;

/// How a submission ended.
#[derive(Debug)]
pub enum Sent {
    /// Created now.
    Created {
        /// The request's id.
        id: String,
        /// Its status.
        status: String,
    },
    /// An earlier attempt (this run's or an earlier run's) took effect.
    CreatedEarlier,
    /// An open request for the same person and type existed already.
    Duplicate(String),
    /// The server refused the row (a 4xx other than a duplicate): it will not pass as is.
    Refused {
        /// The status.
        status: u16,
        /// The server's message.
        message: String,
    },
    /// Every attempt failed.
    Failed {
        /// The last status, when there was an answer.
        status: Option<u16>,
        /// The last error.
        message: String,
    },
    /// The upload cannot go on (the key is refused): stop everything.
    Fatal(String),
    /// Interrupted before the outcome was known; a rerun sends it again.
    Stopped,
}

/// The hyper transport, telling the pacer every window the server reports.
struct Observed {
    inner: HyperTransport,
    pacer: Arc<Pacer>,
}

impl Transport<Body> for Observed {
    type Error = HyperTransportError;

    fn send(
        &self,
        request: http::Request<Body>,
    ) -> impl Future<Output = Result<http::Response<transcend_hyper::bytes::Bytes>, Self::Error>> + Send
    {
        let sent = self.inner.send(request);
        let pacer = Arc::clone(&self.pacer);
        async move {
            let response = sent.await?;
            if let Some(window) =
                transcend_hyper::proto::RateLimit::from_headers(response.headers())
            {
                pacer.observe(&window, SystemTime::now());
            }
            Ok(response)
        }
    }
}

/// Sends submissions with the upload's pace and retry rules.
pub struct Sender {
    client: Client,
    pacer: Arc<Pacer>,
    max_attempts: u32,
}

impl Sender {
    /// A client from `TRANSCEND_API_KEY`, `SOMBRA_URL` and `SOMBRA_API_KEY`, which
    /// makes one attempt per call and reports rate-limit windows to `pacer`.
    pub fn from_env(
        pacer: Arc<Pacer>,
        max_attempts: u32,
        timeout: Duration,
    ) -> Result<Self, String> {
        let transport = HyperTransport::new(Duration::from_secs(10)).map_err(|e| e.to_string())?;
        let client = transcend_hyper::ClientBuilder::from_vars(|name| std::env::var(name).ok())
            .map_err(|e| e.to_string())?
            .retry_policy(RetryPolicy::never())
            .attempt_timeout(timeout)
            .call_timeout(None)
            .transport(Observed {
                inner: transport,
                pacer: Arc::clone(&pacer),
            })
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self {
            client,
            pacer,
            max_attempts: max_attempts.max(1),
        })
    }

    /// Sends `dsr` until its outcome is known. `sent_before`: an earlier run may have
    /// sent it.
    pub async fn submit(&self, dsr: &SubmitDsr, sent_before: bool, stop: &AtomicBool) -> Sent {
        let mut maybe_sent = sent_before;
        let mut attempts = 0u32;
        let mut waits = 0u32;
        loop {
            if (attempts > 0 || waits > 0) && stop.load(Ordering::SeqCst) {
                return Sent::Stopped;
            }
            self.pacer.wait().await;
            let error = match self.client.submit_dsr(dsr).await {
                Ok(created) => {
                    return Sent::Created {
                        id: created.request.id,
                        status: created.request.status.to_string(),
                    };
                }
                Err(error) => error,
            };
            let status = error.status().map(|s| s.as_u16());
            let message = error
                .message()
                .map(str::to_owned)
                .unwrap_or_else(|| error.to_string());
            match classify(&error) {
                Class::Duplicate if maybe_sent => return Sent::CreatedEarlier,
                Class::Duplicate => return Sent::Duplicate(message),
                Class::Fatal => {
                    return Sent::Fatal(format!("the server refused the key: {message}"));
                }
                Class::Refused => {
                    return Sent::Refused {
                        status: status.unwrap_or_default(),
                        message,
                    };
                }
                Class::Wait(wait) => {
                    // Not processed: wait as asked, and let every sender wait too.
                    waits += 1;
                    self.pacer.pause(Instant::now(), wait);
                    if waits <= 1_000 {
                        continue;
                    }
                }
                Class::NotSent => attempts += 1,
                Class::MaybeSent => {
                    maybe_sent = true;
                    attempts += 1;
                }
            }
            if attempts >= self.max_attempts || waits > 1_000 {
                return Sent::Failed { status, message };
            }
            tokio::time::sleep(backoff(attempts)).await;
        }
    }
}

/// What an error means for this submission.
#[derive(Debug, PartialEq, Eq)]
enum Class {
    /// Refused as already made.
    Duplicate,
    /// The key is wrong or lacks the scope: every row would fail the same way.
    Fatal,
    /// A 4xx the same row will get again.
    Refused,
    /// Refused unprocessed (429, 503): wait this long.
    Wait(Duration),
    /// It never left (no connection).
    NotSent,
    /// It may have taken effect (timeout, dropped connection, other 5xx).
    MaybeSent,
}

fn classify(error: &Error) -> Class {
    match error {
        Error::Connect { .. } => return Class::NotSent,
        Error::Timeout { .. } | Error::Send { .. } => return Class::MaybeSent,
        _ => {}
    }
    let Some(status) = error.status() else {
        return Class::MaybeSent;
    };
    if error.is_duplicate() {
        return Class::Duplicate;
    }
    match status.as_u16() {
        401 | 403 => Class::Fatal,
        429 | 503 => Class::Wait(
            error
                .retry_after()
                .map_or(Duration::from_secs(1), |after| {
                    after.delay_from(SystemTime::now())
                })
                .clamp(Duration::from_millis(50), Duration::from_secs(300)),
        ),
        408 => Class::MaybeSent,
        400..=499 => Class::Refused,
        _ => Class::MaybeSent,
    }
}

/// Full-jitter backoff: up to 100 ms doubling to 10 s.
fn backoff(attempt: u32) -> Duration {
    let ceiling = Duration::from_millis(100)
        .saturating_mul(1 << attempt.min(7))
        .min(Duration::from_secs(10));
    ceiling.mul_f64(fastrand::f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api_error(status: u16, body: &str) -> Error {
        let mut headers = http::HeaderMap::new();
        headers.insert("retry-after", http::HeaderValue::from_static("3"));
        let api = transcend_hyper::proto::ApiError::from_response(
            "submit_dsr",
            http::StatusCode::from_u16(status).unwrap(),
            headers,
            transcend_hyper::bytes::Bytes::from(body.to_owned()),
        );
        Error::Protocol(transcend_hyper::proto::Error::Api(Box::new(api)))
    }

    #[test]
    fn answers_are_classified_for_exactly_once() {
        let duplicate = api_error(
            400,
            r#"{"message":"Client error: You have already made this request."}"#,
        );
        assert_eq!(classify(&duplicate), Class::Duplicate);
        assert_eq!(
            classify(&api_error(400, r#"{"message":"bad locale"}"#)),
            Class::Refused
        );
        assert_eq!(classify(&api_error(401, "no")), Class::Fatal);
        assert_eq!(
            classify(&api_error(429, "slow down")),
            Class::Wait(Duration::from_secs(3))
        );
        assert_eq!(classify(&api_error(502, "<html>")), Class::MaybeSent);
        assert_eq!(classify(&api_error(500, "")), Class::MaybeSent);
    }

    #[test]
    fn backoff_stays_under_its_ceiling() {
        for attempt in 0..20 {
            assert!(backoff(attempt) <= Duration::from_secs(10));
        }
    }
}
