//! Integration tests: real WebSocket clients against a real server on a free port.
//!
//! One test binary (with modules) rather than one per file, so the suite links once.

mod common;

mod coturn;

mod bad_input;
mod lifecycle;
mod limits;
mod nginx;
mod relay;
mod turn;
