//! `gcbulk status`: per-batch counters, as a table, as JSON lines, or as a live progress display.

use std::time::Duration;

use gcbulk_queue::{BatchStatus, Queue};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use crate::cli::{GlobalArgs, StatusArgs};
use crate::exit::{Code, CommandResult, Failure, queue_failure};

/// Runs `status`.
pub async fn run(global: &GlobalArgs, args: StatusArgs) -> CommandResult {
    let queue = super::connect(global).await?;
    if args.watch {
        return watch(&queue, args.batch.as_deref()).await;
    }
    let batches = fetch(&queue, args.batch.as_deref()).await?;
    if args.json {
        for status in &batches {
            println!(
                "{}",
                serde_json::to_string(status)
                    .map_err(|e| Failure::new(Code::Runtime, e.to_string()))?
            );
        }
    } else {
        print_table(&batches);
    }
    Ok(())
}

async fn fetch(queue: &Queue, batch: Option<&str>) -> Result<Vec<BatchStatus>, Failure> {
    match batch {
        Some(id) => match queue.batch_status(id).await.map_err(queue_failure)? {
            Some(status) => Ok(vec![status]),
            None => Err(Failure::new(
                Code::Runtime,
                format!(
                    "no batch {id:?} in this namespace (check --namespace; `gcbulk status` lists all batches)"
                ),
            )),
        },
        None => queue.list_batches().await.map_err(queue_failure),
    }
}

fn print_table(batches: &[BatchStatus]) {
    if batches.is_empty() {
        println!("no batches");
        return;
    }
    println!(
        "{:<28} {:>8} {:>8} {:>9} {:>6} {:>8} {:>9} {:>8}  {:<5} CREATED_AT",
        "BATCH",
        "TOTAL",
        "UPDATED",
        "UNCHANGED",
        "DEAD",
        "PENDING",
        "IN_FLIGHT",
        "RETRYING",
        "DONE"
    );
    for s in batches {
        println!(
            "{:<28} {:>8} {:>8} {:>9} {:>6} {:>8} {:>9} {:>8}  {:<5} {}",
            s.batch,
            s.total,
            s.updated,
            s.unchanged,
            s.dead,
            s.pending,
            s.in_flight,
            s.retrying,
            s.done,
            s.created_at
        );
    }
}

/// Redraws one progress bar per batch until every watched batch is done. When stdout is not a terminal (a CI
/// log, a pipe), a progress bar would print nothing, so one plain line is printed per change instead.
async fn watch(queue: &Queue, batch: Option<&str>) -> CommandResult {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() {
        return watch_plain(queue, batch).await;
    }
    let display = MultiProgress::new();
    let style = ProgressStyle::with_template(
        "{prefix:<26} [{bar:30.cyan/blue}] {pos}/{len} {percent:>3}% {per_sec:>10} eta {eta:<5} {msg}",
    )
    .map_err(|e| Failure::new(Code::Runtime, e.to_string()))?
    .progress_chars("=> ");
    let mut bars: Vec<(String, ProgressBar)> = Vec::new();
    loop {
        let batches = fetch(queue, batch).await?;
        for status in &batches {
            let bar = match bars.iter().find(|(id, _)| *id == status.batch) {
                Some((_, bar)) => bar.clone(),
                None => {
                    let bar = display.add(ProgressBar::new(status.total));
                    bar.set_style(style.clone());
                    bar.set_prefix(status.batch.clone());
                    bars.push((status.batch.clone(), bar.clone()));
                    bar
                }
            };
            bar.set_length(status.total);
            bar.set_position(status.updated + status.unchanged + status.dead);
            bar.set_message(progress(status));
            if status.done && !bar.is_finished() {
                bar.finish();
            }
        }
        if !batches.is_empty() && batches.iter().all(|s| s.done) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Ok(())
}

async fn watch_plain(queue: &Queue, batch: Option<&str>) -> CommandResult {
    let mut last: Vec<String> = Vec::new();
    loop {
        let batches = fetch(queue, batch).await?;
        let lines: Vec<String> = batches
            .iter()
            .map(|s| {
                let done = if s.done { "  done" } else { "" };
                format!(
                    "{}  {}/{} finished  {}{done}",
                    s.batch,
                    s.updated + s.unchanged + s.dead,
                    s.total,
                    progress(s)
                )
            })
            .collect();
        if lines != last {
            for line in &lines {
                println!("{line}");
            }
            last = lines;
        }
        if !batches.is_empty() && batches.iter().all(|s| s.done) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// The counts behind a progress display, in one line.
fn progress(s: &BatchStatus) -> String {
    format!(
        "updated {} unchanged {} dead {} | pending {} in flight {} retrying {}",
        s.updated, s.unchanged, s.dead, s.pending, s.in_flight, s.retrying
    )
}
