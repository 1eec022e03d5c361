//! What a response told us about the server's rate limit.
//!
//! The worker reads these numbers from a response (`inin-ratelimit-allowed`, `-count`, `-reset`,
//! and the `[N] requests within [W] seconds` of a 429 message) and hands them to
//! [`RequestBudget::observe`](crate::RequestBudget::observe). Every field is optional: pass what the
//! response carried.

use std::time::Duration;

/// Rate-limit facts read from one API response.
///
/// ```
/// use std::time::Duration;
/// use gcbulk_fleet::Observation;
///
/// // inin-ratelimit-allowed: 300, inin-ratelimit-count: 12, inin-ratelimit-reset: 41
/// let seen = Observation {
///     allowed: Some(300),
///     count: Some(12),
///     reset: Some(Duration::from_secs(41)),
///     ..Observation::default()
/// };
/// assert!(!seen.is_empty());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Observation {
    /// Requests the server allows per window for this client (`inin-ratelimit-allowed`, or the
    /// `N` of a 429 message). `Some(0)` is ignored: it would stop the fleet for good.
    pub allowed: Option<u32>,
    /// Requests the server has counted in the current window (`inin-ratelimit-count`).
    pub count: Option<u32>,
    /// Time until the server's current window resets (`inin-ratelimit-reset`).
    pub reset: Option<Duration>,
    /// Length of the server's window (the `W` of a 429 message "… within \\[W\\] seconds").
    pub window: Option<Duration>,
}

impl Observation {
    /// True when the response carried none of the headers.
    pub fn is_empty(&self) -> bool {
        *self == Observation::default()
    }

    /// This observation updated with a newer one: the newer value of each field wins.
    pub(crate) fn then(self, newer: Observation) -> Observation {
        Observation {
            allowed: newer.allowed.or(self.allowed),
            count: newer.count.or(self.count),
            reset: newer.reset.or(self.reset),
            window: newer.window.or(self.window),
        }
    }

    /// How long the server said nobody may send: its window is spent until `reset`.
    /// `known_allowed` stands in when the response had a count but no allowed.
    pub(crate) fn window_spent_for(&self, known_allowed: Option<u32>) -> Option<Duration> {
        let limit = self.allowed.filter(|a| *a > 0).or(known_allowed)?;
        let reset = self.reset.filter(|r| !r.is_zero())?;
        (self.count? >= limit).then_some(reset)
    }

    /// Arguments 5–8 of the acquire script ('' = not observed).
    pub(crate) fn script_args(&self) -> [String; 4] {
        let us = |d: Option<Duration>| d.map(|d| d.as_micros().to_string()).unwrap_or_default();
        [
            self.allowed
                .filter(|a| *a > 0)
                .map(|a| a.to_string())
                .unwrap_or_default(),
            self.count.map(|c| c.to_string()).unwrap_or_default(),
            us(self.reset),
            us(self.window.filter(|w| !w.is_zero())),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_newer_observation_wins_field_by_field() {
        let old = Observation {
            allowed: Some(300),
            count: Some(5),
            ..Observation::default()
        };
        let new = Observation {
            count: Some(6),
            reset: Some(Duration::from_secs(3)),
            ..Observation::default()
        };
        let merged = old.then(new);
        assert_eq!(merged.allowed, Some(300));
        assert_eq!(merged.count, Some(6));
        assert_eq!(merged.reset, Some(Duration::from_secs(3)));
    }

    #[test]
    fn the_window_is_spent_only_when_count_reaches_allowed_before_a_reset() {
        let at = |count, reset| Observation {
            allowed: Some(10),
            count: Some(count),
            reset: Some(Duration::from_secs(reset)),
            window: None,
        };
        assert_eq!(
            at(10, 4).window_spent_for(None),
            Some(Duration::from_secs(4))
        );
        assert_eq!(at(9, 4).window_spent_for(None), None);
        assert_eq!(at(10, 0).window_spent_for(None), None);
        let count_only = Observation {
            count: Some(7),
            reset: Some(Duration::from_secs(2)),
            ..Observation::default()
        };
        assert_eq!(count_only.window_spent_for(None), None);
        assert_eq!(
            count_only.window_spent_for(Some(7)),
            Some(Duration::from_secs(2))
        );
    }
}
