//! The command line surface, exactly as `../shared/CONTRACT.md` describes it.
//!
//! Every flag that has an environment variable in the contract reads it through clap's `env`, so a flag always
//! overrides its variable. Secrets are never flags: the client secret comes from the environment only, so it
//! cannot leak through `ps` or shell history, and `hide_env_values` keeps it out of `--help`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Bulk-update Genesys Cloud users through a durable Redis queue.
#[derive(Debug, Parser)]
#[command(name = "gcbulk", version, about, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every subcommand understands.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Redis URL (`redis://` or `rediss://` for TLS), with user and password if the server needs them.
    #[arg(
        long,
        global = true,
        env = "GCBULK_REDIS_URL",
        default_value = "redis://127.0.0.1:6379",
        hide_env_values = true
    )]
    pub redis_url: String,
    /// Prefix of every Redis key gcbulk writes; two namespaces never see each other.
    #[arg(
        long,
        global = true,
        env = "GCBULK_NAMESPACE",
        default_value = "gcbulk"
    )]
    pub namespace: String,
    /// Log format on stderr.
    #[arg(long, global = true, env = "GCBULK_LOG", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

/// How logs are written to stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate a CSV or JSON Lines file of user changes and enqueue it as a batch.
    Enqueue(EnqueueArgs),
    /// Run a worker: consume queued changes and apply them through the Genesys Cloud API.
    Worker(WorkerArgs),
    /// Show the progress of one batch or of all batches.
    Status(StatusArgs),
    /// Inspect, export, requeue or purge dead-lettered items.
    Dlq(DlqArgs),
    /// Serve a Genesys Cloud look-alike for demos, tests and benchmarks.
    MockGenesys(genesys_mock::MockArgs),
}

/// Input file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FileFormat {
    /// Comma-separated values with a header row.
    Csv,
    /// One JSON object per line.
    Jsonl,
}

/// `gcbulk enqueue`.
#[derive(Debug, Args)]
pub struct EnqueueArgs {
    /// The input file, or `-` for standard input.
    pub file: PathBuf,
    /// Input format; guessed from the file extension when absent.
    #[arg(long, value_enum)]
    pub format: Option<FileFormat>,
    /// Items per job.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub chunk_size: u32,
    /// A batch id of your choosing; enqueueing the same id twice enqueues it once.
    #[arg(long)]
    pub batch_id: Option<String>,
    /// Validate and report what would be enqueued; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print one JSON object (`batch`, `items`, `chunks`) instead of the batch id.
    #[arg(long)]
    pub json: bool,
}

/// Where the Genesys Cloud API is and who we are to it.
#[derive(Debug, Args)]
pub struct GenesysArgs {
    /// Region domain (`mypurecloud.com`, `mypurecloud.ie`, `usw2.pure.cloud`, …); `GENESYS_ENV` is read too.
    /// [default: mypurecloud.com]
    #[arg(long, env = "GENESYS_REGION")]
    pub region: Option<String>,
    /// Full API base URL; points the worker at a look-alike server.
    #[arg(long, env = "GENESYS_API_URL")]
    pub api_url: Option<String>,
    /// Token endpoint base URL (`<base>/oauth/token`).
    #[arg(long, env = "GENESYS_LOGIN_URL")]
    pub login_url: Option<String>,
    /// Authority name for the `external_id` key column.
    #[arg(long, env = "GENESYS_EXTERNAL_ID_AUTHORITY")]
    pub external_id_authority: Option<String>,
}

/// `gcbulk worker`.
#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// Jobs (chunks) processed at once by this process.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub concurrency: u32,
    /// Requests per minute for this OAuth client across the whole fleet.
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u32).range(1..))]
    pub rate_limit: u32,
    /// Exit 0 once no job is pending, in flight or scheduled for retry.
    #[arg(long)]
    pub exit_when_idle: bool,
    /// Serve Prometheus metrics at `/metrics` (and `/healthz`, `/readyz`) on this address.
    #[arg(long)]
    pub metrics_addr: Option<std::net::SocketAddr>,
    /// Seconds to finish or hand back in-flight work after SIGINT/SIGTERM.
    #[arg(long, default_value_t = 30)]
    pub shutdown_grace: u64,
    /// Attempts before an item that keeps failing transiently is dead-lettered.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub max_attempts: u32,
    #[command(flatten)]
    pub genesys: GenesysArgs,
}

/// `gcbulk status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The batch; all batches when absent.
    pub batch: Option<String>,
    /// One JSON object per batch, one per line.
    #[arg(long)]
    pub json: bool,
    /// Redraw a progress display until the batch is done.
    #[arg(long)]
    pub watch: bool,
}

/// `gcbulk dlq`.
#[derive(Debug, Args)]
pub struct DlqArgs {
    #[command(subcommand)]
    pub command: DlqCommand,
}

/// Dead-letter queue operations.
#[derive(Debug, Subcommand)]
pub enum DlqCommand {
    /// One line (or JSON object) per dead-lettered item.
    List {
        /// Only this batch.
        #[arg(long)]
        batch: Option<String>,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
        /// At most this many entries.
        #[arg(long)]
        limit: Option<usize>,
    },
    /// The whole entry.
    Show {
        /// The entry id.
        id: String,
        /// As JSON.
        #[arg(long)]
        json: bool,
    },
    /// Put items back as new jobs; their entries leave the dead-letter queue.
    Requeue(DlqSelectionArgs),
    /// Delete entries.
    Purge(DlqSelectionArgs),
    /// Write the failed rows in the input format, plus an `error` column.
    Export {
        /// Only this batch.
        #[arg(long)]
        batch: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = FileFormat::Csv)]
        format: FileFormat,
    },
}

/// Which dead-letter entries a `requeue` or `purge` acts on.
#[derive(Debug, Args)]
pub struct DlqSelectionArgs {
    /// Entry ids (as `gcbulk dlq list` shows them).
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    pub ids: Vec<String>,
    /// Every entry (of `--batch` when given).
    #[arg(long)]
    pub all: bool,
    /// Only entries of this batch.
    #[arg(long)]
    pub batch: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn requeue_needs_ids_or_all() {
        assert!(Cli::try_parse_from(["gcbulk", "dlq", "requeue"]).is_err());
        assert!(Cli::try_parse_from(["gcbulk", "dlq", "requeue", "--all"]).is_ok());
        assert!(Cli::try_parse_from(["gcbulk", "dlq", "requeue", "a", "b"]).is_ok());
        assert!(Cli::try_parse_from(["gcbulk", "dlq", "requeue", "a", "--all"]).is_err());
        assert!(Cli::try_parse_from(["gcbulk", "dlq", "purge", "--all", "--batch", "b"]).is_ok());
        assert!(Cli::try_parse_from(["gcbulk", "dlq", "purge", "a", "--batch", "b"]).is_ok());
    }
}
