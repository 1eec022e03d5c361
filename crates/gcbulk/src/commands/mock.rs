//! `gcbulk mock-genesys`: serves the look-alike until SIGINT/SIGTERM.

use crate::exit::{Code, CommandResult, Failure};

/// Runs the look-alike.
pub async fn run(args: genesys_mock::MockArgs) -> CommandResult {
    genesys_mock::run(args)
        .await
        .map_err(|err| Failure::new(Code::Runtime, format!("mock-genesys: {err}")))
}
