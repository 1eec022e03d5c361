//! `gcbulk mock-genesys` as the end-to-end tests start it: `--addr 127.0.0.1:0 --ready-file PATH`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use clap::Parser;
use genesys_mock::MockArgs;
use reqwest::StatusCode;

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    mock: MockArgs,
}

fn args(extra: &[&str]) -> MockArgs {
    Cli::parse_from(std::iter::once("mock-genesys").chain(extra.iter().copied())).mock
}

#[test]
fn the_defaults_are_the_contracts() {
    let config = args(&[]).config().unwrap();
    assert_eq!(args(&[]).addr, genesys_mock::DEFAULT_ADDR);
    assert_eq!(
        (config.users, config.rate_limit, config.window),
        (1000, 300, Duration::from_secs(60))
    );
    assert_eq!(config.client_id, "gcbulk-demo");
    assert_eq!(config.token_ttl, Duration::from_secs(86_400));
    // The secret never shows in Debug output.
    assert!(!format!("{config:?}").contains(genesys_mock::DEFAULT_CLIENT_SECRET));
    assert!(!format!("{:?}", args(&["--client-secret", "s3cr3t-value"])).contains("s3cr3t-value"));
    let help = <Cli as clap::CommandFactory>::command()
        .render_long_help()
        .to_string();
    assert!(
        help.contains("--ready-file") && !help.contains(genesys_mock::DEFAULT_CLIENT_SECRET),
        "{help}"
    );
    assert!(args(&["--error-rate", "1.5"]).config().is_err());
    assert!(args(&["--window", "0"]).config().is_err());
}

#[tokio::test]
async fn it_announces_its_address_serves_and_stops_when_told() {
    let dir = tempfile::tempdir().unwrap();
    let ready = dir.path().join("mock.addr");
    let ready_arg = ready.to_str().unwrap().to_owned();
    let args = args(&[
        "--addr",
        "127.0.0.1:0",
        "--users",
        "30",
        "--rate-limit",
        "50",
        "--window",
        "2",
        "--ready-file",
        &ready_arg,
    ]);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(genesys_mock::run_until(args, async move {
        let _ = stopped.await;
    }));

    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let addr = loop {
        if let Ok(addr) = std::fs::read_to_string(&ready) {
            break addr;
        }
        assert!(tokio::time::Instant::now() < deadline, "no ready file");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let base = format!("http://{addr}");
    let http = common::client();
    let token = common::token(&http, &base).await;
    let response = http
        .get(format!(
            "{base}/api/v2/users/{}",
            genesys_mock::seed::user_id(30)
        ))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["inin-ratelimit-allowed"], "50");

    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(30), server)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn a_busy_address_is_a_clear_error() {
    let taken = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let err = genesys_mock::run_until(args(&["--addr", &addr]), async {})
        .await
        .unwrap_err();
    assert!(err.to_string().contains(&addr), "{err}");
}
