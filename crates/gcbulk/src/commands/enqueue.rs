//! `gcbulk enqueue`: validate the whole file, then enqueue it as one batch (or, with `--dry-run`, only report).

use gcbulk_producer::{EnqueueOptions, ErrorKind, Format, InputSource, ProducerError};
use serde_json::json;

use crate::cli::{EnqueueArgs, FileFormat, GlobalArgs};
use crate::exit::{Code, CommandResult, Failure, queue_failure};

/// Runs `enqueue`.
pub async fn run(global: &GlobalArgs, args: EnqueueArgs) -> CommandResult {
    let source = InputSource::from_arg(&args.file);
    let options = EnqueueOptions {
        format: args.format.map(|f| match f {
            FileFormat::Csv => Format::Csv,
            FileFormat::Jsonl => Format::Jsonl,
        }),
        chunk_size: args.chunk_size as usize,
        batch_id: args.batch_id.clone(),
    };
    if args.dry_run {
        let report =
            tokio::task::spawn_blocking(move || gcbulk_producer::validate(source, &options))
                .await
                .map_err(|e| Failure::new(Code::Runtime, format!("validation task failed: {e}")))?
                .map_err(producer_failure)?;
        if args.json {
            println!(
                "{}",
                json!({ "batch": null, "items": report.items, "chunks": report.chunks, "dry_run": true })
            );
        } else {
            eprintln!(
                "valid: {} item(s) in {} chunk(s) would be enqueued (dry run: nothing written)",
                report.items, report.chunks
            );
        }
        return Ok(());
    }
    let queue = super::connect(global).await?;
    let report = gcbulk_producer::enqueue(&queue, source, &options)
        .await
        .map_err(producer_failure)?;
    if args.json {
        println!(
            "{}",
            json!({ "batch": report.batch, "items": report.items, "chunks": report.chunks })
        );
    } else {
        println!("{}", report.batch);
    }
    if report.already_enqueued {
        eprintln!(
            "batch {} was already enqueued; nothing written",
            report.batch
        );
    } else {
        eprintln!(
            "enqueued {} item(s) in {} chunk(s) as batch {}",
            report.items, report.chunks, report.batch
        );
    }
    Ok(())
}

fn producer_failure(err: ProducerError) -> Failure {
    let code = match err.kind() {
        ErrorKind::InvalidInput => Code::DataErr,
        ErrorKind::Usage => Code::Usage,
        ErrorKind::QueueUnreachable => Code::Unavailable,
        ErrorKind::Io | ErrorKind::Queue | ErrorKind::Internal => Code::Runtime,
    };
    match err {
        // Every error line first (`FILE:LINE: column C: reason`), then the one summary line.
        ProducerError::Invalid(invalid) => {
            let text = invalid.to_string();
            let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
            let summary = lines.pop().unwrap_or_default();
            Failure::new(code, summary).with_details(lines)
        }
        ProducerError::Queue(err) => queue_failure(err),
        other => Failure::new(code, other.to_string()),
    }
}
