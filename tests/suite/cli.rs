//! The command line as a new user tries it: plain and globbed paths, folded tokens,
//! binary files, text that needs `scan`, one spelling and one message style, durations, help
//! examples, and the CI formats and per-application summary.

use assert_cmd::Command;
use quick_xml::events::Event;
use serde_json::Value;
use std::process::Stdio;

const NOW: &str = "2026-06-01T00:00:00Z";

fn run(args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut cmd = Command::cargo_bin("mfacheck").unwrap();
    let out = cmd.current_dir(env!("CARGO_MANIFEST_DIR")).args(args).write_stdin(stdin).output().unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code().unwrap(), text(&out.stdout), text(&out.stderr))
}

fn token(name: &str) -> String {
    crate::support::fixture(name)
}

fn sources(ndjson: &str) -> Vec<String> {
    ndjson.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()["source"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn plain_and_globbed_paths_are_files() {
    let (code, out, _) = run(&["check", "--now", NOW, "--format", "ndjson", "fixtures/password-only.jwt"], "");
    assert_eq!((code, sources(&out)), (1, vec!["fixtures/password-only.jwt:1".to_owned()]));
    // As the shell expands a glob: one result per file, none of them a path taken for a token.
    let out = std::process::Command::new("sh")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("-c")
        .arg(format!("'{}' check --now {NOW} --format ndjson fixtures/*.jwt", env!("CARGO_BIN_EXE_mfacheck")))
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    let results: Vec<Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let files = std::fs::read_dir("fixtures")
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "jwt"));
    assert_eq!(results.len(), files.count());
    assert!(results.iter().all(|r| r["error"].is_null()), "no path taken for a token");
    assert!(results.iter().all(|r| r["source"].as_str().unwrap().starts_with("fixtures/")));
    // A plain path that does not exist is read as the file it names: "no such file".
    let (code, out, _) = run(&["check", "--format", "ndjson", "no/such.jwt"], "");
    assert_eq!((code, sources(&out)), (2, vec!["no/such.jwt".to_owned()]));
    assert!(out.contains("cannot read no/such.jwt: no such file"), "{out}");
}

#[test]
fn completion_offers_files_for_inputs() {
    let (code, script, _) = run(&["completions", "zsh"], "");
    assert_eq!(code, 0);
    assert!(script.contains("_files"), "INPUT completes paths");
}

#[test]
fn folded_tokens_are_joined_with_their_line_range() {
    let t = token("mfa.jwt");
    let fold = |width: usize| {
        t.as_bytes().chunks(width).map(|c| std::str::from_utf8(c).unwrap().to_owned() + "\n").collect::<String>()
    };
    let (n76, n64) = (t.len().div_ceil(76), t.len().div_ceil(64));
    let input = format!("{t}\n\n{}{}{t}\n", fold(76), fold(64));
    let (code, out, _) = run(&["check", "--now", NOW, "--format", "ndjson"], &input);
    let want = [
        "stdin:1".to_owned(),
        format!("stdin:3-{}", 2 + n76),
        format!("stdin:{}-{}", 3 + n76, 2 + n76 + n64),
        format!("stdin:{}", 3 + n76 + n64),
    ];
    assert_eq!((code, sources(&out)), (0, want.to_vec()));
    // As one argument, too.
    let (code, out, _) = run(&["check", "--now", NOW, "--format", "ndjson", &fold(76)], "");
    assert_eq!((code, sources(&out)), (0, vec!["arg:1".to_owned()]));

    // Any width a terminal, an editor or `fold -w N` uses, and a single break anywhere.
    for width in [80, 100, 120, 33] {
        let (code, out, _) = run(&["check", "--now", NOW, "--format", "ndjson"], &format!("{}{t}\n", fold(width)));
        let lines = t.len().div_ceil(width);
        assert_eq!((code, sources(&out)), (0, vec![format!("stdin:1-{lines}"), format!("stdin:{}", lines + 1)]));
    }
    for at in [100, 700] {
        let (code, out, _) =
            run(&["check", "--now", NOW, "--format", "ndjson"], &format!("{}\n{}\n", &t[..at], &t[at..]));
        assert_eq!((code, sources(&out)), (0, vec!["stdin:1-2".to_owned()]), "a break at {at}");
    }
}

#[test]
fn a_binary_file_is_one_error() {
    let (code, out, _) = run(&["check", "--format", "ndjson", &format!("@{}", env!("CARGO_BIN_EXE_mfacheck"))], "");
    let results: Vec<Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!((code, results.len()), (2, 1));
    assert_eq!(results[0]["error"]["code"], "binary");
    let (code, out, _) = run(&["check", "--format", "ndjson"], "eyJ\0\u{1}binary\n\n");
    assert_eq!((code, out.lines().count()), (2, 1));
    assert!(out.contains("\"binary\""));
}

#[test]
fn curl_commands_and_header_blocks_point_to_scan() {
    let t = token("mfa.jwt");
    let text = format!("curl -H 'Authorization: Bearer {t}' https://api.partnercenter.microsoft.com/v1/customers\n");
    let (code, out, _) = run(&["check", "--color", "never"], &text);
    assert_eq!(code, 2);
    assert!(out.contains("a curl command, not a token: `mfacheck scan` finds the tokens"), "{out}");
    assert!(!out.contains(&t[..20]), "no token echoed");
    let block =
        format!("GET /v1/customers HTTP/1.1\nHost: api.partnercenter.microsoft.com\nAuthorization: Bearer {t}\n");
    let (_, out, _) = run(&["check", "--format", "ndjson", "--now", NOW], &block);
    let results: Vec<Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(results.len(), 3);
    assert!(results[0]["error"]["message"].as_str().unwrap().contains("mfacheck scan"));
    assert!(results[1]["error"]["message"].as_str().unwrap().contains("an HTTP header"));
    assert_eq!(results[2]["compliant"], true, "the Authorization line is a token");
}

#[test]
fn the_headline_says_why_a_token_with_mfa_is_not_compliant() {
    let (code, out, _) = run(
        &[
            "check",
            "--color",
            "never",
            "--now",
            NOW,
            "--require-valid-time",
            "--audience",
            "https://graph.microsoft.com",
            "@fixtures/seed.jwt",
        ],
        "",
    );
    assert_eq!(code, 1);
    let first = out.lines().next().unwrap();
    assert_eq!(
        first,
        "✘ fixtures/seed.jwt:1  not compliant (expired, audience-mismatch): app+user, MFA satisfied, amr [pwd, mfa] — \
         Partner Center would refuse it: expired 7 years ago"
    );
}

#[test]
fn piped_findings_stay_one_line_each() {
    let (_, out, _) = run(&["check", "--color", "never", "@fixtures/password-only.jwt"], "");
    let hint = out.lines().find(|l| l.trim_start().starts_with("hint")).unwrap();
    assert!(hint.len() > 200 && hint.ends_with("when prompted"), "{hint}");
}

#[test]
fn one_spelling_and_one_message_style() {
    let (code, _, err) = run(&["check", "--bogus"], "");
    assert_eq!(code, 2);
    assert!(err.starts_with("mfacheck: unexpected argument '--bogus'"), "{err}");
    assert!(!err.contains("error:"), "{err}");
    let (code, out, err) = run(&["check", "@"], "");
    assert_eq!((code, out.as_str()), (2, ""));
    assert!(err.starts_with("mfacheck: invalid value '@'"), "a usage error, not an empty source: {err}");
    // `-` twice reads stdin once.
    let (code, out, _) =
        run(&["check", "--format", "ndjson", "--now", NOW, "-", "-"], &format!("{}\n", token("mfa.jwt")));
    assert_eq!((code, sources(&out)), (0, vec!["stdin:1".to_owned()]));
    let (_, out, _) = run(&["check", "@fixtures/seed.jwt", "@fixtures/password-only.jwt"], "");
    assert!(out.contains("not compliant") && !out.contains("non-compliant"));
}

#[test]
fn durations_are_written_one_way() {
    // exp 2019-02-02T07:27:32Z; 100 s later.
    let at = ["check", "-q", "--now", "1549092552", "--require-valid-time", "@fixtures/seed.jwt"];
    for (leeway, code) in [("5m", 0), ("300", 0), ("2m", 0), ("90s", 1), ("1m", 1), ("10", 1)] {
        assert_eq!(run(&[&at[..], &["--leeway", leeway]].concat(), "").0, code, "--leeway {leeway}");
    }
    let (code, _, err) = run(&[&at[..], &["--leeway", "soon"]].concat(), "");
    assert_eq!(code, 2);
    assert!(err.contains("not a duration"), "{err}");
    assert_eq!(run(&["check", "-q", "--fetch-timeout", "10s", "@fixtures/mfa.jwt"], "").0, 0);
    assert_eq!(run(&["check", "-q", "--fetch-timeout", "9223372036854775807", "@fixtures/mfa.jwt"], "").0, 2);
}

#[test]
fn every_help_ends_with_examples_in_one_layout() {
    for sub in ["check", "decode", "scan", "sample", "completions", "man", "serve"] {
        let (code, help, _) = run(&[sub, "--help"], "");
        assert_eq!(code, 0);
        let examples = help.rfind("Examples:").unwrap_or_else(|| panic!("{sub}: no examples"));
        let tail = &help[examples..];
        assert!(tail.lines().filter(|l| l.trim_start().starts_with("mfacheck ")).count() >= 2, "{sub}: {tail}");
        assert!(help.starts_with(&format!("Usage: mfacheck {sub}")), "{sub}: one layout, usage first");
    }
}

/// Reads a JUnit document back: (suite counts, (name, failure/error type) per test case).
type Case = (String, Option<(String, String)>);

fn junit(xml: &str) -> ((u64, u64, u64), Vec<Case>) {
    let mut reader = quick_xml::Reader::from_str(xml);
    let (mut counts, mut cases) = (None, Vec::new());
    let attr = |e: &quick_xml::events::BytesStart, name: &str| {
        e.try_get_attribute(name)
            .unwrap()
            .map(|a| a.normalized_value(quick_xml::XmlVersion::Implicit1_0).unwrap().into_owned())
    };
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) | Event::Empty(e) => match e.name().as_ref() {
                "testsuite" => {
                    let n = |k: &str| attr(&e, k).unwrap().parse::<u64>().unwrap();
                    counts = Some((n("tests"), n("failures"), n("errors")));
                }
                "testcase" => cases.push((attr(&e, "name").unwrap(), None)),
                tag @ ("failure" | "error") => {
                    let tag = tag.to_owned();
                    cases.last_mut().unwrap().1 = Some((tag, attr(&e, "type").unwrap()));
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    (counts.unwrap(), cases)
}

#[test]
fn junit_has_one_testcase_per_token() {
    let input = format!("{}\nnot a token\n{}\n", token("mfa.jwt"), token("password-only.jwt"));
    let (code, xml, _) = run(&["check", "--format", "junit", "--now", NOW], &input);
    assert_eq!(code, 2);
    let (counts, cases) = junit(&xml);
    assert_eq!(counts, (3, 1, 1));
    assert_eq!(
        cases,
        [
            ("stdin:1".to_owned(), None),
            ("stdin:2".to_owned(), Some(("error".to_owned(), "not-a-jwt".to_owned()))),
            ("stdin:3".to_owned(), Some(("failure".to_owned(), "password-only".to_owned()))),
        ]
    );
    // The parallel engine gives the same document.
    let many = format!("{}\n", token("password-only.jwt")).repeat(3000);
    let serial = run(&["check", "--format", "junit", "--now", NOW, "-j", "1"], &many).1;
    let parallel = run(&["check", "--format", "junit", "--now", NOW, "-j", "3"], &many).1;
    assert_eq!(junit(&serial).0, (3000, 3000, 0));
    assert!(serial == parallel, "parallel junit differs from serial");
    let (code, xml, _) = run(&["scan", "--format", "junit", "--now", NOW, "fixtures/scan/server.log"], "");
    assert_eq!((code, junit(&xml).0), (0, (2, 0, 0)));
    let (code, _, err) = run(&["decode", "--format", "junit", "@fixtures/mfa.jwt"], "");
    assert_eq!(code, 2);
    assert!(err.contains("invalid value 'junit' for '--format <FORMAT>'"), "{err}");
}

#[test]
fn github_annotations_name_file_and_line() {
    let (code, out, _) = run(
        &["check", "--format", "github", "--now", NOW, "fixtures/mfa.jwt", "fixtures/password-only.jwt", "not-a-token"],
        "",
    );
    assert_eq!(code, 2);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "nothing for a compliant token: {out}");
    assert!(
        lines[0].starts_with("::error file=fixtures/password-only.jwt,line=1,title=mfacheck%3A not compliant::"),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains("password-only: amr is only"), "{}", lines[0]);
    assert!(lines[1].starts_with("::error title=mfacheck%3A not-a-jwt::arg:3: "), "{}", lines[1]);
}

#[test]
fn check_summary_is_partner_centers_adoption_report() {
    let input =
        ["mfa.jwt", "password-only.jwt", "password-only.jwt", "app-only.jwt"].map(token).join("\n") + "\nnot a token\n";
    let (code, out, err) = run(&["check", "--summary", "--format", "ndjson", "--now", NOW], &input);
    assert_eq!(code, 2);
    let last: Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    let summary = &last["summary"];
    let rows = summary["applications"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{summary}");
    assert_eq!(rows[0]["applicationId"], "23ec45a3-5127-4185-9eff-c8887839e6ab");
    assert_eq!(rows[0]["loginDate"], "2025-12-01");
    assert_eq!(
        (rows[0]["mfaCompliantRequestCount"].as_u64(), rows[0]["totalRequestCount"].as_u64()),
        (Some(1), Some(3))
    );
    assert_eq!((summary["appOnlyRequestCount"].as_u64(), summary["notDecodableCount"].as_u64()), (Some(1), Some(1)));
    assert!(err.contains("23ec45a3-5127-4185-9eff-c8887839e6ab   2025-12-01"), "{err}");
    // Without ndjson, the summary is on stderr only.
    let (_, out, err) = run(&["check", "--summary", "--format", "json", "--now", NOW], &input);
    assert!(!out.contains("summary") && err.contains("MFA adoption"));
    // The parallel engine counts the same.
    let many = input.repeat(700);
    let serial = run(&["check", "--summary", "--format", "ndjson", "--now", NOW, "-j", "1"], &many).1;
    let parallel = run(&["check", "--summary", "--format", "ndjson", "--now", NOW, "-j", "3"], &many).1;
    assert_eq!(serial.lines().last(), parallel.lines().last());
    assert!(serial.lines().last().unwrap().contains("\"totalRequestCount\":2100"));
}

#[test]
fn errors_name_the_real_problem() {
    let t = token("mfa.jwt");
    let scan = "not a token: `mfacheck scan` finds the tokens in such text";
    for line in [
        format!("2026-01-01 INFO GET /v1/customers Authorization: Bearer {t}"),
        format!("token={t}"),
        format!("a Bearer {t}"),
        format!("https://app.example/cb#access_token={t}&token_type=Bearer"),
    ] {
        for (args, stdin) in [
            (vec!["check", "--color", "never"], format!("{line}\n")),
            (vec!["check", "--color", "never", &line], String::new()),
        ] {
            let (code, out, _) = run(&args, &stdin);
            assert_eq!(code, 2, "{line}");
            assert!(out.contains(scan), "{line}: {out}");
            assert!(!out.contains(&t[..13]), "no token echoed: {out}");
        }
    }
    let (code, out, _) = run(&["check", "--color", "never", "fixtures/scan/session.har"], "");
    assert_eq!(code, 2);
    assert!(out.contains("is a HAR capture (a browser's network log), not a file of tokens: `mfacheck scan fixtures/scan/session.har`"), "{out}");
    let (code, out, _) = run(&["check", "--color", "never", "nonexistent.jwt"], "");
    assert_eq!(
        (code, out.trim_end()),
        (2, "✘ nonexistent.jwt  error (unreadable): cannot read nonexistent.jwt: no such file")
    );
    let (code, out, _) = run(&["check", "--color", "never", "fixtures/"], "");
    assert_eq!(code, 2);
    assert!(out.contains("fixtures/ is a directory: give the files in it (e.g. fixtures/*.jwt)"), "{out}");
    // A whole token, bare or after Bearer, is still a token.
    assert_eq!(run(&["check", "--quiet", "--now", NOW], &format!("Bearer {t}\n{t}\n")).0, 0);
}

#[test]
fn small_things_that_add_up() {
    let t = token("mfa.jwt");
    // A token or a file without a subcommand, and a format spelled as a flag.
    let (code, _, err) = run(&[&t], "");
    assert_eq!(code, 2);
    assert!(err.contains("is not a command; to check it, run `mfacheck check TOKEN`"), "{err}");
    assert!(!err.contains(&t[..13]), "{err}");
    let (_, _, err) = run(&["fixtures/mfa.jwt"], "");
    assert!(err.contains("run `mfacheck check FILE`"), "{err}");
    let (code, _, err) = run(&["check", "--json", "fixtures/mfa.jwt"], "");
    assert_eq!((code, err.trim_end()), (2, "mfacheck: unexpected argument '--json': did you mean `--format json`?"));
    // decode lists only the formats it takes.
    let (_, help, _) = run(&["decode", "--help"], "");
    assert!(help.contains("[possible values: text, json, ndjson]") && !help.contains("junit"), "{help}");
    // Counts agree with their nouns.
    let (_, _, err) = run(&["scan", "--summary", "fixtures/scan/curl-verbose.txt"], "");
    assert!(err.contains("1 token found (1 occurrence)"), "{err}");
    // xms_tcdt as Entra ID sends it, a string of digits, is a date.
    let (_, out, _) = run(&["sample", "--claim", "xms_tcdt=\"1600000000\"", "--now", NOW], "");
    let (_, explained, _) = run(&["decode", "--explain", out.trim()], "");
    assert!(explained.contains("the tenant was created at 2020-09-13T12:26:40Z"), "{explained}");
    // An issuer whose tenant is no tenant id.
    let (_, out, _) =
        run(&["sample", "--claim", "iss=https://sts.windows.net/contoso.onmicrosoft.com/", "--now", NOW], "");
    let (_, result, _) = run(&["check", "--format", "ndjson", "--now", NOW, out.trim()], "");
    assert!(result.contains("\"code\":\"issuer-tenant-mismatch\""), "{result}");
}
