//! `redeem`'s engine: one grant, its access token judged by the same composition as
//! `check --explain` ([`explained`]), the rotated refresh token stored when asked, one result
//! printed. It judges nothing itself.

use crate::exit_status::ExitStatus;
use crate::input::Item;
use crate::judge::{Explained, Outcome, Policy, entra, explained};
use crate::redeem::{RedeemInfo, Request, stored};
use crate::report::{Printer, Redeemed};
use std::io::Write;
use std::path::Path;
use std::time::Duration;

/// Redeems `request`, judges what it gave under `policy`, prints the result (named `source`);
/// with `write_back`, a rotated refresh token replaces that file.
pub fn run<W: Write>(
    request: &Request,
    policy: &Policy,
    source: &str,
    timeout: Duration,
    write_back: Option<&Path>,
    explain: bool,
    printer: &mut Printer<W>,
) -> anyhow::Result<ExitStatus> {
    // The client assertion is dated by the real clock, whatever --now judges against.
    let now = jiff::Timestamp::now().as_second();
    let mut info =
        RedeemInfo { token_endpoint: request.token_endpoint.clone(), expires_in: None, refresh_token_rotated: false };
    let mut stored = Ok(());
    let checked = match request.redeem(timeout, now) {
        Ok(granted) => {
            info.expires_in = granted.expires_in;
            info.refresh_token_rotated = granted.rotated.is_some();
            let token = Item { source: source.to_owned(), token: Ok(granted.access_token.expose().to_owned()) };
            let checked = explained(token, policy);
            if let (Some(path), Some(rotated)) = (write_back, &granted.rotated) {
                // Only an answer whose access token is Entra's, for this client and tenant, may
                // replace the stored refresh token: another endpoint could plant its own, or garbage.
                stored = match entra::not_the_grants(&checked.outcome, &request.client_id, &request.tenant) {
                    None => stored::write_back(path, rotated),
                    Some(why) => Err(anyhow::anyhow!(
                        "--write-back: the new refresh token was not stored: the access token beside it is not \
                         Entra's answer to this grant: {why}"
                    )),
                };
            }
            checked
        }
        Err(error) => Explained { outcome: Outcome::failed(source.to_owned(), error), header: None, claims: None },
    };
    let printed = printer.redeemed(&Redeemed { outcome: &checked.outcome, redeem: &info }).and_then(|()| {
        match (&checked.claims, explain) {
            (Some(claims), true) => printer.explanation(claims),
            _ => Ok(()),
        }
    });
    match printed.and_then(|()| printer.finish()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(e.into()),
        _ => {}
    }
    stored?;
    Ok(checked.outcome.exit_status())
}
