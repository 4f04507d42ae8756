//! How fast an upload sends: a steady rate when asked (`--rate`), slower when the
//! server's `X-RateLimit-Remaining` runs low, and a pause for everyone after a `429`.
//!
//! Every send takes a slot; slots are spaced by the larger of the user's interval and
//! the server's. The server's interval comes from its window: with `limit`,
//! `remaining` and the time until `reset`, the window refills at about
//! `(limit - remaining) / reset` per second, and once fewer than a quarter of the
//! requests are left the upload sends no faster than that, before it would be refused.

use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use transcend_hyper::proto::RateLimit;

/// Below this share of the window left, the upload paces itself to the server's refill.
const LOW_WATER: f64 = 0.25;

/// The shared pace of an upload.
#[derive(Debug)]
pub struct Pacer {
    user_interval: Duration,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    next: Instant,
    paused_until: Instant,
    server_interval: Duration,
}

impl Pacer {
    /// At most `rate` sends per second (`None`: as fast as answers come).
    pub fn new(rate: Option<f64>) -> Self {
        let user_interval = rate
            .filter(|r| r.is_finite() && *r > 0.0)
            .map_or(Duration::ZERO, |r| Duration::from_secs_f64(1.0 / r));
        let now = Instant::now();
        Self {
            user_interval,
            state: Mutex::new(State {
                next: now,
                paused_until: now,
                server_interval: Duration::ZERO,
            }),
        }
    }

    /// When the next send may start; the slot is taken.
    pub fn slot(&self, now: Instant) -> Instant {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let at = now.max(state.next).max(state.paused_until);
        state.next = at + self.user_interval.max(state.server_interval);
        at
    }

    /// Waits for a slot.
    pub async fn wait(&self) {
        let now = Instant::now();
        let at = self.slot(now);
        // No timer when there is nothing to wait for: a timer costs a tick.
        if at > now {
            tokio::time::sleep_until(at.into()).await;
        }
    }

    /// A `429` (or `503`) asked everyone to wait this long.
    pub fn pause(&self, now: Instant, wait: Duration) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.paused_until = state.paused_until.max(now + wait);
    }

    /// Reads the window an answer reported.
    pub fn observe(&self, window: &RateLimit, wall: SystemTime) {
        let interval = server_interval(window, wall);
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.server_interval = interval;
    }
}

/// The spacing a window asks for: none while plenty is left.
fn server_interval(window: &RateLimit, wall: SystemTime) -> Duration {
    let (Some(limit), Some(remaining)) = (window.limit, window.remaining) else {
        return Duration::ZERO;
    };
    if limit == 0 || remaining as f64 >= limit as f64 * LOW_WATER {
        return Duration::ZERO;
    }
    let until_reset = window
        .reset
        .map_or(Duration::from_secs(1), |reset| reset.delay_from(wall));
    let used = limit.saturating_sub(remaining).max(1);
    // Never slower than one send per second on this account: a wrong reset must not
    // stall an upload.
    (until_reset / u32::try_from(used).unwrap_or(u32::MAX)).min(Duration::from_secs(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use transcend_hyper::proto::RateLimitReset;

    #[test]
    fn slots_keep_the_users_rate() {
        let pacer = Pacer::new(Some(200.0));
        let now = Instant::now();
        let slots: Vec<Instant> = (0..5).map(|_| pacer.slot(now)).collect();
        assert_eq!(slots[4] - slots[0], Duration::from_millis(20));
    }

    #[test]
    fn a_429_pauses_every_sender() {
        let pacer = Pacer::new(None);
        let now = Instant::now();
        pacer.pause(now, Duration::from_secs(2));
        assert_eq!(pacer.slot(now), now + Duration::from_secs(2));
        assert_eq!(
            pacer.slot(now),
            now + Duration::from_secs(2),
            "no rate: no spacing"
        );
    }

    #[test]
    fn a_low_window_spreads_what_refills() {
        let wall = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let plenty = RateLimit::new(
            Some(100),
            Some(80),
            Some(RateLimitReset::At(wall + Duration::from_millis(200))),
        );
        assert_eq!(server_interval(&plenty, wall), Duration::ZERO);
        // 90 used, full again in 900 ms: the bucket refills at 100/s.
        let low = RateLimit::new(
            Some(100),
            Some(10),
            Some(RateLimitReset::At(wall + Duration::from_millis(900))),
        );
        assert_eq!(server_interval(&low, wall), Duration::from_millis(10));
        let pacer = Pacer::new(Some(1_000.0));
        pacer.observe(&low, wall);
        let now = Instant::now();
        let (a, b) = (pacer.slot(now), pacer.slot(now));
        assert_eq!(
            b - a,
            Duration::from_millis(10),
            "the slower of the two wins"
        );
        let bogus = RateLimit::new(
            Some(100),
            Some(0),
            Some(RateLimitReset::At(wall + Duration::from_secs(86_400))),
        );
        assert_eq!(server_interval(&bogus, wall), Duration::from_secs(1));
    }
}
