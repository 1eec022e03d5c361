//! `gcbulk`: the one binary. Thin by design — it parses the command line, sets up logging, calls the library
//! crates and maps their typed errors to the contract's exit codes. The logic and its tests live in the crates.

mod cli;
mod commands;
mod exit;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command, LogFormat};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // clap prints help and version to stdout (exit 0) and usage errors to stderr (exit 2).
            let _ = err.print();
            return ExitCode::from(err.exit_code().clamp(0, 255) as u8);
        }
    };
    init_logging(cli.global.log_format);

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("gcbulk: cannot start the async runtime: {err}");
            return ExitCode::from(exit::Code::Runtime as u8);
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Enqueue(args) => commands::enqueue::run(&cli.global, args).await,
            Command::Worker(args) => commands::worker::run(&cli.global, args).await,
            Command::Status(args) => commands::status::run(&cli.global, args).await,
            Command::Dlq(args) => commands::dlq::run(&cli.global, args).await,
            Command::MockGenesys(args) => commands::mock::run(args).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(),
    }
}

/// Logs go to stderr, never stdout: stdout carries the results scripts read (batch ids, JSON).
fn init_logging(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("RUST_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    match format {
        LogFormat::Text => builder.with_target(false).init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .init(),
    }
}
