//! The binary as people run it interactively: under a pseudo-terminal (one Ctrl-D ends input,
//! the progress line), and fed slowly through a pipe (results appear before the program waits
//! for more input, serial and parallel).

use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const NOW: &str = "2026-06-01T00:00:00Z";

fn bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mfacheck"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

fn token() -> String {
    crate::support::fixture("mfa.jwt")
}

/// A pseudo-terminal: (controller, the terminal's end).
fn pty() -> (OwnedFd, OwnedFd) {
    let (mut controller, mut terminal) = (0, 0);
    let made = unsafe {
        libc::openpty(&mut controller, &mut terminal, std::ptr::null_mut(), std::ptr::null(), std::ptr::null())
    };
    assert_eq!(made, 0, "openpty");
    unsafe { (OwnedFd::from_raw_fd(controller), OwnedFd::from_raw_fd(terminal)) }
}

/// Starts `cmd` in a session of its own with the terminal as its controlling terminal.
fn spawn_on(cmd: &mut Command, terminal: &OwnedFd) -> Child {
    let fd = terminal.as_raw_fd();
    unsafe {
        cmd.pre_exec(move || {
            libc::setsid();
            libc::ioctl(fd, libc::TIOCSCTTY as _, 0);
            Ok(())
        });
    }
    cmd.spawn().unwrap()
}

/// Everything the terminal shows, read in a thread until the child is gone.
fn collect(controller: &OwnedFd) -> mpsc::Receiver<Vec<u8>> {
    let mut reader = std::fs::File::from(controller.try_clone().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut block = [0; 4096];
        while let Ok(n @ 1..) = reader.read(&mut block) {
            if tx.send(block[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    rx
}

fn wait(child: &mut Child, within: Duration) -> Option<i32> {
    let start = Instant::now();
    while start.elapsed() < within {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

/// `mfacheck ARGS` with stdin and stderr on a terminal, a token typed (with Enter or not), and
/// one Ctrl-D: the exit code, and stdout.
fn one_ctrl_d(args: &[&str], enter: bool) -> (Option<i32>, String) {
    let typed = if enter { format!("{}\n", token()) } else { token() };
    type_at_terminal(args, &typed)
}

/// `mfacheck ARGS` with stdin and stderr on a terminal, `typed` typed and one Ctrl-D: the exit
/// code, and stdout.
fn type_at_terminal(args: &[&str], typed: &str) -> (Option<i32>, String) {
    let (controller, terminal) = pty();
    let mut cmd = bin();
    cmd.args(args)
        .stdin(Stdio::from(terminal.try_clone().unwrap()))
        .stderr(Stdio::from(terminal.try_clone().unwrap()))
        .stdout(Stdio::piped());
    let mut child = spawn_on(&mut cmd, &terminal);
    drop(terminal);
    let _shown = collect(&controller);
    let mut typing = std::fs::File::from(controller.try_clone().unwrap());
    std::thread::sleep(Duration::from_millis(300));
    typing.write_all(typed.as_bytes()).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    typing.write_all(b"\x04").unwrap(); // Ctrl-D, the terminal's end-of-file character
    let code = wait(&mut child, Duration::from_secs(10));
    if code.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    let mut out = String::new();
    child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    (code, out)
}

#[test]
fn one_ctrl_d_ends_input_on_a_terminal() {
    for args in [&["check"][..], &["check", "-j", "1"], &["check", "-j", "4"], &["decode"]] {
        for enter in [true, false] {
            let (code, out) = one_ctrl_d(args, enter);
            assert_eq!(code, Some(0), "{args:?}, Enter {enter}: still running after one Ctrl-D");
            assert!(out.starts_with("✔ stdin:1") || out.starts_with("stdin:1"), "{args:?}: {out}");
        }
    }
}

#[test]
fn a_paste_longer_than_the_terminal_passes_is_named_not_judged() {
    // The terminal keeps 4,095 characters of a line and drops the rest: what arrives is a cut
    // token, which would be judged (or called malformed) as if it were whole.
    let long = format!("{}{}", token(), "A".repeat(5000));
    let (code, out) = type_at_terminal(&["check", "--color", "never"], &format!("{long}\n"));
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains(
            "line 1 is 4095 characters, the most a terminal passes in one line: a longer paste was cut. \
                      Save the token to a file and run `mfacheck check @FILE`"
        ),
        "{out}"
    );
    // Piped, the same line is read whole.
    let out = assert_cmd::Command::cargo_bin("mfacheck")
        .unwrap()
        .args(["check", "--format", "ndjson", "-"])
        .write_stdin(format!("{long}\n"))
        .output()
        .unwrap();
    let out = String::from_utf8(out.stdout).unwrap();
    assert!(out.contains("\"error\"") && !out.contains("terminal"), "{out}");
}

#[test]
fn text_wraps_to_a_narrow_terminal() {
    for columns in [60u16, 80] {
        let (controller, terminal) = pty();
        let size = libc::winsize { ws_row: 50, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0 };
        assert_eq!(unsafe { libc::ioctl(terminal.as_raw_fd(), libc::TIOCSWINSZ, &size) }, 0);
        let mut cmd = bin();
        cmd.args([
            "check",
            "--explain",
            "--color",
            "never",
            "--now",
            NOW,
            "fixtures/password-only.jwt",
            "fixtures/which/graph.jwt",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::from(terminal.try_clone().unwrap()))
        .stderr(Stdio::from(terminal.try_clone().unwrap()));
        let mut child = spawn_on(&mut cmd, &terminal);
        drop(terminal);
        let shown = collect(&controller);
        assert!(wait(&mut child, Duration::from_secs(10)).is_some());
        let mut text = Vec::new();
        while let Ok(block) = shown.recv_timeout(Duration::from_millis(500)) {
            text.extend(block);
        }
        let text = String::from_utf8_lossy(&text).replace('\r', "");
        assert!(text.contains("900421") && text.contains("claims explained:"), "{text}");
        for line in text.lines() {
            let len = line.chars().count();
            // Only a word longer than a line (a URL) may overflow.
            let longest = line.split(' ').map(|w| w.chars().count()).max().unwrap_or(0);
            assert!(len <= columns as usize || longest > columns as usize - 30, "{columns} columns: {line:?}");
        }
    }
}

/// A child whose stdout lines arrive on a channel, read in a thread.
fn lines_of(stdout: ChildStdout) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    rx
}

/// `check --format ndjson ARGS` with stdin a pipe the test writes and its result lines on a channel.
fn check_through_pipes(args: &[&str]) -> (Child, ChildStdin, mpsc::Receiver<String>) {
    let mut child = bin()
        .args(["check", "--format", "ndjson", "--now", NOW])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdin = child.stdin.take().unwrap();
    let results = lines_of(child.stdout.take().unwrap());
    (child, stdin, results)
}

/// Feeds `burst` tokens, reads all their results before writing more, twice: each result must
/// come while the program waits for its next input.
fn streams(args: &[&str], burst: usize) {
    let (mut child, mut stdin, results) = check_through_pipes(args);
    let line = format!("{}\n", token());
    for round in 0..2 {
        stdin.write_all(line.repeat(burst).as_bytes()).unwrap();
        stdin.flush().unwrap();
        for i in 0..burst {
            let got = results.recv_timeout(Duration::from_secs(20));
            let result = got.unwrap_or_else(|_| panic!("{args:?}: result {i} of round {round} waits for more input"));
            assert!(result.contains("\"compliant\":true"), "{result}");
        }
    }
    drop(stdin);
    assert_eq!(wait(&mut child, Duration::from_secs(20)), Some(0));
    assert!(results.recv_timeout(Duration::from_secs(5)).is_err(), "no more results");
}

#[test]
fn results_are_written_before_waiting_for_more_input() {
    streams(&["-j", "1"], 1);
    streams(&[], 1);
    streams(&["-j", "2"], 600);
    streams(&["-j", "1"], 600);
}

/// Writes the same results whether or not folded tokens and a JSON wrapper are fed slowly.
#[test]
fn a_folded_token_fed_slowly_is_one_result() {
    let (mut child, mut stdin, results) = check_through_pipes(&["-j", "2"]);
    let token = token();
    let folded: Vec<&str> = token.as_bytes().chunks(76).map(|c| std::str::from_utf8(c).unwrap()).collect();
    for line in &folded {
        stdin.write_all(format!("{line}\n").as_bytes()).unwrap();
        stdin.flush().unwrap();
        std::thread::sleep(Duration::from_millis(20));
    }
    let first = results.recv_timeout(Duration::from_secs(20)).expect("the folded token's result before EOF");
    assert!(first.contains(&format!("\"source\":\"stdin:1-{}\"", folded.len())), "{first}");
    drop(stdin);
    assert_eq!(wait(&mut child, Duration::from_secs(20)), Some(0));
}

#[test]
fn progress_shows_on_a_terminal_for_long_runs_and_is_cleared() {
    let run = |args: &[&str]| {
        let (controller, terminal) = pty();
        let mut cmd = bin();
        cmd.args(["check", "--format", "ndjson", "--now", NOW])
            .args(args)
            .stdin(Stdio::piped())
            .stderr(Stdio::from(terminal.try_clone().unwrap()))
            .stdout(Stdio::null());
        let mut child = spawn_on(&mut cmd, &terminal);
        drop(terminal);
        let shown = collect(&controller);
        let mut stdin = child.stdin.take().unwrap();
        let line = format!("{}\n", token());
        // A long run: tokens for more than the progress line's delay.
        let start = Instant::now();
        while start.elapsed() < Duration::from_millis(2500) {
            stdin.write_all(line.repeat(200).as_bytes()).unwrap();
            std::thread::sleep(Duration::from_millis(100));
        }
        drop(stdin);
        assert_eq!(wait(&mut child, Duration::from_secs(30)), Some(0));
        std::thread::sleep(Duration::from_millis(200));
        let bytes: Vec<u8> = shown.try_iter().flatten().collect();
        String::from_utf8_lossy(&bytes).into_owned()
    };
    let shown = run(&[]);
    assert!(shown.contains("tokens, ") && shown.contains("/s: ") && shown.contains(" compliant, "), "{shown:?}");
    let last = shown.rsplit("tokens, ").next().unwrap();
    assert!(last.contains("\x1b[2K") || last.contains("\r\x1b[K") || last.contains("\x1b[K"), "cleared: {shown:?}");
    assert!(!run(&["--quiet"]).contains("tokens, "), "--quiet shows no progress");
}

#[test]
fn no_progress_when_stderr_is_not_a_terminal() {
    let out = bin()
        .args(["check", "--now", NOW, "--format", "ndjson"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = out;
    let mut stdin = child.stdin.take().unwrap();
    let line = format!("{}\n", token());
    for _ in 0..15 {
        stdin.write_all(line.repeat(100).as_bytes()).unwrap();
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

/// What `mfacheck check ARGS @fixtures/mfa.jwt` shows with stdout on a terminal, under `env`
/// (the colour variables of the environment running the tests removed first).
fn shown_on_a_terminal(args: &[&str], env: &[(&str, &str)]) -> String {
    let (controller, terminal) = pty();
    let mut cmd = bin();
    cmd.args(["check", "--now", NOW])
        .args(args)
        .arg("@fixtures/mfa.jwt")
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("TERM")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::from(terminal.try_clone().unwrap()))
        .stderr(Stdio::from(terminal.try_clone().unwrap()));
    let mut child = spawn_on(&mut cmd, &terminal);
    drop((cmd, terminal));
    let shown = collect(&controller);
    assert_eq!(wait(&mut child, Duration::from_secs(10)), Some(0), "{args:?} {env:?}");
    // The reader ends when the terminal's last user is gone; a deadline in case it does not.
    let mut bytes = Vec::new();
    while let Ok(block) = shown.recv_timeout(Duration::from_secs(2)) {
        bytes.extend(block);
    }
    let shown = String::from_utf8_lossy(&bytes).into_owned();
    assert!(shown.contains("compliant"), "{args:?} {env:?}: {shown:?}");
    shown
}

#[test]
fn colour_on_a_terminal_unless_dumb_or_no_color() {
    let colourful = |shown: &str| shown.contains("\x1b[");
    let xterm = ("TERM", "xterm-256color");
    assert!(colourful(&shown_on_a_terminal(&[], &[xterm])), "auto on a terminal: colour");
    assert!(!colourful(&shown_on_a_terminal(&[], &[("TERM", "dumb")])), "TERM=dumb: no colour");
    assert!(!colourful(&shown_on_a_terminal(&["--color", "auto"], &[("TERM", "dumb")])), "TERM=dumb: no colour");
    // Neither a CI environment nor CLICOLOR makes a dumb terminal show colour.
    let dumb_in_ci = [("TERM", "dumb"), ("CI", "true"), ("CLICOLOR", "1")];
    assert!(!colourful(&shown_on_a_terminal(&[], &dumb_in_ci)), "TERM=dumb in CI: no colour");
    assert!(!colourful(&shown_on_a_terminal(&[], &[])), "no TERM: no colour");
    assert!(!colourful(&shown_on_a_terminal(&[], &[xterm, ("NO_COLOR", "1")])), "NO_COLOR: no colour");
    assert!(!colourful(&shown_on_a_terminal(&["--color", "never"], &[xterm])), "--color never");
    assert!(colourful(&shown_on_a_terminal(&["--color", "always"], &[("TERM", "dumb")])), "--color always wins");
}

/// `serve` with its log on a terminal: one short line a request, no JSON.
#[cfg(feature = "serve")]
#[test]
fn serve_logs_readable_lines_to_a_terminal() {
    let (controller, terminal) = pty();
    let mut cmd = bin();
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--now", NOW])
        .stdin(Stdio::null())
        .stdout(std::fs::File::from(terminal.try_clone().unwrap()))
        .stderr(Stdio::piped());
    let mut child = spawn_on(&mut cmd, &terminal);
    let shown = collect(&controller);
    let mut first = String::new();
    BufReader::new(child.stderr.take().unwrap()).read_line(&mut first).unwrap();
    let addr = first.split("http://").nth(1).and_then(|r| r.trim().split(['/', ' ']).next()).unwrap().to_owned();
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    let request = format!(
        "GET /v1/customers HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {}\r\n\r\n",
        crate::support::fixture("password-only.jwt")
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let mut text = String::new();
    let until = Instant::now() + Duration::from_secs(10);
    while !text.contains('\n') && Instant::now() < until {
        if let Ok(block) = shown.recv_timeout(Duration::from_millis(100)) {
            text.push_str(&String::from_utf8_lossy(&block));
        }
    }
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    wait(&mut child, Duration::from_secs(10));
    let line = text.lines().next().unwrap_or_default();
    assert!(line.contains("GET /v1/customers 401 MFA missing app "), "{text:?}");
    assert!(!text.contains('{'), "no JSON on a terminal: {text:?}");
}

#[test]
fn signins_text_wraps_to_a_narrow_terminal_as_check_does() {
    let columns = 60u16;
    let (controller, terminal) = pty();
    let size = libc::winsize { ws_row: 50, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0 };
    assert_eq!(unsafe { libc::ioctl(terminal.as_raw_fd(), libc::TIOCSWINSZ, &size) }, 0);
    let mut cmd = bin();
    cmd.args(["signins", "fixtures/signins/graph.json"])
        .stdin(Stdio::null())
        .stdout(Stdio::from(terminal.try_clone().unwrap()))
        .stderr(Stdio::from(terminal.try_clone().unwrap()));
    let mut child = spawn_on(&mut cmd, &terminal);
    drop(terminal);
    let shown = collect(&controller);
    assert_eq!(wait(&mut child, Duration::from_secs(10)), Some(1));
    let mut text = Vec::new();
    while let Ok(block) = shown.recv_timeout(Duration::from_millis(500)) {
        text.extend(block);
    }
    let text = String::from_utf8_lossy(&text).replace('\r', "");
    assert!(text.contains("\n    hint signin-single-factor") && text.contains("900421"), "{text}");
    // The table per application and user is a table: its rows are not wrapped.
    for line in text.lines().take_while(|l| !l.contains("MFA by application and user")) {
        let longest = line.split(' ').map(|w| w.chars().count()).max().unwrap_or(0);
        assert!(line.chars().count() <= columns as usize || longest > columns as usize - 30, "{line:?}");
    }
}
