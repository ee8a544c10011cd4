//! One module per lint: metadata, documentation, detection and fix together.

pub mod arc_from_ptr_read;
pub mod drop_without_async_cleanup;
pub mod library_unwrap;
