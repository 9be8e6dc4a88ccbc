//! `mfacheck serve` against an attacker (SPEC §4 "Hardening of `serve`"): the
//! gate can't be bypassed, poisoned or frozen. The built binary on a loopback port, raw sockets.
#![cfg(feature = "serve")]

use crate::support::serve::*;
use serde_json::Value;
use std::io::{BufReader, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

const NOW: &str = "2026-01-01T00:00:00Z";

/// No run of 13 characters of `token` in `text`: at most its 12-character preview.
fn assert_no_token(text: &str, token: &str) {
    for window in token.as_bytes().windows(13) {
        let window = std::str::from_utf8(window).unwrap();
        assert!(!text.contains(window), "token text {window:?} in {text}");
    }
}

// ---- bypass ----

#[test]
fn two_authorization_headers_get_400_and_nothing_is_forwarded() {
    let upstream = Upstream::start();
    let server = Server::start(&["--now", NOW, "--upstream", &upstream.url()]);
    let (mfa, pwd) = (fixture("mfa.jwt"), fixture("password-only.jwt"));
    for headers in [
        format!("Authorization: Bearer {mfa}\r\nAuthorization: Bearer {pwd}\r\n"),
        format!("Authorization: Bearer {mfa}\r\nX-A: b\r\nauthorization: Bearer {mfa}\r\n"),
        format!("Authorization: Bearer {mfa}\r\nAUTHORIZATION: Basic dXNlcjpwYXNz\r\n"),
    ] {
        let response = server.get_with_headers("/v1/customers", &headers);
        assert_eq!(response.status(), 400, "{}", response.status_line);
        assert_no_token(&String::from_utf8_lossy(&response.body), &mfa);
    }
    assert_eq!(upstream.count(), 0, "refused before the upstream");
    // One header still passes.
    assert_eq!(server.get_with_token("/v1/customers", &mfa).status(), 200);
    assert_eq!(upstream.count(), 1);
}

#[test]
fn options_star_and_connect_are_answered_here_never_forwarded() {
    let upstream = Upstream::start();
    let mut server = Server::start(&["--now", NOW, "--upstream", &upstream.url(), "--upstream-timeout", "2"]);
    let token = fixture("mfa.jwt");
    let auth = format!("Authorization: Bearer {token}\r\n");
    for target in [
        format!("OPTIONS * HTTP/1.1\r\nHost: x\r\n{auth}\r\n"),
        format!("CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost: 127.0.0.1:1\r\n{auth}\r\n"),
        format!("CONNECT {} HTTP/1.1\r\nHost: {}\r\n{auth}\r\n", upstream.addr, upstream.addr),
    ] {
        let response = server.request(&target);
        assert_eq!(response.status(), 405, "{target:?}: {}", response.status_line);
    }
    // --report-only forwards everything else, never these.
    let report_only = Server::start(&["--upstream", &upstream.url(), "--report-only"]);
    assert_eq!(report_only.request("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n").status(), 405);
    assert_eq!(upstream.count(), 0);
    let lines = server.log_lines(3);
    assert!(lines.iter().all(|l| l["status"] == 405 && l["action"] == "answered"), "{lines:?}");
}

#[test]
fn paths_that_climb_out_of_the_upstream_base_get_400() {
    let upstream = Upstream::start();
    let server = Server::start(&["--now", NOW, "--upstream", &format!("{}/base/", upstream.url())]);
    let token = fixture("mfa.jwt");
    for path in [
        "/../admin",
        "/v1/../../admin",
        "/..",
        "/%2e%2e/admin",
        "/%2E%2E/admin",
        "/.%2e/admin",
        "/%2e./admin",
        "/..%2fadmin",
        "/..%2Fadmin",
        "/v1%2f..%2f..%2fadmin",
        "/..\\admin",
        "/v1\\..\\admin",
        "/..%5cadmin",
        "/%252e%252e/admin",
        "/..;/admin",
        "/v1/..?x=1",
    ] {
        let response = server.get_with_token(path, &token);
        assert_eq!(response.status(), 400, "{path}: {}", response.status_line);
    }
    assert_eq!(upstream.count(), 0, "none reached the upstream");
    // Dots that climb nothing pass.
    for path in ["/v1/a..b/.well-known/x", "/v1/.../x", "/v1/x..", "/v1/%2e/x"] {
        let response = server.get_with_token(path, &token);
        assert_eq!(response.status(), 200, "{path}: {}", response.status_line);
    }
}

#[test]
fn an_upstream_url_with_credentials_is_refused_at_start() {
    for url in
        ["http://user:hunter2@127.0.0.1:9/", "http://hunter2@127.0.0.1:9", "http://user:hunter2@127.0.0.1:9/base"]
    {
        let out = assert_cmd::Command::cargo_bin("mfacheck")
            .unwrap()
            .args(["serve", "--listen", "127.0.0.1:0", "--upstream", url])
            .timeout(Duration::from_secs(10))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{url}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("credentials"), "{url}: {stderr}");
        assert!(!stderr.contains("hunter2"), "{url}: {stderr}");
        assert!(!stderr.contains("listening"), "{url}: {stderr}");
    }
}

#[test]
fn bad_gateway_bodies_never_echo_credentials() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let server = Server::start(&["--upstream", &format!("http://{closed}/"), "--upstream-timeout", "1"]);
    let token = fixture("mfa.jwt");
    // The client's own absolute-form target carries credentials: they go nowhere.
    let response = server.request(&format!(
        "GET http://user:hunter2@127.0.0.1:1/x HTTP/1.1\r\nHost: user:hunter2@127.0.0.1:1\r\nAuthorization: Bearer {token}\r\n\r\n"
    ));
    assert_eq!(response.status(), 502, "{}", response.status_line);
    let body = String::from_utf8_lossy(&response.body);
    assert!(!body.contains("hunter2") && !body.contains('@'), "{body}");
    assert_no_token(&body, &token);
}

// ---- the page: DNS rebinding and cross-origin posts ----

fn page_request(server: &Server, host: &str) -> u16 {
    server.request(&format!("GET /_mfacheck/ HTTP/1.1\r\nHost: {host}\r\n\r\n")).status()
}

fn check_post(server: &Server, host: &str, content_type: Option<&str>, body: &str) -> HttpResponse {
    let content_type = content_type.map(|t| format!("Content-Type: {t}\r\n")).unwrap_or_default();
    server.request(&format!(
        "POST /_mfacheck/check HTTP/1.1\r\nHost: {host}\r\n{content_type}Content-Length: {}\r\n\r\n{body}",
        body.len()
    ))
}

#[test]
fn the_page_and_its_api_answer_only_loopback_and_served_hosts() {
    let server = Server::start(&["--now", NOW]);
    let port = server.addr.port();
    let json = serde_json::json!({"text": fixture("mfa.jwt")}).to_string();
    let served = server.addr.to_string();
    for host in [
        "localhost".to_owned(),
        format!("localhost:{port}"),
        "LocalHost:8400".to_owned(),
        "127.0.0.1".to_owned(),
        served.clone(),
        "[::1]".to_owned(),
        format!("[::1]:{port}"),
    ] {
        assert_eq!(page_request(&server, &host), 200, "{host}");
        assert_eq!(check_post(&server, &host, Some("application/json"), &json).status(), 200, "{host}");
    }
    for host in [
        "attacker.example".to_owned(),
        format!("attacker.example:{port}"),
        "localhost.attacker.example".to_owned(),
        "127.0.0.1.nip.io".to_owned(),
        "user@localhost".to_owned(),
        "localhost:80x".to_owned(),
        "127.0.0.2".to_owned(),
        format!("127.0.0.1:{port}, attacker.example"),
        "".to_owned(),
    ] {
        assert_eq!(page_request(&server, &host), 421, "{host:?}");
        let response = check_post(&server, &host, Some("application/json"), &json);
        assert_eq!(response.status(), 421, "{host:?}");
        assert!(!String::from_utf8_lossy(&response.body).contains("\"result\""), "{host:?}: no verdict");
    }
    // Two Host headers, one of them good; and no Host at all (HTTP/1.0).
    assert_ne!(
        server.request("GET /_mfacheck/ HTTP/1.1\r\nHost: localhost\r\nHost: attacker.example\r\n\r\n").status(),
        200
    );
    let raw = String::from_utf8_lossy(&server.raw("GET /_mfacheck/ HTTP/1.0\r\n\r\n")).into_owned();
    assert!(raw.starts_with("HTTP/1.0 421 "), "{raw}");
    // An absolute-form target names the host too.
    let absolute = server.request("GET http://attacker.example/_mfacheck/ HTTP/1.1\r\nHost: localhost\r\n\r\n");
    assert_eq!(absolute.status(), 421);
}

#[test]
fn the_check_endpoint_takes_only_json() {
    let mut server = Server::start(&["--now", NOW]);
    let token = fixture("password-only.jwt");
    let host = server.addr.to_string();
    // A cross-origin form or a no-cors fetch can send these without a preflight: never judged.
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
        Some("text/plain; a=application/json"),
        Some("application/jsonx"),
        None,
    ] {
        let response = check_post(&server, &host, content_type, &format!("{{\"text\":\"{token}\"}}"));
        assert_eq!(response.status(), 415, "{content_type:?}");
    }
    let json = serde_json::json!({"text": format!("Authorization: Bearer {token}\n")}).to_string();
    for content_type in ["application/json", "Application/JSON; charset=utf-8"] {
        let response = check_post(&server, &host, Some(content_type), &json);
        assert_eq!(response.status(), 200, "{content_type}");
        let data: Value = serde_json::from_slice(&response.body).unwrap();
        assert_eq!(data["results"][0]["result"]["mfa"], "missing");
    }
    // JSON that is not the page's request is refused, not judged.
    for body in ["\"just a string\"", "{\"token\": 1}", "not json"] {
        assert_eq!(check_post(&server, &host, Some("application/json"), body).status(), 400, "{body}");
    }
    let lines = server.log_lines(11);
    let judged = lines.iter().filter(|l| !l["result"].is_null()).count();
    assert_eq!(judged, 2, "only the JSON posts were judged: {lines:?}");
    assert!(lines[..6].iter().all(|l| l["status"] == 415));
}

// ---- freezing ----

/// 300 connections that each sent a request's headers but not its body, against a server
/// allowed 256 file descriptors: a new client is still answered within 5 s.
#[test]
fn bodiless_requests_cannot_starve_a_new_client_of_descriptors() {
    let upstream = Upstream::start();
    let token = fixture("mfa.jwt");
    let json_host = "localhost";
    let scenarios: [(&str, Vec<String>, String); 3] = [
        ("gate", vec![], "POST /v1/carts HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n".to_owned()),
        (
            "page",
            vec![],
            format!(
                "POST /_mfacheck/check HTTP/1.1\r\nHost: {json_host}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
            ),
        ),
        (
            "proxy",
            vec!["--upstream".to_owned(), upstream.url()],
            format!(
                "POST /upload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Length: 1000\r\n\r\n"
            ),
        ),
    ];
    for (name, args, bodiless) in scenarios {
        let mut all = vec!["--now", NOW];
        all.extend(args.iter().map(String::as_str));
        let mut server = Server::launch(Launch { nofile: Some(256), ..Launch::default() }, &all);
        let hung: Vec<TcpStream> = (0..300)
            .filter_map(|_| {
                let mut stream = TcpStream::connect(server.addr).ok()?;
                let _ = stream.write_all(bodiless.as_bytes());
                Some(stream)
            })
            .collect();
        assert!(hung.len() >= 256, "{name}: only {} connections opened", hung.len());
        std::thread::sleep(Duration::from_millis(500));
        let started = Instant::now();
        let mut stream = TcpStream::connect(server.addr).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        write!(stream, "GET /v1/customers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n").unwrap();
        let response = read_response(&mut BufReader::new(stream));
        assert_eq!(response.status(), 200, "{name}");
        assert!(started.elapsed() < Duration::from_secs(5), "{name}: answered after {:?}", started.elapsed());
        assert!(server.child.try_wait().unwrap().is_none(), "{name}: the server is still running");
        drop(hung);
        server.stop();
    }
}

/// So few descriptors that accept itself fails (EMFILE) before the cap is reached: the server
/// backs off, frees the connection that has waited longest, and goes on.
#[test]
fn out_of_descriptors_the_server_frees_one_and_goes_on() {
    let mut server = Server::launch(Launch { nofile: Some(24), ..Launch::default() }, &["--now", NOW]);
    let hung: Vec<TcpStream> = (0..60)
        .filter_map(|_| {
            let mut stream = TcpStream::connect(server.addr).ok()?;
            // The page reads a body before it answers: these wait for one.
            let _ = stream.write_all(
                b"POST /_mfacheck/check HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
                  Content-Length: 1000\r\n\r\n",
            );
            Some(stream)
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let started = Instant::now();
    let response = server.get_with_token("/v1/customers", &fixture("mfa.jwt"));
    assert_eq!(response.status(), 200);
    assert!(started.elapsed() < Duration::from_secs(5), "answered after {:?}", started.elapsed());
    assert!(server.child.try_wait().unwrap().is_none(), "still running");
    drop(hung);
    server.stop();
    let stderr = server.stderr_until_closed(Duration::from_secs(5));
    assert!(stderr.iter().filter(|l| l.contains("accept failed")).count() <= 1, "said once: {stderr:?}");
}

#[test]
fn a_request_whose_body_never_comes_is_closed_at_the_deadline() {
    let server = Server::start(&["--request-timeout", "2"]);
    let mut stream = TcpStream::connect(server.addr).unwrap();
    stream
        .write_all(b"POST /_mfacheck/check HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
        .unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let started = Instant::now();
    let mut rest = Vec::new();
    // EOF (or a reset) once the server closes it.
    let _ = std::io::Read::read_to_end(&mut stream, &mut rest);
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(5), "closed after {elapsed:?}");
}

/// `serve | sleep 120`: stdout's reader stalls. Requests are still answered, the lines that
/// can't be written are dropped and counted, and SIGTERM stops the server.
#[test]
fn a_stalled_log_reader_never_stops_serving() {
    let mut server = Server::launch(Launch { read_log: false, ..Launch::default() }, &[]);
    let mut stream = TcpStream::connect(server.addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    // Far more than the pipe and the log's queue hold.
    for i in 0..8000 {
        // One write a request: pieces would wait on Nagle's algorithm and delayed ACKs.
        stream.write_all(format!("GET /{i} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes()).unwrap();
        let response = read_response(&mut reader);
        assert_eq!(response.status(), 401, "request {i}");
    }
    server.signal("TERM");
    let status = wait_timeout(&mut server.child, Duration::from_secs(10)).expect("exits after SIGTERM");
    assert_eq!(status.code(), Some(0));
    let stderr = server.stderr_until_closed(Duration::from_secs(5)).join("\n");
    let line = stderr.lines().find(|l| l.contains("log lines dropped")).unwrap_or_else(|| panic!("{stderr}"));
    let dropped: u64 = line.split_whitespace().find_map(|w| w.parse().ok()).expect("a count");
    assert!((1000..=8000).contains(&dropped), "{dropped}: {stderr}");
}

// ---- poisoning the log ----

#[test]
fn a_token_in_the_url_is_redacted_in_the_log() {
    let mut server = Server::start(&["--now", NOW]);
    let token = fixture("mfa.jwt");
    let encoded: String = token.chars().map(|c| if c == 'J' { "%4A".to_owned() } else { c.to_string() }).collect();
    let paths = [
        format!("/x/{token}"),
        format!("/x/{token}/y"),
        format!("/x/{token}?access_token={token}"),
        format!("/x?access_token={token}"),
        format!("/x/Bearer%20{token}"),
        format!("/x/{encoded}"),
    ];
    for path in &paths {
        server.get_with_headers(path, "");
    }
    let lines = server.log_lines(paths.len());
    assert_eq!(lines[1]["path"].as_str().unwrap().split('/').nth(1), Some("x"), "{}", lines[1]);
    assert!(lines[1]["path"].as_str().unwrap().ends_with("/y"), "{}", lines[1]);
    let log = server.stop();
    assert_no_token(&log, &token);
}

// ---- framing ----

#[test]
fn a_bad_chunk_size_is_400() {
    let upstream = Upstream::start();
    let server = Server::start(&["--now", NOW, "--upstream", &upstream.url()]);
    let response = server.request(
        "POST /_mfacheck/check HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
    );
    assert_eq!(response.status(), 400, "the page: {}", response.status_line);
    let token = fixture("mfa.jwt");
    let response = server.request(&format!(
        "POST /upload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{{}}\r\n0\r\n\r\n"
    ));
    assert_eq!(response.status(), 400, "the proxy: {}", response.status_line);
}

// ---- exposure ----

#[test]
fn listening_beyond_loopback_warns_who_can_reach_it() {
    for listen in ["0.0.0.0:0", "[::]:0"] {
        let mut server = Server::launch(Launch { listen, ..Launch::default() }, &[]);
        server.stop();
        let stderr = server.stderr_until_closed(Duration::from_secs(5)).join("\n");
        assert!(stderr.contains("warning") && stderr.contains("any host"), "{listen}: {stderr}");
    }
    let mut server = Server::start(&[]);
    server.stop();
    let stderr = server.stderr_until_closed(Duration::from_secs(5)).join("\n");
    assert!(!stderr.contains("warning"), "loopback: {stderr}");
}

// ---- what held: keep it ----

#[test]
fn smuggling_and_absolute_form_targets_reach_the_upstream_as_one_judged_request() {
    let upstream = Upstream::start();
    let server = Server::start(&["--now", NOW, "--upstream", &upstream.url()]);
    let token = fixture("mfa.jwt");
    let auth = format!("Authorization: Bearer {token}\r\n");
    let smuggled = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";
    for framing in [
        format!("Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n{smuggled}"),
        format!("Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n{smuggled}"),
        format!("Content-Length: 0\r\nContent-Length: 40\r\n\r\n{smuggled}"),
        format!("Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n{smuggled}"),
        format!("Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n{smuggled}"),
    ] {
        let before = upstream.count();
        let raw = server.raw(&format!("POST /a HTTP/1.1\r\nHost: x\r\n{auth}{framing}"));
        let text = String::from_utf8_lossy(&raw);
        // Refused, or one request forwarded; the token-less one inside it never reaches the upstream.
        assert!(upstream.count() <= before + 1, "{framing:?}: {text}");
        assert!(!text.contains("\"uri\":\"/smuggled"), "{framing:?}: {text}");
    }
    let response = server.request(&format!("GET http://elsewhere.example:81/v1 HTTP/1.1\r\nHost: x\r\n{auth}\r\n"));
    let echo: Value = serde_json::from_slice(&response.body).unwrap();
    assert_eq!(echo["uri"], "/v1");
    assert_eq!(echo["headers"]["host"], upstream.addr.to_string());
}
