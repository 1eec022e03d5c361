//! Shared helpers for the end-to-end tests: the real `gcbulk` binary as processes, a real Redis, and the
//! look-alike (`gcbulk mock-genesys`) over real HTTP.
//!
//! Every test gets its own Redis namespace ([`Namespace`]), so tests run in parallel against one server and never
//! see each other. Processes started here are killed when their handle drops, so a failing test leaves nothing
//! running behind it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod processes;

pub use processes::*;
