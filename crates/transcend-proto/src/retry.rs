//! When to send a request again, and after how long: a pure function.
//!
//! The policy never reads a clock or a random source: the caller passes `now` and a
//! random number, so the decision is repeatable in tests and the same in every runtime.

use std::time::{Duration, SystemTime};

use http::StatusCode;

use crate::rate_limit::RetryAfter;

/// Whether an endpoint may be sent again once it may have reached the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idempotency {
    /// Sending it twice does what sending it once does (reads, reports).
    Idempotent,
    /// Sending it twice may act twice (a DSR submission: there is no idempotency key).
    NotIdempotent,
}

/// How an attempt ended, as far as retrying is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// The server answered with this status (and maybe a `Retry-After`).
    Status {
        /// The status.
        status: StatusCode,
        /// The server's `Retry-After`, if any.
        retry_after: Option<RetryAfter>,
    },
    /// No connection was made: the request never left.
    ConnectFailed,
    /// The attempt ran out of time; the server may have received the request.
    TimedOut,
    /// The connection broke after the request started; the server may have acted on it.
    ConnectionLost,
}

/// What to do after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    /// Send again after this long.
    RetryAfter(Duration),
    /// Do not send again.
    Stop(StopReason),
}

/// Why not to send again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StopReason {
    /// The outcome is final (a success, or an error that a retry cannot fix).
    Final,
    /// The request may have reached the server and the endpoint is not idempotent.
    NotIdempotent,
    /// Every allowed attempt was made.
    AttemptsExhausted,
    /// The server asked to wait longer than the policy allows.
    RetryAfterTooLong(Duration),
}

/// Full-jitter exponential backoff with a cap, where a server's `Retry-After` wins.
///
/// The defaults ([`RetryPolicy::default`]): 3 attempts in all; backoff ceilings of
/// 200 ms doubling to at most 20 s; a `Retry-After` honoured up to 60 s, waited for
/// plus a random 0-1 s (never less than the server asked) so that calls refused
/// together do not all come back in the same instant.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use transcend_proto::http::StatusCode;
/// use transcend_proto::{RetryDecision, Idempotency, Outcome, RetryPolicy};
///
/// let policy = RetryPolicy::default();
/// let outcome = Outcome::Status { status: StatusCode::BAD_GATEWAY, retry_after: None };
/// // A read may be retried after a 502; a submission may not: it may have been acted on.
/// assert!(matches!(policy.decide(Idempotency::Idempotent, 1, outcome, SystemTime::now(), 0.5), RetryDecision::RetryAfter(_)));
/// assert!(matches!(policy.decide(Idempotency::NotIdempotent, 1, outcome, SystemTime::now(), 0.5), RetryDecision::Stop(_)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 = never retry).
    pub max_attempts: u32,
    /// The backoff ceiling of the first retry; it doubles with each attempt.
    pub initial_backoff: Duration,
    /// The most a backoff can be.
    pub max_backoff: Duration,
    /// The longest `Retry-After` to honour; beyond it the call fails with the server's
    /// answer, so the caller can decide.
    pub max_retry_after: Duration,
    /// The most added, at random, to a server's `Retry-After`: calls rate-limited
    /// together come back spread over this span, never before the server's time.
    pub retry_after_jitter: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(20),
            max_retry_after: Duration::from_secs(60),
            retry_after_jitter: Duration::from_secs(1),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn never() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Sets the number of attempts in all.
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// Sets the first backoff ceiling and the cap.
    pub fn with_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_backoff = initial;
        self.max_backoff = max.max(initial);
        self
    }

    /// Sets the longest `Retry-After` to honour.
    pub fn with_max_retry_after(mut self, max: Duration) -> Self {
        self.max_retry_after = max;
        self
    }

    /// Sets the most added at random to a server's `Retry-After` (zero: exactly the
    /// server's time).
    pub fn with_retry_after_jitter(mut self, jitter: Duration) -> Self {
        self.retry_after_jitter = jitter;
        self
    }

    /// Decides after attempt number `attempt` (1 for the first) ended with `outcome`.
    /// `random` is uniform in `[0, 1)`; values outside are clamped.
    pub fn decide(
        &self,
        idempotency: Idempotency,
        attempt: u32,
        outcome: Outcome,
        now: SystemTime,
        random: f64,
    ) -> RetryDecision {
        let retry_after = match outcome {
            Outcome::Status {
                status,
                retry_after,
            } => {
                match classify(status) {
                    Class::Final => return RetryDecision::Stop(StopReason::Final),
                    // 429 and 503 say the request was not processed: safe for any endpoint.
                    Class::NotProcessed => {}
                    Class::MaybeProcessed if idempotency == Idempotency::NotIdempotent => {
                        return RetryDecision::Stop(StopReason::NotIdempotent);
                    }
                    Class::MaybeProcessed => {}
                }
                retry_after
            }
            Outcome::ConnectFailed => None,
            Outcome::TimedOut | Outcome::ConnectionLost => {
                if idempotency == Idempotency::NotIdempotent {
                    return RetryDecision::Stop(StopReason::NotIdempotent);
                }
                None
            }
        };
        if attempt >= self.max_attempts {
            return RetryDecision::Stop(StopReason::AttemptsExhausted);
        }
        if let Some(retry_after) = retry_after {
            let wait = retry_after.delay_from(now);
            return if wait > self.max_retry_after {
                RetryDecision::Stop(StopReason::RetryAfterTooLong(wait))
            } else {
                RetryDecision::RetryAfter(wait + self.retry_after_jitter.mul_f64(unit(random)))
            };
        }
        RetryDecision::RetryAfter(self.backoff(attempt, random))
    }

    /// Full jitter: uniform in `[0, min(cap, initial * 2^(attempt-1)))`.
    pub fn backoff(&self, attempt: u32, random: f64) -> Duration {
        let exponent = attempt.saturating_sub(1).min(30);
        let ceiling = self
            .initial_backoff
            .saturating_mul(1 << exponent)
            .min(self.max_backoff);
        ceiling.mul_f64(unit(random))
    }
}

/// `random` clamped to `[0, 1]` (0 when not a number).
fn unit(random: f64) -> f64 {
    if random.is_finite() {
        random.clamp(0.0, 1.0)
    } else {
        0.0
    }
}

enum Class {
    Final,
    NotProcessed,
    MaybeProcessed,
}

fn classify(status: StatusCode) -> Class {
    match status.as_u16() {
        429 | 503 => Class::NotProcessed,
        408 | 500 | 502 | 504 => Class::MaybeProcessed,
        _ => Class::Final,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const NOW: SystemTime = SystemTime::UNIX_EPOCH;

    fn status(code: u16) -> Outcome {
        Outcome::Status {
            status: StatusCode::from_u16(code).unwrap(),
            retry_after: None,
        }
    }

    #[test]
    fn successes_and_client_errors_are_final() {
        let policy = RetryPolicy::default();
        for code in [200, 204, 400, 401, 404, 409, 413] {
            assert_eq!(
                policy.decide(Idempotency::Idempotent, 1, status(code), NOW, 0.5),
                RetryDecision::Stop(StopReason::Final),
                "{code}"
            );
        }
    }

    #[test]
    fn a_submission_is_retried_only_when_it_was_not_processed() {
        let policy = RetryPolicy::default();
        let submit = |outcome| policy.decide(Idempotency::NotIdempotent, 1, outcome, NOW, 0.5);
        assert!(matches!(submit(status(429)), RetryDecision::RetryAfter(_)));
        assert!(matches!(submit(status(503)), RetryDecision::RetryAfter(_)));
        assert!(matches!(
            submit(Outcome::ConnectFailed),
            RetryDecision::RetryAfter(_)
        ));
        for outcome in [
            status(500),
            status(502),
            status(504),
            Outcome::TimedOut,
            Outcome::ConnectionLost,
        ] {
            assert_eq!(
                submit(outcome),
                RetryDecision::Stop(StopReason::NotIdempotent),
                "{outcome:?}"
            );
        }
    }

    #[test]
    fn the_servers_retry_after_wins_over_backoff() {
        let policy = RetryPolicy::default();
        let outcome = Outcome::Status {
            status: StatusCode::TOO_MANY_REQUESTS,
            retry_after: Some(RetryAfter::Delay(Duration::from_secs(7))),
        };
        assert_eq!(
            policy.decide(Idempotency::NotIdempotent, 1, outcome, NOW, 0.0),
            RetryDecision::RetryAfter(Duration::from_secs(7))
        );
        let at = Outcome::Status {
            status: StatusCode::SERVICE_UNAVAILABLE,
            retry_after: Some(RetryAfter::At(NOW + Duration::from_secs(3))),
        };
        assert_eq!(
            policy.decide(Idempotency::Idempotent, 1, at, NOW, 0.5),
            RetryDecision::RetryAfter(Duration::from_millis(3500)),
            "a random half second above the server's time"
        );
        assert_eq!(
            policy.with_retry_after_jitter(Duration::ZERO).decide(
                Idempotency::Idempotent,
                1,
                at,
                NOW,
                0.9
            ),
            RetryDecision::RetryAfter(Duration::from_secs(3))
        );
        let too_long = Outcome::Status {
            status: StatusCode::TOO_MANY_REQUESTS,
            retry_after: Some(RetryAfter::Delay(Duration::from_secs(3600))),
        };
        assert_eq!(
            policy.decide(Idempotency::Idempotent, 1, too_long, NOW, 0.5),
            RetryDecision::Stop(StopReason::RetryAfterTooLong(Duration::from_secs(3600)))
        );
    }

    #[test]
    fn attempts_run_out() {
        let policy = RetryPolicy::default().with_max_attempts(3);
        assert!(matches!(
            policy.decide(Idempotency::Idempotent, 2, status(500), NOW, 0.5),
            RetryDecision::RetryAfter(_)
        ));
        assert_eq!(
            policy.decide(Idempotency::Idempotent, 3, status(500), NOW, 0.5),
            RetryDecision::Stop(StopReason::AttemptsExhausted)
        );
        assert_eq!(
            RetryPolicy::never().decide(
                Idempotency::Idempotent,
                1,
                Outcome::ConnectFailed,
                NOW,
                0.5
            ),
            RetryDecision::Stop(StopReason::AttemptsExhausted)
        );
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let policy =
            RetryPolicy::default().with_backoff(Duration::from_millis(100), Duration::from_secs(1));
        let almost_one = 1.0 - f64::EPSILON;
        assert!(policy.backoff(1, almost_one) <= Duration::from_millis(100));
        assert!(policy.backoff(2, almost_one) > Duration::from_millis(199));
        assert!(policy.backoff(3, almost_one) > Duration::from_millis(399));
        assert!(policy.backoff(40, almost_one) <= Duration::from_secs(1));
        assert_eq!(policy.backoff(3, 0.0), Duration::ZERO);
        assert_eq!(policy.backoff(3, f64::NAN), Duration::ZERO);
    }

    proptest! {
        #[test]
        fn backoff_is_full_jitter_within_the_ceiling(attempt in 1u32..64, random in 0.0f64..1.0) {
            let policy = RetryPolicy::default();
            let ceiling = policy.initial_backoff.saturating_mul(1 << (attempt - 1).min(30)).min(policy.max_backoff);
            let delay = policy.backoff(attempt, random);
            prop_assert!(delay <= ceiling);
        }

        #[test]
        fn a_retry_after_is_never_shortened_and_spread_within_the_jitter(
            seconds in 0u64..60,
            random in 0.0f64..1.0,
        ) {
            let policy = RetryPolicy::default();
            let outcome = Outcome::Status {
                status: StatusCode::TOO_MANY_REQUESTS,
                retry_after: Some(RetryAfter::Delay(Duration::from_secs(seconds))),
            };
            let RetryDecision::RetryAfter(wait) =
                policy.decide(Idempotency::NotIdempotent, 1, outcome, NOW, random)
            else {
                panic!("a 429 within the limit is retried");
            };
            prop_assert!(wait >= Duration::from_secs(seconds));
            prop_assert!(wait <= Duration::from_secs(seconds) + policy.retry_after_jitter);
        }
    }
}
