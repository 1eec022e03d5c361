//! `gcbulk dlq list|show|requeue|purge|export`: the operator's view of dead-lettered items.

use std::io::Write;

use gcbulk_producer::export::ExportEntry;
use gcbulk_queue::{DeadLetter, DlqFilter, DlqSelection};

use crate::cli::{DlqArgs, DlqCommand, DlqSelectionArgs, FileFormat, GlobalArgs};
use crate::exit::{Code, CommandResult, Failure, queue_failure};

/// Runs a `dlq` subcommand.
pub async fn run(global: &GlobalArgs, args: DlqArgs) -> CommandResult {
    let queue = super::connect(global).await?;
    match args.command {
        DlqCommand::List { batch, json, limit } => {
            let entries = queue
                .dlq_list(DlqFilter { batch, limit })
                .await
                .map_err(queue_failure)?;
            let mut out = std::io::stdout().lock();
            for entry in &entries {
                let line = if json {
                    to_json(entry)?
                } else {
                    one_line(entry)
                };
                writeln!(out, "{line}").map_err(io_failure)?;
            }
            if !json && entries.is_empty() {
                eprintln!("the dead-letter queue is empty");
            }
            Ok(())
        }
        DlqCommand::Show { id, json } => {
            let entry = queue
                .dlq_get(&id)
                .await
                .map_err(queue_failure)?
                .ok_or_else(|| {
                    Failure::new(
                        Code::Runtime,
                        format!("no dead-letter entry {id:?} (see `gcbulk dlq list`)"),
                    )
                })?;
            if json {
                println!("{}", to_json(&entry)?);
            } else {
                let pretty = serde_json::to_string_pretty(&entry)
                    .map_err(|e| Failure::new(Code::Runtime, e.to_string()))?;
                println!("{pretty}");
            }
            Ok(())
        }
        DlqCommand::Requeue(selection) => {
            let count = queue
                .dlq_requeue(selection_of(selection))
                .await
                .map_err(queue_failure)?;
            println!("{count}");
            eprintln!("requeued {count} item(s); run a worker to process them");
            Ok(())
        }
        DlqCommand::Purge(selection) => {
            let count = queue
                .dlq_purge(selection_of(selection))
                .await
                .map_err(queue_failure)?;
            println!("{count}");
            eprintln!(
                "purged {count} entr{}",
                if count == 1 { "y" } else { "ies" }
            );
            Ok(())
        }
        DlqCommand::Export { batch, format } => {
            let entries = queue
                .dlq_list(DlqFilter { batch, limit: None })
                .await
                .map_err(queue_failure)?;
            let format = match format {
                FileFormat::Csv => gcbulk_producer::Format::Csv,
                FileFormat::Jsonl => gcbulk_producer::Format::Jsonl,
            };
            let mut rows = Vec::with_capacity(entries.len());
            for entry in &entries {
                let item = serde_json::to_string(&entry.item)
                    .map_err(|e| Failure::new(Code::Runtime, e.to_string()))?;
                let row = ExportEntry::from_item_json(&item, reason(entry)).map_err(|e| {
                    Failure::new(
                        Code::Runtime,
                        format!("dlq export: entry {}: {e}", entry.id),
                    )
                })?;
                rows.push(row);
            }
            let stdout = std::io::stdout().lock();
            let mut stdout = gcbulk_producer::export::export(&rows, format, stdout)
                .map_err(|e| Failure::new(Code::Runtime, format!("dlq export: {e}")))?;
            stdout.flush().map_err(io_failure)?;
            Ok(())
        }
    }
}

fn selection_of(args: DlqSelectionArgs) -> DlqSelection {
    if args.all {
        return DlqSelection::All { batch: args.batch };
    }
    // Entry ids are `<batch>:<line>`; with `--batch`, ids of other batches are left alone.
    let ids = match &args.batch {
        Some(batch) => args
            .ids
            .into_iter()
            .filter(|id| {
                id.strip_prefix(batch.as_str())
                    .is_some_and(|rest| rest.starts_with(':'))
            })
            .collect(),
        None => args.ids,
    };
    DlqSelection::Ids(ids)
}

fn to_json(entry: &DeadLetter) -> Result<String, Failure> {
    serde_json::to_string(entry).map_err(|e| Failure::new(Code::Runtime, e.to_string()))
}

/// `ID  line LINE  KEY  STATUS CODE  MESSAGE (attempts N)`: what an operator scans for.
fn one_line(entry: &DeadLetter) -> String {
    let status = entry
        .error
        .status
        .map(|s| s.to_string())
        .unwrap_or_else(|| "-".into());
    let code = entry.error.code.as_deref().unwrap_or("-");
    format!(
        "{}  line {}  {}  {} {}  {} (attempts {})",
        entry.id, entry.line, entry.key, status, code, entry.error.message, entry.attempts
    )
}

fn io_failure(err: std::io::Error) -> Failure {
    Failure::new(Code::Runtime, format!("writing to stdout: {err}"))
}

/// The `error` cell of an exported row: `STATUS CODE: MESSAGE`, as much of it as is known.
fn reason(entry: &DeadLetter) -> String {
    let mut text = String::new();
    if let Some(status) = entry.error.status {
        text.push_str(&format!("{status} "));
    }
    if let Some(code) = &entry.error.code {
        text.push_str(&format!("{code}: "));
    }
    text.push_str(&entry.error.message);
    text
}
