//! The fleet request budget against a real Redis: several `RequestBudget`s on separate
//! connections stand for separate worker processes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use gcbulk_fleet::{Acquire, BudgetConfig, Observation, RequestBudget, Turn};

async fn budget(namespace: &str, config: BudgetConfig) -> RequestBudget {
    RequestBudget::new(common::connect().await, namespace, config).unwrap()
}

/// Most requests any window of `window` holds (every alignment a server could choose).
fn busiest_window(mut sends: Vec<Instant>, window: Duration) -> usize {
    sends.sort();
    let mut busiest = 0;
    let mut first = 0;
    for (last, at) in sends.iter().enumerate() {
        while *at - sends[first] >= window {
            first += 1;
        }
        busiest = busiest.max(last - first + 1);
    }
    busiest
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_of_processes_never_exceeds_the_budget_of_any_window_and_nearly_fills_it() {
    let ns = common::namespace();
    // 1800/min = 300 per 10 s window. Headroom 0.95 grants 285 (+1 at a boundary); the rest
    // absorbs the scheduling jitter of a loaded machine between a grant and its "send".
    let config = BudgetConfig {
        headroom: 0.95,
        ..BudgetConfig::per_minute(1800)
    };
    let window = Duration::from_secs(10);
    let budget_per_window = 300;
    let run = Duration::from_secs(25);

    let mut processes = Vec::new();
    for _ in 0..4 {
        processes.push(budget(&ns, config.clone()).await);
    }
    let started = Instant::now();
    let mut tasks = Vec::new();
    for process in &processes {
        for _ in 0..3 {
            let process = process.clone();
            tasks.push(tokio::spawn(async move {
                let mut sends = Vec::new();
                while started.elapsed() < run {
                    match process.wait_turn("client-a").await.unwrap() {
                        Turn::Go => sends.push(Instant::now()),
                        Turn::CoolingDown { .. } => panic!("nobody set a cooldown"),
                    }
                }
                sends
            }));
        }
    }
    let mut sends = Vec::new();
    for task in tasks {
        sends.extend(
            tokio::time::timeout(Duration::from_secs(60), task)
                .await
                .unwrap()
                .unwrap(),
        );
    }
    let sends: Vec<Instant> = sends.into_iter().filter(|at| *at - started < run).collect();

    let busiest = busiest_window(sends.clone(), window);
    eprintln!(
        "{} requests in {run:?}; busiest {window:?} window: {busiest} of {budget_per_window}",
        sends.len()
    );
    assert!(
        busiest <= budget_per_window,
        "a {window:?} window held {busiest} requests, over the budget of {budget_per_window}"
    );
    let budget_of_run = budget_per_window as f64 * run.as_secs_f64() / window.as_secs_f64();
    assert!(
        sends.len() as f64 >= 0.8 * budget_of_run,
        "the fleet sent {} requests in {run:?}, under 80 % of the {budget_of_run} allowed",
        sends.len()
    );
    common::clean_up(&ns).await;
}

#[tokio::test]
async fn a_burst_of_n_lets_n_requests_go_at_once_and_reserves_the_next() {
    let ns = common::namespace();
    let b = budget(
        &ns,
        BudgetConfig {
            burst: 3,
            ..BudgetConfig::per_minute(60)
        },
    )
    .await;
    for _ in 0..3 {
        assert_eq!(b.acquire("c", None).await.unwrap(), Acquire::Go);
    }
    match b.acquire("c", None).await.unwrap() {
        Acquire::Wait(wait) => assert!(wait <= Duration::from_millis(1100), "{wait:?}"),
        other => panic!("expected a reservation, got {other:?}"),
    }
    common::clean_up(&ns).await;
}

#[tokio::test]
async fn after_a_cooldown_nobody_in_the_fleet_sends_before_it_ends_and_it_never_shrinks() {
    let ns = common::namespace();
    let first = budget(&ns, BudgetConfig::per_minute(600)).await;
    let second = budget(&ns, BudgetConfig::per_minute(600)).await;
    assert_eq!(first.acquire("c", None).await.unwrap(), Acquire::Go);

    let before = Instant::now();
    let until = first
        .set_cooldown("c", Duration::from_secs(3))
        .await
        .unwrap();
    assert!(until >= before + Duration::from_secs(3));

    // A shorter cooldown later does not shorten it.
    let still = second
        .set_cooldown("c", Duration::from_millis(200))
        .await
        .unwrap();
    assert!(still >= before + Duration::from_secs(3) - Duration::from_millis(50));
    let left = second.cooldown("c").await.unwrap().expect("cooling down");
    assert!(
        left > Duration::from_millis(500) && left <= Duration::from_secs(3),
        "{left:?}"
    );

    // Every process, including one that knew nothing, is held until the end, then goes.
    let newcomer = budget(&ns, BudgetConfig::per_minute(600)).await;
    let went = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            for process in [&first, &second, &newcomer] {
                match process.acquire("c", None).await.unwrap() {
                    Acquire::CoolingDown { until } => {
                        assert!(until >= Instant::now());
                    }
                    Acquire::Go | Acquire::Wait(_) => return Instant::now(),
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .expect("the cooldown ends");
    assert!(
        went >= before + Duration::from_secs(3),
        "a request was granted {:?} into a 3 s cooldown",
        went - before
    );
    assert_eq!(newcomer.cooldown("c").await.unwrap(), None);
    // Other clients were never held.
    assert_eq!(newcomer.acquire("other", None).await.unwrap(), Acquire::Go);
    common::clean_up(&ns).await;
}

#[tokio::test]
async fn a_turn_reserved_before_a_cooldown_is_not_sent_into_it() {
    let ns = common::namespace();
    let b = budget(
        &ns,
        BudgetConfig {
            headroom: 1.0,
            ..BudgetConfig::per_minute(30)
        },
    )
    .await;
    assert_eq!(b.wait_turn("c").await.unwrap(), Turn::Go);
    // The next turn is 2 s away; a 429 arrives meanwhile.
    let waiting = tokio::spawn({
        let b = b.clone();
        async move { b.wait_turn("c").await.unwrap() }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    b.set_cooldown("c", Duration::from_secs(10)).await.unwrap();
    let turn = tokio::time::timeout(Duration::from_secs(30), waiting)
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(turn, Turn::CoolingDown { .. }), "{turn:?}");
    common::clean_up(&ns).await;
}

/// Back-to-back reservations: each is one emission interval after the previous one (less the
/// few microseconds between the calls). The median spacing is the interval granted.
async fn granted_interval(b: &RequestBudget, client: &str) -> Duration {
    let mut waits = Vec::new();
    for _ in 0..9 {
        match b.acquire(client, None).await.unwrap() {
            Acquire::Go => waits.push(Duration::ZERO),
            Acquire::Wait(wait) => waits.push(wait),
            Acquire::CoolingDown { .. } => panic!("nobody set a cooldown"),
        }
    }
    let mut spacings: Vec<Duration> = waits
        .windows(2)
        .map(|pair| pair[1].saturating_sub(pair[0]))
        .collect();
    spacings.sort();
    spacings[spacings.len() / 2]
}

#[tokio::test]
async fn the_granted_rate_follows_the_limit_the_server_reports() {
    let ns = common::namespace();
    let config = BudgetConfig {
        headroom: 1.0,
        ..BudgetConfig::per_minute(600)
    };
    let reporter = budget(&ns, config.clone()).await;
    let other = budget(&ns, config).await;
    let limit = |allowed| Observation {
        allowed: Some(allowed),
        count: Some(1),
        reset: Some(Duration::from_secs(50)),
        ..Observation::default()
    };
    let close = |got: Duration, want_ms: u64| {
        got <= Duration::from_millis(want_ms + 1) && got >= Duration::from_millis(want_ms * 6 / 10)
    };

    // 600/min: one request every 100 ms.
    reporter.acquire("c", Some(limit(100))).await.unwrap();
    let full = granted_interval(&other, "c").await;
    assert!(close(full, 100), "spacing at the configured rate: {full:?}");

    // The server halves the limit: the whole fleet halves its rate.
    reporter.observe("c", limit(50)).await.unwrap();
    reporter.acquire("c", None).await.unwrap();
    let halved = granted_interval(&other, "c").await;
    assert!(close(halved, 200), "spacing at half the limit: {halved:?}");
    let rate = other.effective_per_minute("c").unwrap();
    assert!((rate - 300.0).abs() < 1.0, "{rate}");

    // It recovers: back to the configured rate.
    reporter.observe("c", limit(100)).await.unwrap();
    reporter.acquire("c", None).await.unwrap();
    let recovered = granted_interval(&other, "c").await;
    assert!(
        close(recovered, 100),
        "spacing after recovery: {recovered:?}"
    );
    common::clean_up(&ns).await;
}

#[tokio::test]
async fn a_spent_server_window_holds_the_fleet_until_it_resets() {
    let ns = common::namespace();
    let reporter = budget(&ns, BudgetConfig::per_minute(600)).await;
    let other = budget(&ns, BudgetConfig::per_minute(600)).await;
    let before = Instant::now();
    reporter
        .observe(
            "c",
            Observation {
                allowed: Some(50),
                count: Some(50),
                reset: Some(Duration::from_secs(2)),
                ..Observation::default()
            },
        )
        .await
        .unwrap();
    match other.acquire("c", None).await.unwrap() {
        Acquire::CoolingDown { until } => {
            assert!(
                until >= before + Duration::from_secs(2),
                "{:?}",
                until - before
            );
        }
        answer => panic!("the window is spent, yet the fleet answered {answer:?}"),
    }
    match reporter.acquire("c", None).await.unwrap() {
        Acquire::CoolingDown { .. } => {}
        answer => panic!("the reporter itself answered {answer:?}"),
    }
    common::clean_up(&ns).await;
}

#[tokio::test]
async fn a_fleet_configured_above_the_servers_window_limit_is_capped_by_it() {
    let ns = common::namespace();
    let b = budget(
        &ns,
        BudgetConfig {
            headroom: 1.0,
            ..BudgetConfig::per_minute(6000)
        },
    )
    .await;
    // A 429 said "maximum [60] requests within [60] seconds".
    b.observe(
        "c",
        Observation {
            allowed: Some(60),
            window: Some(Duration::from_secs(60)),
            ..Observation::default()
        },
    )
    .await
    .unwrap();
    b.acquire("c", None).await.unwrap();
    let rate = b.effective_per_minute("c").unwrap();
    assert!((rate - 60.0).abs() < 0.5, "{rate}");
    common::clean_up(&ns).await;
}

#[tokio::test]
async fn a_configuration_that_cannot_work_is_refused() {
    let conn = common::connect().await;
    let bad = [
        BudgetConfig::per_minute(0),
        BudgetConfig {
            burst: 0,
            ..BudgetConfig::default()
        },
        BudgetConfig {
            headroom: 1.5,
            ..BudgetConfig::default()
        },
        BudgetConfig {
            headroom: f64::NAN,
            ..BudgetConfig::default()
        },
    ];
    for config in bad {
        assert!(RequestBudget::new(conn.clone(), "ns", config).is_err());
    }
    assert!(RequestBudget::new(conn, "a}b", BudgetConfig::default()).is_err());
}
