//! Sign-in log records (SPEC §5): what one Entra ID sign-in says, read from any export's
//! spelling (Graph camelCase, Azure Monitor `properties`, Log Analytics PascalCase with nested
//! JSON in strings, the admin center's download) into one [`Signin`].

use serde_json::{Map, Value};

/// One sign-in, as the record states it; absent fields stay `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Signin {
    pub time: Option<String>,
    /// `signInEventTypes`, or the Azure Monitor `category`.
    pub signin_type: Option<String>,
    pub app_id: Option<String>,
    pub app_name: Option<String>,
    pub resource_id: Option<String>,
    pub resource_name: Option<String>,
    pub user: Option<String>,
    pub error_code: Option<i64>,
    pub failure_reason: Option<String>,
    pub additional_details: Option<String>,
    pub authentication_requirement: Option<String>,
    pub steps: Vec<Step>,
    pub is_interactive: Option<bool>,
    pub conditional_access_status: Option<String>,
    pub token_issuer_type: Option<String>,
}

/// One `authenticationDetails` step.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Step {
    pub method: Option<String>,
    pub requirement: Option<String>,
    pub succeeded: Option<bool>,
    pub result_detail: Option<String>,
}

/// A field name as every export spells it: letters and digits, lower case, without a unit
/// suffix such as ` [UTC]`.
fn key(name: &str) -> String {
    let name = name.split(" [").next().unwrap_or(name);
    name.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_lowercase()).collect()
}

/// The first of `names` (already in [`key`] form) the object holds, not null or empty.
fn get<'v>(map: &'v Map<String, Value>, names: &[&str]) -> Option<&'v Value> {
    names.iter().find_map(|want| {
        map.iter().find(|(k, v)| key(k) == *want && !v.is_null() && v.as_str() != Some("")).map(|(_, v)| v)
    })
}

/// Log Analytics nests objects as JSON text.
fn nested(value: &Value) -> Option<Value> {
    match value {
        Value::String(text) if text.trim_start().starts_with(['{', '[']) => serde_json::from_str(text).ok(),
        other => Some(other.clone()),
    }
}

fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.clone()),
        Value::Array(items) => items.first().and_then(|v| v.as_str()).map(str::to_owned),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn int(value: Option<&Value>) -> Option<i64> {
    match value? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn boolean(value: Option<&Value>) -> Option<bool> {
    match value? {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("yes") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") || s.eq_ignore_ascii_case("no") => Some(false),
        _ => None,
    }
}

/// Reads one record. `Err` says why it is not a sign-in (not an object).
pub fn from_json(record: &Value) -> Result<Signin, String> {
    let Value::Object(outer) = record else {
        return Err(format!("a sign-in record is a JSON object, not {}", kind_of(record)));
    };
    // Azure Monitor / Event Hub: the sign-in under `properties`, the kind in `category`; the
    // top-level `resourceId` is the tenant's path, never read as the resource.
    let (map, category) = match outer.get("properties") {
        Some(Value::Object(props)) => (props, text(outer.get("category"))),
        _ => (outer, text(get(outer, &["category"]))),
    };
    let status = get(map, &["status"]).and_then(nested);
    let status = status.as_ref().and_then(Value::as_object);
    let from_status = |names: &[&str]| status.and_then(|s| get(s, names));
    let portal_status = get(map, &["status"]).and_then(Value::as_str);
    let error_code = int(from_status(&["errorcode"]))
        .or_else(|| int(get(map, &["resulttype", "signinerrorcode", "errorcode"])))
        .or_else(|| match portal_status {
            Some(s) if s.eq_ignore_ascii_case("success") => Some(0),
            _ => None,
        });
    let steps = get(map, &["authenticationdetails"])
        .and_then(nested)
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(Value::as_object)
        .map(|step| Step {
            method: text(get(step, &["authenticationmethod"])),
            requirement: text(get(step, &["authenticationsteprequirement"])),
            succeeded: boolean(get(step, &["succeeded"])),
            result_detail: text(get(step, &["authenticationstepresultdetail"])),
        })
        .collect();
    Ok(Signin {
        time: text(get(map, &["createddatetime", "timegenerated", "dateutc", "date"]))
            .or_else(|| text(outer.get("time"))),
        signin_type: text(get(map, &["signineventtypes", "signintype"])).or(category),
        app_id: text(get(map, &["appid", "applicationid"])),
        app_name: text(get(map, &["appdisplayname", "application"])),
        resource_id: text(get(map, &["resourceid", "resourceidentity"])),
        resource_name: text(get(map, &["resourcedisplayname", "resource"])),
        user: text(get(map, &["userprincipalname", "username", "user"])),
        error_code,
        failure_reason: text(
            from_status(&["failurereason"]).or_else(|| get(map, &["failurereason", "resultdescription"])),
        ),
        additional_details: text(from_status(&["additionaldetails"]).or_else(|| get(map, &["additionaldetails"]))),
        authentication_requirement: text(get(map, &["authenticationrequirement"])),
        steps,
        is_interactive: boolean(get(map, &["isinteractive"])),
        conditional_access_status: text(get(map, &["conditionalaccessstatus", "conditionalaccess"])),
        token_issuer_type: text(get(map, &["tokenissuertype"])),
    })
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn graph_record() {
        let s = from_json(&json!({
            "createdDateTime": "2026-05-04T09:12:00Z", "appId": "a1", "appDisplayName": "Billing sync",
            "resourceId": "fa3d9a0c-3fb0-42cc-9193-47c7ecd2edbd", "resourceDisplayName": "Partner Center",
            "userPrincipalName": "ana@contoso.com", "isInteractive": false,
            "status": {"errorCode": 0, "failureReason": "Other.", "additionalDetails": null},
            "authenticationRequirement": "singleFactorAuthentication",
            "authenticationDetails": [{"authenticationMethod": "Previously satisfied", "succeeded": true,
              "authenticationStepRequirement": "Primary authentication",
              "authenticationStepResultDetail": "First factor requirement satisfied by claim in the token"}]
        }))
        .unwrap();
        assert_eq!(s.error_code, Some(0));
        assert_eq!(s.app_id.as_deref(), Some("a1"));
        assert_eq!(s.is_interactive, Some(false));
        assert_eq!(s.steps[0].succeeded, Some(true));
    }

    #[test]
    fn monitor_record_reads_properties_not_the_tenant_path() {
        let s = from_json(&json!({
            "time": "2026-05-04T09:12:00Z", "category": "NonInteractiveUserSignInLogs",
            "resourceId": "/tenants/t1/providers/Microsoft.aadiam",
            "properties": {"appId": "a1", "status": {"errorCode": 50076}}
        }))
        .unwrap();
        assert_eq!(s.resource_id, None);
        assert_eq!(s.signin_type.as_deref(), Some("NonInteractiveUserSignInLogs"));
        assert_eq!(s.error_code, Some(50076));
        assert_eq!(s.time.as_deref(), Some("2026-05-04T09:12:00Z"));
    }

    #[test]
    fn log_analytics_nested_strings_and_portal_columns() {
        let s = from_json(&json!({
            "TimeGenerated [UTC]": "9/19/2023, 1:42:37.848 PM", "AppId": "a1", "ResourceIdentity": "r1",
            "ResultType": "0", "Status": "{\"errorCode\":0}", "IsInteractive": "True",
            "AuthenticationDetails": "[{\"succeeded\":true,\"authenticationStepRequirement\":\"MFA\"}]"
        }))
        .unwrap();
        assert_eq!((s.resource_id.as_deref(), s.error_code, s.is_interactive), (Some("r1"), Some(0), Some(true)));
        assert_eq!(s.steps[0].requirement.as_deref(), Some("MFA"));
        let s = from_json(&json!({"Date (UTC)": "2026-05-04", "Application ID": "a1", "Status": "Success",
            "Authentication requirement": "Single-factor authentication"}))
        .unwrap();
        assert_eq!((s.app_id.as_deref(), s.error_code), (Some("a1"), Some(0)));
    }

    #[test]
    fn a_record_that_is_not_an_object_is_an_error() {
        assert!(from_json(&json!([1])).unwrap_err().contains("not an array"));
    }
}
