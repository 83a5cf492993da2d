//! The engine's tests, by concern, on the shared harness ([`crate::sync::test_harness::Mini`]).

mod hidden;
mod hostile;
mod picture;
mod scheduling;
mod timeline;
