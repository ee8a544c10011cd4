//! temper: discovery, reporting and fixing around the `temper-lints` analysis core,
//! plus the reference instance-pool runtime and the WIT validator.

pub mod baseline;
pub mod cache;
pub mod check;
pub mod config;
pub mod discover;
pub mod fix;
pub mod formats;
#[doc(hidden)]
pub mod fuzz;
pub mod git;
pub mod report;
pub mod server;
pub mod single;
pub mod stack;
pub mod suppress;

#[cfg(feature = "runtime")]
pub mod pool;
#[cfg(feature = "wit")]
pub mod wit;
