//! The first thing any client does: get a token, read a user.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use genesys_mock::seed;
use reqwest::StatusCode;

#[tokio::test]
async fn a_token_reads_a_seeded_user() {
    let mock = common::start_small().await;
    let (status, user) = mock
        .get_json(&format!("/api/v2/users/{}", seed::user_id(42)))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(user["email"], "user42@example.com");
    assert_eq!(user["id"], seed::user_id(42));
    assert_eq!(user["manager"]["id"], seed::user_id(4));
    assert!(user["version"].as_u64().unwrap() >= 1);
}
