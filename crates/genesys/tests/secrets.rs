//! The OAuth client secret and access tokens never appear in errors (Display or Debug), in Debug output of the
//! client's types, or in logs — including reqwest's and hyper's own log records — at TRACE level.
//!
//! One test in its own binary: it installs the global subscriber.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use base64::Engine;
use genesys::{ClientConfig, GenesysClient, SecretString, UpdateUser};
use genesys_mock::{Faults, Force429, MockConfig};
use support::{RecordingStore, RevokingGate, mock_config, start, user_id};

const SECRET: &str = "s3cr3t-Zq9xK-must-never-leak";
const WRONG_SECRET: &str = "wr0ng-s3cr3t-Vb7-must-never-leak";

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn config(base_url: &str, secret: &str) -> ClientConfig {
    ClientConfig::for_base_url(
        base_url,
        "gcbulk-demo",
        SecretString::from(secret.to_owned()),
    )
    .unwrap()
}

#[tokio::test]
async fn secrets_and_tokens_never_reach_errors_debug_or_logs() {
    let logs = Captured::default();
    let sink = logs.clone();
    // `init`-style installation also routes the `log` records of reqwest and hyper into the subscriber.
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || sink.clone())
        .try_init()
        .unwrap();

    let mock = Arc::new(
        start(MockConfig {
            client_secret: SecretString::from(SECRET),
            rate_limit: 1000,
            ..mock_config()
        })
        .await,
    );
    let store = RecordingStore::default();
    let client = GenesysClient::builder(config(&mock.base_url(), SECRET))
        .token_store(Arc::new(store.clone()))
        .build()
        .unwrap();
    let mut shown: Vec<String> = vec![
        format!("{client:?}"),
        format!("{:?}", config(&mock.base_url(), SECRET)),
    ];
    let mut remember = |err: genesys::ApiError| {
        shown.push(err.to_string());
        shown.push(format!("{err:?}"));
        shown.push(err.message());
        shown.push(err.hint());
    };

    // Tokens: a raw fetch, a stored one, and a replacement after a revocation.
    let raw = client.fetch_token().await.unwrap();
    let mut tokens = vec![genesys::ExposeSecret::expose_secret(raw.secret()).to_owned()];
    let user = client.get_user(&user_id(1)).await.unwrap();
    let user_debug = format!("{user:?}");
    mock.revoke_tokens();
    client.get_user(&user_id(2)).await.unwrap();

    // Every kind of failure the look-alike can produce.
    remember(client.get_user(&user_id(99_999)).await.unwrap_err());
    let bad = UpdateUser {
        email: Some("nope".into()),
        ..UpdateUser::new(user.value.version)
    };
    remember(client.patch_user(&user_id(1), &bad).await.unwrap_err());
    let stale = UpdateUser {
        title: Some("x".into()),
        ..UpdateUser::new(user.value.version + 100)
    };
    remember(client.patch_user(&user_id(1), &stale).await.unwrap_err());
    mock.set_faults(Faults {
        fail_user_ids: vec![user_id(3)],
        ..Faults::default()
    })
    .unwrap();
    let fresh = client.get_user(&user_id(3)).await.unwrap().into_value();
    remember(
        client
            .patch_user(&user_id(3), &UpdateUser::new(fresh.version))
            .await
            .unwrap_err(),
    );
    mock.set_faults(Faults {
        error_rate: 1.0,
        ..Faults::default()
    })
    .unwrap();
    remember(client.get_user(&user_id(1)).await.unwrap_err());
    mock.set_faults(Faults {
        drop_rate: 1.0,
        ..Faults::default()
    })
    .unwrap();
    remember(client.get_user(&user_id(1)).await.unwrap_err());
    mock.set_faults(Faults {
        force_429: Some(Force429 {
            for_secs: 60,
            retry_after_secs: 5,
        }),
        ..Faults::default()
    })
    .unwrap();
    remember(client.get_user(&user_id(1)).await.unwrap_err());
    mock.set_faults(Faults::default()).unwrap();
    let refused = GenesysClient::builder(config(&mock.base_url(), SECRET))
        .token_store(Arc::new(store.clone()))
        .request_gate(Arc::new(RevokingGate(mock.clone())))
        .build()
        .unwrap();
    remember(refused.get_user(&user_id(1)).await.unwrap_err());
    let wrong = GenesysClient::new(config(&mock.base_url(), WRONG_SECRET)).unwrap();
    remember(wrong.fetch_token().await.unwrap_err());
    remember(wrong.get_user(&user_id(1)).await.unwrap_err());
    let nowhere = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    remember(
        GenesysClient::new(config(&nowhere, SECRET))
            .unwrap()
            .get_user(&user_id(1))
            .await
            .unwrap_err(),
    );
    shown.push(user_debug);
    shown.push(format!("{raw:?}"));

    tokens.extend(store.tokens());
    assert!(
        tokens.len() >= 4,
        "several tokens were issued: {}",
        tokens.len()
    );
    let basic = |secret: &str| {
        base64::engine::general_purpose::STANDARD.encode(format!("gcbulk-demo:{secret}"))
    };
    let mut needles = vec![
        SECRET.to_owned(),
        WRONG_SECRET.to_owned(),
        basic(SECRET),
        basic(WRONG_SECRET),
    ];
    needles.extend(tokens);

    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("Genesys API response"),
        "the subscriber captured the client's logs"
    );
    assert!(
        logs.contains("TRACE") || logs.contains("DEBUG"),
        "low-level records were captured too"
    );
    for needle in &needles {
        assert!(
            !logs.contains(needle.as_str()),
            "a secret or token reached the logs"
        );
        for text in &shown {
            assert!(
                !text.contains(needle.as_str()),
                "a secret or token reached formatted output: {text}"
            );
        }
    }
    assert!(shown.len() > 40);
}
