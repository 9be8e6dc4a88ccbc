//! `mfacheck serve` (issue 13, SPEC §4), run as a user runs it: the built binary on an ephemeral
//! loopback port, real clients over loopback (raw sockets where bytes matter).
#![cfg(feature = "serve")]

mod serve_support;

use serde_json::Value;
use serve_support::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

const NOW: &str = "2026-01-01T00:00:00Z";

fn mfacheck_check_json(token_file: &str, extra: &[&str]) -> Value {
    let out = assert_cmd::Command::cargo_bin("mfacheck")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["check", "--format", "json", "--now", NOW])
        .args(extra)
        .arg(format!("@fixtures/{token_file}"))
        .output()
        .unwrap();
    let mut all: Value = serde_json::from_slice(&out.stdout).unwrap();
    all[0].take()
}

// ---- gate ----

#[test]
fn a_password_only_token_gets_partner_centers_401_byte_for_byte() {
    let server = Server::start(&["--now", NOW]);
    let token = fixture("password-only.jwt");
    let raw = server.raw(&format!("GET /v1/customers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n"));
    assert_eq!(
        String::from_utf8(raw).unwrap(),
        "HTTP/1.1 401 Unauthorized - MFA required\r\n\
         Transfer-Encoding: chunked\r\n\
         Request-Context: appId=cid-v1:03ce8ca8-8373-4021-8f25-d5dd45c7b12f\r\n\
         WWW-Authenticate: Bearer error=\"invalid_token\"\r\n\
         Date: Thu, 01 Jan 2026 00:00:00 GMT\r\n\
         \r\n\
         0\r\n\
         \r\n"
    );
}

#[test]
fn without_now_the_401_carries_the_date_of_the_request() {
    let server = Server::start(&[]);
    let before = jiff::Timestamp::now().as_second();
    let token = fixture("password-only.jwt");
    let raw = server.raw(&format!("GET / HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n"));
    let after = jiff::Timestamp::now().as_second();
    let text = String::from_utf8(raw).unwrap();
    let date = text.lines().find_map(|l| l.strip_prefix("Date: ")).expect("a Date line");
    let times: Vec<String> = (before..=after)
        .map(|t| mfacheck::internal::clock::http_date(jiff::Timestamp::from_second(t).unwrap()))
        .collect();
    assert!(times.iter().any(|t| t == date), "{date} not in {times:?}");
    assert!(text.starts_with("HTTP/1.1 401 Unauthorized - MFA required\r\n"), "{text}");
}

#[test]
fn no_bearer_token_gets_a_plain_401() {
    let server = Server::start(&[]);
    for auth in ["", "Authorization: Basic dXNlcjpwYXNz\r\n", "Authorization: Bearer \r\n"] {
        let response = server.request(&format!("GET /v1/customers HTTP/1.1\r\nHost: x\r\n{auth}\r\n"));
        assert_eq!(response.status_line, "HTTP/1.1 401 Unauthorized", "{auth}");
        assert_eq!(response.header("www-authenticate"), Some("Bearer"), "{auth}");
    }
}

#[test]
fn a_compliant_token_gets_200_and_the_result_object_of_check() {
    let server = Server::start(&["--now", NOW]);
    let response = server.get_with_token("/v1/customers?size=1", &fixture("mfa.jwt"));
    assert_eq!(response.status_line, "HTTP/1.1 200 OK");
    assert_eq!(response.header("content-type"), Some("application/json"));
    let mut served: Value = serde_json::from_slice(&response.body).unwrap();
    let mut checked = mfacheck_check_json("mfa.jwt", &[]);
    // The same rule, the same result; only the source differs.
    assert_eq!(served["source"], "request");
    served["source"].take();
    checked["source"].take();
    assert_eq!(served, checked);
    // An app-only token needs no MFA.
    let response = server.get_with_token("/", &fixture("app-only.jwt"));
    assert_eq!(response.status_line, "HTTP/1.1 200 OK");
}

#[test]
fn check_options_apply_audience_and_valid_time() {
    let server = Server::start(&["--now", NOW, "--audience", "https://graph.microsoft.com"]);
    let response = server.get_with_token("/", &fixture("mfa.jwt"));
    assert_eq!(response.status_line, "HTTP/1.1 401 Unauthorized");
    assert_eq!(response.header("www-authenticate"), Some("Bearer error=\"invalid_token\""));
    let served: Value = serde_json::from_slice(&response.body).unwrap();
    let checked = mfacheck_check_json("mfa.jwt", &["--audience", "https://graph.microsoft.com"]);
    assert_eq!(
        (served["compliant"].clone(), served["findings"].clone()),
        (Value::Bool(false), checked["findings"].clone())
    );

    let server = Server::start(&["--now", "2200-01-01T00:00:00Z", "--require-valid-time"]);
    let response = server.get_with_token("/", &fixture("mfa.jwt"));
    assert_eq!(response.status_line, "HTTP/1.1 401 Unauthorized");
    let served: Value = serde_json::from_slice(&response.body).unwrap();
    assert_eq!(served["compliant"], false);
}

#[test]
fn not_a_token_is_refused_with_the_reason() {
    let server = Server::start(&[]);
    let response = server.get_with_token("/", "not-a-token-at-all");
    assert_eq!(response.status_line, "HTTP/1.1 401 Unauthorized");
    let served: Value = serde_json::from_slice(&response.body).unwrap();
    assert!(served["error"]["code"].is_string(), "{served}");
}

#[test]
fn keep_alive_serves_refusals_and_answers_on_one_connection() {
    let server = Server::start(&["--now", NOW]);
    let mut stream = TcpStream::connect(server.addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
    for (file, status) in
        [("password-only.jwt", 401), ("mfa.jwt", 200), ("federated-no-mfa.jwt", 401), ("mfa.jwt", 200)]
    {
        let token = fixture(file);
        write!(stream, "GET /x HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n").unwrap();
        let response = read_response(&mut reader);
        assert!(response.status_line.starts_with(&format!("HTTP/1.1 {status} ")), "{file}: {}", response.status_line);
    }
}

// ---- log ----

#[test]
fn each_request_is_one_ndjson_line_and_the_token_never_appears() {
    let mut server = Server::start(&["--now", NOW]);
    let pwd = fixture("password-only.jwt");
    let mfa = fixture("mfa.jwt");
    server.get_with_token("/v1/customers?secret=1", &pwd);
    server.get_with_token("/v1/invoices", &mfa);
    server.request("POST /v1/carts HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}");
    let lines = server.log_lines(3);
    let fields = |l: &Value| {
        (
            l["method"].as_str().unwrap().to_owned(),
            l["path"].as_str().unwrap().to_owned(),
            l["status"].as_u64().unwrap(),
        )
    };
    assert_eq!(fields(&lines[0]), ("GET".into(), "/v1/customers".into(), 401));
    assert_eq!(fields(&lines[1]), ("GET".into(), "/v1/invoices".into(), 200));
    assert_eq!(fields(&lines[2]), ("POST".into(), "/v1/carts".into(), 401));
    assert_eq!(lines[0]["result"]["mfa"], "missing");
    assert_eq!(lines[0]["result"]["findings"][0]["code"], "password-only");
    assert_eq!(lines[1]["result"]["compliant"], true);
    assert!(lines[2]["result"].is_null());
    for line in &lines {
        assert!(line["time"].as_str().unwrap().parse::<jiff::Timestamp>().is_ok(), "{line}");
    }
    let log = server.stop();
    for token in [&pwd, &mfa] {
        // No run of 13 characters of a token anywhere in the log.
        for window in token.as_bytes().windows(13) {
            assert!(!log.contains(std::str::from_utf8(window).unwrap()), "token text in the log");
        }
    }
    assert!(!log.contains("secret=1"), "the query is not logged");
}

#[test]
fn redact_masks_the_user_in_log_and_answers() {
    let mut server = Server::start(&["--now", NOW, "--redact"]);
    let response = server.get_with_token("/", &fixture("mfa.jwt"));
    let served: Value = serde_json::from_slice(&response.body).unwrap();
    assert!(served["token"]["user"].as_str().unwrap().starts_with("redacted:"), "{served}");
    let line = &server.log_lines(1)[0];
    assert!(line["result"]["token"]["user"].as_str().unwrap().starts_with("redacted:"), "{line}");
    let log = server.stop();
    assert!(!log.contains("Isaiah.Williams"), "{log}");
}

#[test]
fn sigterm_as_soon_as_it_listens_stops_it_cleanly() {
    // The first stderr line says it listens: a script may stop it the moment it reads that.
    for _ in 0..20 {
        let mut server = Server::start(&["--quiet"]);
        assert_eq!(server.stop(), "");
    }
}

#[test]
fn quiet_logs_nothing() {
    let mut server = Server::start(&["--quiet"]);
    server.get_with_token("/", &fixture("mfa.jwt"));
    assert_eq!(server.stop(), "");
}

// ---- page ----

#[test]
fn root_redirects_to_the_page_which_forbids_everything_external() {
    let server = Server::start(&[]);
    let response = server.request("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(response.status_line, "HTTP/1.1 302 Found");
    assert_eq!(response.header("location"), Some("/_mfacheck/"));
    let page = server.request("GET /_mfacheck/ HTTP/1.1\r\nHost: localhost\r\n\r\n");
    assert_eq!(page.status_line, "HTTP/1.1 200 OK");
    let csp = page.header("content-security-policy").expect("a CSP");
    assert!(csp.starts_with("default-src 'none'; script-src 'sha256-"), "{csp}");
    assert!(csp.contains("connect-src 'self'") && !csp.contains("unsafe"), "{csp}");
    let html = String::from_utf8(page.body).unwrap();
    for external in ["http://", "https://", "//"] {
        let refs = ["src=\"", "href=\"", "url("].map(|attr| format!("{attr}{external}"));
        assert!(refs.iter().all(|r| !html.contains(r.as_str())), "external reference {external}");
    }
}

#[test]
fn the_page_check_endpoint_explains_a_pasted_token() {
    let mut server = Server::start(&["--now", NOW]);
    let token = fixture("password-only.jwt");
    // What the page posts: the pasted text, as JSON.
    let body = serde_json::json!({"text": format!("Authorization: Bearer {token}\n")}).to_string();
    let response = server.request(&format!(
        "POST /_mfacheck/check HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    ));
    assert_eq!(response.status_line, "HTTP/1.1 200 OK");
    let data: Value = serde_json::from_slice(&response.body).unwrap();
    assert_eq!(data["result"]["mfa"], "missing");
    assert_eq!(data["header"]["alg"], "RS256");
    let amr = data["claims"].as_array().unwrap().iter().find(|c| c["name"] == "amr").expect("amr explained");
    assert!(amr["meaning"].as_str().unwrap().contains("pwd = password"), "{amr}");
    // The text is `check --explain`'s, without colours.
    let explained = assert_cmd::Command::cargo_bin("mfacheck")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["check", "--explain", "--color", "never", "--now", NOW, "@fixtures/password-only.jwt"])
        .output()
        .unwrap();
    let cli = String::from_utf8(explained.stdout).unwrap();
    let page = data["text"].as_str().unwrap();
    let after_source = |t: &str| t.split_once("  ").map(|(_, rest)| rest.to_owned()).unwrap();
    assert_eq!(after_source(page), after_source(&cli));
    let line = &server.log_lines(1)[0];
    assert_eq!((line["path"].as_str(), line["action"].as_str()), (Some("/_mfacheck/check"), Some("page")));
}

// ---- robustness ----

#[test]
fn headers_over_64_kib_get_431() {
    let server = Server::start(&[]);
    let big = "a".repeat(70 * 1024);
    let response = server.request(&format!("GET / HTTP/1.1\r\nHost: x\r\nX-Big: {big}\r\n\r\n"));
    assert!(response.status_line.starts_with("HTTP/1.1 431"), "{}", response.status_line);
    // Just under the limit passes.
    let fits = "a".repeat(60 * 1024);
    let response = server.get_with_headers("/v1/customers", &format!("X-Big: {fits}\r\n"));
    assert_eq!(response.status_line, "HTTP/1.1 401 Unauthorized");
}

#[test]
fn idle_and_slow_connections_are_closed_after_the_header_timeout() {
    let server = Server::start(&["--header-timeout", "1"]);
    let started = std::time::Instant::now();
    // Idle: connect, send nothing.
    let mut idle = TcpStream::connect(server.addr).unwrap();
    // Slowloris: a header line, then a byte now and then, never the end of the headers.
    let mut slow = TcpStream::connect(server.addr).unwrap();
    slow.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap();
    for _ in 0..4 {
        std::thread::sleep(Duration::from_millis(400));
        if slow.write_all(b"X-A: b\r\n").is_err() {
            break;
        }
    }
    for stream in [&mut idle, &mut slow] {
        stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut rest = Vec::new();
        let _ = stream.read_to_end(&mut rest); // EOF (or a reset) once the server closes it
    }
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(4), "closed after {elapsed:?}");
}

#[test]
fn unknown_options_and_inputs_are_usage_errors() {
    let out = assert_cmd::Command::cargo_bin("mfacheck").unwrap().args(["serve", "eyJhbGciOi"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = assert_cmd::Command::cargo_bin("mfacheck").unwrap().args(["serve", "--report-only"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "--report-only needs --upstream");
    let out = assert_cmd::Command::cargo_bin("mfacheck")
        .unwrap()
        .args(["serve", "--upstream", "ftp://127.0.0.1/"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("only http://"));
}

// ---- proxy ----

#[test]
fn compliant_requests_are_forwarded_and_answers_come_back_as_they_are() {
    let upstream = Upstream::start();
    let mut server = Server::start(&["--now", NOW, "--upstream", &format!("{}/base/", upstream.url())]);
    let token = fixture("mfa.jwt");
    let body = "{\"cart\":1}";
    let response = server.request(&format!(
        "PUT /v1/carts/7?expand=true&x=%20y HTTP/1.1\r\nHost: app.example\r\nAuthorization: Bearer {token}\r\n\
         X-Request-Id: abc\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: keep-alive\r\n\r\n{body}",
        body.len()
    ));
    assert_eq!(response.status_line, "HTTP/1.1 200 OK");
    let echo: Value = serde_json::from_slice(&response.body).unwrap();
    assert_eq!(echo["method"], "PUT");
    assert_eq!(echo["uri"], "/base/v1/carts/7?expand=true&x=%20y");
    assert_eq!(echo["headers"]["authorization"], format!("Bearer {token}"));
    assert_eq!(echo["headers"]["x-request-id"], "abc");
    assert_eq!(echo["headers"]["content-type"], "application/json");
    assert_eq!(echo["headers"]["host"], upstream.addr.to_string());
    assert!(echo["headers"].get("connection").is_none(), "hop-by-hop headers stay on their hop");
    assert_eq!(echo["length"], body.len());

    // The upstream's own status line and header case come back unchanged.
    let raw = server.raw(&format!("GET /teapot HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n"));
    let raw = String::from_utf8(raw).unwrap();
    assert!(raw.starts_with("HTTP/1.1 418 I'm short and stout\r\n"), "{raw}");
    assert!(raw.ends_with("short and stout"), "{raw}");

    let lines = server.log_lines(2);
    assert_eq!((lines[0]["action"].as_str(), lines[0]["status"].as_u64()), (Some("forwarded"), Some(200)));
    assert_eq!(lines[1]["status"], 418);
}

#[test]
fn non_compliant_requests_never_reach_the_upstream() {
    let upstream = Upstream::start();
    let server = Server::start(&["--now", NOW, "--upstream", &upstream.url()]);
    let response = server.get_with_token("/v1/customers", &fixture("password-only.jwt"));
    assert_eq!(response.status_line, "HTTP/1.1 401 Unauthorized - MFA required");
    let response = server.get_with_headers("/v1/customers", "");
    assert_eq!(response.status_line, "HTTP/1.1 401 Unauthorized");
    // With an upstream, / belongs to the app: a token-less request is refused, not redirected.
    assert_eq!(server.get_with_headers("/", "").status(), 401);
    assert_eq!(upstream.count(), 0);
    assert_eq!(server.get_with_token("/v1/customers", &fixture("mfa.jwt")).status(), 200);
    assert_eq!(upstream.count(), 1);
}

#[test]
fn report_only_forwards_everything_and_logs_the_verdicts() {
    let upstream = Upstream::start();
    let mut server = Server::start(&["--now", NOW, "--upstream", &upstream.url(), "--report-only"]);
    assert_eq!(server.get_with_token("/a", &fixture("password-only.jwt")).status(), 200);
    assert_eq!(server.get_with_headers("/b", "").status(), 200);
    assert_eq!(server.get_with_token("/c", &fixture("mfa.jwt")).status(), 200);
    assert_eq!(upstream.count(), 3);
    let lines = server.log_lines(3);
    assert!(lines.iter().all(|l| l["action"] == "forwarded" && l["status"] == 200), "{lines:?}");
    assert_eq!(lines[0]["result"]["mfa"], "missing");
    assert_eq!(lines[0]["result"]["response"]["status"], 401, "the log says what Partner Center would answer");
    assert!(lines[1]["result"].is_null());
    assert_eq!(lines[2]["result"]["compliant"], true);
}

#[test]
fn a_bad_upstream_gets_502_with_a_one_line_reason_never_a_hang() {
    // Nothing listens: connection refused.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let server = Server::start(&["--upstream", &format!("http://{closed}"), "--upstream-timeout", "1"]);
    let started = std::time::Instant::now();
    let response = server.get_with_token("/", &fixture("mfa.jwt"));
    assert_eq!(response.status(), 502);
    let reason = String::from_utf8(response.body).unwrap();
    assert_eq!(reason.trim_end().lines().count(), 1, "{reason}");
    assert!(reason.contains("refused"), "{reason}");
    // Listens but never answers: the upstream timeout.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let server =
        Server::start(&["--upstream", &format!("http://{}", silent.local_addr().unwrap()), "--upstream-timeout", "1"]);
    let response = server.get_with_token("/", &fixture("mfa.jwt"));
    assert_eq!(response.status(), 502);
    assert!(String::from_utf8_lossy(&response.body).contains("no answer within 1s"));
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
}

/// A 100 MB upload and a 100 MB download through the proxy, read and written as they go: the
/// server's peak memory stays far below the bodies' size.
#[test]
fn hundred_megabyte_bodies_stream_through_in_constant_memory() {
    const SIZE: u64 = 100 * 1000 * 1000;
    let upstream = Upstream::start();
    let server = Server::start(&["--upstream", &upstream.url()]);
    let token = fixture("app-only.jwt");
    let before = server.peak_rss_kib();

    let mut stream = TcpStream::connect(server.addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    write!(
        stream,
        "POST /upload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Length: {SIZE}\r\n\r\n"
    )
    .unwrap();
    let chunk = vec![b'u'; 1 << 16];
    let mut sent = 0;
    while sent < SIZE {
        let n = (SIZE - sent).min(chunk.len() as u64) as usize;
        stream.write_all(&chunk[..n]).unwrap();
        sent += n as u64;
    }
    let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
    let response = read_response(&mut reader);
    let echo: Value = serde_json::from_slice(&response.body).unwrap();
    assert_eq!(echo["length"], SIZE, "the upstream got every byte");

    write!(stream, "GET /download?bytes={SIZE} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n").unwrap();
    let mut head = String::new();
    loop {
        let mut line = String::new();
        std::io::BufRead::read_line(&mut reader, &mut line).unwrap();
        head.push_str(&line);
        if line == "\r\n" {
            break;
        }
    }
    assert!(head.starts_with("HTTP/1.1 200 OK") && head.contains(&format!("content-length: {SIZE}")), "{head}");
    let mut got = 0u64;
    let mut buf = vec![0; 1 << 16];
    while got < SIZE {
        let n = reader.read(&mut buf).unwrap();
        assert!(n > 0, "closed after {got} bytes");
        got += n as u64;
    }
    assert_eq!(got, SIZE);
    let peak = server.peak_rss_kib();
    println!("peak RSS: {before} KiB before, {peak} KiB after 2 x 100 MB");
    assert!(peak < before + 32 * 1024, "peak RSS grew from {before} KiB to {peak} KiB");
}

#[test]
fn a_thousand_concurrent_connections_are_served() {
    let server = Server::start(&["--now", NOW]);
    let tokens = [fixture("mfa.jwt"), fixture("password-only.jwt")];
    // All open at once, each with a request sent, before any answer is read.
    let mut streams: Vec<TcpStream> = (0..1000)
        .map(|i| {
            let mut stream = TcpStream::connect(server.addr).unwrap();
            stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
            write!(stream, "GET /{i} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\r\n", tokens[i % 2]).unwrap();
            stream
        })
        .collect();
    for (i, stream) in streams.iter_mut().enumerate() {
        let response = read_response(&mut std::io::BufReader::new(stream));
        assert_eq!(response.status(), if i % 2 == 0 { 200 } else { 401 }, "connection {i}");
    }
    let peak = server.peak_rss_kib();
    println!("peak RSS with 1,000 connections: {peak} KiB");
    assert!(peak < 64 * 1024, "{peak} KiB");
}

#[test]
fn sigterm_and_sigint_finish_requests_in_flight_then_exit_0() {
    let upstream = Upstream::start();
    for signal in ["TERM", "INT"] {
        let mut server = Server::start(&["--upstream", &upstream.url()]);
        let addr = server.addr;
        let token = fixture("mfa.jwt");
        let in_flight = std::thread::spawn(move || {
            let mut stream = TcpStream::connect(addr).unwrap();
            stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            write!(stream, "GET /slow HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n").unwrap();
            read_response(&mut std::io::BufReader::new(stream))
        });
        // The upstream takes a second to answer: signal while the request waits for it.
        std::thread::sleep(Duration::from_millis(300));
        server.signal(signal);
        let response = in_flight.join().unwrap();
        assert_eq!((response.status(), response.body.as_slice()), (200, b"slow answer".as_slice()), "SIG{signal}");
        let status = wait_timeout(&mut server.child, Duration::from_secs(10)).expect("exits");
        assert_eq!(status.code(), Some(0), "SIG{signal}");
        assert!(TcpStream::connect(addr).is_err(), "no longer listening after SIG{signal}");
    }
}
