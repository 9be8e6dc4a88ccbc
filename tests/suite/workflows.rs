//! The workflows around the check, run through the built binary on `fixtures/`:
//! `scan`, `sample`, `--explain`, `completions` and `man`.

use crate::support::mfacheck;
use serde_json::Value;
use std::fs;

const NOW: &str = "2026-01-01T00:00:00Z";
/// `--now` and `--exp` of the committed fixtures (examples/fixtures.rs: IAT, EXP).
const FIXTURE_TIMES: [&str; 4] = ["--now", "2025-12-01T00:00:00Z", "--exp", "2100-01-01T00:00:00Z"];

fn run(args: &[&str], stdin: &str) -> (i32, String, String) {
    let out = mfacheck().args(args).write_stdin(stdin).output().expect("runs");
    (
        out.status.code().expect("an exit code"),
        String::from_utf8(out.stdout).expect("UTF-8 stdout"),
        String::from_utf8(out.stderr).expect("UTF-8 stderr"),
    )
}

fn json(args: &[&str]) -> (i32, Vec<Value>) {
    let (code, stdout, _) = run(args, "");
    let value: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    (code, value.as_array().expect("an array").clone())
}

fn fixture(path: &str) -> String {
    fs::read_to_string(format!("{}/fixtures/{path}", env!("CARGO_MANIFEST_DIR"))).expect("fixture")
}

// ---- scan ----

#[test]
fn scan_har_reports_each_token_once_with_the_first_request_that_sent_it() {
    let (code, results) = json(&["scan", "fixtures/scan/session.har", "--format", "json", "--now", NOW]);
    assert_eq!(code, 1, "the password-grant token lacks MFA");
    let got: Vec<(&str, u64, &str, &str, &str)> = results
        .iter()
        .map(|r| {
            (
                r["source"].as_str().unwrap(),
                r["count"].as_u64().unwrap(),
                r["request"]["method"].as_str().unwrap(),
                r["request"]["url"].as_str().unwrap(),
                r["mfa"].as_str().unwrap(),
            )
        })
        .collect();
    let api = "https://api.partnercenter.microsoft.com/v1";
    assert_eq!(
        got,
        [
            ("fixtures/scan/session.har:entry-2", 3, "GET", &*format!("{api}/customers"), "missing"),
            ("fixtures/scan/session.har:entry-4", 1, "GET", &*format!("{api}/invoices"), "satisfied"),
            ("fixtures/scan/session.har:entry-5", 1, "GET", &*format!("{api}/profiles/organization"), "not-required"),
        ]
    );
}

#[test]
fn scan_fixtures_exit_as_the_manifest_says() {
    let manifest: Vec<Value> = serde_json::from_str(&fixture("manifest.json")).unwrap();
    let rows: Vec<&Value> = manifest.iter().filter(|row| row["command"] == "scan").collect();
    assert_eq!(rows.len(), 3);
    for row in rows {
        let file = format!("fixtures/{}", row["file"].as_str().unwrap());
        let (code, _, stderr) = run(&["scan", "-q", &file], "");
        assert_eq!(i64::from(code), row["exit"].as_i64().unwrap(), "mfacheck scan {file}: {stderr}");
    }
}

#[test]
fn scan_text_shows_request_and_count_under_the_verdict_line() {
    let (code, stdout, _) = run(&["scan", "fixtures/scan/session.har", "--now", NOW], "");
    assert_eq!(code, 1);
    let head: Vec<&str> = stdout.lines().take(4).collect();
    assert_eq!(
        head,
        [
            "✘ fixtures/scan/session.har:entry-2  not compliant: app+user, MFA missing, amr [pwd]",
            "    request   GET https://api.partnercenter.microsoft.com/v1/customers",
            "    found     3 times",
            "    kind      app+user: scp claim present",
        ]
    );
    assert!(stdout.contains(
        "\n\n✔ fixtures/scan/session.har:entry-4  compliant: app+user, MFA satisfied, amr [pwd, mfa]\n    request   GET https://api.partnercenter.microsoft.com/v1/invoices\n    kind "
    ));
    assert!(stdout.ends_with("\n3 tokens found (5 occurrences): 2 compliant, 1 not compliant, 0 errors\n"), "{stdout}");
}

#[test]
fn scan_results_are_check_results_plus_count_and_request() {
    let (_, scanned) = json(&["scan", "fixtures/scan/curl-verbose.txt", "--format", "json", "--now", NOW]);
    let (_, checked) = json(&["check", "@fixtures/password-only.jwt", "--format", "json", "--now", NOW]);
    let mut s = scanned[0].as_object().unwrap().clone();
    let mut c = checked[0].as_object().unwrap().clone();
    assert_eq!(s.shift_remove("source").unwrap(), "fixtures/scan/curl-verbose.txt:7");
    assert_eq!(s.shift_remove("count").unwrap(), 1);
    assert_eq!(s.shift_remove("request").unwrap(), Value::Null);
    c.shift_remove("source");
    assert_eq!(s, c);
    assert!(!checked[0].as_object().unwrap().contains_key("count"), "check output stays as it is");
}

#[test]
fn scan_summary_goes_to_stderr_and_counts_repeats() {
    let (code, stdout, stderr) = run(&["scan", "fixtures/scan/server.log", "--summary", "--format", "ndjson"], "");
    assert_eq!(code, 0);
    let mut lines: Vec<Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let last = lines.pop().unwrap();
    let got: Vec<(&str, u64)> =
        lines.iter().map(|r| (r["source"].as_str().unwrap(), r["count"].as_u64().unwrap())).collect();
    assert_eq!(got, [("fixtures/scan/server.log:1", 3), ("fixtures/scan/server.log:3", 1)]);
    // The last line is the per-application summary; a token seen N times counts N requests.
    let rows = last["summary"]["applications"].as_array().unwrap();
    let requests: u64 = rows.iter().map(|r| r["totalRequestCount"].as_u64().unwrap()).sum();
    assert_eq!(requests + last["summary"]["appOnlyRequestCount"].as_u64().unwrap(), 4, "{last}");
    let first = stderr.lines().next().unwrap();
    assert_eq!(first, "mfacheck scan: 2 tokens found (4 occurrences): 2 compliant, 0 not compliant, 0 errors");
    assert!(stderr.contains("MFA adoption by application and day"), "{stderr}");

    let (code, stdout, stderr) = run(&["scan", "-q", "--summary", "fixtures/scan/curl-verbose.txt"], "");
    assert_eq!((code, stdout.as_str()), (1, ""));
    let first = stderr.lines().next().unwrap();
    assert_eq!(first, "mfacheck scan: 1 token found (1 occurrence): 0 compliant, 1 not compliant, 0 errors");
    assert!(!stderr.contains("non-compliant"), "one spelling: {stderr}");
}

#[test]
fn scan_dedups_across_inputs_and_reads_stdin() {
    let token = fixture("mfa.jwt");
    let text = format!("GET / HTTP/1.1\nAuthorization: Bearer {}\n", token.trim());
    let (code, stdout, _) = run(&["scan", "-", "fixtures/scan/server.log", "--format", "json"], &text);
    let results: Vec<Value> = serde_json::from_str(&stdout).unwrap();
    assert_eq!(code, 0);
    assert_eq!(results[0]["source"], "stdin:2");
    // Written when first found (count 1 then); the count in all closes the output.
    assert_eq!(results[0]["count"], 1);
    assert_eq!(results.len(), 3);
    assert_eq!(
        results[2],
        serde_json::json!({"repeats": [{"result": 1, "source": "stdin:2", "count": 4}]}),
        "once on stdin, three times in the log"
    );
}

#[test]
fn scan_errors_exit_2_like_check() {
    let (code, results) = json(&["scan", "--format", "json", "fixtures/bad/jwe.txt", "fixtures/no-such-file.log"]);
    assert_eq!(code, 2);
    let got: Vec<(&str, &str)> =
        results.iter().map(|r| (r["source"].as_str().unwrap(), r["error"]["code"].as_str().unwrap())).collect();
    assert_eq!(got, [("fixtures/bad/jwe.txt:1", "encrypted"), ("fixtures/no-such-file.log", "unreadable")]);

    let (code, stdout, _) = run(&["scan", "--color", "never"], "nothing to see here\neyJ.not.a token\n");
    assert_eq!(code, 2);
    assert_eq!(stdout, "✘ stdin  error (empty): no JWT found in stdin\n");
}

// ---- sample ----

#[test]
fn sample_without_mfa_fails_check() {
    let (code, token, _) = run(&["sample", "--amr", "pwd"], "");
    assert_eq!(code, 0);
    assert_eq!(token.matches('.').count(), 2);
    let (code, stdout, _) = run(&["check", "--format", "json"], &token);
    assert_eq!(code, 1);
    let result: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(result[0]["mfa"], "missing");
    let codes: Vec<&str> =
        result[0]["findings"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["password-only", "unsigned"]);

    let (_, token, _) = run(&["sample"], "");
    assert_eq!(run(&["check", "-q"], &token).0, 0, "the default amr pwd,mfa satisfies the rule");
    let (_, token, _) = run(&["sample", "--app-only", "--amr", "pwd"], "");
    let (code, stdout, _) = run(&["check", "--format", "json"], &token);
    assert_eq!(code, 0);
    assert!(stdout.contains("\"mfa\": \"not-required\""));
}

#[test]
fn signed_sample_verifies_against_the_jwks() {
    for (key, kid) in
        [("fixtures/keys/test-rsa.pem", "mfacheck-test-rsa"), ("fixtures/keys/test-ec.pem", "mfacheck-test-ec")]
    {
        let (code, token, _) = run(&["sample", "--key", key, "--kid", kid], "");
        assert_eq!(code, 0);
        let (code, stdout, _) = run(&["check", "--format", "ndjson", "--jwks", "fixtures/keys/jwks.json"], &token);
        assert_eq!(code, 0, "{stdout}");
        let result: Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(result["signature"], "verified", "{kid}");
    }
    // Signed by another key under the same kid: the round trip catches it.
    let (_, forged, _) =
        run(&["sample", "--key", "fixtures/keys/test-rsa-other.pem", "--kid", "mfacheck-test-rsa"], "");
    let (code, stdout, _) = run(&["check", "--format", "ndjson", "--jwks", "fixtures/keys/jwks.json"], &forged);
    assert_eq!(code, 1);
    assert!(stdout.contains("\"signature\":\"invalid\""), "{stdout}");
}

#[test]
fn sample_reproduces_committed_fixtures_byte_for_byte() {
    let rsa = ["--key", "fixtures/keys/test-rsa.pem", "--kid", "mfacheck-test-rsa"];
    let cases: [(&str, Vec<&str>); 7] = [
        ("password-only.jwt", [&["--amr", "pwd"][..], &rsa].concat()),
        ("mfa.jwt", rsa.to_vec()),
        ("unsigned.jwt", vec![]),
        ("app-only.jwt", [&["--app-only"][..], &rsa].concat()),
        ("v2-mfa.jwt", [&["--ver", "2.0"][..], &rsa].concat()),
        ("v2-no-amr.jwt", [&["--ver", "2.0", "--claim", "amr=null"][..], &rsa].concat()),
        ("eddsa.jwt", vec!["--key", "fixtures/keys/test-ed25519.pem", "--kid", "mfacheck-test-ed25519"]),
    ];
    for (file, flags) in cases {
        let args = [&["sample"][..], &FIXTURE_TIMES, &flags].concat();
        let (code, stdout, stderr) = run(&args, "");
        assert_eq!(code, 0, "{file}: {stderr}");
        assert_eq!(stdout, fixture(file), "mfacheck {} does not reproduce fixtures/{file}", args.join(" "));
    }
}

#[test]
fn es256_samples_sign_the_fixture_bytes_with_fresh_valid_signatures() {
    // aws-lc's ECDSA is randomised: the signed part is the fixture's, the signature is new each
    // time and verifies (the generator signs fixtures/es256.jwt with an RFC 6979 signer instead).
    let args = [&["sample"][..], &FIXTURE_TIMES, &["--key", "fixtures/keys/test-ec.pem", "--kid", "mfacheck-test-ec"]]
        .concat();
    let fixed = fixture("es256.jwt");
    let signed_part = |token: &str| token.trim().rsplit_once('.').unwrap().0.to_owned();
    let (_, first, _) = run(&args, "");
    let (_, second, _) = run(&args, "");
    assert_eq!(signed_part(&first), signed_part(&fixed));
    assert_eq!(signed_part(&second), signed_part(&fixed));
    for token in [&first, &second, &fixed] {
        let (code, stdout, _) = run(&["check", "--format", "ndjson", "--jwks", "fixtures/keys/jwks.json"], token);
        assert_eq!(code, 0, "{stdout}");
        assert!(stdout.contains("\"signature\":\"verified\""), "{stdout}");
    }
}

#[test]
fn signed_samples_verify_against_the_test_jwks() {
    use jsonwebtoken::jwk::JwkSet;
    use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
    let jwks: JwkSet = serde_json::from_str(&fixture("keys/jwks.json")).unwrap();
    for (key, kid, alg) in [
        ("fixtures/keys/test-rsa.pem", "mfacheck-test-rsa", Algorithm::RS256),
        ("fixtures/keys/test-ec.pem", "mfacheck-test-ec", Algorithm::ES256),
    ] {
        let (code, token, stderr) = run(&["sample", "--key", key, "--kid", kid, "--exp", "10m"], "");
        assert_eq!(code, 0, "{stderr}");
        let token = token.trim();
        let header = decode_header(token).unwrap();
        assert_eq!((header.alg, header.kid.as_deref()), (alg, Some(kid)));
        let jwk = jwks.find(kid).expect("the kid is in the JWKS");
        let mut validation = Validation::new(alg);
        validation.set_audience(&["https://api.partnercenter.microsoft.com"]);
        let data = decode::<Value>(token, &DecodingKey::from_jwk(jwk).unwrap(), &validation).expect("verifies");
        assert_eq!(data.claims["amr"], serde_json::json!(["pwd", "mfa"]));
        // A changed payload no longer verifies.
        let mut parts: Vec<&str> = token.split('.').collect();
        let other = fixture("password-only.jwt");
        parts[1] = other.split('.').nth(1).unwrap();
        assert!(decode::<Value>(&parts.join("."), &DecodingKey::from_jwk(jwk).unwrap(), &validation).is_err());
    }
}

#[test]
fn sample_options_shape_the_claims() {
    let (_, token, _) = run(
        &[
            "sample",
            "--ver",
            "2.0",
            "--tid",
            "11111111-2222-3333-4444-555555555555",
            "--aud",
            "https://graph.microsoft.com",
            "--claim",
            "roles=[\"Admin\"]",
            "--claim",
            "scp=Directory.Read.All User.Read",
            "--claim",
            "xms_cc=null",
            "--now",
            "1000000",
            "--exp",
            "-3d",
        ],
        "",
    );
    let (code, stdout, _) = run(&["decode", "--format", "json"], &token);
    assert_eq!(code, 0);
    let decoded: Value = serde_json::from_str(&stdout).unwrap();
    let (header, claims) = (&decoded[0]["header"], &decoded[0]["claims"]);
    assert_eq!(header, &serde_json::json!({"typ": "JWT", "alg": "none"}));
    assert_eq!(claims["iss"], "https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/v2.0");
    assert_eq!(claims["tid"], "11111111-2222-3333-4444-555555555555");
    assert_eq!(claims["aud"], "https://graph.microsoft.com");
    assert_eq!(claims["azp"], "23ec45a3-5127-4185-9eff-c8887839e6ab");
    assert_eq!(claims["roles"], serde_json::json!(["Admin"]));
    assert_eq!(claims["scp"], "Directory.Read.All User.Read");
    // An already expired sample was issued an hour before it expired: iat comes before exp.
    let exp = 1_000_000 - 3 * 86_400;
    assert_eq!((claims["iat"].as_i64(), claims["exp"].as_i64()), (Some(exp - 3_600), Some(exp)));
    assert!(claims.get("appid").is_none() && claims.get("upn").is_none());

    let (code, _, _) = run(&["check", "-q", "--require-valid-time"], &token);
    assert_eq!(code, 1, "an already expired sample is refused under --require-valid-time");
}

#[test]
fn sample_usage_errors_exit_2() {
    let (code, stdout, stderr) = run(&["sample", "--key", "fixtures/keys/missing.pem"], "");
    assert_eq!((code, stdout.as_str()), (2, ""));
    assert!(stderr.contains("--key fixtures/keys/missing.pem: cannot read"), "{stderr}");
    let (code, _, stderr) = run(&["sample", "--key", "fixtures/keys/jwks.json"], "");
    assert_eq!(code, 2);
    assert!(stderr.contains("not an RSA, P-256 or Ed25519 private key"), "{stderr}");
    assert_eq!(run(&["sample", "--kid", "k1"], "").0, 2, "--kid needs --key");
    assert_eq!(run(&["sample", "--exp", "soon"], "").0, 2);
    assert_eq!(run(&["sample", "--claim", "novalue"], "").0, 2);
    assert_eq!(run(&["sample", "--ver", "3.0"], "").0, 2);
}

// ---- --explain ----

#[test]
fn check_explain_spells_out_the_claims() {
    let (code, stdout, _) = run(&["check", "--explain", "--now", NOW, "@fixtures/password-only.jwt"], "");
    assert_eq!(code, 1);
    let block = stdout.split_once("    claims explained:\n").expect("an explanation").1;
    let lines: Vec<&str> = block.lines().take_while(|line| !line.is_empty()).collect();
    assert_eq!(lines.len(), 20, "one line per claim");
    assert_eq!(
        lines[1],
        "      iss                 https://sts.windows.net/df845f1a-7b35-40a2-ba78-6481de91f8ae/ — issuer: the Entra ID tenant whose token service issued the token (v1.0 form)"
    );
    assert_eq!(
        lines[4],
        "      exp                 4102444800 — expires at 2100-01-01T00:00:00Z (expires in 73 years)"
    );
    assert_eq!(
        lines[6],
        "      amr                 pwd — authentication methods: pwd = password (or an app's client secret); no mfa element, which Partner Center requires of app+user tokens"
    );
    assert_eq!(
        lines[8],
        "      appidacr            0 — how the client app authenticated: 0 = public client (no secret or certificate)"
    );
}

#[test]
fn scan_explain_explains_each_token_found() {
    let (code, stdout, _) = run(&["scan", "--explain", "--now", NOW, "fixtures/scan/server.log"], "");
    assert_eq!(code, 0);
    assert_eq!(stdout.matches("    claims explained:\n").count(), 2);
    assert!(
        stdout.contains("\n      idtyp    app — token type: app = app-only (no user; MFA does not apply)\n"),
        "{stdout}"
    );
}

#[test]
fn decode_explain_names_roles_and_cross_tenant_idp() {
    let (code, stdout, _) = run(&["decode", "--explain", "@fixtures/cross-tenant.jwt"], "");
    assert_eq!(code, 0);
    assert!(stdout.contains("\n}\nclaims explained:\n  aud                 https://management.core.windows.net/ — audience: the API this token is for (Azure Resource Manager, not Partner Center)\n"), "{stdout}");
    assert!(stdout.ends_with("  idp                 https://sts.windows.net/df845f1a-7b35-40a2-ba78-6481de91f8ae/ — identity provider that authenticated the user: not the issuer, so a cross-tenant sign-in (a guest, or a partner's DAP/GDAP admin in a customer tenant)\n"), "{stdout}");

    let (_, token, _) = run(
        &[
            "sample",
            "--claim",
            "wids=[\"62e90394-69f5-4237-9190-012177145e10\",\"e8611ab8-c189-46e8-94e1-60213ab1f814\"]",
        ],
        "",
    );
    let (_, stdout, _) = run(&["decode", "--explain"], &token);
    assert!(stdout.ends_with(
        "  wids                62e90394-69f5-4237-9190-012177145e10, e8611ab8-c189-46e8-94e1-60213ab1f814 — directory roles of the user: Global Administrator, Privileged Role Administrator\n"
    ), "{stdout}");
}

#[test]
fn explain_leaves_json_output_alone() {
    for command in ["check", "decode"] {
        let plain = run(&[command, "--format", "json", "--now", NOW, "@fixtures/mfa.jwt"], "");
        let explained = run(&[command, "--format", "json", "--now", NOW, "--explain", "@fixtures/mfa.jwt"], "");
        assert_eq!(plain, explained, "{command}");
    }
    let (_, stdout, _) = run(&["check", "--explain", "@fixtures/bad/random.txt"], "");
    assert!(!stdout.contains("claims explained"), "an input that is not a token has no claims: {stdout}");
}

// ---- completions and man ----

#[test]
fn completions_for_every_shell_know_the_subcommands() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let (code, script, stderr) = run(&["completions", shell], "");
        assert_eq!(code, 0, "{shell}: {stderr}");
        for word in ["check", "decode", "scan", "sample", "completions", "explain", "app-only", "summary"] {
            assert!(script.contains(word), "{shell} completion lacks {word}");
        }
    }
    assert_eq!(run(&["completions", "tcsh"], "").0, 2);
}

#[test]
fn man_page_is_roff_for_mfacheck() {
    let (code, page, _) = run(&["man"], "");
    assert_eq!(code, 0);
    assert!(page.contains("\n.TH mfacheck 1 "), "{page}");
    assert!(page.contains(".SH NAME\nmfacheck \\- Tells offline"));
    for sub in ["check", "decode", "scan", "sample", "completions", "man"] {
        assert!(page.contains(&format!("mfacheck\\-{sub}(1)")), "man page lacks {sub}");
        // The pages it refers to.
        let (code, sub_page, _) = run(&["man", sub], "");
        assert_eq!(code, 0);
        assert!(sub_page.contains(&format!("\n.TH mfacheck-{sub} 1 ")), "{sub_page}");
        assert!(sub_page.contains(&format!(".SH SYNOPSIS\n\\fBmfacheck {sub}\\fR")), "{sub_page}");
    }
    let (_, scan, _) = run(&["man", "scan"], "");
    assert!(scan.contains("\\fB\\-\\-summary\\fR"), "{scan}");
}

#[test]
fn scan_summary_prints_one_count_line() {
    let (_, stdout, stderr) = run(&["scan", "--summary", "fixtures/scan/session.har", "--now", NOW], "");
    let lines = |text: &str| text.lines().filter(|l| l.contains(" compliant, ")).map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(lines(&stdout), Vec::<String>::new(), "{stdout}");
    assert_eq!(
        lines(&stderr),
        ["mfacheck scan: 3 tokens found (5 occurrences): 2 compliant, 1 not compliant, 0 errors"],
        "{stderr}"
    );
    assert!(stderr.contains("MFA adoption by application and day"), "{stderr}");
}
