//! Well-known audiences by name: the one table that text output, `token.audience_name`, the
//! `not-partner-center` finding, `--audience` matching and verification's Graph test all read.
//! Resource URIs and first-party application ids as Microsoft publishes them (Entra ID's
//! "first-party applications" and each service's "resource id" documentation).

/// One audience: its name and every spelling that means it (an `aud` compares to these ignoring
/// ASCII case and a trailing `/`).
pub struct Audience {
    pub name: &'static str,
    pub spellings: &'static [&'static str],
}

pub const PARTNER_CENTER: &str = "Partner Center";
/// Partner Center's resource URI, the spelling messages and `--partner-center` use.
pub const PARTNER_CENTER_URI: &str = "https://api.partnercenter.microsoft.com";
pub const MICROSOFT_GRAPH: &str = "Microsoft Graph";

/// Partner Center first: `--audience` and the finding messages name its URI.
pub const AUDIENCES: &[Audience] = &[
    Audience { name: PARTNER_CENTER, spellings: &[PARTNER_CENTER_URI, "fa3d9a0c-3fb0-42cc-9193-47c7ecd2edbd"] },
    Audience {
        name: MICROSOFT_GRAPH,
        spellings: &["https://graph.microsoft.com", "00000003-0000-0000-c000-000000000000"],
    },
    Audience {
        name: "Azure Resource Manager",
        spellings: &[
            "https://management.azure.com",
            "https://management.core.windows.net",
            "797f4846-ba00-4fd7-ba43-dac1f8f63013",
        ],
    },
    Audience {
        name: "Azure AD Graph",
        spellings: &["https://graph.windows.net", "00000002-0000-0000-c000-000000000000"],
    },
    Audience {
        name: "Azure Key Vault",
        spellings: &["https://vault.azure.net", "cfa8b339-82a2-471a-a3c9-0fc0be7a4093"],
    },
    Audience {
        name: "Azure Storage",
        spellings: &["https://storage.azure.com", "e406a681-f3d4-42a8-90b6-c2b029497af1"],
    },
    Audience {
        name: "Exchange Online",
        spellings: &[
            "https://outlook.office365.com",
            "https://outlook.office.com",
            "00000002-0000-0ff1-ce00-000000000000",
        ],
    },
    Audience {
        name: "SharePoint Online",
        // Its URI is the tenant's own host (`https://contoso.sharepoint.com`), matched by suffix.
        spellings: &["00000003-0000-0ff1-ce00-000000000000"],
    },
    Audience {
        name: "Power BI",
        spellings: &["https://analysis.windows.net/powerbi/api", "00000009-0000-0000-c000-000000000000"],
    },
];

fn spelled(aud: &str, spelling: &str) -> bool {
    aud.strip_suffix('/').unwrap_or(aud).eq_ignore_ascii_case(spelling)
}

/// The table entry an exact spelling names (not SharePoint's per-tenant hosts).
fn entry(aud: &str) -> Option<&'static Audience> {
    AUDIENCES.iter().find(|a| a.spellings.iter().any(|s| spelled(aud, s)))
}

/// The name of a well-known audience, in any of its spellings.
pub fn name(aud: &str) -> Option<&'static str> {
    if let Some(entry) = entry(aud) {
        return Some(entry.name);
    }
    let host = aud.strip_prefix("https://")?.split('/').next()?;
    ends_with_ignore_case(host, ".sharepoint.com").then_some("SharePoint Online")
}

/// Without allocating: this runs on every token of the hot path.
pub fn ends_with_ignore_case(text: &str, suffix: &str) -> bool {
    text.len() >= suffix.len() && text.as_bytes()[text.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes())
}

pub fn is_partner_center(aud: &str) -> bool {
    name(aud) == Some(PARTNER_CENTER)
}

pub fn is_graph(aud: &str) -> bool {
    name(aud) == Some(MICROSOFT_GRAPH)
}

/// `--audience` matching: the same string, or two spellings of one table entry (so Partner
/// Center's URI and app id match each other, either way round).
pub fn same(expected: &str, aud: &str) -> bool {
    expected == aud || entry(expected).is_some_and(|e| entry(aud).is_some_and(|a| std::ptr::eq(e, a)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_and_names() {
        assert_eq!(name("https://api.partnercenter.microsoft.com/"), Some(PARTNER_CENTER));
        assert_eq!(name("FA3D9A0C-3FB0-42CC-9193-47C7ECD2EDBD"), Some(PARTNER_CENTER));
        assert_eq!(name("https://management.core.windows.net/"), Some("Azure Resource Manager"));
        assert_eq!(name("https://contoso.sharepoint.com"), Some("SharePoint Online"));
        assert_eq!(name("api://my-app"), None);
        assert!(same("https://api.partnercenter.microsoft.com", "fa3d9a0c-3fb0-42cc-9193-47c7ecd2edbd"));
        assert!(same("fa3d9a0c-3fb0-42cc-9193-47c7ecd2edbd", "https://api.partnercenter.microsoft.com/"));
        assert!(!same("https://contoso.sharepoint.com", "https://fabrikam.sharepoint.com"));
        assert!(!same("https://graph.microsoft.com", "https://api.partnercenter.microsoft.com"));
    }
}
