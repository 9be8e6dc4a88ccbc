//! "Which token is it" (SPEC §1) through the built binary, on the fixtures under
//! `fixtures/which/`: audiences by name and in either spelling, ID tokens, B2C tokens, opaque
//! inputs, personal-account guests, a cause for every missing MFA, documentation samples,
//! today's enforcement, and pasted brackets.

use crate::support::{codes, fixture};
use serde_json::Value;

const NOW: &str = "2026-11-26T12:00:00Z";
const PC: &str = "https://api.partnercenter.microsoft.com";
const PC_APP_ID: &str = "fa3d9a0c-3fb0-42cc-9193-47c7ecd2edbd";

fn mfacheck() -> assert_cmd::Command {
    let mut cmd = crate::support::mfacheck();
    cmd.env("NO_COLOR", "1");
    cmd
}

/// `check --format json` of one fixture: (exit status, its result object).
fn check_json(name: &str, args: &[&str]) -> (i32, Value) {
    let out = mfacheck()
        .args(["check", "--format", "json", "--now", NOW])
        .args(args)
        .arg(format!("@fixtures/{name}"))
        .output()
        .unwrap();
    let results: Value = serde_json::from_slice(&out.stdout).unwrap();
    (out.status.code().unwrap(), results[0].clone())
}

fn check_text(name: &str, args: &[&str]) -> (i32, String) {
    let out = mfacheck().args(["check", "--now", NOW]).args(args).arg(format!("@fixtures/{name}")).output().unwrap();
    (out.status.code().unwrap(), String::from_utf8(out.stdout).unwrap())
}

#[test]
fn partner_center_in_either_spelling_for_audience() {
    let (code, text) = check_text("which/pc-app-id-audience.jwt", &["--audience", PC]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains(&format!("audience  {PC_APP_ID} (Partner Center)")), "{text}");
    assert!(!text.contains("audience-mismatch"), "{text}");
    let (code, result) = check_json("mfa.jwt", &["--audience", PC_APP_ID]);
    assert_eq!((code, codes(&result)), (0, vec![]));
    assert_eq!(result["token"]["audience_name"], "Partner Center");
    // Another API is still another API.
    let (code, result) = check_json("which/graph.jwt", &["--audience", PC]);
    assert_eq!(code, 1);
    assert!(codes(&result).contains(&"audience-mismatch"));
}

#[test]
fn well_known_audiences_are_named() {
    let (_, result) = check_json("which/graph.jwt", &[]);
    assert_eq!(result["token"]["audience_name"], "Microsoft Graph");
    assert_eq!(result["token"]["type"], "access", "a nonce in the header is Graph's, not an ID token's");
    let (_, text) = check_text("which/graph.jwt", &[]);
    assert!(text.contains("audience  00000003-0000-0000-c000-000000000000 (Microsoft Graph)"), "{text}");
    let (_, result) = check_json("cross-tenant.jwt", &[]);
    assert_eq!(result["token"]["audience_name"], "Azure Resource Manager");
    let (_, result) = check_json("which/v2-own-api.jwt", &[]);
    assert_eq!(
        (result["token"]["type"].as_str(), result["token"]["audience_name"].as_null()),
        (Some("access"), Some(()))
    );
}

#[test]
fn id_tokens_are_refused_with_the_right_headline() {
    for name in ["which/id-token.jwt", "which/id-token-v2.jwt"] {
        let (code, result) = check_json(name, &[]);
        assert_eq!(
            (code, &result["token"]["type"], &result["compliant"]),
            (1, &Value::from("id"), &Value::Bool(false))
        );
        assert_eq!(codes(&result), ["id-token"], "{name}");
        assert_eq!(result["findings"][0]["level"], "error");
        let (_, text) = check_text(name, &[]);
        let headline = text.lines().next().unwrap();
        assert!(
            headline.contains("not compliant (id-token): app+user, ")
                && headline.ends_with(" — Partner Center would refuse it: an ID token, not an access token"),
            "{headline}"
        );
        // Both say the same: refused as ID tokens, never with the MFA rule's 401.
        assert_eq!(
            result["partner_center"],
            serde_json::json!({"accepted": false, "refusals": ["id-token", "audience"]})
        );
        assert_eq!(result["response"], Value::Null, "{name}");
        assert!(!text.contains("MFA required"), "{text}");
        assert!(!text.contains("optional claim"), "no amr optional-claim advice for an ID token: {text}");
    }
}

#[test]
fn b2c_tokens_get_their_issuer_form_and_no_sign_in_advice() {
    let (code, result) = check_json("which/b2c.jwt", &[]);
    assert_eq!((code, codes(&result)), (1, vec!["b2c-token", "no-mfa", "not-partner-center"]));
    let (_, text) = check_text("which/b2c.jwt", &["--explain"]);
    assert!(text.contains("/v2.0/ (v2.0 issuer, ver 1.0, RS256)"), "{text}");
    assert!(text.contains("B2C user flow or custom policy"), "{text}");
    for advice in ["interactive", "MFA-enabled account", "Conditional Access", "v1.0 authentication", "delegated-admin"]
    {
        assert!(!text.contains(advice), "{advice} in {text}");
    }
}

#[test]
fn opaque_inputs_are_named() {
    let (code, result) = check_json("which/msa-opaque.txt", &[]);
    assert_eq!((code, &result["error"]["code"]), (2, &Value::from("opaque")));
    assert!(result["error"]["message"].as_str().unwrap().contains("consumer Microsoft account token"));
    let (code, result) = check_json("which/refresh-token.txt", &[]);
    assert_eq!((code, &result["error"]["code"]), (2, &Value::from("not-a-jwt")));
    let message = result["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("refresh token") && message.contains("exchange it for an access token first"),
        "{message}"
    );
    let (_, result) = check_json("bad/jwe.txt", &[]);
    assert!(result["error"]["message"].as_str().unwrap().contains("exchange it for an access token first"));
}

#[test]
fn personal_account_guests_are_not_called_delegated_admins() {
    let (code, result) = check_json("which/personal-guest.jwt", &[]);
    assert_eq!((code, codes(&result)), (0, vec!["cross-tenant"]));
    let message = result["findings"][0]["message"].as_str().unwrap();
    assert!(message.contains("personal Microsoft account, not a partner's delegated-admin"), "{message}");
}

#[test]
fn every_missing_mfa_has_a_hint() {
    let (_, result) = check_json("which/wia.jwt", &[]);
    assert_eq!(codes(&result), ["wia-no-mfa"]);
    assert!(result["findings"][0]["message"].as_str().unwrap().contains("Conditional Access"));
    for entry in serde_json::from_str::<Value>(&fixture("manifest.json")).unwrap().as_array().unwrap() {
        let (file, command) = (entry["file"].as_str().unwrap(), entry["command"].as_str().unwrap());
        if entry["mfa"] != "missing" || command != "check" {
            continue;
        }
        let (_, result) = check_json(file, &[]);
        let id_or_hint =
            result["findings"].as_array().unwrap().iter().any(|f| f["level"] == "hint" || f["code"] == "id-token");
        assert!(id_or_hint, "{file}: {:?}", codes(&result));
    }
}

#[test]
fn new_warnings() {
    let (code, result) = check_json("which/issuer-tenant-mismatch.jwt", &[]);
    assert_eq!((code, codes(&result)), (0, vec!["issuer-tenant-mismatch"]));
    assert_eq!(result["findings"][0]["level"], "warning");
    let (code, result) = check_json("which/truncated-signature.jwt", &[]);
    assert_eq!((code, codes(&result)), (0, vec!["truncated-signature"]));
    assert!(result["findings"][0]["message"].as_str().unwrap().contains("150 bytes"));
    let (code, _) = check_json("which/truncated-signature.jwt", &["--jwks", "fixtures/keys/jwks.json"]);
    assert_eq!(code, 1);
}

#[test]
fn docs_samples_decode_with_a_warning_and_are_reported_by_scan() {
    let (code, result) = check_json("which/docs-sample.txt", &[]);
    assert_eq!((code, &result["error"]["code"]), (2, &Value::from("bad-base64")));
    let message = result["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("not a valid compact JWS") && message.contains("`mfacheck decode` shows its claims"),
        "{message}"
    );

    let out = mfacheck().args(["decode", "@fixtures/which/docs-sample.txt"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("warning") && text.contains("not a valid compact JWS"), "{text}");
    assert!(text.contains("\"amr\": [\n    \"pwd\"\n  ]"), "{text}");
    let out = mfacheck().args(["decode", "--format", "json", "@fixtures/which/docs-sample.txt"]).output().unwrap();
    let decoded: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(decoded[0]["claims"]["amr"][0], "pwd");
    assert!(decoded[0]["warning"].as_str().unwrap().contains("edited or re-encoded"));

    let out =
        mfacheck().args(["scan", "--format", "json", "--now", NOW, "fixtures/which/docs-sample.txt"]).output().unwrap();
    let results: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(results[0]["error"]["code"], "bad-base64", "{results}");
}

#[test]
fn the_401_comes_with_todays_enforcement_once_per_run() {
    let (_, text) = check_text("password-only.jwt", &["--explain"]);
    assert!(text.contains("reports the refusal as a 401 with error code 900421"), "{text}");
    assert_eq!(text.matches("900421").count(), 1, "once in --explain: {text}");
    let (_, text) = check_text("mfa.jwt", &[]);
    assert!(!text.contains("900421"), "only where the 401 is explained");

    // Every top-level fixture at once: many 401s, one note, after the results.
    let mut paths: Vec<String> = std::fs::read_dir("fixtures")
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .filter(|p| p.ends_with(".jwt"))
        .collect();
    paths.sort();
    let out = mfacheck().args(["check", "--color", "never", "--now", NOW]).args(&paths).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.matches("MFA required").count() > 3, "{text}");
    assert_eq!(text.matches("900421").count(), 1, "{text}");
    let last_401 = text.rfind("MFA required").unwrap();
    assert!(text.find("900421").unwrap() > last_401, "the note follows the results");

    let out = mfacheck().args(["check", "--format", "json", "--now", NOW]).args(&paths).output().unwrap();
    let results: Value = serde_json::from_slice(&out.stdout).unwrap();
    for result in results.as_array().unwrap() {
        let refused = result["partner_center"]["refusals"].as_array().is_some_and(|r| r.contains(&"mfa".into()));
        assert_eq!(!result["response"].is_null(), refused, "{result}");
        if refused {
            assert_eq!(result["response"]["error_code"], 900421, "{result}");
        }
    }
}

#[test]
fn bracketed_bearer_is_cleaned() {
    let token = fixture("mfa.jwt");
    mfacheck().args(["check", "--quiet", &format!("Bearer [{token}]")]).assert().code(0);
    mfacheck()
        .args(["check", "--quiet", "-"])
        .write_stdin(format!("Authorization: Bearer [{token}]\n"))
        .assert()
        .code(0);
}

#[test]
fn app_only_not_partner_center_says_nothing_of_delegated_admins() {
    let (code, result) = check_json("which/app-only-graph.jwt", &[]);
    assert_eq!((code, codes(&result)), (0, vec!["not-partner-center"]));
    let message = result["findings"][0]["message"].as_str().unwrap();
    assert!(!message.contains("delegated-admin") && message.contains("(Microsoft Graph)"), "{message}");
}

#[test]
fn explain_speaks_of_the_real_subject() {
    let out = mfacheck().args(["check", "--explain", "--now", NOW, "@fixtures/app-only.jwt"]).assert().code(0);
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let explained = text.split("claims explained:").nth(1).unwrap();
    let idp = explained.lines().find(|l| l.trim_start().starts_with("idp ")).unwrap();
    assert!(idp.contains("service principal") && !idp.contains("the user"), "{idp}");
    assert!(!text.contains("created at not a NumericDate"));
}

// ---- Would Partner Center accept it? ----

/// `partner_center` of one fixture under `args`.
fn partner_center(name: &str, args: &[&str]) -> (i32, Value) {
    let (code, result) = check_json(name, args);
    (code, result["partner_center"].clone())
}

#[test]
fn every_result_says_whether_partner_center_would_accept_it() {
    use serde_json::json;
    let refused = |refusals: &[&str]| json!({"accepted": false, "refusals": refusals});
    let unproven = json!({"accepted": null, "refusals": []});
    let cases: &[(&str, &[&str], Value)] = &[
        ("mfa.jwt", &[], unproven.clone()),
        ("mfa.jwt", &["--jwks", "fixtures/keys/jwks.json"], json!({"accepted": true, "refusals": []})),
        ("app-only.jwt", &["--jwks", "fixtures/keys/jwks.json"], json!({"accepted": true, "refusals": []})),
        ("password-only.jwt", &[], refused(&["mfa"])),
        ("which/graph.jwt", &[], refused(&["audience"])),
        ("seed.jwt", &[], refused(&["expired"])),
        ("not-yet-valid.jwt", &[], refused(&["not-yet-valid"])),
        ("unsigned.jwt", &[], refused(&["unsigned"])),
        ("which/truncated-signature.jwt", &[], refused(&["truncated-signature"])),
        ("which/id-token.jwt", &[], refused(&["id-token", "audience"])),
        ("which/b2c.jwt", &[], refused(&["b2c-token", "audience", "mfa"])),
        ("not-partner-center.jwt", &[], refused(&["audience", "mfa"])),
        ("mfa.jwt", &["--key", "fixtures/keys/test-ec.pub.pem"], refused(&["signature"])),
    ];
    for (name, args, want) in cases {
        let (_, got) = partner_center(name, args);
        assert_eq!(&got, want, "{name} {args:?}");
    }
    // Within its lifetime (and the leeway of clock skew past it), the seed token is not refused.
    for now in ["2019-02-02T07:00:00Z", "2019-02-02T07:31:00Z"] {
        let out = mfacheck().args(["check", "--format", "json", "--now", now, "fixtures/seed.jwt"]).output().unwrap();
        let results: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(results[0]["partner_center"], unproven, "{now}");
    }
}

#[test]
fn the_headline_names_what_partner_center_would_refuse() {
    let (code, text) = check_text("which/graph.jwt", &[]);
    assert_eq!(code, 0, "the MFA verdict and its exit status are unchanged");
    assert_eq!(
        text.lines().next().unwrap(),
        "✔ fixtures/which/graph.jwt:1  compliant: app+user, MFA satisfied, amr [pwd, mfa] — but Partner Center \
         would refuse it: audience is Microsoft Graph"
    );
    let (_, text) = check_text("seed.jwt", &[]);
    assert!(
        text.lines().next().unwrap().ends_with("— but Partner Center would refuse it: expired 7 years ago"),
        "{text}"
    );
    let (_, text) = check_text("unsigned.jwt", &[]);
    assert!(text.lines().next().unwrap().ends_with("— but Partner Center would refuse it: unsigned"), "{text}");
    // The MFA refusal is the 401's, not the headline's.
    let (_, text) = check_text("password-only.jwt", &[]);
    assert!(!text.lines().next().unwrap().contains("would refuse"), "{text}");
    let (_, text) = check_text("mfa.jwt", &[]);
    assert!(!text.contains("would refuse"), "{text}");
}

#[test]
fn ci_formats_say_what_partner_center_would_refuse() {
    let out = mfacheck()
        .args(["check", "--format", "github", "--now", NOW, "fixtures/which/graph.jwt", "fixtures/mfa.jwt"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let github = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        github,
        "::warning file=fixtures/which/graph.jwt,line=1,title=mfacheck%3A compliant%2C but Partner Center would refuse \
         it::fixtures/which/graph.jwt:1: app+user, MFA satisfied; Partner Center would refuse it: audience is \
         Microsoft Graph\n"
    );
    let out = mfacheck()
        .args(["check", "--format", "junit", "--now", NOW, "fixtures/which/graph.jwt", "fixtures/seed.jwt"])
        .output()
        .unwrap();
    let junit = String::from_utf8(out.stdout).unwrap();
    assert!(
        junit.contains("<system-out>Partner Center would refuse it: audience is Microsoft Graph</system-out>"),
        "{junit}"
    );
    assert!(junit.contains("<system-out>Partner Center would refuse it: expired 7 years ago</system-out>"), "{junit}");
    assert!(!junit.contains("<failure"), "compliant tokens pass: {junit}");
}

#[test]
fn partner_center_mode_judges_as_partner_center_would() {
    let jwks = ["--partner-center", "--jwks", "fixtures/keys/jwks.json"];
    let (code, pc) = partner_center("mfa.jwt", &jwks);
    assert_eq!((code, pc["accepted"].clone()), (0, Value::Bool(true)));
    // Compliant under the MFA rule, refused by Partner Center: the exit status follows `accepted`.
    for (name, refusal) in [("which/graph.jwt", "audience"), ("seed.jwt", "expired"), ("unsigned.jwt", "unsigned")] {
        let (code, result) = check_json(name, &jwks);
        assert_eq!(code, 1, "{name}: {result}");
        assert_eq!(result["compliant"], false, "{name}");
        assert!(result["partner_center"]["refusals"].as_array().unwrap().contains(&refusal.into()), "{name}: {result}");
    }
    // An app-only token needs no MFA, but Partner Center still checks it is Entra ID's.
    assert_eq!(partner_center("app-only.jwt", &jwks).0, 0);
    assert_eq!(partner_center("password-only.jwt", &jwks).0, 1);
    // --audience would contradict it.
    let out = mfacheck().args(["check", "--partner-center", "--audience", PC, "fixtures/mfa.jwt"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn partner_center_mode_offline_without_keys_says_the_signature_could_not_be_verified() {
    let cache = tempfile::tempdir().unwrap();
    let out = mfacheck()
        .env("XDG_CACHE_HOME", cache.path())
        .env("HOME", cache.path())
        .args(["check", "--partner-center", "--offline", "--now", NOW, "fixtures/mfa.jwt"])
        .output()
        .unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    assert!(stdout.contains("✘") && stdout.contains("keys-unavailable"), "{stdout}");
    assert!(stdout.contains("the signature could not be checked"), "{stdout}");
    assert!(stderr.contains("mfacheck: "), "named once on stderr: {stderr}");
}
