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

/// Permission to start one creation, from [`Breaker::try_acquire`]; hand it
/// back with exactly one of [`Breaker::on_success`], [`Breaker::on_failure`]
/// or [`Breaker::on_abandon`].
///
/// The token remembers whether its attempt is the half-open trial and which
/// opening of the breaker it was admitted under, so an attempt that started
/// before the breaker opened (or any attempt but the trial) cannot clear the
/// trial, reopen the breaker or let a second trial in.
#[derive(Debug, PartialEq, Eq)]
#[must_use = "report the attempt's outcome to the breaker"]
pub struct Attempt {
    trial: bool,
    generation: u64,
}

impl Attempt {
    /// Whether this attempt is the half-open trial that decides the
    /// breaker's state.
    pub fn is_trial(&self) -> bool {
        self.trial
    }
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
    /// Bumped whenever the breaker opens: attempts admitted before that are
    /// stale and their outcome no longer counts.
    generation: u64,
}

impl Breaker {
    /// A closed breaker.
    pub fn new(config: BreakerConfig) -> Self {
        Self {
            config,
            consecutive_failures: 0,
            opened_at: None,
            trial_in_flight: false,
            generation: 0,
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
    /// start; a half-open breaker admits one trial at a time, and says so in
    /// the token.
    pub fn try_acquire(&mut self, now: Instant) -> Result<Attempt, Duration> {
        let Some(at) = self.opened_at else {
            return Ok(Attempt {
                trial: false,
                generation: self.generation,
            });
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
        Ok(Attempt {
            trial: true,
            generation: self.generation,
        })
    }

    /// A creation succeeded. The trial closes the breaker, as does any
    /// success while it is closed; a success that started before the breaker
    /// opened leaves the decision to the trial.
    pub fn on_success(&mut self, attempt: Attempt) {
        if attempt.trial || self.opened_at.is_none() {
            self.consecutive_failures = 0;
            self.opened_at = None;
            self.trial_in_flight = false;
        }
    }

    /// A creation failed: a failed trial reopens the breaker; a failure
    /// while closed counts and opens it at the threshold; a stale failure
    /// (admitted before the breaker last opened) proves nothing new.
    pub fn on_failure(&mut self, attempt: Attempt, now: Instant) {
        if attempt.trial {
            self.trial_in_flight = false;
            self.consecutive_failures = self.consecutive_failures.saturating_add(1);
            self.open(now);
            return;
        }
        if self.opened_at.is_some() || attempt.generation != self.generation {
            return;
        }
        self.consecutive_failures = self.consecutive_failures.saturating_add(1);
        if self.consecutive_failures >= self.config.failure_threshold.max(1) {
            self.open(now);
        }
    }

    /// A creation was abandoned (its future dropped) or failed for a reason
    /// that says nothing about the guest (no free slot): it proved nothing,
    /// so when it was the trial, the next caller may try.
    pub fn on_abandon(&mut self, attempt: Attempt) {
        if attempt.trial {
            self.trial_in_flight = false;
        }
    }

    /// Consecutive failures since the last success.
    pub fn consecutive_failures(&self) -> u32 {
        self.consecutive_failures
    }

    fn open(&mut self, now: Instant) {
        self.opened_at = Some(now);
        self.generation = self.generation.wrapping_add(1);
    }
}
