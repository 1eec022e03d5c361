//! The backend survives Redis going away: killed connections and a server restart (with its
//! append-only file) neither end the worker nor lose or double-count an item.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{process::Stdio, time::Duration};

use support::*;
use tokio::process::{Child, Command};

/// A private redis-server on a free port, so killing connections or the server touches no one else.
struct PrivateRedis {
    port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl PrivateRedis {
    async fn start() -> Option<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let mut me = Self {
            port,
            dir: tempfile::tempdir().unwrap(),
            child: None,
        };
        me.spawn().await.then_some(me)
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    async fn spawn(&mut self) -> bool {
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string()])
            .args([
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
            ])
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn();
        let Ok(child) = child else { return false };
        self.child = Some(child);
        let client = redis::Client::open(self.url()).unwrap();
        for _ in 0..200 {
            if let Ok(mut conn) = client.get_multiplexed_async_connection().await {
                let pong: Result<String, _> = redis::cmd("PING").query_async(&mut conn).await;
                if pong.is_ok() {
                    return true;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    async fn kill_clients(&self) {
        let client = redis::Client::open(self.url()).unwrap();
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        let _: i64 = redis::cmd("CLIENT")
            .arg("KILL")
            .arg("TYPE")
            .arg("normal")
            .query_async(&mut conn)
            .await
            .unwrap();
    }

    async fn restart(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().await.unwrap();
            let _ = child.wait().await;
        }
        assert!(self.spawn().await, "redis-server restarts");
    }
}

#[tokio::test]
async fn worker_survives_killed_connections_and_a_redis_restart() {
    let Some(mut redis) = PrivateRedis::start().await else {
        eprintln!("redis-server is not installed: skipping the outage test");
        return;
    };
    let (url, ns) = (redis.url(), unique_namespace());
    let config = fast_config(&url, &ns);
    let producer = queue_as(&config, "producer").await;
    enqueue(&producer, "b", 60, 2).await;

    let runs = shared_runs();
    let worker = start_worker(queue_as(&config, "w").await, "w", 2, runs.clone(), |_| {
        Action::SlowSucceed(Duration::from_millis(150))
    });
    wait_until(30, "a few chunks done", || async {
        runs.lock().unwrap().len() >= 3
    })
    .await;
    redis.kill_clients().await;
    wait_until(60, "progress after the connections were killed", || async {
        runs.lock().unwrap().len() >= 8
    })
    .await;
    let before_restart = runs.lock().unwrap().len();
    redis.restart().await;
    wait_until(90, "batch done after the restart", || async {
        producer
            .batch_status("b")
            .await
            .ok()
            .flatten()
            .is_some_and(|s| s.done)
    })
    .await;
    let status = producer.batch_status("b").await.unwrap().unwrap();
    assert_eq!(
        (status.updated, status.dead, status.total),
        (60, 0, 60),
        "{status:?}"
    );
    assert!(before_restart < 30, "the restart happened mid-batch");
    assert!(
        runs.lock().unwrap().len() > before_restart,
        "work went on after the restart"
    );
    // The worker is still alive and stops cleanly.
    worker.stop().await;
}

#[tokio::test]
async fn a_lost_consumer_group_is_recreated() {
    let (url, ns) = (redis_url(), unique_namespace());
    let config = fast_config(&url, &ns);
    let producer = queue_as(&config, "producer").await;
    enqueue(&producer, "first", 2, 2).await;
    let runs = shared_runs();
    let worker = start_worker(queue_as(&config, "w").await, "w", 1, runs.clone(), |_| {
        Action::Succeed
    });
    wait_until(60, "first batch done", || async {
        producer.batch_status("first").await.unwrap().unwrap().done
    })
    .await;

    // As after a Redis restart without persistence of the group (or an operator's mistake).
    let client = redis::Client::open(url.as_str()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let destroyed: i64 = redis::cmd("XGROUP")
        .arg("DESTROY")
        .arg(format!("{{{ns}}}:jobs"))
        .arg("workers")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(destroyed, 1);

    enqueue(&producer, "second", 2, 2).await;
    wait_until(60, "second batch done", || async {
        producer.batch_status("second").await.unwrap().unwrap().done
    })
    .await;
    worker.stop().await;
    cleanup(&url, &ns).await;
}
