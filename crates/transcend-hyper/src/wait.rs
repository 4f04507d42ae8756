//! Polling a DSR until it reaches a status.

use std::time::Duration;

use transcend_proto::types::RequestStatus;

/// How [`Client::wait_for_dsr`](crate::Client::wait_for_dsr) polls.
///
/// The defaults: any terminal status, give up after 600 s, polls 1 s apart at first,
/// growing by half each time to at most 30 s.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WaitOptions {
    /// Stop at any of these statuses; empty means at any terminal status. A terminal
    /// status stops the wait in any case (nothing will change after it).
    pub until: Vec<RequestStatus>,
    /// Give up after this long.
    pub timeout: Duration,
    /// The first pause between polls; it grows by half each time.
    pub initial_interval: Duration,
    /// The longest pause between polls.
    pub max_interval: Duration,
}

impl Default for WaitOptions {
    fn default() -> Self {
        Self {
            until: Vec::new(),
            timeout: Duration::from_secs(600),
            initial_interval: Duration::from_secs(1),
            max_interval: Duration::from_secs(30),
        }
    }
}

impl WaitOptions {
    /// Waits for one of these statuses (or any terminal one).
    pub fn until(statuses: impl IntoIterator<Item = RequestStatus>) -> Self {
        Self {
            until: statuses.into_iter().collect(),
            ..Self::default()
        }
    }

    /// Sets the timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the pauses between polls.
    pub fn interval(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_interval = initial;
        self.max_interval = max.max(initial);
        self
    }

    pub(crate) fn is_done(&self, status: &RequestStatus) -> bool {
        status.is_terminal() || self.until.contains(status)
    }

    pub(crate) fn next_interval(&self, current: Duration) -> Duration {
        (current + current / 2).min(self.max_interval)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_end_at_the_asked_status_or_any_terminal_one() {
        let options = WaitOptions::until([RequestStatus::Compiling]);
        assert!(options.is_done(&RequestStatus::Compiling));
        assert!(options.is_done(&RequestStatus::Canceled));
        assert!(!options.is_done(&RequestStatus::Enriching));
        assert!(!WaitOptions::default().is_done(&RequestStatus::parse("NEW_STATE")));
    }

    #[test]
    fn the_interval_grows_to_its_cap() {
        let options =
            WaitOptions::default().interval(Duration::from_secs(2), Duration::from_secs(5));
        assert_eq!(
            options.next_interval(Duration::from_secs(2)),
            Duration::from_secs(3)
        );
        assert_eq!(
            options.next_interval(Duration::from_secs(4)),
            Duration::from_secs(5)
        );
    }
}
