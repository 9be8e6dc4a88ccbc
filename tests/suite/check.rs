//! `mfacheck check` as users run it: inputs, formats, exit statuses and exact output.

use crate::support::{fixture, mfacheck};
use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

const NOW: &str = "2026-11-26T12:00:00Z";

fn json_of(cmd: &mut Command) -> Vec<Value> {
    let out = cmd.output().unwrap();
    serde_json::from_slice::<Value>(&out.stdout).unwrap().as_array().unwrap().clone()
}

#[test]
fn text_output_for_a_password_only_token_is_exact() {
    let expected = "\
✘ arg:1  not compliant: app+user, MFA missing, amr [pwd]
    kind      app+user: scp claim present
    audience  https://api.partnercenter.microsoft.com (Partner Center)
    issuer    https://sts.windows.net/df845f1a-7b35-40a2-ba78-6481de91f8ae/ (v1.0, RS256)
    tenant    df845f1a-7b35-40a2-ba78-6481de91f8ae
    app       23ec45a3-5127-4185-9eff-c8887839e6ab (public client)
    user      Isaiah.Williams@testtestpartner.onmicrosoft.com
    issued    2025-12-01T00:00:00Z
    expires   2100-01-01T00:00:00Z (expires in 73 years)
    hint      password-only: amr is only [\"pwd\"]: a non-interactive flow (resource-owner password credentials) \
cannot prompt for MFA, or MFA is not enforced for this user. Switch to an interactive flow (OpenID Connect / \
authorization code) with an MFA-enabled account; the user can register for MFA when prompted
    Partner Center would answer:
      HTTP/1.1 401 Unauthorized - MFA required
      Transfer-Encoding: chunked
      Request-Context: appId=cid-v1:03ce8ca8-8373-4021-8f25-d5dd45c7b12f
      WWW-Authenticate: Bearer error=\"invalid_token\"
      Date: Thu, 26 Nov 2026 12:00:00 GMT

Note: Since 2026 Partner Center enforces the MFA rule on every app+user API call (progressively from April \
2026) and reports the refusal as a 401 with error code 900421; app-only calls are not affected.
";
    mfacheck()
        .args(["check", "--now", NOW, &fixture("password-only.jwt")])
        .assert()
        .code(1)
        .stdout(expected)
        .stderr("");
}

#[test]
fn text_output_for_the_seed_token_shows_expiry_and_passes() {
    let expected = "\
✔ fixtures/seed.jwt:1  compliant: app+user, MFA satisfied, amr [pwd, mfa] — but Partner Center would refuse it: expired 3 days ago
    kind      app+user: scp claim present
    audience  https://api.partnercenter.microsoft.com (Partner Center)
    issuer    https://sts.windows.net/df845f1a-7b35-40a2-ba78-6481de91f8ae/ (v1.0, RS256)
    tenant    df845f1a-7b35-40a2-ba78-6481de91f8ae
    app       23ec45a3-5127-4185-9eff-c8887839e6ab (public client)
    user      Isaiah.Williams@testtestpartner.onmicrosoft.com
    issued    2019-02-02T06:22:32Z
    expires   2019-02-02T07:27:32Z (expired 3 days ago)
    warning   expired: token expired 3 days ago (exp 2019-02-02T07:27:32Z): request a new token
";
    mfacheck().args(["check", "--now", "2019-02-05T07:30:00Z", "@fixtures/seed.jwt"]).assert().code(0).stdout(expected);
}

#[test]
fn json_result_object_has_the_documented_shape() {
    let results = json_of(mfacheck().args(["check", "--format", "json", "--now", NOW, &fixture("seed.jwt")]));
    let r = &results[0];
    assert_eq!(r["source"], "arg:1");
    assert_eq!(r["kind"], "app+user");
    assert_eq!(r["kind_reason"], "scp claim present");
    assert_eq!(r["mfa"], "satisfied");
    assert_eq!(r["compliant"], true);
    assert_eq!(r["signature"], "not-checked", "no key given");
    assert_eq!(r["amr"], serde_json::json!(["pwd", "mfa"]));
    assert_eq!(r["response"], Value::Null);
    assert_eq!(r["error"], Value::Null);
    let t = &r["token"];
    assert_eq!(t["ver"], "1.0");
    assert_eq!(t["alg"], "RS256");
    assert_eq!(t["aud"], "https://api.partnercenter.microsoft.com");
    assert_eq!(t["tid"], "df845f1a-7b35-40a2-ba78-6481de91f8ae");
    assert_eq!(t["app_id"], "23ec45a3-5127-4185-9eff-c8887839e6ab");
    assert_eq!(t["app_auth"], "public-client");
    assert_eq!(t["user"], "Isaiah.Williams@testtestpartner.onmicrosoft.com");
    assert_eq!(t["cross_tenant"], false);
    assert_eq!(t["iat"], "2019-02-02T06:22:32Z");
    assert_eq!(t["exp"], "2019-02-02T07:27:32Z");
    assert_eq!(t["expired"], true);
    assert_eq!(r["findings"][0]["code"], "expired");
    assert_eq!(r["findings"][0]["level"], "warning");
}

#[test]
fn response_text_is_the_401_with_crlf_and_the_clock_in_the_date_line() {
    let results =
        json_of(mfacheck().args(["check", "--format", "json", "--now", "1550181298", "@fixtures/password-only.jwt"]));
    assert_eq!(results[0]["response"]["status"], 401);
    assert_eq!(
        results[0]["response"]["text"],
        "HTTP/1.1 401 Unauthorized - MFA required\r\nTransfer-Encoding: chunked\r\n\
         Request-Context: appId=cid-v1:03ce8ca8-8373-4021-8f25-d5dd45c7b12f\r\n\
         WWW-Authenticate: Bearer error=\"invalid_token\"\r\nDate: Thu, 14 Feb 2019 21:54:58 GMT\r\n"
    );
}

#[test]
fn ndjson_is_one_compact_object_per_token_in_input_order() {
    let out = mfacheck().args(["check", "--format", "ndjson", "@fixtures/inputs/mixed.txt"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let sources: Vec<&str> = lines.iter().map(|r| r["source"].as_str().unwrap()).collect();
    assert_eq!(
        sources,
        [
            "fixtures/inputs/mixed.txt:1",
            "fixtures/inputs/mixed.txt:2",
            "fixtures/inputs/mixed.txt:3",
            "fixtures/inputs/mixed.txt:4"
        ]
    );
    let verdicts: Vec<Option<&str>> = lines.iter().map(|r| r["mfa"].as_str()).collect();
    assert_eq!(verdicts, [Some("satisfied"), Some("missing"), None, Some("not-required")]);
    assert_eq!(lines[2]["error"]["code"], "not-a-jwt");
}

#[test]
fn exit_status_merges_across_inputs() {
    let ok = fixture("mfa.jwt");
    let missing = fixture("password-only.jwt");
    mfacheck().args(["check", "-q", &ok]).assert().code(0).stdout("");
    mfacheck().args(["check", "-q", &ok, &missing]).assert().code(1);
    mfacheck().args(["check", "-q", &missing, "garbage", &ok]).assert().code(2);
    mfacheck().args(["check", "-q", "@fixtures/app-only.jwt", "@fixtures/seed.jwt"]).assert().code(0);
}

#[test]
fn quiet_prints_nothing_even_for_errors() {
    mfacheck()
        .args(["check", "--quiet", "not-a-token", "@fixtures/missing-file.jwt"])
        .assert()
        .code(2)
        .stdout("")
        .stderr("");
}

#[test]
fn stdin_is_read_without_inputs_and_with_dash() {
    let token = fixture("password-only.jwt");
    let results = json_of(mfacheck().args(["check", "--format", "json"]).write_stdin(format!("\n{token}\n")));
    assert_eq!(results[0]["source"], "stdin:2");
    assert_eq!(results[0]["mfa"], "missing");
    let results =
        json_of(mfacheck().args(["check", "--format", "json", "@fixtures/app-only.jwt", "-"]).write_stdin(token));
    assert_eq!(results[1]["source"], "stdin:1");
}

#[test]
fn empty_stdin_is_one_empty_error() {
    let results = json_of(mfacheck().args(["check", "--format", "json"]).write_stdin(""));
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["source"], "stdin");
    assert_eq!(results[0]["error"]["code"], "empty");
    mfacheck().arg("check").write_stdin("  \n\n").assert().code(2);
}

#[test]
fn az_cli_output_is_read_for_its_access_token() {
    let results = json_of(mfacheck().args(["check", "--format", "json", "@fixtures/inputs/az-get-access-token.json"]));
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["source"], "fixtures/inputs/az-get-access-token.json:1");
    assert_eq!(results[0]["mfa"], "satisfied");
    // The same piped, as `az account get-access-token | mfacheck check` does.
    let az = fixture("inputs/az-get-access-token.json");
    mfacheck().arg("check").write_stdin(az.clone()).assert().code(0);
    mfacheck().args(["check", &az]).assert().code(0);
}

#[test]
fn oauth_token_responses_one_per_line() {
    let results = json_of(mfacheck().args(["check", "--format", "json", "@fixtures/inputs/token-responses.ndjson"]));
    let verdicts: Vec<&Value> = results.iter().map(|r| &r["mfa"]).collect();
    assert_eq!(verdicts, ["missing", "not-required"]);
}

#[test]
fn pasted_tokens_are_cleaned() {
    let results = json_of(mfacheck().args(["check", "--format", "json", "@fixtures/inputs/pasted.txt"]));
    let sources: Vec<&str> = results.iter().map(|r| r["source"].as_str().unwrap()).collect();
    assert_eq!(
        sources,
        ["fixtures/inputs/pasted.txt:1", "fixtures/inputs/pasted.txt:3", "fixtures/inputs/pasted.txt:4"]
    );
    assert!(results.iter().all(|r| r["error"].is_null() && r["compliant"] == true));
    let token = fixture("mfa.jwt");
    for paste in [
        format!("Bearer {token}"),
        format!("'{token}'"),
        format!("  \"{token}\"  "),
        format!("authorization: bearer {token}"),
    ] {
        mfacheck().args(["check", "-q", &paste]).assert().code(0);
    }
}

#[test]
fn unreadable_file_is_an_error_result_and_the_batch_goes_on() {
    let results = json_of(mfacheck().args(["check", "--format", "json", "@fixtures/no-such.jwt", "@fixtures/mfa.jwt"]));
    assert_eq!(results[0]["source"], "fixtures/no-such.jwt");
    assert_eq!(results[0]["error"]["code"], "unreadable");
    assert_eq!(results[1]["compliant"], true);
    mfacheck().args(["check", "-q", "@fixtures/no-such.jwt"]).assert().code(2);
    mfacheck().args(["check", "-q", "@fixtures"]).assert().code(2);
}

#[test]
fn require_valid_time_makes_expired_and_future_tokens_fail() {
    mfacheck().args(["check", "-q", "--now", NOW, "@fixtures/seed.jwt"]).assert().code(0);
    mfacheck().args(["check", "-q", "--now", NOW, "--require-valid-time", "@fixtures/seed.jwt"]).assert().code(1);
    mfacheck().args(["check", "-q", "--require-valid-time", "@fixtures/not-yet-valid.jwt"]).assert().code(1);
    mfacheck().args(["check", "-q", "--require-valid-time", "@fixtures/mfa.jwt"]).assert().code(0);
    // Within the leeway: exp 2019-02-02T07:27:32Z, now 100 s later.
    mfacheck()
        .args(["check", "-q", "--now", "1549092552", "--require-valid-time", "@fixtures/seed.jwt"])
        .assert()
        .code(0);
    mfacheck()
        .args(["check", "-q", "--now", "1549092552", "--leeway", "10", "--require-valid-time", "@fixtures/seed.jwt"])
        .assert()
        .code(1);
}

#[test]
fn colour_follows_the_flag_and_no_color() {
    let colourful = predicate::str::contains("\u{1b}[");
    mfacheck().args(["check", "--color", "always", "@fixtures/mfa.jwt"]).assert().stdout(colourful.clone());
    mfacheck().args(["check", "--color", "never", "@fixtures/mfa.jwt"]).assert().stdout(colourful.clone().not());
    // Not a terminal: auto means no colour.
    mfacheck().args(["check", "@fixtures/mfa.jwt"]).assert().stdout(colourful.clone().not());
    mfacheck()
        .args(["check", "--color", "auto", "@fixtures/mfa.jwt"])
        .env("NO_COLOR", "1")
        .assert()
        .stdout(colourful.not());
}

#[test]
fn text_summary_counts_outcomes() {
    mfacheck()
        .args(["check", "--now", NOW, "@fixtures/inputs/mixed.txt"])
        .assert()
        .code(2)
        .stdout(predicate::str::ends_with("\n4 tokens: 2 compliant, 1 not compliant, 1 error\n"))
        .stdout(predicate::str::contains("✘ fixtures/inputs/mixed.txt:3  error (not-a-jwt): not a JWT"));
}

#[test]
fn usage_errors_exit_2() {
    // Each input also exits 2 for other reasons (no input, a missing file `x`), so each case
    // checks the message that says the usage error was caught, and that nothing was checked.
    let cases: [(&[&str], &str); 4] = [
        (&["check", "--format", "yaml"], "invalid value 'yaml' for '--format <FORMAT>'"),
        (&["check", "--now", "yesterday", "x"], "invalid value 'yesterday' for '--now <TIME>'"),
        (&["frobnicate"], "\"frobnicate\" is not a command"),
        (&[], "Usage: mfacheck <COMMAND>"),
    ];
    for (args, message) in cases {
        let out = mfacheck().args(args).write_stdin("").output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.starts_with("mfacheck: ") && stderr.contains(message), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?} checked something: {}", String::from_utf8_lossy(&out.stdout));
    }
}

#[test]
fn json_is_an_array_even_for_one_token() {
    let out = mfacheck().args(["check", "--format", "json", "@fixtures/mfa.jwt"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("[\n  {\n    \"source\": \"fixtures/mfa.jwt:1\","), "{text}");
    assert!(text.ends_with("\n]\n"));
}

#[test]
fn a_closed_stdout_ends_quietly() {
    // `| head -1`: the reader goes away; no panic message, no error text.
    let tokens = format!("{}\n", fixture("mfa.jwt")).repeat(20_000);
    let out = crate::support::fed::closed_stdout(&["check", "--format", "ndjson"], tokens);
    // A reader that went away is not an error: no message at all, and the status of what was checked.
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn piped_stdin_gets_no_hint_and_diagnostics_stay_off_stdout() {
    mfacheck()
        .args(["check", "--format", "ndjson"])
        .write_stdin(fixture("mfa.jwt"))
        .assert()
        .code(0)
        .stderr("")
        .stdout(predicate::str::starts_with("{\"source\":\"stdin:1\""));
}

/// A sample token with the given `--claim`s, made by the binary itself.
fn sample(claims: &[&str]) -> String {
    let mut args = vec!["sample"];
    for claim in claims {
        args.extend(["--claim", claim]);
    }
    let out = mfacheck().args(&args).output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn extreme_times_neither_panic_nor_pass_require_valid_time() {
    for exp in ["exp=-1e300", "exp=-9223372036854775808", "exp=1e300", "nbf=9223372036854775807"] {
        let token = sample(&[exp]);
        let out = mfacheck().args(["check", "--color", "never", &token]).output().unwrap();
        assert!(matches!(out.status.code(), Some(0 | 1)), "{exp}: {:?}", out.status);
        assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"), "{exp}");
    }
    mfacheck().args(["check", "-q", "--require-valid-time", &sample(&["exp=-1e300"])]).assert().code(1);
    mfacheck().args(["check", "-q", "--require-valid-time", &sample(&["nbf=9223372036854775807"])]).assert().code(1);
}

#[test]
fn usage_errors_never_repeat_a_whole_token() {
    let token = fixture("mfa.jwt");
    for args in [vec![token.as_str()], vec!["check", "--format", &token], vec!["check", "--now", &token, "x"]] {
        let out = mfacheck().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(stderr.contains(&token[..12]) && !stderr.contains(&token[..13]), "{stderr}");
    }
}

#[test]
fn control_characters_in_claims_are_shown_escaped() {
    let token = sample(&["upn=\"a\\u001b[31mRED\\u001b[0m\\nfake line\""]);
    mfacheck()
        .args(["check", "--color", "never", &token])
        .assert()
        .stdout(predicate::str::contains("    user      a\\u{1b}[31mRED\\u{1b}[0m\\u{a}fake line\n"))
        .stdout(predicate::str::contains("\u{1b}").not());
}

#[test]
fn same_tenant_in_v1_and_v2_issuer_forms_is_not_cross_tenant() {
    let out = mfacheck().args(["sample", "--app-only", "--ver", "2.0"]).output().unwrap();
    let token = String::from_utf8(out.stdout).unwrap();
    let results = json_of(mfacheck().args(["check", "--format", "json", token.trim()]));
    assert_eq!(results[0]["token"]["cross_tenant"], false);
    assert!(!results[0]["findings"].to_string().contains("cross-tenant"));
    let results = json_of(mfacheck().args(["check", "--format", "json", "@fixtures/cross-tenant.jwt"]));
    assert_eq!(results[0]["token"]["cross_tenant"], true);
}

#[test]
fn scp_of_any_type_means_app_user() {
    let token = sample(&["scp=[\"user_impersonation\"]", "oid=\"a\"", "sub=\"a\"", "amr=[\"pwd\"]"]);
    let results = json_of(mfacheck().args(["check", "--format", "json", &token]));
    assert_eq!(results[0]["kind"], "app+user");
    assert_eq!(results[0]["kind_reason"], "scp claim present");
    assert_eq!(results[0]["mfa"], "missing");
}

#[test]
fn a_byte_order_mark_before_the_first_line_is_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("bom.txt");
    std::fs::write(&token_file, format!("\u{feff}{}\n", fixture("mfa.jwt"))).unwrap();
    let az_file = dir.path().join("bom.json");
    std::fs::write(&az_file, format!("\u{feff}{}\n", fixture("inputs/az-get-access-token.json"))).unwrap();
    for file in [&token_file, &az_file] {
        mfacheck().args(["check", "-q", &format!("@{}", file.display())]).assert().code(0);
        mfacheck().args(["decode", "-q", &format!("@{}", file.display())]).assert().code(0);
    }
    mfacheck().args(["check", "-q"]).write_stdin(std::fs::read(&token_file).unwrap()).assert().code(0);
}
