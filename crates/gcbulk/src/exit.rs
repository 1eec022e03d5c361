//! Exit codes and the one line a failing command prints.
//!
//! The contract fixes the codes (`0` ok, `1` runtime, `2` usage, `65` invalid input, `69` service unreachable,
//! `78` configuration), so every library error is mapped here, at the binary's edge, and nowhere else.

use std::fmt;
use std::process::ExitCode;

/// Exit code classes of the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// `1`: something failed while running.
    Runtime = 1,
    /// `2`: the command line is wrong.
    Usage = 2,
    /// `65`: the input data is invalid; nothing was enqueued.
    DataErr = 65,
    /// `69`: a required service (Redis, Genesys login) is unreachable.
    Unavailable = 69,
    /// `78`: configuration is missing or wrong.
    Config = 78,
}

/// A failed command: its exit code and the one line that says what is wrong and what to do.
#[derive(Debug)]
pub struct Failure {
    /// The exit code class.
    pub code: Code,
    /// What went wrong and what to do about it (never contains a secret).
    pub message: String,
    /// Extra lines printed before the summary (e.g. every invalid row).
    pub details: Vec<String>,
}

impl Failure {
    /// A failure with this code and message.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            details: Vec::new(),
        }
    }

    /// Adds lines printed before the summary line.
    pub fn with_details(mut self, details: Vec<String>) -> Self {
        self.details = details;
        self
    }

    /// Prints the failure on stderr and returns the process exit code.
    pub fn report(&self) -> ExitCode {
        for line in &self.details {
            eprintln!("{line}");
        }
        eprintln!("gcbulk: {}", self.message);
        ExitCode::from(self.code as u8)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// What every command returns.
pub type CommandResult = Result<(), Failure>;

/// Maps a queue error to the contract's exit codes.
pub fn queue_failure(err: gcbulk_queue::QueueError) -> Failure {
    // The queue's message already says what to check (the server, the URL without its password).
    let code = if err.is_unreachable() {
        Code::Unavailable
    } else {
        Code::Runtime
    };
    Failure::new(code, err.to_string())
}
