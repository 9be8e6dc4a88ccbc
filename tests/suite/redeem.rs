//! `mfacheck redeem` (SPEC §6), as a partner runs it: the built binary posts the refresh token
//! grant to a stand-in token endpoint on loopback (`--authority http://127.0.0.1:PORT`), which
//! asserts the request and answers with access tokens signed by the fixtures' test RSA key; the
//! same server stands in for Microsoft's key discovery (MFACHECK_TEST_LOGIN_BASE), so the token is
//! verified as `check --verify` verifies it. No test touches the network.

use crate::support::root;
use assert_cmd::Command;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const TID: &str = "0b0d8c3e-2f6a-4c51-9d7e-5a1b2c3d4e5f";
const CLIENT_ID: &str = "4f9a1c2b-7d3e-4a5b-9c8d-1e2f3a4b5c6d";
const NOW: &str = "2026-01-01T00:00:00Z";
const PC_SCOPE: &str = "https://api.partnercenter.microsoft.com/user_impersonation offline_access";
/// Distinctive credentials: none may appear in any output.
const REFRESH_TOKEN: &str = "0.AXkA-RT-SECRET-kq8ZxQvT3nLwPp7s";
const CLIENT_SECRET: &str = "CS~SECRET~v9Hq2mZr5tYw8uBd";
const ROTATED: &str = "0.AXkA-ROTATED-SECRET-w4Nf6Jb1Gc";

/// One request the stand-in received.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The form fields, decoded.
    fn form(&self) -> Vec<(String, String)> {
        self.body
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|pair| {
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                (decode(name), decode(value))
            })
            .collect()
    }

    fn field(&self, name: &str) -> Option<String> {
        self.form().into_iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).unwrap());
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

/// How the stand-in answers a POST to the token endpoint.
enum Reply {
    Raw(Vec<u8>),
    /// Never answers (holds the connection open).
    Hang,
    /// Sends these bytes (headers and part of a body), then holds the connection open.
    Stall(Vec<u8>),
}

fn http(status: u16, content_type: &str, body: &str) -> Reply {
    Reply::Raw(
        format!(
            "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

fn json_reply(status: u16, body: &Value) -> Reply {
    http(status, "application/json; charset=utf-8", &body.to_string())
}

/// A stand-in for Entra's login host: the discovery keys (the fixtures' JWKS) and a token
/// endpoint answering with `reply`; every token request is recorded.
struct Entra {
    base: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    cache: tempfile::TempDir,
}

impl Entra {
    fn start(reply: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> Entra {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (log, reply) = (seen.clone(), Arc::new(reply));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (log, reply) = (log.clone(), reply.clone());
                std::thread::spawn(move || serve_one(stream, &log, &*reply));
            }
        });
        let cache = tempfile::Builder::new().prefix("mfacheck-redeem-").tempdir().unwrap();
        Entra { base, seen, cache }
    }

    fn endpoint(&self) -> String {
        format!("{}/{TID}/oauth2/v2.0/token", self.base)
    }

    fn token_requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().iter().filter(|s| s.method == "POST").cloned().collect()
    }

    /// The binary, pointed at this stand-in for keys and tokens.
    fn mfacheck(&self) -> Command {
        let mut cmd = Command::cargo_bin("mfacheck").unwrap();
        cmd.current_dir(root())
            .env("MFACHECK_TEST_LOGIN_BASE", &self.base)
            .env("XDG_CACHE_HOME", self.cache.path())
            .env_remove("NO_COLOR")
            .timeout(Duration::from_secs(60));
        cmd
    }
}

fn serve_one(mut stream: std::net::TcpStream, log: &Mutex<Vec<Seen>>, reply: &(dyn Fn(&Seen) -> Reply + Send + Sync)) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or_default().to_owned(), parts.next().unwrap_or_default().to_owned());
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).unwrap_or(0) <= 2 {
            break;
        }
        if let Some((name, value)) = header.trim_end().split_once(':') {
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    let length: usize =
        headers.iter().find(|(n, _)| n.eq_ignore_ascii_case("content-length")).map_or(0, |(_, v)| v.parse().unwrap());
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    let seen = Seen { method, path, headers, body: String::from_utf8(body).unwrap() };
    log.lock().unwrap().push(seen.clone());
    let answer = if seen.method == "GET" && seen.path.ends_with("/discovery/keys") {
        http(200, "application/json", &std::fs::read_to_string(root().join("fixtures/keys/jwks.json")).unwrap())
    } else {
        reply(&seen)
    };
    match answer {
        Reply::Raw(bytes) => {
            let _ = stream.write_all(&bytes);
        }
        Reply::Hang => std::thread::sleep(Duration::from_secs(30)),
        Reply::Stall(bytes) => {
            let _ = stream.write_all(&bytes);
            let _ = stream.flush();
            std::thread::sleep(Duration::from_secs(30));
        }
    }
}

/// An access token for Partner Center signed by the test RSA key, issued by Entra for `TID`.
fn access_token(amr: &str) -> String {
    let out = Command::cargo_bin("mfacheck")
        .unwrap()
        .current_dir(root())
        .args(["sample", "--key", "fixtures/keys/test-rsa.pem", "--kid", "mfacheck-test-rsa", "--tid", TID])
        .args(["--now", NOW, "--amr", amr, "--claim", &format!("appid={CLIENT_ID}")])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn granted(access_token: &str, refresh_token: &str) -> Value {
    json!({
        "token_type": "Bearer",
        "scope": "https://api.partnercenter.microsoft.com/user_impersonation",
        "expires_in": 4739,
        "ext_expires_in": 4739,
        "access_token": access_token,
        "refresh_token": refresh_token,
    })
}

/// A temporary directory with the stored credentials.
struct Stored {
    dir: tempfile::TempDir,
}

impl Stored {
    fn new() -> Stored {
        let dir = tempfile::Builder::new().prefix("mfacheck-rt-").tempdir().unwrap();
        std::fs::write(dir.path().join("rt.txt"), format!("{REFRESH_TOKEN}\n")).unwrap();
        std::fs::write(dir.path().join("secret.txt"), format!("{CLIENT_SECRET}\n")).unwrap();
        Stored { dir }
    }

    fn rt(&self) -> PathBuf {
        self.dir.path().join("rt.txt")
    }

    fn secret(&self) -> PathBuf {
        self.dir.path().join("secret.txt")
    }

    /// The test certificate and its private key in one PEM file (test keys, see fixtures/README.md).
    fn certificate(&self) -> PathBuf {
        let path = self.dir.path().join("app.pem");
        let key = std::fs::read_to_string(root().join("fixtures/keys/test-rsa.pem")).unwrap();
        let cert = std::fs::read_to_string(root().join("fixtures/keys/test-rsa.cert.pem")).unwrap();
        std::fs::write(&path, format!("{key}{cert}")).unwrap();
        path
    }
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn result(&self) -> Value {
        serde_json::from_str(self.stdout.trim()).unwrap_or_else(|e| panic!("{e}: {}\n{}", self.stdout, self.stderr))
    }
}

fn run(mut cmd: Command, args: &[&str]) -> Run {
    let out = cmd.args(args).output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// `redeem` against `entra` with the stored refresh token and client secret, ndjson, at NOW.
fn redeem(entra: &Entra, stored: &Stored, extra: &[&str]) -> Run {
    let (rt, secret) = (stored.rt(), stored.secret());
    let mut args = vec!["redeem", "--tenant", TID, "--client-id", CLIENT_ID, "--authority", &entra.base];
    args.extend(["--refresh-token-file", rt.to_str().unwrap(), "--client-secret-file", secret.to_str().unwrap()]);
    args.extend(["--now", NOW]);
    if !extra.contains(&"--format") {
        args.extend(["--format", "ndjson"]);
    }
    args.extend(extra);
    run(entra.mfacheck(), &args)
}

#[test]
fn a_token_with_mfa_passes_and_the_request_is_entras_refresh_grant() {
    let token = access_token("pwd,mfa");
    let entra = Entra::start(move |_| json_reply(200, &granted(&token, ROTATED)));
    let stored = Stored::new();
    let before = std::fs::metadata(stored.rt()).unwrap().modified().unwrap();
    let out = redeem(&entra, &stored, &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let result = out.result();
    assert_eq!(result["compliant"], true);
    assert_eq!(result["mfa"], "satisfied");
    assert_eq!(result["signature"], "verified", "judged as check --verify: {result}");
    assert_eq!(
        result["redeem"],
        json!({"token_endpoint": entra.endpoint(), "expires_in": 4739, "refresh_token_rotated": true})
    );

    let requests = entra.token_requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.path, format!("/{TID}/oauth2/v2.0/token"));
    assert_eq!(request.header("content-type"), Some("application/x-www-form-urlencoded"));
    let mut fields = request.form();
    fields.sort();
    let mut expected = vec![
        ("client_id".to_owned(), CLIENT_ID.to_owned()),
        ("client_secret".to_owned(), CLIENT_SECRET.to_owned()),
        ("grant_type".to_owned(), "refresh_token".to_owned()),
        ("refresh_token".to_owned(), REFRESH_TOKEN.to_owned()),
        ("scope".to_owned(), PC_SCOPE.to_owned()),
    ];
    expected.sort();
    assert_eq!(fields, expected);

    // Without --write-back the stored file is untouched.
    assert_eq!(std::fs::read_to_string(stored.rt()).unwrap(), format!("{REFRESH_TOKEN}\n"));
    assert_eq!(std::fs::metadata(stored.rt()).unwrap().modified().unwrap(), before);
}

#[test]
fn a_token_without_mfa_fails_with_partner_centers_401() {
    let token = access_token("pwd");
    let entra = Entra::start(move |_| json_reply(200, &granted(&token, REFRESH_TOKEN)));
    let out = redeem(&entra, &Stored::new(), &[]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let result = out.result();
    assert_eq!(result["mfa"], "missing");
    assert_eq!(result["response"]["status"], 401);
    assert_eq!(result["redeem"]["refresh_token_rotated"], false, "the same refresh token is no rotation");
}

#[test]
fn the_resource_chooses_the_scope_and_a_public_client_sends_no_credential() {
    for (resource, scope) in [
        (None, PC_SCOPE),
        (Some("graph"), "https://graph.microsoft.com/.default offline_access"),
        (Some("https://management.azure.com/"), "https://management.azure.com/.default offline_access"),
    ] {
        let token = access_token("pwd,mfa");
        let entra = Entra::start(move |_| json_reply(200, &granted(&token, ROTATED)));
        let stored = Stored::new();
        let rt = stored.rt();
        let mut args = vec!["redeem", "--tenant", TID, "--client-id", CLIENT_ID, "--authority", &entra.base];
        args.extend(["--refresh-token-file", rt.to_str().unwrap(), "--now", NOW, "--format", "json"]);
        if let Some(resource) = resource {
            args.extend(["--resource", resource]);
        }
        let out = run(entra.mfacheck(), &args);
        assert!(out.code == 0 || out.code == 1, "{}", out.stderr);
        let request = &entra.token_requests()[0];
        assert_eq!(request.field("scope").as_deref(), Some(scope));
        for absent in ["client_secret", "client_assertion", "client_assertion_type"] {
            assert_eq!(request.field(absent), None, "a public client sends no {absent}");
        }
    }
}

#[test]
fn the_refresh_token_may_come_from_stdin() {
    let token = access_token("pwd,mfa");
    let entra = Entra::start(move |_| json_reply(200, &granted(&token, ROTATED)));
    let mut cmd = entra.mfacheck();
    cmd.write_stdin(format!("{REFRESH_TOKEN}\n"));
    let out =
        run(cmd, &["redeem", "--tenant", TID, "--client-id", CLIENT_ID, "--authority", &entra.base, "--now", NOW]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(entra.token_requests()[0].field("refresh_token").as_deref(), Some(REFRESH_TOKEN));
}

#[test]
fn a_certificate_signs_a_client_assertion_entra_can_verify() {
    let token = access_token("pwd,mfa");
    let entra = Entra::start(move |_| json_reply(200, &granted(&token, ROTATED)));
    let stored = Stored::new();
    let (rt, pem) = (stored.rt(), stored.certificate());
    let out = run(
        entra.mfacheck(),
        &[
            "redeem",
            "--tenant",
            TID,
            "--client-id",
            CLIENT_ID,
            "--authority",
            &entra.base,
            "--refresh-token-file",
            rt.to_str().unwrap(),
            "--certificate-file",
            pem.to_str().unwrap(),
            "--now",
            NOW,
        ],
    );
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let request = &entra.token_requests()[0];
    assert_eq!(request.field("client_secret"), None);
    assert_eq!(
        request.field("client_assertion_type").as_deref(),
        Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
    );
    let assertion = request.field("client_assertion").unwrap();

    // Verified as Entra would: PS256 (the algorithm Microsoft's page asks for) with the certificate's key, for the token endpoint, from the app.
    let public = std::fs::read(root().join("fixtures/keys/test-rsa.pub.pem")).unwrap();
    let key = jsonwebtoken::DecodingKey::from_rsa_pem(&public).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::PS256);
    validation.set_audience(&[entra.endpoint()]);
    validation.set_issuer(&[CLIENT_ID]);
    validation.set_required_spec_claims(&["exp", "nbf", "aud", "iss", "sub"]);
    let data = jsonwebtoken::decode::<Value>(&assertion, &key, &validation).expect("the assertion verifies");
    assert_eq!(data.header.alg, jsonwebtoken::Algorithm::PS256);
    let claims = data.claims;
    assert_eq!(claims["sub"], CLIENT_ID);
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["nbf"].as_i64().unwrap(), 600);
    assert_eq!(claims["jti"].as_str().unwrap().len(), 36);

    // The thumbprints are of the certificate's DER.
    let cert = std::fs::read_to_string(root().join("fixtures/keys/test-rsa.cert.pem")).unwrap();
    let body: String = cert.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = STANDARD.decode(body).unwrap();
    let sha256 = URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &der));
    let sha1 = URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, &der));
    assert_eq!(data.header.x5t_s256.as_deref(), Some(sha256.as_str()));
    assert_eq!(data.header.x5t.as_deref(), Some(sha1.as_str()));
}

/// Entra's error body for `code`, as the v2 endpoint sends it.
fn entra_error(error: &str, code: Option<u32>, description: &str) -> Value {
    let text = match code {
        Some(code) => format!("AADSTS{code}: {description} Trace ID: 2a1b0c9d-0000-4000-8000-000000000001"),
        None => description.to_owned(),
    };
    json!({
        "error": error,
        "error_description": text,
        "error_codes": code.map(|c| vec![c]).unwrap_or_default(),
        "timestamp": "2026-01-01 00:00:00Z",
        "trace_id": "2a1b0c9d-0000-4000-8000-000000000001",
        "correlation_id": "7c6d5e4f-0000-4000-8000-000000000002",
        "suberror": "basic_action",
    })
}

#[test]
fn each_entra_refusal_gets_its_aadsts_code_and_fix() {
    let cases: [(&str, Option<u32>, &str); 11] = [
        ("invalid_grant", Some(50076), "remember MFA on trusted devices"),
        ("invalid_grant", Some(50079), "MFA-enabled account"),
        ("invalid_grant", Some(50078), "MFA-enabled account"),
        ("invalid_grant", Some(700082), "redo the consent"),
        ("invalid_grant", Some(70008), "redo the consent"),
        ("invalid_grant", Some(65001), "grant consent"),
        ("invalid_client", Some(7000215), "secret's value"),
        ("invalid_client", Some(7000222), "has expired"),
        ("unauthorized_client", Some(700016), "not found in the tenant"),
        ("invalid_client", None, "client credential was refused"),
        ("invalid_grant", None, "refresh token was refused"),
    ];
    for (error, code, fix) in cases {
        let body = entra_error(error, code, "Entra's own words.");
        let entra = Entra::start(move |_| json_reply(400, &body));
        let stored = Stored::new();
        let out = redeem(&entra, &stored, &[]);
        assert_eq!(out.code, 2, "{code:?}: {}{}", out.stdout, out.stderr);
        let result = out.result();
        let err = &result["error"];
        assert_eq!(err["code"], "redeem-refused", "{result}");
        assert_eq!(err["entra"]["error"], error);
        assert_eq!(err["entra"]["aadsts"], json!(code));
        assert_eq!(err["entra"]["http_status"], 400);
        assert_eq!(err["entra"]["trace_id"], "2a1b0c9d-0000-4000-8000-000000000001");
        assert_eq!(err["entra"]["correlation_id"], "7c6d5e4f-0000-4000-8000-000000000002");
        assert_eq!(err["entra"]["suberror"], "basic_action");
        assert!(err["entra"]["fix"].as_str().unwrap().contains(fix), "{code:?}: {}", err["entra"]["fix"]);
        assert!(err["message"].as_str().unwrap().contains("Entra's own words."), "{}", err["message"]);
        assert_eq!(result["redeem"]["token_endpoint"], entra.endpoint());
        // The fix is shown to people too.
        let text = redeem(&entra, &stored, &["--format", "text"]);
        assert!(text.stdout.contains("fix: ") && text.stdout.contains(fix), "{}", text.stdout);
    }
    // A code without a fix of its own shows Entra's description.
    let body = entra_error("invalid_request", Some(90002), "Tenant not found.");
    let entra = Entra::start(move |_| json_reply(400, &body));
    let result = redeem(&entra, &Stored::new(), &[]).result();
    assert_eq!(result["error"]["entra"]["fix"], Value::Null);
    assert!(result["error"]["message"].as_str().unwrap().contains("AADSTS90002: Tenant not found."));
}

#[test]
fn answers_that_are_no_token_response_are_clear_errors() {
    let not_a_jwt = json!({"access_token": "opaque-reference-token-value-xyz", "expires_in": 3600});
    let cases: Vec<(Reply, &str, &str)> = vec![
        (http(400, "text/html", "<html>Bad Request</html>"), "redeem-failed", "not Entra's JSON error"),
        (http(503, "text/plain", "Service Unavailable"), "redeem-failed", "HTTP 503"),
        (http(500, "application/json", "{}"), "redeem-failed", "HTTP 500"),
        (http(200, "application/json", ""), "redeem-failed", "empty body"),
        (http(200, "text/plain", "hello"), "redeem-failed", "not a JSON token response"),
        (json_reply(200, &json!({"token_type": "Bearer"})), "redeem-failed", "without an access_token"),
        (json_reply(200, &not_a_jwt), "opaque", "not a JWT"),
        (json_reply(200, &granted(&access_token("pwd,mfa"), "rt\nexport X=1")), "redeem-failed", "not token text"),
    ];
    for (reply, code, says) in cases {
        let reply = Mutex::new(Some(reply));
        let entra = Entra::start(move |_| reply.lock().unwrap().take().unwrap_or(Reply::Hang));
        let out = redeem(&entra, &Stored::new(), &[]);
        assert_eq!(out.code, 2, "{says}: {}{}", out.stdout, out.stderr);
        let result = out.result();
        assert_eq!(result["error"]["code"], code, "{result}");
        let message = result["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{message}");
        if code == "redeem-failed" {
            assert!(message.contains(&entra.endpoint()), "names the endpoint: {message}");
        }
    }
}

/// A failed connection: exit 2, a `redeem-failed` result naming the endpoint and saying `says`.
fn assert_network_failure(out: &Run, endpoint: &str, says: &[&str]) {
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    let result = out.result();
    assert_eq!(result["error"]["code"], "redeem-failed", "{result}");
    let message = result["error"]["message"].as_str().unwrap();
    assert!(message.contains(endpoint), "{message}");
    assert!(says.iter().any(|s| message.contains(s)), "{message}");
}

#[test]
fn a_server_that_never_answers_times_out() {
    let entra = Entra::start(|_| Reply::Hang);
    let started = Instant::now();
    let out = redeem(&entra, &Stored::new(), &["--fetch-timeout", "1"]);
    assert_network_failure(&out, &entra.endpoint(), &["no answer within 1 s"]);
    assert!(started.elapsed() < Duration::from_secs(15), "{:?}", started.elapsed());
}

#[test]
fn a_closed_port_and_an_unresolvable_host_are_clear_errors() {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let entra = Entra::start(|_| Reply::Hang);
    let stored = Stored::new();
    let closed = format!("http://127.0.0.1:{port}");
    let (rt, secret) = (stored.rt(), stored.secret());
    let args = |authority: &str| -> Vec<String> {
        ["redeem", "--tenant", TID, "--client-id", CLIENT_ID, "--authority", authority, "--format", "json"]
            .into_iter()
            .chain(["--refresh-token-file", rt.to_str().unwrap(), "--client-secret-file", secret.to_str().unwrap()])
            .chain(["--fetch-timeout", "5"])
            .map(str::to_owned)
            .collect()
    };
    let refused = run(entra.mfacheck(), &args(&closed).iter().map(String::as_str).collect::<Vec<_>>());
    let refused = Run { stdout: json_array_item(&refused.stdout), ..refused };
    assert_network_failure(&refused, &format!("{closed}/{TID}/oauth2/v2.0/token"), &["connection refused"]);

    let nowhere = "https://nonexistent.invalid";
    let dns = run(entra.mfacheck(), &args(nowhere).iter().map(String::as_str).collect::<Vec<_>>());
    let dns = Run { stdout: json_array_item(&dns.stdout), ..dns };
    // Without a resolver the lookup may also time out; either way the host is named.
    assert_network_failure(
        &dns,
        &format!("{nowhere}/{TID}/oauth2/v2.0/token"),
        &["does not resolve", "no answer within"],
    );
}

/// The one element of a `--format json` array, as a line.
fn json_array_item(stdout: &str) -> String {
    let array: Value = serde_json::from_str(stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    array[0].to_string()
}

#[test]
fn an_oversized_answer_and_a_redirect_are_refused() {
    let entra = Entra::start(|_| {
        let mut raw =
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 10485760\r\n\r\n{\"a\":\"".to_vec();
        raw.resize(10 << 20, b'x');
        Reply::Raw(raw)
    });
    let out = redeem(&entra, &Stored::new(), &[]);
    assert_network_failure(&out, &entra.endpoint(), &["larger than 65536 bytes"]);

    let entra = Entra::start(|seen| {
        assert_eq!(seen.method, "POST", "the redirect is not followed");
        let location = format!("https://evil.example/collect?{}", "x".repeat(200));
        Reply::Raw(format!("HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n").into_bytes())
    });
    let out = redeem(&entra, &Stored::new(), &[]);
    assert_network_failure(&out, &entra.endpoint(), &["HTTP 302 redirecting to https://evil.example/collect?"]);
    assert!(!out.stdout.contains(&"x".repeat(100)), "the location is shortened: {}", out.stdout);
    assert_eq!(entra.token_requests().len(), 1);
}

#[test]
fn authorities_other_than_https_or_loopback_http_are_refused_before_any_request() {
    let entra = Entra::start(|_| Reply::Hang);
    let stored = Stored::new();
    for (authority, says) in [
        ("http://login.microsoftonline.com", "plain http is refused"),
        ("ftp://127.0.0.1", "only https"),
        ("https://user:pw@login.microsoftonline.com", "give a base URL"),
    ] {
        let mut args = vec!["redeem", "--tenant", TID, "--client-id", CLIENT_ID, "--authority", authority];
        let rt = stored.rt();
        args.extend(["--refresh-token-file", rt.to_str().unwrap()]);
        let out = run(entra.mfacheck(), &args);
        assert_eq!(out.code, 2, "{authority}");
        assert!(out.stderr.contains(says), "{authority}: {}", out.stderr);
        assert!(!out.stderr.contains("pw@"), "{}", out.stderr);
    }
    for tenant in ["../common", "a/b", "x?y=1", "t%2f"] {
        let rt = stored.rt();
        let args =
            ["redeem", "--tenant", tenant, "--client-id", CLIENT_ID, "--refresh-token-file", rt.to_str().unwrap()];
        let out = run(entra.mfacheck(), &args);
        assert_eq!(out.code, 2, "{tenant}");
        assert!(out.stderr.contains("--tenant"), "{}", out.stderr);
    }
    assert!(entra.token_requests().is_empty());
}

#[cfg(unix)]
#[test]
fn write_back_replaces_the_file_atomically_with_mode_0600() {
    use std::os::unix::fs::PermissionsExt;
    let token = access_token("pwd,mfa");
    let entra = Entra::start(move |_| json_reply(200, &granted(&token, ROTATED)));
    let stored = Stored::new();
    std::fs::set_permissions(stored.rt(), std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = redeem(&entra, &stored, &["--write-back"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(std::fs::read_to_string(stored.rt()).unwrap(), format!("{ROTATED}\n"));
    assert_eq!(std::fs::metadata(stored.rt()).unwrap().permissions().mode() & 0o777, 0o600);
    let names: Vec<String> =
        std::fs::read_dir(stored.dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    assert!(names.iter().all(|n| !n.ends_with(".tmp")), "no temporary file left: {names:?}");
}

#[test]
fn write_back_leaves_the_file_alone_when_entra_returns_the_same_refresh_token() {
    let token = access_token("pwd,mfa");
    let entra = Entra::start(move |_| json_reply(200, &granted(&token, REFRESH_TOKEN)));
    let stored = Stored::new();
    let before = std::fs::metadata(stored.rt()).unwrap().modified().unwrap();
    let out = redeem(&entra, &stored, &["--write-back"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(out.result()["redeem"]["refresh_token_rotated"], false);
    assert_eq!(std::fs::read_to_string(stored.rt()).unwrap(), format!("{REFRESH_TOKEN}\n"));
    assert_eq!(std::fs::metadata(stored.rt()).unwrap().modified().unwrap(), before);
}

#[cfg(unix)]
#[test]
fn write_back_never_follows_a_planted_symlink() {
    let token = access_token("pwd,mfa");
    let entra = Entra::start(move |_| json_reply(200, &granted(&token, ROTATED)));
    let stored = Stored::new();
    let target = stored.dir.path().join("elsewhere.txt");
    std::fs::write(&target, format!("{REFRESH_TOKEN}\n")).unwrap();
    std::fs::remove_file(stored.rt()).unwrap();
    std::os::unix::fs::symlink(&target, stored.rt()).unwrap();
    let out = redeem(&entra, &stored, &["--write-back"]);
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("symbolic link"), "{}", out.stderr);
    // Refused before anything was sent: the link and its target are as they were.
    assert!(entra.token_requests().is_empty());
    assert_eq!(std::fs::read_to_string(&target).unwrap(), format!("{REFRESH_TOKEN}\n"));
    assert!(std::fs::symlink_metadata(stored.rt()).unwrap().file_type().is_symlink());
}

#[test]
fn write_back_needs_a_refresh_token_file_and_a_token_argument_is_refused_unshown() {
    let entra = Entra::start(|_| Reply::Hang);
    let mut cmd = entra.mfacheck();
    cmd.write_stdin(REFRESH_TOKEN);
    let out = run(cmd, &["redeem", "--tenant", TID, "--client-id", CLIENT_ID, "--write-back"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("--refresh-token-file"), "{}", out.stderr);

    let out = run(entra.mfacheck(), &["redeem", "--tenant", TID, "--client-id", CLIENT_ID, REFRESH_TOKEN]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("no token on the command line"), "{}", out.stderr);
    assert!(!out.stderr.contains("RT-SECRET") && !out.stdout.contains("RT-SECRET"), "{}", out.stderr);
    assert!(entra.token_requests().is_empty());
}

#[test]
fn help_names_the_sovereign_clouds() {
    let out = run(crate::support::mfacheck(), &["redeem", "--help"]);
    for host in ["login.microsoftonline.us", "login.partner.microsoftonline.cn", "user_impersonation offline_access"] {
        assert!(out.stdout.contains(host), "{host}: {}", out.stdout);
    }
}

/// Whether `output` shows a credential: any of `secrets` (or 8 characters of one), or 13
/// consecutive characters of the access token.
fn shown(output: &str, secrets: &[&str], access_token: &str) -> Option<String> {
    for secret in secrets {
        let chars: Vec<char> = secret.chars().collect();
        for window in chars.windows(8) {
            let part: String = window.iter().collect();
            // The common prefix of Entra refresh tokens is no secret.
            if part.starts_with("0.AXkA") {
                continue;
            }
            if output.contains(&part) {
                return Some(part);
            }
        }
    }
    let chars: Vec<char> = access_token.chars().collect();
    chars.windows(13).map(|w| w.iter().collect::<String>()).find(|part| output.contains(part.as_str()))
}

#[test]
fn credentials_are_never_shown_in_any_format() {
    let token = access_token("pwd");
    let hostile = json!({
        "error": format!("invalid_grant {REFRESH_TOKEN}"),
        "error_description": format!(
            "AADSTS50076: you sent {REFRESH_TOKEN} with secret {CLIENT_SECRET}; part {}\u{1b}[2J\r\nforged line",
            &REFRESH_TOKEN[8..24]
        ),
        "error_codes": [50076],
        "trace_id": CLIENT_SECRET,
        "correlation_id": REFRESH_TOKEN,
        "suberror": format!("x{CLIENT_SECRET}"),
    });
    type Answer = Arc<dyn Fn() -> Reply + Send + Sync>;
    let scenarios: Vec<(&str, Answer)> = vec![
        ("granted", {
            let token = token.clone();
            Arc::new(move || json_reply(200, &granted(&token, ROTATED)))
        }),
        ("hostile error", Arc::new(move || json_reply(400, &hostile))),
        ("echoing html", Arc::new(|| http(400, "text/html", &format!("{REFRESH_TOKEN} {CLIENT_SECRET}")))),
        (
            "echoing 200",
            Arc::new(|| json_reply(200, &json!({"access_token": format!("{REFRESH_TOKEN}.{CLIENT_SECRET}.x")}))),
        ),
    ];
    for (name, reply) in scenarios {
        let entra = Entra::start(move |_| reply());
        for format in ["text", "json", "ndjson", "junit", "github"] {
            for extra in [&[][..], &["--explain"][..], &["--write-back"][..]] {
                let stored = Stored::new();
                let mut args = vec!["--format", format];
                args.extend(extra);
                let out = redeem(&entra, &stored, &args);
                assert!(!out.stdout.is_empty() && (out.code == 1 || out.code == 2), "{name} {format}: {}", out.stderr);
                let all = format!("{}\n{}", out.stdout, out.stderr);
                if let Some(part) = shown(&all, &[REFRESH_TOKEN, CLIENT_SECRET, ROTATED], &token) {
                    panic!("{name}, --format {format} {extra:?} shows {part:?}:\n{all}");
                }
                assert!(!all.contains('\u{1b}') && !all.contains("\nforged line"), "{name} {format}: {all}");
            }
        }
    }
}

#[test]
fn credentials_holding_form_syntax_inject_no_field() {
    let token = access_token("pwd,mfa");
    let entra = Entra::start(move |_| json_reply(200, &granted(&token, ROTATED)));
    let stored = Stored::new();
    let refresh_token = "0.AX&scope=evil&grant_type=password+x%26y=z%0A end\ninner line";
    let secret = "S&client_id=evil=+%2B %";
    let client_id = "4f9a1c2b&client_secret=evil";
    let resource = "https://api.example/a b?x=1&scope=y+z%20";
    std::fs::write(stored.rt(), format!("{refresh_token}\n")).unwrap();
    std::fs::write(stored.secret(), secret).unwrap();
    let (rt, sf) = (stored.rt(), stored.secret());
    let args = [
        "redeem",
        "--tenant",
        TID,
        "--client-id",
        client_id,
        "--authority",
        &entra.base,
        "--now",
        NOW,
        "--refresh-token-file",
        rt.to_str().unwrap(),
        "--client-secret-file",
        sf.to_str().unwrap(),
        "--resource",
        "https://api.example/x?a=1&scope=y+z%20",
        "--format",
        "json",
    ];
    let out = run(entra.mfacheck(), &args);
    assert!(out.code == 0 || out.code == 1, "{}{}", out.stdout, out.stderr);
    let mut fields = entra.token_requests()[0].form();
    fields.sort();
    let mut expected = vec![
        ("client_id".to_owned(), client_id.to_owned()),
        ("client_secret".to_owned(), secret.to_owned()),
        ("grant_type".to_owned(), "refresh_token".to_owned()),
        ("refresh_token".to_owned(), refresh_token.to_owned()),
        ("scope".to_owned(), "https://api.example/x?a=1&scope=y+z%20/.default offline_access".to_owned()),
    ];
    expected.sort();
    assert_eq!(fields, expected);
    // A resource with whitespace is refused before anything is sent.
    let mut spaced = args.to_vec();
    let at = spaced.iter().position(|a| *a == "--resource").unwrap();
    spaced[at + 1] = resource;
    let out = run(entra.mfacheck(), &spaced);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert_eq!(entra.token_requests().len(), 1);
}

#[test]
fn hostile_answers_are_errors_that_never_hang() {
    let deep = format!("{{\"access_token\":{}", "[".repeat(60_000));
    let duplicate = format!(
        "{{\"access_token\":\"{}\",\"access_token\":\"{}\",\"expires_in\":3600}}",
        access_token("pwd,mfa"),
        access_token("pwd")
    );
    let gzip = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: 20\r\n\r\n\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xab\xae\x05\x00\x43\xbf\xa6\xa3\x02\x00".to_vec();
    let cases: Vec<(&str, Reply, &str)> = vec![
        ("deep 200", http(200, "application/json", &deep), "not a JSON token response"),
        ("deep 400", http(400, "application/json", &format!("{{\"error\":{}", "[".repeat(60_000))), "not Entra's JSON error"),
        ("duplicate access_token", http(200, "application/json", &duplicate), "not a JSON token response"),
        ("gzip", Reply::Raw(gzip), "not a JSON token response"),
        (
            "stalled body",
            Reply::Stall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{\"access_token\":\"ey".to_vec()),
            "no answer within 1 s",
        ),
    ];
    for (name, reply, says) in cases {
        let reply = Mutex::new(Some(reply));
        let entra = Entra::start(move |_| reply.lock().unwrap().take().unwrap_or(Reply::Hang));
        let started = Instant::now();
        let out = redeem(&entra, &Stored::new(), &["--fetch-timeout", "1"]);
        assert!(started.elapsed() < Duration::from_secs(15), "{name}: {:?}", started.elapsed());
        assert_eq!(out.code, 2, "{name}: {}{}", out.stdout, out.stderr);
        let message = out.result()["error"]["message"].as_str().unwrap().to_owned();
        assert!(message.contains(says), "{name}: {message}");
    }
}

#[test]
fn an_odd_expires_in_does_not_refuse_a_good_token() {
    for expires_in in [json!(-5), json!(3599.5), json!("soon"), json!(null), json!({"s": 1})] {
        let mut body = granted(&access_token("pwd,mfa"), ROTATED);
        body["expires_in"] = expires_in.clone();
        let entra = Entra::start(move |_| json_reply(200, &body));
        let out = redeem(&entra, &Stored::new(), &[]);
        assert_eq!(out.code, 0, "{expires_in}: {}{}", out.stdout, out.stderr);
        let result = out.result();
        assert_eq!(result["signature"], "verified", "{expires_in}: {result}");
        assert_eq!(result["redeem"]["expires_in"], Value::Null, "{expires_in}: {result}");
    }
}

#[test]
fn a_credential_given_where_its_file_path_belongs_is_not_echoed() {
    let entra = Entra::start(|_| Reply::Hang);
    for option in ["--client-secret-file", "--refresh-token-file", "--certificate-file"] {
        for value in [CLIENT_SECRET, REFRESH_TOKEN] {
            let mut args = vec!["redeem", "--tenant", TID, "--client-id", CLIENT_ID, "--authority", &entra.base];
            args.extend([option, value]);
            let mut cmd = entra.mfacheck();
            cmd.write_stdin(format!("{REFRESH_TOKEN}\n"));
            let out = run(cmd, &args);
            assert_eq!(out.code, 2, "{option}: {}{}", out.stdout, out.stderr);
            let all = format!("{}\n{}", out.stdout, out.stderr);
            assert!(all.contains(option) && all.contains("cannot open"), "{option}: {all}");
            if let Some(part) = shown(&all, &[REFRESH_TOKEN, CLIENT_SECRET], "") {
                panic!("{option} {value:?} shows {part:?}: {all}");
            }
        }
    }
    // A real path that is missing is still named.
    let out = run(
        entra.mfacheck(),
        &["redeem", "--tenant", TID, "--client-id", CLIENT_ID, "--refresh-token-file", "secrets/missing-rt.txt"],
    );
    assert!(out.stderr.contains("secrets/missing-rt.txt"), "{}", out.stderr);
    assert!(entra.token_requests().is_empty());
}

#[cfg(unix)]
#[test]
fn write_back_replaces_a_link_planted_during_the_request_and_never_writes_through_it() {
    let stored = Stored::new();
    let target = stored.dir.path().join("elsewhere.txt");
    std::fs::write(&target, "precious\n").unwrap();
    let (rt, link_to) = (stored.rt(), target.clone());
    let token = access_token("pwd,mfa");
    let entra = Entra::start(move |_| {
        // After the check before the request, before the rename: a link at the path.
        std::fs::remove_file(&rt).unwrap();
        std::os::unix::fs::symlink(&link_to, &rt).unwrap();
        json_reply(200, &granted(&token, ROTATED))
    });
    let out = redeem(&entra, &stored, &["--write-back"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious\n", "the link's target is untouched");
    let meta = std::fs::symlink_metadata(stored.rt()).unwrap();
    assert!(meta.file_type().is_file(), "the link itself was replaced by the file");
    assert_eq!(std::fs::read_to_string(stored.rt()).unwrap(), format!("{ROTATED}\n"));
}

#[cfg(unix)]
#[test]
fn a_write_back_that_fails_says_so_and_leaves_no_temporary_file() {
    let stored = Stored::new();
    let rt = stored.rt();
    let token = access_token("pwd,mfa");
    let entra = Entra::start(move |_| {
        // The file became a non-empty directory: the rename over it fails.
        std::fs::remove_file(&rt).unwrap();
        std::fs::create_dir(&rt).unwrap();
        std::fs::write(rt.join("keep"), "x").unwrap();
        json_reply(200, &granted(&token, ROTATED))
    });
    for format in ["json", "text"] {
        let out = redeem(&entra, &stored, &["--write-back", "--format", format]);
        assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
        assert!(out.stderr.contains("--write-back") && out.stderr.contains("not stored"), "{}", out.stderr);
        let all = format!("{}\n{}", out.stdout, out.stderr);
        assert!(shown(&all, &[ROTATED, REFRESH_TOKEN, CLIENT_SECRET], "").is_none(), "{all}");
        let names: Vec<String> = std::fs::read_dir(stored.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert!(names.iter().all(|n| !n.ends_with(".tmp")), "no temporary file left: {names:?}");
        // Reset for the next format.
        std::fs::remove_dir_all(stored.rt()).unwrap();
        std::fs::write(stored.rt(), format!("{REFRESH_TOKEN}\n")).unwrap();
    }
}

#[test]
fn junit_and_github_show_what_the_redemption_gave_and_entras_fix() {
    let token = access_token("pwd,mfa");
    let entra = Entra::start(move |_| json_reply(200, &granted(&token, ROTATED)));
    let endpoint = entra.endpoint();
    let facts = "access token valid for 4739 s; a new refresh token was returned";
    let junit = redeem(&entra, &Stored::new(), &["--format", "junit"]);
    assert_eq!(junit.code, 0, "{}{}", junit.stdout, junit.stderr);
    assert!(junit.stdout.contains("<system-out>") && junit.stdout.contains(&endpoint), "{}", junit.stdout);
    assert!(junit.stdout.contains(facts), "{}", junit.stdout);
    let github = redeem(&entra, &Stored::new(), &["--format", "github"]);
    assert_eq!(github.code, 0, "{}{}", github.stdout, github.stderr);
    assert!(github.stdout.starts_with("::notice ") && github.stdout.contains(&endpoint), "{}", github.stdout);
    assert!(github.stdout.contains(facts), "{}", github.stdout);

    let body = entra_error("invalid_grant", Some(50076), "Due to a configuration change you must use MFA.");
    let entra = Entra::start(move |_| json_reply(400, &body));
    let endpoint = entra.endpoint();
    for format in ["junit", "github"] {
        let out = redeem(&entra, &Stored::new(), &["--format", format]);
        assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
        for says in ["AADSTS50076", "remember MFA on trusted devices", endpoint.as_str()] {
            assert!(out.stdout.contains(says), "{format}: {says}: {}", out.stdout);
        }
    }
}

/// A directory where no file can be made is refused before the refresh token is sent (as root,
/// which may write anywhere, a file of /proc stands in for it).
#[cfg(target_os = "linux")]
#[test]
fn write_back_into_a_directory_where_no_file_can_be_made_is_refused_before_the_request() {
    use std::os::unix::fs::PermissionsExt;
    let entra = Entra::start(|_| Reply::Hang);
    let stored = Stored::new();
    let root = unsafe { libc::geteuid() } == 0;
    let rt = if root { PathBuf::from("/proc/sys/kernel/hostname") } else { stored.rt() };
    let before = std::fs::read(&rt).unwrap();
    if !root {
        std::fs::set_permissions(stored.dir.path(), std::fs::Permissions::from_mode(0o500)).unwrap();
    }
    let mut args = vec!["redeem", "--tenant", TID, "--client-id", CLIENT_ID, "--authority", &entra.base];
    args.extend(["--refresh-token-file", rt.to_str().unwrap(), "--write-back", "--fetch-timeout", "2"]);
    let out = run(entra.mfacheck(), &args);
    if !root {
        std::fs::set_permissions(stored.dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("--write-back") && out.stderr.contains("cannot"), "{}", out.stderr);
    assert!(entra.token_requests().is_empty(), "nothing sent");
    assert_eq!(std::fs::read(&rt).unwrap(), before);
}

/// An unsigned (forged) access token with `mfa`, as a hostile or mistaken --authority could give.
fn unsigned_access_token() -> String {
    let out = Command::cargo_bin("mfacheck")
        .unwrap()
        .current_dir(root())
        .args(["sample", "--tid", TID, "--now", NOW, "--amr", "pwd,mfa", "--claim", &format!("appid={CLIENT_ID}")])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn write_back_stores_no_refresh_token_from_an_answer_whose_access_token_is_not_entras() {
    for access in [unsigned_access_token(), "opaque-reference-token-value-xyz".to_owned()] {
        let planted = "0.AXkA-PLANTED-by-the-endpoint-Zq";
        let entra = Entra::start(move |_| json_reply(200, &granted(&access, planted)));
        let stored = Stored::new();
        let out = redeem(&entra, &stored, &["--write-back"]);
        assert_ne!(out.code, 0, "{}{}", out.stdout, out.stderr);
        assert_eq!(
            std::fs::read_to_string(stored.rt()).unwrap(),
            format!("{REFRESH_TOKEN}\n"),
            "the stored refresh token is kept: {}{}",
            out.stdout,
            out.stderr
        );
        assert!(out.stderr.contains("--write-back") && out.stderr.contains("not stored"), "{}", out.stderr);
        assert!(!format!("{}{}", out.stdout, out.stderr).contains("PLANTED"));
    }
}

/// An access token signed by the trusted key, but issued to `app` in `tid`.
fn foreign_access_token(app: &str, tid: &str) -> String {
    let out = Command::cargo_bin("mfacheck")
        .unwrap()
        .current_dir(root())
        .args(["sample", "--key", "fixtures/keys/test-rsa.pem", "--kid", "mfacheck-test-rsa", "--tid", tid])
        .args(["--now", NOW, "--amr", "pwd,mfa", "--claim", &format!("appid={app}")])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn write_back_stores_no_refresh_token_beside_a_genuine_token_of_another_app_or_tenant() {
    let other_tenant = "9e8d7c6b-5a49-4838-a726-15f4e3d2c1b0";
    let other_app = "11111111-2222-4333-8444-555555555555";
    for (access, why) in [
        (foreign_access_token(other_app, TID), "issued to application"),
        (foreign_access_token(CLIENT_ID, other_tenant), "issued in tenant"),
    ] {
        let planted = "0.AXkA-PLANTED-by-the-endpoint-Zq";
        let entra = Entra::start(move |_| json_reply(200, &granted(&access, planted)));
        let stored = Stored::new();
        let out = redeem(&entra, &stored, &["--write-back"]);
        assert_eq!(std::fs::read_to_string(stored.rt()).unwrap(), format!("{REFRESH_TOKEN}\n"), "{why}");
        assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
        assert!(out.stderr.contains("not stored") && out.stderr.contains(why), "{}", out.stderr);
    }
    // The same client id in another case, and the tenant given by name, still store it.
    let token = access_token("pwd,mfa");
    let entra = Entra::start(move |_| json_reply(200, &granted(&token, ROTATED)));
    let stored = Stored::new();
    let (rt, secret) = (stored.rt(), stored.secret());
    let upper = CLIENT_ID.to_uppercase();
    let args = [
        "redeem",
        "--tenant",
        "contoso.onmicrosoft.com",
        "--client-id",
        &upper,
        "--authority",
        &entra.base,
        "--refresh-token-file",
        rt.to_str().unwrap(),
        "--client-secret-file",
        secret.to_str().unwrap(),
        "--now",
        NOW,
        "--write-back",
        "--format",
        "json",
    ];
    let out = run(entra.mfacheck(), &args);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(std::fs::read_to_string(stored.rt()).unwrap(), format!("{ROTATED}\n"));
}

#[test]
fn redeem_and_check_verify_give_the_same_result_for_the_same_token() {
    // One rulebook: the token redeem gets is judged as `check --verify` judges it. Every member
    // but `source` and `redeem` must agree, for each kind of token and with policy options.
    for (amr, extra) in [
        ("pwd,mfa", &[][..]),
        ("pwd", &[][..]),
        ("pwd,mfa", &["--partner-center"][..]),
        ("pwd,rsa", &["--require-valid-time", "--issuer", "https://sts.windows.net/x/"][..]),
    ] {
        let token = access_token(amr);
        let answer = token.clone();
        let entra = Entra::start(move |_| json_reply(200, &granted(&answer, REFRESH_TOKEN)));
        let redeemed = redeem(&entra, &Stored::new(), extra);
        let mut check_args = vec!["check", "--verify", "--format", "ndjson", "--now", NOW];
        check_args.extend(extra);
        check_args.push(&token);
        let checked = run(entra.mfacheck(), &check_args);
        assert_eq!(redeemed.code, checked.code, "{amr} {extra:?}: {}{}", redeemed.stdout, checked.stdout);
        let (mut a, mut b) = (redeemed.result(), checked.result());
        for v in [&mut a, &mut b] {
            let object = v.as_object_mut().unwrap();
            object.remove("source");
            object.remove("redeem");
        }
        assert_eq!(a["signature"], "verified", "{amr} {extra:?}: both verified, not both failing alike");
        assert_eq!(a, b, "{amr} {extra:?}");
    }
}

#[test]
fn a_forged_access_token_from_the_endpoint_never_passes() {
    // "Could not check" must not turn into a pass: whatever the token endpoint answers with an
    // `mfa` claim, only a token Microsoft's keys verify is compliant.
    let genuine = access_token("pwd,mfa");
    let (header, rest) = genuine.split_once('.').unwrap();
    let (payload, signature) = rest.split_once('.').unwrap();
    // Another signature on the same claims.
    let flipped = if signature.starts_with('A') { "B" } else { "A" };
    let bad_signature = format!("{header}.{payload}.{flipped}{}", &signature[1..]);
    // The forgery of a header `nonce` with Partner Center and Graph in an `aud` array.
    let mut claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    claims["aud"] = json!(["https://api.partnercenter.microsoft.com", "https://graph.microsoft.com"]);
    let nonce_header = json!({"alg": "RS256", "kid": "mfacheck-test-rsa", "typ": "JWT", "nonce": "n"});
    let encode = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let nonce_forgery = format!("{}.{}.{signature}", encode(&nonce_header), encode(&claims));
    for (what, token) in [
        ("unsigned", unsigned_access_token()),
        ("bad signature", bad_signature),
        ("nonce and aud array", nonce_forgery),
    ] {
        let answer = token.clone();
        let entra = Entra::start(move |_| json_reply(200, &granted(&answer, REFRESH_TOKEN)));
        let out = redeem(&entra, &Stored::new(), &[]);
        assert_eq!(out.code, 1, "{what}: {}{}", out.stdout, out.stderr);
        let result = out.result();
        assert_eq!(result["compliant"], false, "{what}: {result}");
        assert_ne!(result["signature"], "verified", "{what}: {result}");
        assert_ne!(result["partner_center"]["accepted"], true, "{what}: {result}");
    }
}
