//! `mfacheck serve` (SPEC §4), run as a user runs it: the built binary on an ephemeral
//! loopback port, real clients over loopback (raw sockets where bytes matter).
#![cfg(feature = "serve")]

use crate::support::serve::*;
use serde_json::Value;
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

/// What the page posts for `text`, and the server's answer.
fn paste(server: &Server, text: &str) -> Value {
    let body = serde_json::json!({ "text": text }).to_string();
    let response = server.request(&format!(
        "POST /_mfacheck/check HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    ));
    assert_eq!(response.status_line, "HTTP/1.1 200 OK");
    serde_json::from_slice(&response.body).unwrap()
}

/// `mfacheck check ARGS` with `stdin`, its text output without colours.
fn check_text(args: &[&str], stdin: &str) -> String {
    let out = assert_cmd::Command::cargo_bin("mfacheck")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["check", "--color", "never", "--now", NOW])
        .args(args)
        .write_stdin(stdin)
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

/// The CLI's verdict lines, the source taken out: what the page's headlines must read.
fn cli_headlines(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.starts_with('✔') || l.starts_with('✘'))
        .map(|l| {
            let (glyph, rest) = l.split_once(' ').unwrap();
            format!("{glyph} {}", rest.split_once("  ").unwrap().1)
        })
        .collect()
}

fn headlines(data: &Value) -> Vec<String> {
    data["results"].as_array().unwrap().iter().map(|r| r["headline"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn the_page_check_endpoint_explains_a_pasted_token() {
    let mut server = Server::start(&["--now", NOW]);
    let token = fixture("password-only.jwt");
    // What the page posts: the pasted text, as JSON.
    let data = paste(&server, &format!("Authorization: Bearer {token}\n"));
    let results = data["results"].as_array().unwrap();
    assert_eq!(results.len(), 1);
    let one = &results[0];
    assert_eq!(one["result"]["mfa"], "missing");
    assert_eq!(one["header"]["alg"], "RS256");
    let amr = one["claims"].as_array().unwrap().iter().find(|c| c["name"] == "amr").expect("amr explained");
    assert!(amr["meaning"].as_str().unwrap().contains("pwd = password"), "{amr}");
    // The text is `check --explain`'s, without colours; the note comes once, after it.
    let cli = check_text(&["--explain", "@fixtures/password-only.jwt"], "");
    let page = format!("{}\n{}", one["text"].as_str().unwrap(), data["note"].as_str().unwrap());
    assert!(data["note"].as_str().unwrap().starts_with("Note: "), "{}", data["note"]);
    let after_source = |t: &str| t.split_once("  ").map(|(_, rest)| rest.trim_end().to_owned()).unwrap();
    assert_eq!(after_source(&page), after_source(&cli));
    assert_eq!(headlines(&data), cli_headlines(&cli));
    let line = &server.log_lines(1)[0];
    assert_eq!((line["path"].as_str(), line["action"].as_str()), (Some("/_mfacheck/check"), Some("page")));
}

#[test]
fn the_page_reads_several_tokens_as_check_reads_a_file() {
    let server = Server::start(&["--now", NOW]);
    let (pwd, mfa) = (fixture("password-only.jwt"), fixture("mfa.jwt"));
    // Two tokens on two lines, and a third folded at 80 columns as a terminal or mail wraps it.
    let folded: Vec<String> = mfa.as_bytes().chunks(80).map(|c| String::from_utf8(c.to_vec()).unwrap()).collect();
    let text = format!("{pwd}\n{mfa}\n\n{}\n", folded.join("\n"));
    let data = paste(&server, &text);
    let sources: Vec<&str> =
        data["results"].as_array().unwrap().iter().map(|r| r["result"]["source"].as_str().unwrap()).collect();
    assert_eq!(sources.len(), 3, "one result per token, as check gives: {sources:?}");
    assert_eq!(headlines(&data), cli_headlines(&check_text(&[], &text)));
    assert!(headlines(&data)[0].starts_with("✘ not compliant: app+user, MFA missing"), "{:?}", headlines(&data));
    assert!(headlines(&data)[1].starts_with("✔ compliant: app+user, MFA satisfied"));
    // Nothing pasted: no result to show.
    assert_eq!(paste(&server, "  \n").get("results").and_then(Value::as_array).map(Vec::len), Some(0));
}

#[test]
fn under_jwks_the_page_shows_the_signature_and_the_clis_headline() {
    let server = Server::start(&["--now", NOW, "--jwks", "fixtures/keys/jwks.json"]);
    let mfa = fixture("mfa.jwt");
    let data = paste(&server, &mfa);
    let fields = &data["results"][0]["fields"];
    let signature = fields.as_array().unwrap().iter().find(|f| f[0] == "signature").expect("a signature row");
    assert!(signature[1].as_str().unwrap().starts_with("verified"), "{signature}");
    // The same token with its signature changed: the CLI's words, not "MFA satisfied" alone.
    let (head, sig) = mfa.rsplit_once('.').unwrap();
    let flipped = if sig.starts_with('A') { "B" } else { "A" };
    let tampered = format!("{head}.{flipped}{}", &sig[1..]);
    let data = paste(&server, &tampered);
    let cli = check_text(&["--jwks", "fixtures/keys/jwks.json"], &tampered);
    assert_eq!(headlines(&data), cli_headlines(&cli));
    assert!(headlines(&data)[0].contains("not compliant (bad-signature)"), "{:?}", headlines(&data));
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
    for (name, stream) in [("idle", &mut idle), ("slow", &mut slow)] {
        stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut rest = Vec::new();
        // The server closed it: EOF, or a reset. A read that timed out means it stayed open.
        match stream.read_to_end(&mut rest) {
            Ok(_) => {}
            Err(e) => assert!(
                !matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut),
                "{name}: still open after 5 s"
            ),
        }
    }
    // The server's own deadline (1 s here), with room for a busy machine.
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

#[test]
fn serve_takes_only_the_options_it_uses() {
    // Check's output options were flattened in, hidden, and accepted silently.
    for args in [
        &["serve", "--format", "junit"][..],
        &["serve", "--explain"],
        &["serve", "--summary"],
        &["serve", "-j", "2"],
        &["serve", "--color", "never"],
    ] {
        let out = assert_cmd::Command::cargo_bin("mfacheck").unwrap().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?} is a usage error");
        assert!(String::from_utf8_lossy(&out.stderr).contains("unexpected argument"), "{args:?}");
    }
    let out = assert_cmd::Command::cargo_bin("mfacheck").unwrap().args(["serve", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for option in [
        "--require-valid-time",
        "--leeway",
        "--now",
        "--issuer",
        "--audience",
        "--partner-center",
        "--jwks",
        "--verify",
        "--redact",
        "--quiet",
        "--log-format",
    ] {
        assert!(help.contains(option), "serve --help names {option}");
    }
    assert!(!help.contains("--format"), "{help}");
}

#[test]
fn bash_completion_offers_serve_no_format_or_check_output_flags() {
    let out = assert_cmd::Command::cargo_bin("mfacheck").unwrap().args(["completions", "bash"]).output().unwrap();
    let script = String::from_utf8(out.stdout).unwrap();
    // bash's script has one `mfacheck__serve)` case whose `opts="…"` lists what it completes.
    let case = script.split("mfacheck__subcmd__serve)").nth(1).expect("a case for serve");
    let opts = case.lines().find(|l| l.trim_start().starts_with("opts=")).expect("serve's opts");
    assert!(opts.contains("--listen") && opts.contains("--jwks"), "{opts}");
    for hidden in ["--format", "--explain", "--summary", "--threads", "--color"] {
        assert!(!opts.contains(hidden), "serve completes {hidden}: {opts}");
    }
    // Nothing completed that help does not tell of (hidden flags were offered too).
    let out = assert_cmd::Command::cargo_bin("mfacheck").unwrap().args(["serve", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for option in opts.trim().trim_start_matches("opts=").trim_matches('"').split_whitespace() {
        if option.starts_with("--") {
            assert!(
                help.contains(&format!("{option} ")) || help.contains(&format!("{option}\n")),
                "{option} is completed but not in serve --help"
            );
        }
    }
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
fn report_only_logs_the_status_a_refused_request_would_have_got() {
    let upstream = Upstream::start();
    let mut server = Server::start(&["--now", NOW, "--upstream", &upstream.url(), "--report-only"]);
    server.get_with_token("/pwd", &fixture("password-only.jwt"));
    server.get_with_headers("/none", "");
    server.get_with_headers("/basic", "Authorization: Basic dXNlcjpwYXNz\r\n");
    server.get_with_token("/garbage", "not-a-token-at-all");
    server.get_with_token("/mfa", &fixture("mfa.jwt"));
    let lines = server.log_lines(5);
    assert!(lines.iter().all(|l| l["status"] == 200), "{lines:?}");
    for line in &lines[..4] {
        assert_eq!(line["would_status"], 401, "{line}");
    }
    assert!(lines[4]["would_status"].is_null(), "a compliant request would have passed: {}", lines[4]);
    assert_eq!(lines[1]["reason"], "no bearer token", "{}", lines[1]);
    assert_eq!(lines[2]["reason"], "no bearer token", "{}", lines[2]);
    assert_eq!(lines[3]["result"]["error"]["code"], "not-a-jwt", "{}", lines[3]);
}

#[test]
fn the_start_up_line_names_the_paste_page() {
    let server = Server::start(&[]);
    let page = format!("http://{}/_mfacheck/", server.addr);
    assert!(server.banner.contains(&page), "{}", server.banner);
    assert!(server.banner.starts_with(&format!("mfacheck serve: listening on http://{}/", server.addr)));
    let response = server.request(&format!("GET /_mfacheck/ HTTP/1.1\r\nHost: {}\r\n\r\n", server.addr));
    assert_eq!(response.status(), 200, "the URL named is the page");
}

#[test]
fn log_format_text_is_one_short_line_a_request() {
    let mut server = Server::start(&["--now", NOW, "--log-format", "text"]);
    server.get_with_token("/v1/customers?secret=1", &fixture("password-only.jwt"));
    server.get_with_token("/v1/invoices", &fixture("mfa.jwt"));
    server.get_with_headers("/v1/carts", "");
    let log = server.stop();
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 3, "{log}");
    let pattern = |line: &str, method_path_status: &str| {
        let (time, rest) = line.split_once(' ').unwrap();
        assert!(time.len() == 8 && time.as_bytes()[2] == b':' && time.as_bytes()[5] == b':', "{line}");
        assert!(rest.starts_with(method_path_status), "{line}");
        assert!(line.chars().count() < 160, "short: {line}");
        assert!(!line.contains('{'), "not JSON: {line}");
    };
    pattern(lines[0], "GET /v1/customers 401 MFA missing");
    pattern(lines[1], "GET /v1/invoices 200 MFA satisfied");
    pattern(lines[2], "GET /v1/carts 401 no bearer token");
    assert!(lines[0].contains(" app ") && lines[0].contains(" user "), "{}", lines[0]);
    assert!(!log.contains("secret=1"));
}

#[test]
fn log_format_ndjson_is_the_default_off_a_terminal_and_can_be_asked_for() {
    for args in [&["--now", NOW][..], &["--now", NOW, "--log-format", "ndjson"]] {
        let mut server = Server::start(args);
        server.get_with_token("/v1/customers", &fixture("password-only.jwt"));
        assert_eq!(server.log_lines(1)[0]["status"], 401);
    }
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
