//! A circuit breaker for instance creation: it opens after repeated failures,
//! lets one trial through after a cool-down, and closes on success.

use std::time::Duration;

use tokio::time::Instant;

use super::config::BreakerConfig;

/// The breaker's externally visible state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Creations are allowed.
    Closed,
    /// Creations are refused until the cool-down has passed.
    Open,
    /// The cool-down has passed: the next creation is a trial that decides
    /// whether the breaker closes or opens again.
    HalfOpen,
}

/// Consecutive-failure circuit breaker.
///
/// Time comes in as an argument (a `tokio::time::Instant`), so the breaker
/// follows tokio's paused clock in tests and needs no clock of its own.
#[derive(Debug, Clone)]
pub struct Breaker {
    config: BreakerConfig,
    consecutive_failures: u32,
    opened_at: Option<Instant>,
    trial_in_flight: bool,
}

impl Breaker {
    /// A closed breaker.
    pub fn new(config: BreakerConfig) -> Self {
        Self {
            config,
            consecutive_failures: 0,
            opened_at: None,
            trial_in_flight: false,
        }
    }

    /// The state as of `now`; an open breaker whose cool-down has passed
    /// reports half-open.
    pub fn state(&self, now: Instant) -> BreakerState {
        match self.opened_at {
            None => BreakerState::Closed,
            Some(at) if now.saturating_duration_since(at) >= self.config.cool_down => {
                BreakerState::HalfOpen
            }
            Some(_) => BreakerState::Open,
        }
    }

    /// Asks to start a creation. `Err` carries how long until a trial may
    /// start; a half-open breaker admits one trial at a time.
    pub fn try_acquire(&mut self, now: Instant) -> Result<(), Duration> {
        let Some(at) = self.opened_at else {
            return Ok(());
        };
        let open_for = now.saturating_duration_since(at);
        if open_for < self.config.cool_down {
            return Err(self.config.cool_down - open_for);
        }
        if self.trial_in_flight {
            // Another caller is probing; report a short wait, not zero, so a
            // retry loop does not spin.
            return Err(self.config.cool_down.min(Duration::from_millis(10)));
        }
        self.trial_in_flight = true;
        Ok(())
    }

    /// A creation succeeded: close.
    pub fn on_success(&mut self) {
        self.consecutive_failures = 0;
        self.opened_at = None;
        self.trial_in_flight = false;
    }

    /// A creation failed: count it, and open (again) at the threshold or
    /// when a half-open trial failed.
    pub fn on_failure(&mut self, now: Instant) {
        self.consecutive_failures = self.consecutive_failures.saturating_add(1);
        let trial_failed = self.trial_in_flight;
        self.trial_in_flight = false;
        if trial_failed || self.consecutive_failures >= self.config.failure_threshold.max(1) {
            self.opened_at = Some(now);
        }
    }

    /// A creation was abandoned (its future dropped) before it finished: it
    /// proved nothing, so a half-open breaker admits the next trial.
    pub fn on_abandon(&mut self) {
        self.trial_in_flight = false;
    }

    /// Consecutive failures since the last success.
    pub fn consecutive_failures(&self) -> u32 {
        self.consecutive_failures
    }
}
