//! The checked-out instance handle: explicit async release, with `Drop` as
//! the guarded fallback.

use std::sync::Arc;

use tokio::sync::OwnedSemaphorePermit;

use super::bindings::exports::temper::extractor::extract::{
    ExtractedContent, ExtractionError, ExtractionMode,
};
use super::error::{CallError, PoolError, RetireReason};
use super::manager::Shared;
use super::metrics::Tier;
use super::runtime::Instance;

/// What happened to an instance handed back to the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Released {
    /// Back in the pool as its hottest idle instance.
    Returned,
    /// Dropped for good, for this reason.
    Retired(RetireReason),
}

/// An instance checked out of a [`Pool`](super::Pool).
///
/// Hand it back with [`PooledInstance::release`]. Dropping it instead still
/// returns it, as a fallback: `Drop` logs a warning and returns the instance
/// on the spot, in or out of a runtime (retired when it was dropped during a
/// call). Either way the slot is freed and the instance is accounted for
/// exactly once.
pub struct PooledInstance {
    shared: Arc<Shared>,
    /// `None` once the instance has been handed back.
    slot: Option<Slot>,
    tier: Tier,
}

struct Slot {
    instance: Instance,
    permit: OwnedSemaphorePermit,
}

impl PooledInstance {
    pub(crate) fn new(
        shared: Arc<Shared>,
        instance: Instance,
        permit: OwnedSemaphorePermit,
        tier: Tier,
    ) -> Self {
        Self {
            shared,
            slot: Some(Slot { instance, permit }),
            tier,
        }
    }

    /// Where this instance came from: a tier of the idle set, or created.
    pub fn tier(&self) -> Tier {
        self.tier
    }

    /// Calls made on this instance since it was created.
    pub fn uses(&self) -> u64 {
        self.slot.as_ref().map_or(0, |slot| slot.instance.uses())
    }

    /// Calls the guest's `extract`; see [`Instance::extract`].
    pub async fn extract(
        &mut self,
        html: &str,
        url: &str,
        mode: ExtractionMode,
    ) -> Result<Result<ExtractedContent, ExtractionError>, CallError> {
        let Some(slot) = self.slot.as_mut() else {
            // Only reachable through a logic error: release consumes self.
            return Err(CallError::Unusable(RetireReason::PoolClosed));
        };
        slot.instance.extract(html, url, mode).await
    }

    /// Hands the instance back: it becomes the pool's hottest idle instance,
    /// or is retired when a call failed, it reached its use limit or the pool
    /// is closed.
    ///
    /// # Errors
    ///
    /// [`PoolError::Closed`] when the pool was closed meanwhile; the instance
    /// has then been retired and its slot freed all the same.
    pub async fn release(mut self) -> Result<Released, PoolError> {
        let Some(slot) = self.slot.take() else {
            return Err(PoolError::Closed);
        };
        match self.shared.finish(slot.instance, slot.permit) {
            Released::Retired(RetireReason::PoolClosed) => Err(PoolError::Closed),
            released => Ok(released),
        }
    }
}

impl Drop for PooledInstance {
    fn drop(&mut self) {
        // Released explicitly: nothing left to do.
        let Some(slot) = self.slot.take() else {
            return;
        };
        tracing::warn!(
            in_call = slot.instance.retire_reason() == Some(RetireReason::Cancelled),
            "pooled instance dropped without release(); returning it from Drop"
        );
        // `finish` never waits, so it runs right here, in or out of a
        // runtime: no task to schedule, nothing a saturated or shutting-down
        // runtime could delay or discard, and the slot is free when `drop`
        // returns. Freeing a retired store happens on the dropper thread.
        self.shared.finish(slot.instance, slot.permit);
    }
}
