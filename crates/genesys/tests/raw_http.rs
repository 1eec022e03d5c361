//! Responses the look-alike never sends, from a bare HTTP/1.1 server on 127.0.0.1:0: undecodable and truncated
//! bodies, a hung server, 501, redirects, non-JSON error pages, and `Retry-After` as an HTTP date or absent.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, SystemTime};

use genesys::{ClientConfig, ErrorKind, GenesysClient, SecretString};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the server answers for a request path: the raw bytes of the response (written as they are, then the
/// connection is closed), or `None` to hang without answering.
fn answer(path: &str) -> Option<String> {
    let json = |status: &str, extra: &str, body: &str| {
        format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n{extra}connection: close\r\n\r\n{body}",
            body.len()
        )
    };
    let retry_date = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(120));
    Some(match path {
        "/oauth/token" => json("200 OK", "", r#"{"access_token":"raw-token-1","token_type":"bearer","expires_in":3600}"#),
        "/api/v2/users/garbage" => json("200 OK", "", "<html>surprise</html>"),
        "/api/v2/users/wrong-shape" => json("200 OK", "", r#"{"id":42}"#),
        "/api/v2/users/truncated" => {
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 500\r\nconnection: close\r\n\r\n{\"id\":\"u\",".to_owned()
        }
        "/api/v2/users/not-implemented" => json("501 Not Implemented", "", r#"{"code":"not.implemented","status":501}"#),
        "/api/v2/users/redirect" => {
            "HTTP/1.1 302 Found\r\nlocation: http://elsewhere.invalid/\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".to_owned()
        }
        "/api/v2/users/bad-gateway" => {
            let body = "<html><body><h1>502 Bad Gateway</h1></body></html>";
            format!("HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len())
        }
        "/api/v2/users/limited-date" => json(
            "429 Too Many Requests",
            &format!("retry-after: {retry_date}\r\n"),
            r#"{"code":"too.many.requests","status":429}"#,
        ),
        "/api/v2/users/limited-bare" => json("429 Too Many Requests", "", r#"{"code":"too.many.requests","status":429}"#),
        "/api/v2/users/limited-garbage" => {
            json("429 Too Many Requests", "retry-after: soon\r\n", r#"{"code":"too.many.requests","status":429}"#)
        }
        _ => return None,
    })
}

async fn handle(mut stream: TcpStream) {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&head);
    let path = text
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .split('?')
        .next()
        .unwrap_or("/")
        .to_owned();
    match answer(&path) {
        Some(response) => {
            let _ = stream.write_all(response.as_bytes()).await;
            let _ = stream.shutdown().await;
        }
        None => tokio::time::sleep(Duration::from_secs(3600)).await,
    }
}

async fn raw_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(handle(stream));
        }
    });
    url
}

async fn client() -> GenesysClient {
    let config =
        ClientConfig::for_base_url(&raw_server().await, "id", SecretString::from("secret"))
            .unwrap()
            .with_request_timeout(Duration::from_secs(2));
    GenesysClient::new(config).unwrap()
}

#[tokio::test]
async fn an_undecodable_success_body_is_permanent() {
    let client = client().await;
    for path in ["garbage", "wrong-shape"] {
        let err = client.get_user(path).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Permanent, "{path}: {err}");
        assert_eq!(err.status(), Some(200));
        assert!(err.to_string().contains("could not be decoded"), "{err}");
    }
}

#[tokio::test]
async fn a_truncated_body_is_transient() {
    let err = client().await.get_user("truncated").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient, "{err}");
    assert_eq!(err.status(), Some(200));
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_as_transient() {
    let err = client().await.get_user("hang").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient, "{err}");
    assert!(err.to_string().contains("timed out"), "{err}");
}

#[tokio::test]
async fn not_implemented_and_redirects_are_permanent() {
    let client = client().await;
    let err = client.get_user("not-implemented").await.unwrap_err();
    assert_eq!(
        (err.kind(), err.status()),
        (ErrorKind::Permanent, Some(501))
    );
    let err = client.get_user("redirect").await.unwrap_err();
    assert_eq!(
        (err.kind(), err.status()),
        (ErrorKind::Permanent, Some(302))
    );
    assert!(err.to_string().contains("GENESYS_API_URL"), "{err}");
}

#[tokio::test]
async fn a_non_json_error_page_is_quoted_briefly() {
    let err = client().await.get_user("bad-gateway").await.unwrap_err();
    assert_eq!(
        (err.kind(), err.status()),
        (ErrorKind::Transient, Some(502))
    );
    assert!(err.body().is_none());
    assert!(
        err.message().contains("502 Bad Gateway"),
        "{}",
        err.message()
    );
}

#[tokio::test]
async fn retry_after_as_a_date_absent_or_unreadable() {
    let client = client().await;
    let err = client.get_user("limited-date").await.unwrap_err();
    let ErrorKind::RateLimited {
        retry_after,
        exceeds_daily_limit,
    } = err.kind()
    else {
        panic!("{err}")
    };
    assert!(
        retry_after > Duration::from_secs(100) && retry_after <= Duration::from_secs(120),
        "{retry_after:?}"
    );
    assert!(!exceeds_daily_limit);
    for path in ["limited-bare", "limited-garbage"] {
        let err = client.get_user(path).await.unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::RateLimited {
                retry_after: Duration::from_secs(3),
                exceeds_daily_limit: false
            },
            "{path}"
        );
    }
}
