//! `mfacheck signins` through the built binary, on the samples in fixtures/signins/.

use crate::support::fed::{Fed, closed_stdout};
use crate::support::mfacheck;
use serde_json::Value;

fn signins(args: &[&str]) -> (i32, String, String) {
    let out = mfacheck().arg("signins").args(args).output().unwrap();
    (out.status.code().unwrap(), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

fn ndjson(args: &[&str]) -> (i32, Vec<Value>) {
    let mut all = vec!["--format", "ndjson"];
    all.extend_from_slice(args);
    let (code, out, _) = signins(&all);
    (code, out.lines().map(|l| serde_json::from_str(l).unwrap()).collect())
}

fn mfa(results: &[Value]) -> Vec<(&str, &str)> {
    results.iter().map(|r| (r["source"].as_str().unwrap(), r["mfa"].as_str().unwrap_or("error"))).collect()
}

#[test]
fn graph_page_each_decision_row_and_partner_center_only() {
    let (code, results) = ndjson(&["fixtures/signins/graph.json"]);
    assert_eq!(code, 1);
    assert_eq!(
        mfa(&results),
        [
            ("fixtures/signins/graph.json:record-1", "missing"),
            ("fixtures/signins/graph.json:record-2", "satisfied"),
            ("fixtures/signins/graph.json:record-3", "required"),
            ("fixtures/signins/graph.json:record-4", "unknown"),
        ]
    );
    let codes: Vec<_> =
        results[0]["findings"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["signin-single-factor", "signin-non-interactive", "signin-conditional-access-not-applied"]);
    assert!(results[2]["reason"].as_str().unwrap().contains("50076"));
    assert_eq!(results[0]["resource_id"], "fa3d9a0c-3fb0-42cc-9193-47c7ecd2edbd");
    // --resource any judges the Graph sign-in too.
    let (_, results) = ndjson(&["--resource", "any", "fixtures/signins/graph.json"]);
    assert_eq!(results.len(), 5);
}

#[test]
fn monitor_records_one_per_line_and_log_analytics_array() {
    let (code, results) = ndjson(&["fixtures/signins/monitor.ndjson"]);
    assert_eq!(code, 1);
    assert_eq!(
        mfa(&results),
        [
            ("fixtures/signins/monitor.ndjson:record-1", "missing"),
            ("fixtures/signins/monitor.ndjson:record-2", "not-applicable")
        ]
    );
    let (code, results) = ndjson(&["fixtures/signins/log-analytics.json"]);
    assert_eq!((code, mfa(&results)), (0, vec![("fixtures/signins/log-analytics.json:record-1", "satisfied")]));
}

#[test]
fn portal_csv_download() {
    let (code, results) = ndjson(&["fixtures/signins/portal.csv"]);
    assert_eq!(code, 1);
    assert_eq!(
        mfa(&results),
        [("fixtures/signins/portal.csv:record-1", "missing"), ("fixtures/signins/portal.csv:record-2", "required")]
    );
    assert_eq!(results[1]["findings"][0]["code"], "signin-mfa-not-registered");
}

#[test]
fn every_format_and_redact() {
    let (code, out, _) = signins(&["fixtures/signins/graph.json"]);
    assert_eq!(code, 1);
    assert!(out.contains("✘ fixtures/signins/graph.json:record-1: missing — Billing sync"), "{out}");
    assert!(out.contains("4 sign-ins judged, 2 refused"), "{out}");
    assert!(out.contains("? fixtures/signins/graph.json:record-4: unknown"), "{out}");
    let (_, out, _) = signins(&["--format", "json", "fixtures/signins/graph.json"]);
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap().as_array().unwrap().len(), 4);
    let (_, out, _) = signins(&["--format", "junit", "fixtures/signins/graph.json"]);
    assert!(out.contains("tests=\"4\" failures=\"2\""), "{out}");
    let (_, out, _) = signins(&["--format", "github", "fixtures/signins/graph.json"]);
    assert_eq!(
        out.lines()
            .filter(|l| l.starts_with("::error file=fixtures/signins/graph.json,title=mfacheck%3A MFA "))
            .count(),
        2,
        "{out}"
    );
    let (_, out, _) = signins(&["--redact", "--format", "ndjson", "fixtures/signins/graph.json"]);
    assert!(!out.contains("contoso.example") && out.contains("redacted:"), "{out}");
}

#[test]
fn summary_per_application_and_user() {
    let (_, _, err) = signins(&["--summary", "--quiet", "fixtures/signins/graph.json"]);
    let row = err.lines().find(|l| l.contains("ana@contoso.example")).expect(&err);
    assert!(row.trim_start().starts_with("11111111-1111-1111-1111-111111111111"), "{row}");
    assert!(row.split_whitespace().collect::<Vec<_>>()[2..6] == ["1", "0", "1", "0"], "{row}");
    assert!(row.ends_with("2026-05-04T09:12:00Z"), "{row}");
}

#[test]
fn bad_inputs_are_errors_naming_file_and_record() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let cases = [
        (
            "truncated.json",
            &b"{\"value\":[{\"appId\":\"a\"},{\"appId\":"[..],
            "truncated.json:record-2",
            "not valid JSON",
        ),
        ("binary.bin", &b"\x00\x01\x02\xff"[..], "binary.bin:record-1", "neither"),
        ("empty.json", &b""[..], "empty.json:record-1", "empty"),
        ("no-app.csv", &b"User,Status\nana,Success\n"[..], "no-app.csv:record-1", "Application ID"),
        ("number.json", &b"[7]"[..], "number.json:record-1", "not a number"),
    ];
    for (name, bytes, source, why) in cases {
        let (code, results) = ndjson(&["--resource", "any", &write(name, bytes)]);
        assert_eq!(code, 2, "{name}");
        let last = results.last().unwrap();
        assert!(last["source"].as_str().unwrap().ends_with(source), "{name}: {last}");
        assert!(last["error"]["message"].as_str().unwrap().contains(why), "{name}: {last}");
    }
}

/// A Partner Center sign-in on one line, Event Hub shape, with the error code and user given.
fn monitor_line(user: &str, error_code: i64) -> String {
    serde_json::json!({"time": "2026-05-04T10:00:00Z", "category": "SignInLogs",
        "resourceId": "/tenants/t/providers/Microsoft.aadiam",
        "properties": {"appId": "a1", "userPrincipalName": user, "resourceId": "fa3d9a0c-3fb0-42cc-9193-47c7ecd2edbd",
            "status": {"errorCode": error_code}, "authenticationRequirement": "singleFactorAuthentication"}})
    .to_string()
}

#[test]
fn records_are_judged_as_they_arrive_and_a_bad_line_does_not_end_the_stream() {
    let mut fed = Fed::spawn(&["signins", "--format", "ndjson", "-"]);
    fed.write(&format!("{}\n", monitor_line("ana@contoso.example", 0)));
    let first = fed.next("the first record, stdin still open");
    assert_eq!((first["source"].as_str(), first["mfa"].as_str()), (Some("stdin:record-1"), Some("missing")));
    // A line cut short (a log shipper killed mid-write): an error for that record, and the next
    // lines are still judged.
    fed.write("{\"time\":\"2026-05-04T10:00:00Z\",\"properties\":{\"appId\":\n");
    let bad = fed.next("the bad line, stdin still open");
    assert_eq!(bad["source"], "stdin:record-2");
    assert!(bad["error"]["message"].as_str().unwrap().contains("line 2"), "{bad}");
    fed.write(&format!("{}\n", monitor_line("bo@contoso.example", 50076)));
    let third = fed.next("the record after the bad line");
    assert_eq!((third["source"].as_str(), third["mfa"].as_str()), (Some("stdin:record-3"), Some("required")));
    assert_eq!(fed.wait(), Some(2));
}

#[test]
fn input_format_forced_right_reads_and_forced_wrong_is_a_file_error() {
    let cases = [
        ("graph", "fixtures/signins/graph.json"),
        ("monitor", "fixtures/signins/monitor.ndjson"),
        ("log-analytics", "fixtures/signins/log-analytics.json"),
        ("portal", "fixtures/signins/portal.csv"),
    ];
    for (format, file) in cases {
        let (auto_code, auto) = ndjson(&[file]);
        let (code, forced) = ndjson(&["--input-format", format, file]);
        assert_eq!((code, &forced), (auto_code, &auto), "{format} on {file}");
        // The admin center's JSON download is spelled as Graph's.
        for (other, _) in cases.iter().filter(|(f, _)| *f != format && !(*f == "portal" && format == "graph")) {
            let (code, results) = ndjson(&["--input-format", other, file]);
            assert_eq!(code, 2, "--input-format {other} on {file}");
            assert_eq!(results.len(), 1, "one error for the file: {results:?}");
            let message = results[0]["error"]["message"].as_str().unwrap();
            assert!(results[0]["source"].as_str().unwrap().starts_with(file), "{message}");
            assert!(message.contains(&format!("--input-format {other}")) && message.contains(format), "{message}");
        }
    }
}

#[test]
fn times_are_rfc3339_whatever_the_export_wrote() {
    let (_, results) = ndjson(&["fixtures/signins/log-analytics.json"]);
    assert_eq!(results[0]["time"], "2026-09-19T13:42:37.848Z");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("la.csv");
    std::fs::write(
        &path,
        "TimeGenerated [UTC],AppId,ResourceIdentity,ResultType,AuthenticationRequirement\n\
         \"5/4/2026, 12:05:00.000 AM\",a,fa3d9a0c-3fb0-42cc-9193-47c7ecd2edbd,0,singleFactorAuthentication\n\
         \"5/4/2026, 12:05:00 PM\",a,fa3d9a0c-3fb0-42cc-9193-47c7ecd2edbd,0,singleFactorAuthentication\n\
         \"12/31/2026, 11:59:59.5 PM\",a,fa3d9a0c-3fb0-42cc-9193-47c7ecd2edbd,0,singleFactorAuthentication\n",
    )
    .unwrap();
    let (_, results) = ndjson(&[path.to_str().unwrap()]);
    let times: Vec<_> = results.iter().map(|r| r["time"].as_str().unwrap()).collect();
    assert_eq!(times, ["2026-05-04T00:05:00Z", "2026-05-04T12:05:00Z", "2026-12-31T23:59:59.5Z"]);
    let path = dir.path().join("portal.csv");
    std::fs::write(
        &path,
        "Date (UTC),Application ID,Resource ID,Status,Authentication requirement\n\
         2026-05-04 09:12:00,a,fa3d9a0c-3fb0-42cc-9193-47c7ecd2edbd,Success,Single-factor authentication\n\
         2026-05-04T09:13:00.1234567Z,a,fa3d9a0c-3fb0-42cc-9193-47c7ecd2edbd,Success,Single-factor authentication\n",
    )
    .unwrap();
    let (_, results) = ndjson(&[path.to_str().unwrap()]);
    let times: Vec<_> = results.iter().map(|r| r["time"].as_str().unwrap()).collect();
    assert_eq!(times, ["2026-05-04T09:12:00Z", "2026-05-04T09:13:00.1234567Z"]);
}

#[test]
fn csv_quoting_bom_and_short_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("portal.csv");
    std::fs::write(
        &path,
        "\u{feff}Date (UTC),Application ID,Resource ID,Status,Failure reason,Authentication requirement\n\
         2026-05-04T09:12:00Z,a,fa3d9a0c-3fb0-42cc-9193-47c7ecd2edbd,Success,\"line one\nline \"\"two\"\", too\",Single-factor authentication\n\
         2026-05-04T09:13:00Z,b,fa3d9a0c-3fb0-42cc-9193-47c7ecd2edbd,Success\n\
         2026-05-04T09:14:00Z,c,fa3d9a0c-3fb0-42cc-9193-47c7ecd2edbd,Success,,Multifactor authentication\n",
    )
    .unwrap();
    let (code, results) = ndjson(&[path.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert_eq!((results[0]["app_id"].as_str(), results[0]["mfa"].as_str()), (Some("a"), Some("missing")));
    assert_eq!(results[1]["source"].as_str().map(|s| s.ends_with("portal.csv:record-2")), Some(true));
    assert!(results[1]["error"]["message"].as_str().unwrap().contains("line 4: 4 fields where the header has 6"));
    assert_eq!((results[2]["app_id"].as_str(), results[2]["mfa"].as_str()), (Some("c"), Some("satisfied")));
}

#[test]
fn ndjson_summary_is_the_last_line_with_summary_only() {
    let (_, results) = ndjson(&["--summary", "fixtures/signins/graph.json"]);
    let last = results.last().unwrap();
    let rows = last["summary"]["applications"].as_array().expect("a summary line");
    assert_eq!(results.len(), 5, "four results and the summary");
    let ana = rows.iter().find(|r| r["user"] == "ana@contoso.example").unwrap();
    assert_eq!(ana["applicationId"], "11111111-1111-1111-1111-111111111111");
    assert_eq!(
        [&ana["signInCount"], &ana["mfaSatisfiedCount"], &ana["mfaMissingCount"], &ana["mfaRequiredCount"]],
        [1, 0, 1, 0]
    );
    assert_eq!(ana["lastSeen"], "2026-05-04T09:12:00Z");
    assert_eq!(last["summary"]["skippedCount"], 1, "the Graph sign-in");
    let (_, results) = ndjson(&["fixtures/signins/graph.json"]);
    assert!(results.iter().all(|r| r.get("summary").is_none()), "no summary line without --summary");
    let (_, results) = ndjson(&["--summary", "--redact", "fixtures/signins/graph.json"]);
    let text = results.last().unwrap().to_string();
    assert!(!text.contains("contoso.example") && text.contains("redacted:"), "{text}");
}

/// Published Event Hub records (Elastic's azure integration test data; fixtures/signins/README.md
/// names the source and licence). The expected decision of each comes from its own fields.
#[test]
fn published_event_hub_samples() {
    let (code, results) = ndjson(&["--resource", "any", "fixtures/signins/published/elastic-signinlogs-raw.ndjson"]);
    assert_eq!(code, 1);
    assert_eq!(
        results.iter().map(|r| r["mfa"].as_str().unwrap()).collect::<Vec<_>>(),
        [
            // SignInLogs, errorCode 50140 (the "keep me signed in" interrupt), no MFA detail.
            "unknown",
            // NonInteractiveUserSignInLogs, 50140 with additionalDetails "MFA required".
            "required",
            // ServicePrincipalSignInLogs and ManagedIdentitySignInLogs: app-only, whatever the status.
            "not-applicable",
            "not-applicable",
        ]
    );
    assert!(results[1]["reason"].as_str().unwrap().contains("additionalDetails"), "{}", results[1]);
    assert_eq!(results[0]["time"], "2019-10-18T09:45:48.0729893Z", "createdDateTime, -05:00, in UTC");
    // Not Partner Center sign-ins: by default all are counted and skipped.
    let (code, results) = ndjson(&["fixtures/signins/published/elastic-signinlogs-raw.ndjson"]);
    assert_eq!((code, results.len()), (0, 0));

    let (code, results) =
        ndjson(&["--resource", "any", "fixtures/signins/published/elastic-non-interactive-user.ndjson"]);
    assert_eq!(code, 1);
    // errorCode 0, authenticationRequirement singleFactorAuthentication, isInteractive false,
    // conditionalAccessStatus notApplied, mfaDetail {} (empty, not null).
    assert_eq!(results[0]["mfa"], "missing");
    let codes: Vec<_> =
        results[0]["findings"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["signin-single-factor", "signin-non-interactive", "signin-conditional-access-not-applied"]);
    assert_eq!(
        results[0]["resource_id"], "797f4846-ba00-4fd7-ba43-dac1f8f63013",
        "properties.resourceId, not the tenant path"
    );
    let (_, results) = ndjson(&[
        "--resource",
        "797f4846-ba00-4fd7-ba43-dac1f8f63013",
        "fixtures/signins/published/elastic-non-interactive-user.ndjson",
    ]);
    assert_eq!(results.len(), 1);
}

#[test]
fn a_records_batch_streams_too() {
    let mut fed = Fed::spawn(&["signins", "--format", "ndjson", "-"]);
    // Pretty-printed: the first line is not a whole value, so the input is one JSON stream.
    fed.write(&format!("{{\"records\": [\n{},\n", monitor_line("ana@contoso.example", 0)));
    let first = fed.next("the first record, the batch still open");
    assert_eq!((first["source"].as_str(), first["mfa"].as_str()), (Some("stdin:record-1"), Some("missing")));
    fed.write(&format!("{}\n]}}\n", monitor_line("bo@contoso.example", 50076)));
    fed.close();
    assert_eq!(fed.next("the second record")["mfa"], "required");
    assert_eq!(fed.wait(), Some(1));
}

#[test]
fn text_output_ends_with_the_table_and_counts_in_words() {
    // SPEC: the table comes with --summary (on stderr, as check's) and at the text output's end.
    let (code, out, err) = signins(&["fixtures/signins/graph.json"]);
    assert_eq!(code, 1, "{out}{err}");
    let tail: Vec<&str> = out.lines().rev().take(6).collect();
    assert!(tail.iter().any(|l| l.contains("ana@contoso.example") && l.ends_with("2026-05-04T09:12:00Z")), "{out}");
    assert!(out.contains("4 sign-ins judged, 2 refused"), "{out}");
    assert!(!err.contains("ana@contoso.example"), "no table on stderr without --summary: {err}");
    // With --summary the table is on stderr only, not twice.
    let (_, out, err) = signins(&["--summary", "fixtures/signins/graph.json"]);
    assert!(!out.contains("sign-ins satisfied") && !out.lines().any(|l| l.starts_with("  11111111")), "{out}");
    assert!(err.contains("ana@contoso.example"), "{err}");
    // One sign-in, one error: singular words.
    let dir = tempfile::tempdir().unwrap();
    let one = dir.path().join("one.ndjson");
    std::fs::write(&one, format!("{}\nnot json\n", monitor_line("ana@contoso.example", 0))).unwrap();
    let (_, out, _) = signins(&[one.to_str().unwrap()]);
    assert!(
        out.contains(
            "1 sign-in judged, 1 refused by Partner Center's MFA rule, 0 skipped (other resources), 1 error\n"
        ),
        "{out}"
    );
}

/// Results of the records given on stdin (one per line), with the exit status.
fn judge_stdin(records: &[Value]) -> (i32, Vec<Value>) {
    let input: String = records.iter().map(|r| format!("{r}\n")).collect();
    let out = mfacheck().args(["signins", "--format", "ndjson", "-"]).write_stdin(input).output().unwrap();
    let results = String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    (out.status.code().unwrap(), results)
}

/// A successful Partner Center sign-in of a user, Graph spelling, with `extra` fields merged in.
fn graph_signin(extra: Value) -> Value {
    let mut record = serde_json::json!({"appId": "a1", "resourceId": "fa3d9a0c-3fb0-42cc-9193-47c7ecd2edbd",
        "userPrincipalName": "ana@contoso.com", "status": {"errorCode": 0}});
    record.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    record
}

#[test]
fn mfa_satisfied_in_status_additional_details_is_satisfied() {
    use serde_json::json;
    let (code, results) = judge_stdin(&[
        graph_signin(json!({"status": {"errorCode": 0,
            "additionalDetails": "MFA requirement satisfied by claim in the token"}})),
        graph_signin(json!({"status": {"errorCode": 0, "additionalDetails": "MFA completed in Azure AD"}})),
        // Log Analytics: the status as JSON text.
        {
            let mut r = graph_signin(
                json!({"Status": "{\"errorCode\":0,\"additionalDetails\":\"MFA completed in Azure AD\"}"}),
            );
            r.as_object_mut().unwrap().remove("status");
            r
        },
    ]);
    assert_eq!(code, 0, "{results:?}");
    for r in &results {
        assert_eq!(r["mfa"], "satisfied", "{r}");
        assert!(r["reason"].as_str().unwrap().contains("additionalDetails"), "{r}");
    }
    // Without those words, a success that names no factor stays unknown, never satisfied.
    let (code, results) = judge_stdin(&[graph_signin(json!({"status": {"errorCode": 0,
        "additionalDetails": "MFA required in Azure AD"}}))]);
    assert_eq!((code, results[0]["mfa"].as_str()), (0, Some("unknown")));
}

#[test]
fn service_principal_named_only_by_its_id_is_not_applicable() {
    use serde_json::json;
    let sp = |extra: Value| {
        let mut r = graph_signin(extra);
        r.as_object_mut().unwrap().remove("userPrincipalName");
        r["authenticationRequirement"] = json!("singleFactorAuthentication");
        r
    };
    let (code, results) = judge_stdin(&[
        sp(json!({"servicePrincipalId": "5b0f9c2e-0000-4000-8000-000000000001", "servicePrincipalName": "Billing"})),
        sp(json!({"userType": "servicePrincipal"})),
        sp(json!({"ServicePrincipalId": "5b0f9c2e-0000-4000-8000-000000000001", "UserPrincipalName": ""})),
    ]);
    assert_eq!(code, 0, "{results:?}");
    for r in &results {
        assert_eq!(r["mfa"], "not-applicable", "{r}");
        assert!(r["reason"].as_str().unwrap().to_lowercase().contains("serviceprincipal"), "{r}");
    }
    // A user's sign-in stays a user's, whatever service principal id it also names.
    let (code, results) =
        judge_stdin(&[graph_signin(json!({"servicePrincipalId": "5b0f9c2e-0000-4000-8000-000000000001",
        "authenticationRequirement": "singleFactorAuthentication"}))]);
    assert_eq!((code, results[0]["mfa"].as_str()), (1, Some("missing")));
}

#[test]
fn duplicate_fields_are_an_error_not_one_of_them_picked() {
    let pc = "fa3d9a0c-3fb0-42cc-9193-47c7ecd2edbd";
    for (name, record) in [
        (
            "same name twice",
            format!(
                r#"{{"appId":"a","resourceId":"{pc}","userPrincipalName":"u","status":{{"errorCode":0}},"authenticationRequirement":"singleFactorAuthentication","authenticationRequirement":"multiFactorAuthentication"}}"#
            ),
        ),
        (
            "two spellings",
            format!(
                r#"{{"appId":"a","resourceId":"{pc}","userPrincipalName":"u","status":{{"errorCode":0}},"authenticationRequirement":"singleFactorAuthentication","AuthenticationRequirement":"multiFactorAuthentication"}}"#
            ),
        ),
        (
            "inside status",
            format!(
                r#"{{"appId":"a","resourceId":"{pc}","userPrincipalName":"u","status":{{"errorCode":50076,"errorCode":0}},"authenticationRequirement":"multiFactorAuthentication"}}"#
            ),
        ),
    ] {
        for shape in [record.clone(), format!("[{record}]"), format!("{{\"value\":[\n{record}\n]}}")] {
            let out = mfacheck().args(["signins", "--format", "ndjson", "-"]).write_stdin(shape).output().unwrap();
            let text = String::from_utf8(out.stdout).unwrap();
            assert_eq!(out.status.code(), Some(2), "{name}: {text}");
            let result: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
            assert!(result["mfa"].is_null(), "{name}: {result}");
            let why = result["error"]["message"].as_str().unwrap();
            let field = why.to_lowercase();
            assert!(
                why.contains("duplicate")
                    && (field.contains("errorcode") || field.contains("authenticationrequirement")),
                "{name}: {why}"
            );
        }
    }
}

#[test]
fn a_csv_column_twice_or_a_page_with_two_batches_is_an_error() {
    let pc = "fa3d9a0c-3fb0-42cc-9193-47c7ecd2edbd";
    let csv = format!(
        "AppId,ResourceIdentity,UserPrincipalName,ResultType,AuthenticationRequirement,AuthenticationRequirement\n\
         a,{pc},u,0,singleFactorAuthentication,multiFactorAuthentication\n"
    );
    let page = format!(
        r#"{{"value":[{{"appId":"a","resourceId":"{pc}","userPrincipalName":"u","status":{{"errorCode":0}},"authenticationRequirement":"multiFactorAuthentication"}}],
            "value":[{{"appId":"b","resourceId":"{pc}","userPrincipalName":"v","status":{{"errorCode":0}},"authenticationRequirement":"singleFactorAuthentication"}}]}}"#
    );
    for (name, input) in [("csv", csv), ("page", page)] {
        let out = mfacheck().args(["signins", "--format", "ndjson", "-"]).write_stdin(input).output().unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        assert_eq!(out.status.code(), Some(2), "{name}: {text}");
        let last: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
        assert!(last["error"]["message"].as_str().unwrap().contains("duplicate"), "{name}: {last}");
    }
}

#[test]
fn a_record_that_names_no_resource_is_an_error_not_skipped() {
    // A Log Analytics query projected without ResourceIdentity: nothing says these are not
    // Partner Center sign-ins, so skipping them would pass an export that was never checked.
    let csv = "AppId,UserPrincipalName,ResultType,AuthenticationRequirement\na1,ana@contoso.com,0,singleFactorAuthentication\n";
    let lines = "{\"appId\":\"a1\",\"userPrincipalName\":\"ana@contoso.com\",\"status\":{\"errorCode\":0},\"authenticationRequirement\":\"singleFactorAuthentication\"}\n";
    for (name, input) in [("csv", csv), ("json lines", lines)] {
        let out = mfacheck().args(["signins", "--format", "ndjson", "-"]).write_stdin(input).output().unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        assert_eq!(out.status.code(), Some(2), "{name}: {text}");
        let result: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert!(result["error"]["message"].as_str().unwrap().contains("--resource any"), "{name}: {result}");
        // --resource any judges it.
        let out = mfacheck()
            .args(["signins", "--format", "ndjson", "--resource", "any", "-"])
            .write_stdin(input)
            .output()
            .unwrap();
        let result: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!((out.status.code(), result["mfa"].as_str()), (Some(1), Some("missing")), "{name}");
    }
}

#[test]
fn exit_status_in_every_combination_and_format() {
    use serde_json::json;
    let line = |extra: Value| graph_signin(extra).to_string();
    let satisfied = line(json!({"authenticationRequirement": "multiFactorAuthentication"}));
    let missing = line(json!({"authenticationRequirement": "singleFactorAuthentication"}));
    let required = line(json!({"status": {"errorCode": 50074}}));
    let unknown = line(json!({"status": {"errorCode": 50126}}));
    let app_only = line(json!({"signInEventTypes": ["servicePrincipal"]}));
    let other = line(json!({"resourceId": "00000003-0000-0000-c000-000000000000"}));
    let error = "{\"appId\":".to_owned();
    let cases: [(&[&String], i32); 9] = [
        (&[&satisfied], 0),
        (&[&satisfied, &unknown, &app_only, &other], 0),
        (&[&missing], 1),
        (&[&required], 1),
        (&[&satisfied, &missing, &unknown], 1),
        (&[&error], 2),
        (&[&missing, &error], 2),
        (&[&error, &required], 2),
        (&[&satisfied, &error], 2),
    ];
    for (records, want) in cases {
        let input: String = records.iter().map(|r| format!("{r}\n")).collect();
        for format in ["text", "json", "ndjson", "junit", "github"] {
            for quiet in [false, true] {
                let mut cmd = mfacheck();
                cmd.args(["signins", "--format", format, "-"]);
                if quiet {
                    cmd.arg("--quiet");
                }
                let out = cmd.write_stdin(input.clone()).output().unwrap();
                assert_eq!(out.status.code(), Some(want), "{format} quiet={quiet}: {input}");
                if quiet {
                    assert!(out.stdout.is_empty(), "{format}");
                }
            }
        }
    }
}

#[test]
fn controls_and_bidi_in_names_are_escaped_and_redact_masks_users_everywhere() {
    use serde_json::json;
    let record = graph_signin(json!({"appId": "app\u{1b}[2J", "appDisplayName": "Sync\u{202e}exe.txt\u{7}",
        "userPrincipalName": "ana\u{1b}]8;;http://evil\u{7}@contoso.com", "ipAddress": "203.0.113.7",
        "userId": "9f1c0c6e-1111-4222-8333-444455556666", "authenticationRequirement": "singleFactorAuthentication"}));
    let input = format!("{record}\n");
    for format in ["text", "json", "ndjson", "junit", "github"] {
        let out = mfacheck()
            .args(["signins", "--summary", "--format", format, "-"])
            .write_stdin(input.clone())
            .output()
            .unwrap();
        let both = [out.stdout, out.stderr].concat();
        let text = String::from_utf8(both).unwrap();
        if format != "json" && format != "ndjson" {
            for bad in ['\u{1b}', '\u{7}', '\u{202e}'] {
                assert!(!text.contains(bad), "{format}: {bad:?} in {text}");
            }
        }
        let out = mfacheck()
            .args(["signins", "--summary", "--redact", "--format", format, "-"])
            .write_stdin(input.clone())
            .output()
            .unwrap();
        let text = String::from_utf8([out.stdout, out.stderr].concat()).unwrap();
        for personal in ["ana", "contoso", "203.0.113.7", "9f1c0c6e"] {
            assert!(!text.contains(personal), "{format} --redact: {personal} in {text}");
        }
    }
}

#[test]
fn an_empty_resource_is_a_usage_error_not_everything_skipped() {
    // `--resource "$UNSET"` would otherwise skip every sign-in and exit 0.
    for empty in ["", "  "] {
        let out = mfacheck().args(["signins", "--resource", empty, "fixtures/signins/graph.json"]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{empty:?}");
        assert!(out.stdout.is_empty());
        assert!(String::from_utf8(out.stderr).unwrap().contains("--resource"));
    }
}

#[test]
fn one_field_in_two_spellings_is_ambiguous_only_when_the_values_differ() {
    let pc = "fa3d9a0c-3fb0-42cc-9193-47c7ecd2edbd";
    let csv = |second: &str| {
        format!(
            "AppId,ResourceIdentity,UserPrincipalName,ResultType,AuthenticationRequirement,Authentication requirement\n\
             a,{pc},u,0,singleFactorAuthentication,{second}\n"
        )
    };
    let run = |input: String| {
        let out = mfacheck().args(["signins", "--format", "ndjson", "-"]).write_stdin(input).output().unwrap();
        let result: Value = serde_json::from_slice(&out.stdout).unwrap();
        (out.status.code(), result)
    };
    let (code, result) = run(csv("multiFactorAuthentication"));
    assert_eq!(code, Some(2), "{result}");
    assert!(result["error"]["message"].as_str().unwrap().contains("duplicate field"), "{result}");
    // The same value twice, or an empty second column, says one thing.
    for second in ["singleFactorAuthentication", ""] {
        let (code, result) = run(csv(second));
        assert_eq!((code, result["mfa"].as_str()), (Some(1), Some("missing")), "{second:?}: {result}");
    }
}

#[test]
fn microsofts_published_samples() {
    // The Azure Monitor record of Microsoft's schema page: errorCode 50140 (the "keep me signed
    // in" interrupt) although its steps say "MFA requirement satisfied by claim in the token" and
    // authenticationRequirement is multiFactorAuthentication: the sign-in failed, so it tells nothing.
    let (code, results) = ndjson(&["--resource", "any", "fixtures/signins/published/microsoft-monitor-record.json"]);
    assert_eq!(code, 0, "unknown is neither compliant nor refused");
    assert_eq!(mfa(&results), [("fixtures/signins/published/microsoft-monitor-record.json:record-1", "unknown")]);
    assert_eq!(results[0]["resource_id"], "00000003-0000-0ff1-ce00-000000000000", "properties.resourceId");
    assert_eq!(results[0]["time"], "2019-03-12T16:02:15.5522137Z");

    // The admin center's JSON sample as Microsoft printed it is not JSON (`000`, trailing commas):
    // an error naming the line and column, exit 2.
    let (code, out, _) =
        signins(&["--resource", "any", "fixtures/signins/published/microsoft-admin-center-sample.json"]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("microsoft-admin-center-sample.json:record-1: error: not valid JSON at line 22, column 30"),
        "{out}"
    );
    assert!(!out.contains("line 22 column 30"), "the position is said once: {out}");
    // Repaired (the three changes in fixtures/signins/README.md): errorCode 0 and
    // multiFactorAuthentication, satisfied.
    let (code, results) =
        ndjson(&["--resource", "any", "fixtures/signins/published/microsoft-admin-center-sample-repaired.json"]);
    assert_eq!(code, 0);
    assert_eq!(results[0]["mfa"], "satisfied");
    assert_eq!(results[0]["user"], "BalaS@microsoft.com");
}

#[test]
fn ci_formats_name_the_application_the_user_and_the_fix() {
    // A CI annotation must say who will be refused and what to change, as the text does.
    let who = "Billing sync (11111111-1111-1111-1111-111111111111), user ana@contoso.example";
    let (code, out, _) = signins(&["--format", "github", "fixtures/signins/graph.json"]);
    assert_eq!(code, 1);
    let line = out.lines().find(|l| l.contains("record-1")).expect(&out);
    assert!(line.contains(who), "{line}");
    assert!(line.contains("signin-single-factor") && line.contains("signin-non-interactive"), "{line}");
    let (_, out, _) = signins(&["--format", "junit", "fixtures/signins/graph.json"]);
    let case = &out[out.find("record-1").expect(&out)..];
    let case = &case[..case.find("</testcase>").unwrap()];
    assert!(case.contains(&format!("message=\"MFA missing — {who}\"")), "{case}");
    assert!(!case.contains("\\u{a}"), "hints a line each: {case}");
    assert!(case.contains("signin-conditional-access-not-applied"), "{case}");
    // Redacted, the user is masked there too.
    let (_, out, _) = signins(&["--format", "github", "--redact", "fixtures/signins/graph.json"]);
    assert!(!out.contains("ana@contoso.example") && out.contains("user redacted:"), "{out}");
}

#[test]
fn a_closed_stdout_ends_quietly() {
    // `mfacheck signins export.json | head -1`: the reader goes away; no error text.
    let lines = format!("{}\n", monitor_line("ana@contoso.example", 0)).repeat(20_000);
    let out = closed_stdout(&["signins", "--format", "ndjson"], lines);
    assert_eq!(String::from_utf8_lossy(&out.stderr), "", "a reader that went away is no error");
}
