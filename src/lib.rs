//! temper: discovery, reporting and fixing around the `temper-lints` analysis core,
//! plus the reference instance-pool runtime and the WIT validator.

pub mod report;
pub mod single;

#[cfg(feature = "runtime")]
pub mod pool;
#[cfg(feature = "wit")]
pub mod wit;
