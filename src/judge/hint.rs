//! Fix wording shared by the token rules (`verdict`) and the sign-in rules (`signin`) where the
//! cause is the same: written once, so a token and a sign-in log never advise differently.

/// The fix for a flow that cannot prompt for MFA (a refresh token redeemed, the password grant).
pub const INTERACTIVE_FLOW: &str =
    "Switch to an interactive flow (OpenID Connect / authorization code) with an MFA-enabled account";

/// A federated identity provider that did not relay MFA, and its fix.
pub const FEDERATED_NO_RELAY: &str = "the federated identity provider did not relay that MFA happened. \
     Configure it to send the authnmethodsreferences claim with \
     http://schemas.microsoft.com/claims/multipleauthn";
