//! Rate limits per key, and injected faults.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime};

use transcend_proto::{RateLimit, RateLimitReset};

use crate::config::{FaultConfig, RateLimitConfig};

/// Token buckets, one per API key.
pub(crate) struct RateLimiter {
    config: RateLimitConfig,
    buckets: HashMap<String, Bucket>,
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// A refusal: how long to wait, and the window to report.
pub(crate) struct Limited {
    pub retry_after: Duration,
    pub rate_limit: RateLimit,
}

impl RateLimiter {
    pub(crate) fn new(config: RateLimitConfig) -> Self {
        Self {
            config,
            buckets: HashMap::new(),
        }
    }

    /// Takes a token for `key` at `now`, or says how long until one is free.
    pub(crate) fn take(
        &mut self,
        key: &str,
        now: Instant,
        wall: SystemTime,
    ) -> Result<(), Limited> {
        let burst = f64::from(self.config.burst);
        let bucket = self.buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.config.rate).min(burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            return Ok(());
        }
        let wait = Duration::from_secs_f64((1.0 - bucket.tokens) / self.config.rate);
        Err(Limited {
            retry_after: wait,
            rate_limit: RateLimit::new(
                Some(u64::from(self.config.burst)),
                Some(0),
                Some(RateLimitReset::At(wall + wait)),
            ),
        })
    }
}

impl RateLimiter {
    /// The window of `key` as a response reports it: the burst, the whole tokens left,
    /// and when the bucket is full again (so a client can pace itself before it is
    /// refused).
    pub(crate) fn window(&self, key: &str, now: Instant, wall: SystemTime) -> RateLimit {
        let burst = f64::from(self.config.burst);
        let tokens = self.buckets.get(key).map_or(burst, |bucket| {
            let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
            (bucket.tokens + elapsed * self.config.rate).min(burst)
        });
        let until_full = Duration::from_secs_f64(((burst - tokens) / self.config.rate).max(0.0));
        RateLimit::new(
            Some(u64::from(self.config.burst)),
            Some(tokens.floor() as u64),
            Some(RateLimitReset::At(wall + until_full)),
        )
    }
}

/// What to do to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    None,
    Error500,
    Error502,
    Drop,
}

/// A seeded sequence of faults: the same seed gives the same faults in the same order.
pub(crate) struct Faults {
    config: FaultConfig,
    rng: fastrand::Rng,
}

impl Faults {
    pub(crate) fn new(config: FaultConfig) -> Self {
        Self {
            config,
            rng: fastrand::Rng::with_seed(config.seed),
        }
    }

    pub(crate) fn latency(&self) -> Duration {
        Duration::from_millis(self.config.latency_ms)
    }

    /// The fault for a request, drawn before it is handled.
    pub(crate) fn next(&mut self) -> Fault {
        let c = self.config;
        self.draw(c.error_500, c.error_502, c.drop_connection)
    }

    /// The fault for the answer to a request that took effect, drawn after it.
    pub(crate) fn next_after(&mut self) -> Fault {
        let c = self.config;
        self.draw(
            c.error_500_after,
            c.error_502_after,
            c.drop_connection_after,
        )
    }

    fn draw(&mut self, error_500: f64, error_502: f64, drop: f64) -> Fault {
        if error_500 + error_502 + drop <= 0.0 {
            return Fault::None;
        }
        let draw = self.rng.f64();
        if draw < error_500 {
            Fault::Error500
        } else if draw < error_500 + error_502 {
            Fault::Error502
        } else if draw < error_500 + error_502 + drop {
            Fault::Drop
        } else {
            Fault::None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_refuses_with_the_wait() {
        let mut limiter = RateLimiter::new(RateLimitConfig::new(2.0, 3));
        let (now, wall) = (Instant::now(), SystemTime::UNIX_EPOCH);
        for _ in 0..3 {
            assert!(limiter.take("k", now, wall).is_ok());
        }
        let refused = limiter.take("k", now, wall).unwrap_err();
        assert_eq!(refused.retry_after, Duration::from_millis(500));
        assert_eq!(refused.rate_limit.remaining, Some(0));
        assert!(
            limiter.take("other", now, wall).is_ok(),
            "buckets are per key"
        );
        assert!(
            limiter
                .take("k", now + Duration::from_millis(500), wall)
                .is_ok()
        );
    }

    #[test]
    fn the_window_counts_down_and_says_when_the_bucket_is_full() {
        let mut limiter = RateLimiter::new(RateLimitConfig::new(10.0, 5));
        let (now, wall) = (Instant::now(), SystemTime::UNIX_EPOCH);
        let fresh = limiter.window("k", now, wall);
        assert_eq!((fresh.limit, fresh.remaining), (Some(5), Some(5)));
        assert_eq!(fresh.reset, Some(RateLimitReset::At(wall)));
        for _ in 0..3 {
            assert!(limiter.take("k", now, wall).is_ok());
        }
        let used = limiter.window("k", now, wall);
        assert_eq!(used.remaining, Some(2));
        assert_eq!(
            used.reset,
            Some(RateLimitReset::At(wall + Duration::from_millis(300)))
        );
    }

    #[test]
    fn the_same_seed_gives_the_same_faults() {
        let config = FaultConfig {
            error_500: 0.3,
            error_502: 0.2,
            drop_connection: 0.1,
            latency_ms: 0,
            seed: 9,
            ..FaultConfig::default()
        };
        let run = || {
            let mut faults = Faults::new(config);
            (0..50).map(|_| faults.next()).collect::<Vec<_>>()
        };
        let first = run();
        assert_eq!(first, run());
        assert!(
            first.contains(&Fault::Error500)
                && first.contains(&Fault::Drop)
                && first.contains(&Fault::None)
        );
    }
}
