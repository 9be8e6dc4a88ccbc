//! The paste page in a real browser (SPEC §4): Debian's headless Chromium driven over
//! WebDriver by chromedriver. Paste a fixture token, read the verdict from the page, and check that
//! the page made no request beyond this loopback server. A missing chromedriver or Chromium fails
//! the test, so CI can't pass by skipping it; `MFACHECK_SKIP_BROWSER=1` skips it on purpose.
//!
//! `MFACHECK_SCREENSHOT=docs/page.png cargo test --test suite serve_browser` refreshes README's
//! screenshot.
#![cfg(feature = "serve")]

use crate::support::serve::*;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const NOW: &str = "2026-01-01T00:00:00Z";

/// The first of `names` found on PATH.
fn on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path).find_map(|dir| names.iter().map(|n| dir.join(n)).find(|p| p.is_file()))
}

/// chromedriver and the Chromium it drives, or what is missing.
fn browser_tools() -> Result<(PathBuf, PathBuf), String> {
    match (on_path(&["chromedriver"]), on_path(&["chromium", "chromium-browser"])) {
        (Some(driver), Some(chromium)) => Ok((driver, chromium)),
        (driver, _) => Err(if driver.is_none() { "no chromedriver" } else { "no chromium" }.to_owned()),
    }
}

/// chromedriver on a free loopback port, stopped on drop with its browser profile removed.
struct Driver {
    child: Child,
    port: u16,
    chromium: PathBuf,
    profiles: Vec<PathBuf>,
}

impl Driver {
    fn start(path: PathBuf, chromium: PathBuf) -> Driver {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < Duration::from_secs(20), "chromedriver did not listen on {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        Driver { child, port, chromium, profiles: Vec::new() }
    }

    /// A new headless Chromium session; `extra` flags after the ones this machine needs.
    async fn browser(&mut self, extra: &[&str]) -> Client {
        let profile =
            std::env::temp_dir().join(format!("mfacheck-chromium-{}-{}", std::process::id(), self.profiles.len()));
        let _ = std::fs::remove_dir_all(&profile);
        std::fs::create_dir_all(&profile).unwrap();
        let mut args: Vec<String> = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            "--window-size=1000,1300",
        ]
        .map(String::from)
        .to_vec();
        args.push(format!("--user-data-dir={}", profile.display()));
        args.extend(extra.iter().map(|s| s.to_string()));
        self.profiles.push(profile);
        let options = json!({ "args": args, "binary": self.chromium });
        let capabilities = json!({ "goog:chromeOptions": options });
        let Value::Object(capabilities) = capabilities else { unreachable!() };
        ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .expect("a Chromium session")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        for profile in &self.profiles {
            let _ = std::fs::remove_dir_all(profile);
        }
    }
}

async fn js(client: &Client, script: &str) -> Value {
    client.execute(script, Vec::new()).await.expect("the script runs")
}

/// The headlines shown, one per result.
async fn shown(client: &Client) -> Vec<String> {
    let value = js(client, "return [...document.querySelectorAll('#results .verdict')].map(e => e.textContent)").await;
    value.as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect()
}

/// Waits until the page shows headlines other than `previous` (and some), and returns them.
async fn next_verdicts(client: &Client, previous: &[String]) -> Vec<String> {
    let started = Instant::now();
    loop {
        let verdicts = shown(client).await;
        if !verdicts.is_empty() && verdicts != previous {
            return verdicts;
        }
        assert!(started.elapsed() < Duration::from_secs(15), "no verdict shown (still {previous:?})");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Types `text` into the emptied box, as a paste arrives: no button pressed.
async fn type_in(client: &Client, text: &str) {
    let area = client.find(Locator::Css("#token")).await.unwrap();
    area.clear().await.unwrap();
    area.send_keys(text).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_paste_page_shows_the_verdict_in_a_real_browser_and_calls_nothing_else() {
    let (path, chromium) = match browser_tools() {
        Ok(found) => found,
        Err(missing) if std::env::var_os("MFACHECK_SKIP_BROWSER").is_some_and(|v| v == "1") => {
            eprintln!("skipped (MFACHECK_SKIP_BROWSER=1): {missing} on PATH");
            return;
        }
        Err(missing) => panic!(
            "{missing} on PATH: install Debian's chromium and chromium-driver, or set MFACHECK_SKIP_BROWSER=1 to skip \
             this test"
        ),
    };
    let mut server = Server::start(&["--now", NOW]);
    let origin = server.url("");
    let mut driver = Driver::start(path, chromium);
    let client = driver.browser(&[]).await;

    client.goto(&server.url("/")).await.unwrap();
    assert_eq!(client.current_url().await.unwrap().as_str(), server.url("/_mfacheck/"), "/ redirects to the page");
    // The inline style ran under the page's CSP (body margin 0, not the browser's 8px).
    assert_eq!(js(&client, "return getComputedStyle(document.body).marginTop").await, "0px");

    // Checked as it arrives, no button: the headline is the CLI's.
    type_in(&client, &fixture("password-only.jwt")).await;
    let verdicts = next_verdicts(&client, &[]).await;
    assert_eq!(verdicts.len(), 1);
    assert!(verdicts[0].starts_with("✘ not compliant: app+user, MFA missing, amr [pwd]"), "{verdicts:?}");
    let text = |selector: &str| {
        let client = client.clone();
        let selector = selector.to_owned();
        async move {
            let value = js(&client, &format!("return document.querySelector('{selector}').innerText")).await;
            value.as_str().unwrap().to_owned()
        }
    };
    let facts = text("#results .facts").await;
    assert!(facts.contains("scp claim present"), "{facts}");
    assert!(text("#results .response").await.starts_with("HTTP/1.1 401 Unauthorized - MFA required"));
    let findings = text("#results .findings").await;
    assert!(findings.contains("password-only"), "{findings}");
    let claims = text("#results .claims").await;
    assert!(claims.contains("pwd = password"), "{claims}");
    assert!(text("#results .header").await.contains("RS256"));
    assert!(text("#note").await.contains("900421"), "the enforcement note, once");

    // Replaced by a token with MFA: the old verdict never stays.
    type_in(&client, &fixture("mfa.jwt")).await;
    let second = next_verdicts(&client, &verdicts).await;
    assert!(second[0].starts_with("✔ compliant: app+user, MFA satisfied"), "{second:?}");
    assert_eq!(js(&client, "return document.querySelector('#results .refusal').hidden").await, true);
    client.set_window_size(1000, 800).await.unwrap();
    let shot = client.screenshot().await.unwrap();
    assert!(shot.starts_with(b"\x89PNG"), "a PNG screenshot");
    std::fs::write(std::env::temp_dir().join("mfacheck-serve-page.png"), &shot).unwrap();
    if let Some(target) = std::env::var_os("MFACHECK_SCREENSHOT") {
        std::fs::write(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(target), &shot).unwrap();
    }
    // And back to password-only: the compliant verdict goes.
    type_in(&client, &fixture("password-only.jwt")).await;
    let third = next_verdicts(&client, &second).await;
    assert!(third[0].starts_with("✘ not compliant"), "{third:?}");

    // Emptied: nothing shown, and an answer still in flight for the old text never appears.
    type_in(&client, &fixture("mfa.jwt")).await;
    js(
        &client,
        "const t = document.getElementById('token'); t.value = ''; t.dispatchEvent(new Event('input')); return 0",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(shown(&client).await.is_empty(), "a stale verdict: {:?}", shown(&client).await);

    // Two tokens on two lines: a result each, in order.
    type_in(&client, &format!("{}\n{}", fixture("password-only.jwt"), fixture("mfa.jwt"))).await;
    let two = next_verdicts(&client, &[]).await;
    assert_eq!(two.len(), 2, "{two:?}");
    assert!(two[0].starts_with("✘") && two[1].starts_with("✔"), "{two:?}");

    // Ctrl+Enter checks at once; Enter alone is a new line.
    js(&client, "document.getElementById('results').textContent = ''; return 0").await;
    js(&client, &format!("document.getElementById('token').value = '{}'; return 0", fixture("mfa.jwt"))).await;
    assert!(shown(&client).await.is_empty(), "no event, no check yet");
    let area = client.find(Locator::Css("#token")).await.unwrap();
    area.send_keys("\u{E009}\u{E007}\u{E000}").await.unwrap();
    let ctrl_enter = next_verdicts(&client, &[]).await;
    assert!(ctrl_enter[0].starts_with("✔ compliant"), "{ctrl_enter:?}");
    assert!(!js(&client, "return document.getElementById('token').value").await.as_str().unwrap().contains('\n'));

    // Readable on a narrow window: nothing wider than the viewport.
    client.set_window_size(360, 800).await.unwrap();
    let overflow =
        js(&client, "return document.documentElement.scrollWidth - document.documentElement.clientWidth").await;
    assert!(overflow.as_i64().unwrap() <= 0, "the page is {overflow}px wider than a narrow window");

    // No request left this server: every resource the page loaded, and every request the server saw.
    let names = js(&client, "return performance.getEntries().map(e => e.name).filter(n => n.includes('://'))").await;
    let names: Vec<&str> = names.as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(names.iter().any(|n| n.ends_with("/_mfacheck/check")), "{names:?}");
    for name in &names {
        assert!(name.starts_with(&origin), "the page requested {name}");
    }
    client.close().await.unwrap();
    let log = server.stop();
    let paths: Vec<String> =
        log.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()["path"].as_str().unwrap().to_owned()).collect();
    assert!(paths.iter().filter(|p| *p == "/_mfacheck/check").count() >= 5, "{paths:?}");
    assert!(paths.iter().all(|p| p == "/" || p.starts_with("/_mfacheck")), "{paths:?}");

    // Dark mode: the colours follow the system preference.
    let dark = driver.browser(&["--force-dark-mode", "--blink-settings=preferredColorScheme=0"]).await;
    let mut server = Server::start(&["--now", NOW]);
    dark.goto(&server.url("/_mfacheck/")).await.unwrap();
    assert_eq!(js(&dark, "return matchMedia('(prefers-color-scheme: dark)').matches").await, true);
    let background = js(&dark, "return getComputedStyle(document.body).backgroundColor").await;
    assert_eq!(background, "rgb(21, 21, 23)", "the dark background");
    dark.close().await.unwrap();
    server.stop();
}
