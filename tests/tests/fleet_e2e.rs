//! The bar for the queue and the worker fleet, end to end: the real binary as processes, a real Redis, the
//! look-alike over real HTTP. Each test owns a namespace and a look-alike, so they run in parallel.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::time::Duration;

use gcbulk_e2e::*;
use serde_json::Value;

const LONG: Duration = Duration::from_secs(240);

/// The seeded look-alike users, by id.
async fn seeded(mock: &Mock) -> HashMap<String, Value> {
    mock.users().await.unwrap()
}

/// The first `n` seeded users, in a stable order.
fn first_users(users: &HashMap<String, Value>, n: usize) -> Vec<Value> {
    let mut all: Vec<Value> = users.values().cloned().collect();
    all.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    all.into_iter().take(n).collect()
}

/// A CSV `id,<column>` that gives the i-th user `value(i)`.
fn id_csv(users: &[Value], column: &str, value: impl Fn(usize) -> String) -> String {
    let mut csv = format!("id,{column}\n");
    for (i, user) in users.iter().enumerate() {
        csv.push_str(&format!("{},{}\n", user["id"].as_str().unwrap(), value(i)));
    }
    csv
}

fn write_file(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().to_string()
}

fn enqueue(ns: &Namespace, file: &str, extra: &[&str]) -> String {
    let mut args = vec!["enqueue", file];
    args.extend_from_slice(extra);
    let out = run_gcbulk(&args, &ns.env(), None).unwrap();
    assert!(
        out.status.success(),
        "enqueue failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn start_workers(n: usize, ns: &Namespace, mock: &Mock, extra: &[&str]) -> Vec<Proc> {
    let mut env = ns.env();
    env.extend(mock.worker_env());
    (0..n)
        .map(|_| {
            let mut args = vec!["worker", "--exit-when-idle"];
            args.extend_from_slice(extra);
            Proc::spawn(&args, &env).unwrap()
        })
        .collect()
}

fn wait_all(workers: &mut [Proc]) {
    for worker in workers.iter_mut() {
        let code = worker.wait_for_exit(LONG).unwrap();
        assert_eq!(code, Some(0), "worker failed: {}", worker.stderr());
    }
}

fn count(stats: &Value, path: &[&str]) -> u64 {
    let mut value = stats;
    for part in path {
        value = &value[*part];
    }
    value.as_u64().unwrap_or(0)
}

fn dlq(ns: &Namespace, batch: &str) -> Vec<Value> {
    let out = run_gcbulk(
        &["dlq", "list", "--batch", batch, "--json"],
        &ns.env(),
        None,
    )
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Must show 1 and 9: 2,000 rows, three workers; the final state is the expected one, the counts add up, rows that
/// already match send no PATCH, and updates cost at most 1.05 API requests per updated user (id keys).
#[tokio::test(flavor = "multi_thread")]
async fn three_workers_apply_two_thousand_rows_exactly() {
    let mock = Mock::start(&["--users", "2200", "--rate-limit", "0"])
        .await
        .unwrap();
    let ns = Namespace::new("fleet");
    let users = first_users(&seeded(&mock).await, 2000);
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("id,title,department\n");
    for (i, user) in users.iter().enumerate() {
        let id = user["id"].as_str().unwrap();
        if i % 10 == 0 {
            // Already matching: must end `unchanged` with no write.
            let title = user["title"].as_str().unwrap_or("");
            let department = user["department"].as_str().unwrap_or("");
            csv.push_str(&format!("{id},{title},{department}\n"));
        } else {
            csv.push_str(&format!("{id},Title {i},Department {}\n", i % 7));
        }
    }
    let file = write_file(&dir, "changes.csv", &csv);
    let batch = enqueue(&ns, &file, &[]);
    mock.reset_stats().await.unwrap();

    let mut workers = start_workers(
        3,
        &ns,
        &mock,
        &["--rate-limit", "100000", "--concurrency", "4"],
    );
    wait_all(&mut workers);
    let status = wait_for_batch(&ns, &batch, LONG).await.unwrap();

    assert_eq!(status["total"], 2000);
    assert_eq!(status["updated"], 1800, "{status}");
    assert_eq!(status["unchanged"], 200, "{status}");
    assert_eq!(status["dead"], 0, "{status}");
    let after = seeded(&mock).await;
    for (i, user) in users.iter().enumerate() {
        let now = &after[user["id"].as_str().unwrap()];
        if i % 10 == 0 {
            assert_eq!(
                now["version"], user["version"],
                "an already-matching user was written: {now}"
            );
        } else {
            assert_eq!(now["title"], format!("Title {i}"));
            assert_eq!(now["department"], format!("Department {}", i % 7));
        }
    }
    let stats = mock.stats().await.unwrap();
    let api = count(&stats, &["api_requests"]);
    let writes = count(&stats, &["writes"]);
    assert_eq!(
        writes, 1800,
        "one PATCH per changed user and none for matching ones: {stats}"
    );
    assert_eq!(
        count(&stats, &["token_requests"]),
        1,
        "one access token, fetched by one worker under the fleet lock, serves all three: {stats}"
    );
    let per_user = api as f64 / 1800.0;
    assert!(
        per_user <= 1.05,
        "{api} API requests for 1800 updated users = {per_user:.3} per user"
    );
}

/// Must show 7: `enqueue --batch-id X` twice enqueues once.
#[tokio::test(flavor = "multi_thread")]
async fn enqueue_with_the_same_batch_id_twice_enqueues_once() {
    let ns = Namespace::new("idem");
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(
        &dir,
        "c.csv",
        "email,title\nuser1@example.com,A\nuser2@example.com,B\n",
    );
    let first = enqueue(&ns, &file, &["--batch-id", "hr-sync-42", "--json"]);
    let second = enqueue(&ns, &file, &["--batch-id", "hr-sync-42", "--json"]);
    let first: Value = serde_json::from_str(&first).unwrap();
    let second: Value = serde_json::from_str(&second).unwrap();
    assert_eq!(first["batch"], "hr-sync-42");
    assert_eq!(second["batch"], "hr-sync-42");
    let out = run_gcbulk(&["status", "hr-sync-42", "--json"], &ns.env(), None).unwrap();
    let status: Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().next().unwrap()).unwrap();
    assert_eq!(
        status["total"], 2,
        "the second run must not add items: {status}"
    );
    assert_eq!(status["pending"], 2, "{status}");
}

/// Must show 5: bad input → exit 65, every error as `FILE:LINE: column …`, zero keys written.
#[tokio::test(flavor = "multi_thread")]
async fn bad_input_is_refused_whole_with_every_error_located() {
    let ns = Namespace::new("bad");
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(
        &dir,
        "bad.csv",
        "email,title,state,acd_auto_answer\nuser1@example.com,Ok,active,true\nnot-an-email,X,,\nuser3@example.com,Y,sleeping,\nuser4@example.com,Z,,maybe\n",
    );
    let out = run_gcbulk(&["enqueue", &file], &ns.env(), None).unwrap();
    assert_eq!(out.status.code(), Some(65));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("{file}:3: column email:")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("{file}:4: column state:")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("{file}:5: column acd_auto_answer:")),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "no batch id on stdout");
    assert_eq!(
        ns.key_count(),
        0,
        "nothing may be written for invalid input"
    );

    let unknown = write_file(
        &dir,
        "unknown.csv",
        "email,nickname\nuser1@example.com,Bob\n",
    );
    let out = run_gcbulk(&["enqueue", &unknown], &ns.env(), None).unwrap();
    assert_eq!(out.status.code(), Some(65));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nickname"));
    assert_eq!(ns.key_count(), 0);
}

/// Must show 2: one worker SIGKILLed mid-batch; the others finish; every item has exactly one outcome and the
/// counters are not doubled.
#[tokio::test(flavor = "multi_thread")]
async fn a_sigkilled_worker_loses_nothing() {
    // Latency makes the batch take long enough to kill a worker in the middle of it.
    let mock = Mock::start(&["--users", "700", "--rate-limit", "0", "--latency-ms", "5"])
        .await
        .unwrap();
    let ns = Namespace::new("kill");
    let users = first_users(&seeded(&mock).await, 600);
    let dir = tempfile::tempdir().unwrap();
    let csv = id_csv(&users, "title", |i| format!("Killed {i}"));
    let file = write_file(&dir, "c.csv", &csv);
    let batch = enqueue(&ns, &file, &["--chunk-size", "20"]);

    let mut env = ns.env();
    env.extend(mock.worker_env());
    // A short claim timeout so the test does not wait a production-sized one.
    env.push(("GCBULK_CLAIM_IDLE_SECS".into(), "3".into()));
    let victim = Proc::spawn(
        &["worker", "--concurrency", "4", "--rate-limit", "100000"],
        &env,
    )
    .unwrap();
    // Let the victim take work, then kill it without warning.
    wait_until_updated(&ns, &batch, 60).await;
    victim.signal("KILL");
    let mut others: Vec<Proc> = (0..2)
        .map(|_| {
            Proc::spawn(
                &[
                    "worker",
                    "--exit-when-idle",
                    "--concurrency",
                    "4",
                    "--rate-limit",
                    "100000",
                ],
                &env,
            )
            .unwrap()
        })
        .collect();
    wait_all(&mut others);
    let status = wait_for_batch(&ns, &batch, LONG).await.unwrap();
    assert_eq!(status["total"], 600);
    let outcomes = status["updated"].as_u64().unwrap() + status["unchanged"].as_u64().unwrap();
    assert_eq!(
        outcomes, 600,
        "every item exactly once, nothing doubled: {status}"
    );
    assert_eq!(status["dead"], 0, "{status}");
    let after = seeded(&mock).await;
    for (i, user) in users.iter().enumerate() {
        assert_eq!(
            after[user["id"].as_str().unwrap()]["title"],
            format!("Killed {i}")
        );
    }
}

/// Must show 3: with the look-alike limited to L requests per window, three workers together stay within L (no
/// 429); after a forced 429 with Retry-After, no request from any worker arrives before it has passed.
#[tokio::test(flavor = "multi_thread")]
async fn three_workers_share_one_budget_and_honour_retry_after() {
    // 40 requests per 2 s window; the fleet is told the same budget per minute.
    let mock = Mock::start(&["--users", "400", "--rate-limit", "40", "--window", "2"])
        .await
        .unwrap();
    let ns = Namespace::new("rate");
    let users = first_users(&seeded(&mock).await, 300);
    let dir = tempfile::tempdir().unwrap();
    let csv = id_csv(&users, "department", |i| format!("Budget {i}"));
    let file = write_file(&dir, "c.csv", &csv);
    let batch = enqueue(&ns, &file, &[]);
    let mut workers = start_workers(
        3,
        &ns,
        &mock,
        &["--rate-limit", "1200", "--concurrency", "4"],
    );

    // Half-way, force a 429 window with a Retry-After.
    wait_until_updated(&ns, &batch, 120).await;
    let before_forced = mock.stats().await.unwrap();
    assert_eq!(
        count(&before_forced, &["throttled"]),
        0,
        "no 429 unless forced: {before_forced}"
    );
    mock.set_faults(serde_json::json!({ "force_429": { "for_secs": 1, "retry_after_secs": 4 } }))
        .await
        .unwrap();

    wait_all(&mut workers);
    let status = wait_for_batch(&ns, &batch, LONG).await.unwrap();
    assert_eq!(status["updated"], 300, "{status}");
    let stats = mock.stats().await.unwrap();
    assert!(
        count(&stats, &["throttled"]) >= 1,
        "the forced 429 was seen: {stats}"
    );
    assert_eq!(
        count(&stats, &["requests_during_retry_after"]),
        0,
        "a worker sent a request before Retry-After had passed: {stats}"
    );
}

/// Must show 4: 503s, dropped connections and concurrent-edit 409s still give the correct final state; 404 and
/// 400 items land in the DLQ with their full reason; `dlq export` → fix → `enqueue` → updated; `dlq requeue` and
/// `dlq purge` work.
#[tokio::test(flavor = "multi_thread")]
async fn faults_are_survived_and_permanent_failures_dead_lettered() {
    let mock = Mock::start(&["--users", "300", "--rate-limit", "0"])
        .await
        .unwrap();
    mock.set_faults(
        serde_json::json!({ "error_rate": 0.1, "drop_rate": 0.05, "conflict_rate": 0.2 }),
    )
    .await
    .unwrap();
    let ns = Namespace::new("faults");
    let users = first_users(&seeded(&mock).await, 200);
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("id,title,manager\n");
    for (i, user) in users.iter().enumerate() {
        csv.push_str(&format!("{},Survivor {i},\n", user["id"].as_str().unwrap()));
    }
    // Permanent failures: an unknown user (404) and a manager that does not exist (400).
    let unknown = "00000000-0000-4000-8000-0000deadbeef";
    csv.push_str(&format!("{unknown},Nobody,\n"));
    let bad_manager = "00000000-0000-4000-8000-0000baadf00d";
    let victim = users[0]["id"].as_str().unwrap();
    csv = csv.replacen(
        &format!("{victim},Survivor 0,\n"),
        &format!("{victim},Survivor 0,{bad_manager}\n"),
        1,
    );
    let file = write_file(&dir, "c.csv", &csv);
    let batch = enqueue(&ns, &file, &["--chunk-size", "25"]);

    let mut workers = start_workers(
        2,
        &ns,
        &mock,
        &["--rate-limit", "100000", "--max-attempts", "20"],
    );
    wait_all(&mut workers);
    let status = wait_for_batch(&ns, &batch, LONG).await.unwrap();
    assert_eq!(status["updated"], 199, "{status}");
    assert_eq!(status["dead"], 2, "{status}");
    let after = seeded(&mock).await;
    for (i, user) in users.iter().enumerate().skip(1) {
        assert_eq!(
            after[user["id"].as_str().unwrap()]["title"],
            format!("Survivor {i}")
        );
    }

    let dead = dlq(&ns, &batch);
    assert_eq!(dead.len(), 2);
    let not_found = dead
        .iter()
        .find(|d| d["key"] == format!("id:{unknown}"))
        .expect("the 404 item is dead-lettered");
    assert_eq!(not_found["error"]["status"], 404);
    assert_eq!(not_found["error"]["code"], "not.found");
    assert!(
        not_found["error"]["correlation_id"]
            .as_str()
            .is_some_and(|c| !c.is_empty()),
        "{not_found}"
    );
    for field in [
        "id",
        "batch",
        "line",
        "item",
        "attempts",
        "first_failed_at",
        "last_failed_at",
    ] {
        assert!(
            !not_found[field].is_null(),
            "DLQ entry lacks {field}: {not_found}"
        );
    }
    let bad = dead
        .iter()
        .find(|d| d["key"] == format!("id:{victim}"))
        .expect("the 400 item is dead-lettered");
    assert_eq!(bad["error"]["status"], 400, "{bad}");

    // Export, fix the bad manager (clear it), enqueue the fixed file: the item is updated.
    mock.set_faults(serde_json::json!({})).await.unwrap();
    let out = run_gcbulk(
        &["dlq", "export", "--batch", &batch, "--format", "csv"],
        &ns.env(),
        None,
    )
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let exported = String::from_utf8(out.stdout).unwrap();
    assert!(
        exported.lines().next().unwrap().contains("error"),
        "{exported}"
    );
    assert!(exported.contains(bad_manager), "{exported}");
    let fixed: String = exported
        .lines()
        .filter(|line| !line.contains(unknown))
        .map(|line| line.replace(bad_manager, ""))
        .collect::<Vec<_>>()
        .join("\n");
    let fixed_file = write_file(&dir, "fixed.csv", &format!("{fixed}\n"));
    let retry_batch = enqueue(&ns, &fixed_file, &[]);
    let mut workers = start_workers(1, &ns, &mock, &["--rate-limit", "100000"]);
    wait_all(&mut workers);
    let status = wait_for_batch(&ns, &retry_batch, LONG).await.unwrap();
    assert_eq!(status["updated"], 1, "{status}");
    assert_eq!(seeded(&mock).await[victim]["title"], "Survivor 0");

    // Requeue the 404 entry: it leaves the DLQ, runs again, and (still unknown) comes back with its reason.
    let id = not_found["id"].as_str().unwrap();
    let out = run_gcbulk(&["dlq", "requeue", id], &ns.env(), None).unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        dlq(&ns, &batch).iter().all(|d| d["id"] != id),
        "a requeued entry leaves the DLQ"
    );
    let mut workers = start_workers(1, &ns, &mock, &["--rate-limit", "100000"]);
    wait_all(&mut workers);
    let status = wait_for_batch(&ns, &batch, LONG).await.unwrap();
    assert_eq!(
        status["dead"], 2,
        "requeued and dead again, counted once: {status}"
    );
    assert_eq!(dlq(&ns, &batch).len(), 2);

    // Purge everything of the batch.
    let out = run_gcbulk(
        &["dlq", "purge", "--all", "--batch", &batch],
        &ns.env(),
        None,
    )
    .unwrap();
    assert!(out.status.success());
    assert!(dlq(&ns, &batch).is_empty());
}

/// Must show 6: Redis restarted during a run; the workers reconnect and the batch finishes.
#[tokio::test(flavor = "multi_thread")]
async fn workers_survive_a_redis_restart() {
    let mut redis = OwnRedis::start().unwrap();
    let mock = Mock::start(&["--users", "500", "--rate-limit", "0", "--latency-ms", "5"])
        .await
        .unwrap();
    let ns = Namespace::on("restart", &redis.url());
    let users = first_users(&seeded(&mock).await, 400);
    let dir = tempfile::tempdir().unwrap();
    let csv = id_csv(&users, "title", |i| format!("Restarted {i}"));
    let file = write_file(&dir, "c.csv", &csv);
    let batch = enqueue(&ns, &file, &["--chunk-size", "10"]);
    let mut workers = start_workers(
        2,
        &ns,
        &mock,
        &["--rate-limit", "100000", "--concurrency", "2"],
    );
    wait_until_updated(&ns, &batch, 50).await;
    redis.stop();
    tokio::time::sleep(Duration::from_secs(2)).await;
    redis.restart().unwrap();
    wait_all(&mut workers);
    let status = wait_for_batch(&ns, &batch, LONG).await.unwrap();
    assert_eq!(
        status["updated"].as_u64().unwrap() + status["unchanged"].as_u64().unwrap(),
        400,
        "{status}"
    );
    let after = seeded(&mock).await;
    for (i, user) in users.iter().enumerate() {
        assert_eq!(
            after[user["id"].as_str().unwrap()]["title"],
            format!("Restarted {i}")
        );
    }
}

/// Must show 8: no secret or token in logs, stdout/stderr, or anything stored in Redis.
#[tokio::test(flavor = "multi_thread")]
async fn no_secret_or_token_leaks_anywhere() {
    let secret = "s3cr3t-never-to-be-seen-0123456789";
    let mock = Mock::start(&[
        "--users",
        "100",
        "--rate-limit",
        "0",
        "--client-secret",
        secret,
    ])
    .await
    .unwrap();
    mock.set_faults(serde_json::json!({ "error_rate": 0.2 }))
        .await
        .unwrap();
    let ns = Namespace::new("secret");
    let users = first_users(&seeded(&mock).await, 60);
    let dir = tempfile::tempdir().unwrap();
    let mut csv = id_csv(&users, "title", |_| "Quiet".to_string());
    csv.push_str("00000000-0000-4000-8000-0000deadbeef,Nobody\n");
    let file = write_file(&dir, "c.csv", &csv);
    let batch = enqueue(&ns, &file, &[]);
    let mut env = ns.env();
    env.extend(mock.worker_env());
    env.retain(|(k, _)| k != "GENESYS_CLIENT_SECRET");
    env.push(("GENESYS_CLIENT_SECRET".into(), secret.into()));
    env.push(("RUST_LOG".into(), "trace".into()));
    let mut worker = Proc::spawn(
        &["worker", "--exit-when-idle", "--rate-limit", "100000"],
        &env,
    )
    .unwrap();
    assert_eq!(
        worker.wait_for_exit(LONG).unwrap(),
        Some(0),
        "{}",
        worker.stderr()
    );
    wait_for_batch(&ns, &batch, LONG).await.unwrap();

    // The tokens the look-alike issued to this client.
    let issued: Vec<String> = reqwest::get(format!("{}/__mock/tokens", mock.base_url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        !issued.is_empty(),
        "the look-alike reports the tokens it issued"
    );
    let mut haystacks = vec![
        ("worker stderr".to_string(), worker.stderr().into_bytes()),
        ("worker stdout".into(), worker.stdout().into_bytes()),
    ];
    for (key, value) in ns.dump_all().unwrap() {
        haystacks.push((
            format!("redis key {key}"),
            [key.as_bytes(), &value].concat(),
        ));
    }
    let out = run_gcbulk(&["dlq", "list", "--json"], &ns.env(), None).unwrap();
    haystacks.push(("dlq list".into(), [out.stdout, out.stderr].concat()));
    for (name, bytes) in &haystacks {
        let text = String::from_utf8_lossy(bytes);
        assert!(
            !text.contains(secret),
            "the client secret appears in {name}"
        );
        for token in &issued {
            assert!(
                !text.contains(token.as_str()),
                "an access token appears in {name}"
            );
        }
    }
    assert!(
        worker.stderr().contains("TRACE") || worker.stderr().contains("trace"),
        "trace logging was on"
    );
}

/// Operations: a worker serves `/healthz`, `/readyz` and Prometheus `/metrics`, counts what it did, and exits 0 on
/// SIGTERM after draining.
#[tokio::test(flavor = "multi_thread")]
async fn a_worker_reports_health_and_metrics_and_drains_on_sigterm() {
    let mock = Mock::start(&["--users", "50", "--rate-limit", "0"])
        .await
        .unwrap();
    let ns = Namespace::new("ops");
    let users = first_users(&seeded(&mock).await, 20);
    let dir = tempfile::tempdir().unwrap();
    let csv = id_csv(&users, "title", |_| "Observed".to_string());
    let file = write_file(&dir, "c.csv", &csv);
    let batch = enqueue(&ns, &file, &[]);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut env = ns.env();
    env.extend(mock.worker_env());
    let mut worker = Proc::spawn(
        &["worker", "--rate-limit", "100000", "--metrics-addr", &addr],
        &env,
    )
    .unwrap();
    wait_for_batch(&ns, &batch, LONG).await.unwrap();

    let get = |path: &str| {
        let url = format!("http://{addr}{path}");
        async move {
            let response = reqwest::get(url).await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };
    assert_eq!(get("/healthz").await.0, 200);
    let (ready, why) = get("/readyz").await;
    assert_eq!(ready, 200, "{why}");
    let (status, metrics) = get("/metrics").await;
    assert_eq!(status, 200);
    assert!(
        metrics.contains("gcbulk_items_total{outcome=\"updated\"} 20"),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            "gcbulk_api_requests_total{endpoint=\"PATCH /api/v2/users/{userId}\",status=\"200\"} 20"
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains("gcbulk_api_request_duration_seconds_bucket"),
        "{metrics}"
    );

    worker.signal("TERM");
    assert_eq!(
        worker.wait_for_exit(Duration::from_secs(60)).unwrap(),
        Some(0),
        "{}",
        worker.stderr()
    );
}
