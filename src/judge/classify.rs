//! App-only or app+user, by Microsoft's ordered rules (SPEC §1), with the rule that decided.

use crate::token::claims::{Claim, Claims};
use serde::Serialize;
use std::borrow::Cow;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub enum Kind {
    #[serde(rename = "app+user")]
    AppUser,
    #[serde(rename = "app-only")]
    AppOnly,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::AppUser => "app+user",
            Kind::AppOnly => "app-only",
        })
    }
}

/// The kind and why: `reason` is the `kind_reason` of the result object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classification {
    pub kind: Kind,
    /// Static for every rule today, so that the hot path does not allocate it.
    pub reason: Cow<'static, str>,
    /// No rule decided (rule 6): app+user was assumed.
    pub assumed: bool,
}

fn decided(kind: Kind, reason: impl Into<Cow<'static, str>>) -> Classification {
    Classification { kind, reason: reason.into(), assumed: false }
}

pub fn classify(claims: &Claims) -> Classification {
    // 1. idtyp is the most accurate signal, when the app asked for it.
    match claims.idtyp {
        Some("app") => return decided(Kind::AppOnly, "idtyp claim is \"app\""),
        Some("user") => return decided(Kind::AppUser, "idtyp claim is \"user\""),
        _ => {}
    }
    // 2. Delegated scopes exist only in user tokens.
    if claims.has_scp {
        return decided(Kind::AppUser, "scp claim present");
    }
    // 3. The subject is the app's own service principal.
    if let (Some(oid), Some(sub)) = (claims.oid, claims.sub)
        && oid == sub
    {
        return decided(Kind::AppOnly, "oid equals sub (the app's service principal)");
    }
    // 4. User identity claims.
    if let Some(claim) = claims.user_claim {
        let reason = match claim {
            Claim::Upn => "upn claim present (a user identity claim)",
            Claim::UniqueName => "unique_name claim present (a user identity claim)",
            Claim::PreferredUsername => "preferred_username claim present (a user identity claim)",
            Claim::Amr => "amr claim present (a user identity claim)",
            Claim::Name => "name claim present (a user identity claim)",
            other => return decided(Kind::AppUser, format!("{} claim present (a user identity claim)", other.name())),
        };
        return decided(Kind::AppUser, reason);
    }
    // 5. roles is ambiguous, but without user claims it is an application permission.
    if claims.roles {
        return decided(Kind::AppOnly, "roles claim without user claims");
    }
    // 6. Nothing decides: assume the stricter case.
    Classification {
        kind: Kind::AppUser,
        reason: "no claim decides (no idtyp, scp, oid = sub, user claim or roles); assumed app+user".into(),
        assumed: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn kind_of(value: Value) -> Classification {
        let map = value.as_object().unwrap().clone();
        classify(&Claims::of_map(&map))
    }

    #[test]
    fn rule_1_idtyp_beats_everything() {
        let c = kind_of(json!({"idtyp":"app","scp":"x","upn":"u"}));
        assert_eq!((c.kind, &*c.reason), (Kind::AppOnly, "idtyp claim is \"app\""));
        let c = kind_of(json!({"idtyp":"user","roles":["r"],"oid":"a","sub":"a"}));
        assert_eq!(c.kind, Kind::AppUser);
    }

    #[test]
    fn rule_2_scp_of_any_type() {
        let c = kind_of(json!({"scp":["user_impersonation"],"oid":"a","sub":"a"}));
        assert_eq!(c.kind, Kind::AppUser, "scp present as an array still means a user token");
    }

    #[test]
    fn rule_2_scp() {
        let c = kind_of(json!({"scp":"user_impersonation","oid":"a","sub":"a"}));
        assert_eq!((c.kind, &*c.reason), (Kind::AppUser, "scp claim present"));
    }

    #[test]
    fn rule_3_oid_equals_sub() {
        let c = kind_of(json!({"oid":"a","sub":"a","roles":["r"]}));
        assert_eq!(c.kind, Kind::AppOnly);
        assert!(c.reason.starts_with("oid equals sub"));
    }

    #[test]
    fn rule_4_user_claims_and_roles_on_a_user_token() {
        let c = kind_of(json!({"roles":["Admin"],"upn":"u@x","oid":"a","sub":"b"}));
        assert_eq!(c.kind, Kind::AppUser);
        assert!(c.reason.starts_with("upn claim present"));
        let c = kind_of(json!({"preferred_username":"u@x"}));
        assert!(c.reason.starts_with("preferred_username"));
        let c = kind_of(json!({"amr":["pwd"]}));
        assert!(c.reason.starts_with("amr"));
    }

    #[test]
    fn rule_5_roles_alone() {
        let c = kind_of(json!({"roles":["Reader"],"oid":"a","sub":"b"}));
        assert_eq!((c.kind, &*c.reason), (Kind::AppOnly, "roles claim without user claims"));
    }

    #[test]
    fn rule_6_nothing_decides() {
        let c = kind_of(json!({"aud":"x","idtyp":"device"}));
        assert_eq!(c.kind, Kind::AppUser);
        assert!(c.assumed);
    }
}
