//! Makes every file under `fixtures/` (but the keys): sample tokens, bad inputs, input wrappers,
//! the JWKS, `manifest.json` (what tests expect of each) and `README.md` (the same as a table).
//!
//!     cargo run --example fixtures            # rewrites fixtures/ in place
//!
//! Deterministic: RS256 (PKCS#1 v1.5), EdDSA and HS256 signatures depend only on the key and the
//! message, so a second run changes nothing (CI checks this with `git diff --exit-code`). ES256 is
//! signed here with RustCrypto's RFC 6979 signer, not with `mfacheck sample`'s aws-lc one, whose
//! ECDSA is randomised.

use anyhow::{Context, Result};
use jsonwebtoken::jwk::{Jwk, JwkSet, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, EncodingKey};
use mfacheck::internal::sample::{self, Signer, Template, encode, encode_raw};
use serde_json::{Map, Value, json};
use std::fs;
use std::path::Path;

const PC: &str = sample::PARTNER_CENTER;
const TENANT: &str = sample::SAMPLE_TENANT;
const CUSTOMER: &str = "7c0c4a3e-1d55-4c3e-9d0e-8f1c2b3a4d5e";
const APP: &str = sample::SAMPLE_APP;
const RSA_KID: &str = "mfacheck-test-rsa";
const EC_KID: &str = "mfacheck-test-ec";
const ED_KID: &str = "mfacheck-test-ed25519";
/// The kid of `keys/test-rsa-other.pem`, a key that is not in `keys/jwks.json`.
const OTHER_KID: &str = "mfacheck-test-other";
/// Valid fixtures: issued 2025-12-01, valid until 2100-01-01, so they stay valid.
const IAT: i64 = 1_764_547_200;
const EXP: i64 = 4_102_444_800;

/// What a test expects of one fixture.
struct Expect {
    file: String,
    /// The command the expectation is for: `check`, or `scan` for `scan/`.
    command: &'static str,
    what: &'static str,
    kind: Option<&'static str>,
    mfa: Option<&'static str>,
    exit: u8,
    findings: Vec<&'static str>,
    error: Option<&'static str>,
    /// The `signature` expected when checked with `--jwks fixtures/keys/jwks.json`.
    signature: Option<&'static str>,
}

fn obj(value: Value) -> Map<String, Value> {
    value.as_object().expect("an object").clone()
}

/// The claims of Microsoft's sample token in "Mandating MFA for your partner tenant".
fn seed() -> Map<String, Value> {
    sample::seed_claims()
}

/// `mfacheck sample`'s app+user token (the seed, valid until 2100), with `changes` applied (a
/// null value removes the claim).
fn user(changes: Value) -> Map<String, Value> {
    let mut claims = Template::new(IAT, EXP).claims();
    apply(&mut claims, changes);
    claims
}

fn apply(claims: &mut Map<String, Value>, changes: Value) {
    sample::apply(claims, obj(changes));
}

/// `mfacheck sample --app-only`: a client-credentials token as Entra ID issues it.
fn app_only(changes: Value) -> Map<String, Value> {
    let mut claims = Template { app_only: true, ..Template::new(IAT, EXP) }.claims();
    apply(&mut claims, changes);
    claims
}

fn header(alg: &str, kid: &str) -> Map<String, Value> {
    obj(json!({"typ": "JWT", "alg": alg, "kid": kid}))
}

fn main() -> Result<()> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let rsa = Signer::from_pem(&fs::read(dir.join("keys/test-rsa.pem"))?)?;
    let ec_pem = fs::read_to_string(dir.join("keys/test-ec.pem"))?;
    let ec = Signer::from_pem(ec_pem.as_bytes())?;
    let es256 = Es256(
        p256::pkcs8::DecodePrivateKey::from_pkcs8_pem(&ec_pem).map_err(|e| anyhow::anyhow!("keys/test-ec.pem: {e}"))?,
    );
    let ed = Signer::from_pem(&fs::read(dir.join("keys/test-ed25519.pem"))?)?;
    let other = Signer::from_pem(&fs::read(dir.join("keys/test-rsa-other.pem"))?)?;
    let rsa_public_pem = fs::read(dir.join("keys/test-rsa.pub.pem"))?;
    let rs =
        |claims: Map<String, Value>| encode(&header("RS256", RSA_KID), &claims, Some(&rsa)).expect("RS256 signing");

    let mut expects = Vec::new();
    let mut write = |file: &str, content: &str, e: Expect| -> Result<()> {
        fs::write(dir.join(file), content).with_context(|| format!("writing {file}"))?;
        expects.push(Expect { file: file.into(), ..e });
        Ok(())
    };
    let ok = |what, kind, mfa, exit, findings: &[&'static str]| Expect {
        file: String::new(),
        command: "check",
        what,
        kind: Some(kind),
        mfa: Some(mfa),
        exit,
        findings: findings.to_vec(),
        error: None,
        signature: Some("verified"),
    };
    let bad = |what, code| Expect {
        file: String::new(),
        command: "check",
        what,
        kind: None,
        mfa: None,
        exit: 2,
        findings: vec![],
        error: Some(code),
        signature: None,
    };
    let line = |token: String| token + "\n";

    // Verdicts, kinds and findings.
    let mut seed_token = seed();
    seed_token.insert("iat".into(), 1549088552.into());
    write(
        "seed.jwt",
        &line(rs(seed_token)),
        ok(
            "Microsoft's sample claims as documented (amr pwd+mfa, expired in 2019)",
            "app+user",
            "satisfied",
            0,
            &["expired"],
        ),
    )?;
    let mfa_token = rs(user(json!({})));
    write(
        "mfa.jwt",
        &line(mfa_token.clone()),
        ok("the seed claims, valid until 2100: app+user with MFA", "app+user", "satisfied", 0, &[]),
    )?;
    let password_token = rs(user(json!({"amr": ["pwd"]})));
    write(
        "password-only.jwt",
        &line(password_token.clone()),
        ok("amr [pwd]: resource-owner password flow", "app+user", "missing", 1, &["password-only"]),
    )?;
    let app_token = rs(app_only(json!({})));
    write(
        "app-only.jwt",
        &line(app_token.clone()),
        ok("client-credentials token, idtyp app (rule 1)", "app-only", "not-required", 0, &[]),
    )?;
    write(
        "app-only-oid-sub.jwt",
        &line(rs(app_only(json!({"idtyp": null})))),
        ok("app-only without idtyp: oid equals sub (rule 3)", "app-only", "not-required", 0, &[]),
    )?;
    write(
        "app-only-roles.jwt",
        &line(rs(app_only(json!({"idtyp": null, "oid": null, "sub": null})))),
        ok("only roles, no user claims (rule 5)", "app-only", "not-required", 0, &[]),
    )?;
    write(
        "idtyp-user.jwt",
        &line(rs(user(json!({"idtyp": "user", "scp": null})))),
        ok("idtyp user (rule 1), MFA", "app+user", "satisfied", 0, &[]),
    )?;
    write(
        "user-roles.jwt",
        &line(rs(user(
            json!({"scp": null, "roles": ["Partner.Admin"], "sub": "kQ3h0pRZ7mX2bN5vC8dF1gH4jK6lM9nP0qR2sT5uV7w"}),
        ))),
        ok("a user token carrying app roles and no scp: upn decides (rule 4), MFA", "app+user", "satisfied", 0, &[]),
    )?;
    write(
        "undetermined.jwt",
        &line(rs(obj(
            json!({"aud": PC, "iss": format!("https://sts.windows.net/{TENANT}/"), "iat": IAT, "exp": EXP, "appid": APP, "tid": TENANT, "ver": "1.0"}),
        ))),
        ok("no claim tells the kind (rule 6): assumed app+user", "app+user", "missing", 1, &["no-amr", "kind-assumed"]),
    )?;
    write(
        "federated-no-mfa.jwt",
        &line(rs(user(json!({"amr": ["fed"]})))),
        ok("amr [fed]: the federated IdP did not relay MFA", "app+user", "missing", 1, &["federated-no-mfa"]),
    )?;
    write(
        "federated-mfa.jwt",
        &line(rs(user(json!({"amr": ["fed", "mfa"]})))),
        ok("amr [fed, mfa]: the IdP relayed MFA", "app+user", "satisfied", 0, &[]),
    )?;
    write(
        "strong-method-not-mfa.jwt",
        &line(rs(user(json!({"amr": ["pwd", "rsa"]})))),
        ok("amr [pwd, rsa]: a strong method, but no mfa element", "app+user", "missing", 1, &["strong-method-not-mfa"]),
    )?;
    write(
        "ngcmfa.jwt",
        &line(rs(user(json!({"amr": ["ngcmfa"]})))),
        ok(
            "amr [ngcmfa]: equivalent to mfa for Entra, not for Partner Center",
            "app+user",
            "missing",
            1,
            &["strong-method-not-mfa"],
        ),
    )?;
    let v2 = json!({
        "ver": "2.0", "iss": format!("https://login.microsoftonline.com/{TENANT}/v2.0"),
        "appid": null, "appidacr": null, "azp": APP, "azpacr": "0",
        "upn": null, "unique_name": null, "preferred_username": "Isaiah.Williams@testtestpartner.onmicrosoft.com",
        "sub": "kQ3h0pRZ7mX2bN5vC8dF1gH4jK6lM9nP0qR2sT5uV7w", "amr": null
    });
    write(
        "v2-no-amr.jwt",
        &line(rs(user(v2.clone()))),
        ok("v2.0 token (azp, preferred_username) without amr", "app+user", "missing", 1, &["no-amr"]),
    )?;
    let mut v2_mfa = user(v2);
    v2_mfa.insert("amr".into(), json!(["pwd", "mfa"]));
    write(
        "v2-mfa.jwt",
        &line(rs(v2_mfa)),
        ok("v2.0 token that requested the amr optional claim, MFA", "app+user", "satisfied", 0, &[]),
    )?;
    let v2_email = user(json!({
        "ver": "2.0", "iss": format!("https://login.microsoftonline.com/{TENANT}/v2.0"),
        "appid": null, "appidacr": null, "azp": APP, "azpacr": "0",
        "upn": null, "unique_name": null, "email": "isaiah.w@partner.example",
        "sub": "Zt4oR1mQ9xW2cV7bN0kL3jH6gF8dS5aP2uY9tE1rW4q"
    }));
    write(
        "v2-email.jwt",
        &line(rs(v2_email)),
        ok("v2.0 token naming the user only by the email optional claim, MFA", "app+user", "satisfied", 0, &[]),
    )?;
    write(
        "amr-case.jwt",
        &line(rs(user(json!({"amr": ["pwd", "MFA"]})))),
        ok("amr [pwd, MFA]: values are case-sensitive", "app+user", "missing", 1, &["amr-case", "no-mfa"]),
    )?;
    write(
        "amr-nomfa.jwt",
        &line(rs(user(json!({"amr": ["nomfa"]})))),
        ok("amr [nomfa]: a substring is not the element", "app+user", "missing", 1, &["no-mfa"]),
    )?;
    write(
        "amr-not-array.jwt",
        &line(rs(user(json!({"amr": "mfa"})))),
        ok("amr is the string \"mfa\", not an array", "app+user", "missing", 1, &["amr-not-array", "no-mfa"]),
    )?;
    let unsigned = encode(&obj(json!({"typ": "JWT", "alg": "none"})), &user(json!({})), None)?;
    write(
        "unsigned.jwt",
        &line(unsigned),
        Expect {
            signature: Some("invalid"),
            ..ok("alg none, empty signature, MFA", "app+user", "satisfied", 0, &["unsigned"])
        },
    )?;
    let es512_sig = "AZ".repeat(88);
    write(
        "es512.jwt",
        &line(encode_raw(
            &serde_json::to_vec(&header("ES512", "unknown"))?,
            &serde_json::to_vec(&user(json!({})))?,
            &es512_sig,
        )),
        Expect {
            signature: Some("invalid"),
            ..ok("alg ES512 with a made-up signature: decoded all the same", "app+user", "satisfied", 0, &[])
        },
    )?;
    write(
        "es256.jwt",
        &line(es256.sign(&header("ES256", EC_KID), &user(json!({})))?),
        ok("signed ES256 with the test P-256 key, MFA", "app+user", "satisfied", 0, &[]),
    )?;
    write(
        "eddsa.jwt",
        &line(encode(&header("EdDSA", ED_KID), &user(json!({})), Some(&ed))?),
        ok("signed EdDSA with the test Ed25519 key, MFA", "app+user", "satisfied", 0, &[]),
    )?;
    write(
        "cross-tenant.jwt",
        &line(rs(user(json!({
            "iss": format!("https://sts.windows.net/{CUSTOMER}/"), "tid": CUSTOMER,
            "idp": format!("https://sts.windows.net/{TENANT}/"), "upn": null,
            "aud": "https://management.core.windows.net/"
        })))),
        ok(
            "a partner's GDAP sign-in into a customer tenant (idp differs from iss), MFA",
            "app+user",
            "satisfied",
            0,
            &["cross-tenant", "not-partner-center"],
        ),
    )?;
    write(
        "not-partner-center.jwt",
        &line(rs(user(json!({"aud": "https://graph.microsoft.com", "amr": ["pwd"]})))),
        ok(
            "a Microsoft Graph token with amr [pwd]",
            "app+user",
            "missing",
            1,
            &["password-only", "not-partner-center"],
        ),
    )?;
    write(
        "not-yet-valid.jwt",
        &line(rs(user(json!({"nbf": 4_000_000_000i64})))),
        ok("nbf in 2096: not valid yet", "app+user", "satisfied", 0, &["not-yet-valid"]),
    )?;

    // Which token it is (SPEC §1 "Which token is it").
    fs::create_dir_all(dir.join("which"))?;
    write(
        "which/pc-app-id-audience.jwt",
        &line(rs(user(json!({"aud": "fa3d9a0c-3fb0-42cc-9193-47c7ecd2edbd"})))),
        ok("aud is Partner Center's application id, MFA", "app+user", "satisfied", 0, &[]),
    )?;
    let graph_header = obj(
        json!({"typ": "JWT", "nonce": "x3Jd1uSYvp1Wn2Ux5U4sM8bqHvK0tA9cE7fG6hJ2kL4", "alg": "RS256", "kid": RSA_KID}),
    );
    write(
        "which/graph.jwt",
        &line(encode(
            &graph_header,
            &user(json!({"aud": "00000003-0000-0000-c000-000000000000", "scp": "User.Read"})),
            Some(&rsa),
        )?),
        ok(
            "a Microsoft Graph access token (app id audience, nonce in the header): an access token, not an ID token",
            "app+user",
            "satisfied",
            0,
            &["not-partner-center"],
        ),
    )?;
    write(
        "which/app-only-graph.jwt",
        &line(rs(app_only(json!({"aud": "https://graph.microsoft.com"})))),
        ok("an app-only token for Microsoft Graph", "app-only", "not-required", 0, &["not-partner-center"]),
    )?;
    let id_token = json!({
        "aud": APP, "appid": null, "appidacr": null, "scp": null, "acr": null,
        "nonce": "638700000000000000.YzBkNzFhZjMtZTY1Ni00", "sub": "kQ3h0pRZ7mX2bN5vC8dF1gH4jK6lM9nP0qR2sT5uV7w"
    });
    write(
        "which/id-token.jwt",
        &line(rs(user(id_token))),
        ok(
            "a v1.0 ID token (aud the client's id, nonce, no appid or scp), amr [pwd, mfa]",
            "app+user",
            "satisfied",
            1,
            &["id-token"],
        ),
    )?;
    write(
        "which/id-token-v2.jwt",
        &line(rs(user(json!({
            "ver": "2.0", "iss": format!("https://login.microsoftonline.com/{TENANT}/v2.0"), "aud": APP,
            "appid": null, "appidacr": null, "scp": null, "acr": null, "amr": null, "upn": null, "unique_name": null,
            "preferred_username": "Isaiah.Williams@testtestpartner.onmicrosoft.com",
            "sub": "kQ3h0pRZ7mX2bN5vC8dF1gH4jK6lM9nP0qR2sT5uV7w"
        })))),
        ok("a v2.0 ID token without nonce or amr: no optional-claim advice", "app+user", "missing", 1, &["id-token"]),
    )?;
    write(
        "which/v2-own-api.jwt",
        &line(rs(user(json!({
            "ver": "2.0", "iss": format!("https://login.microsoftonline.com/{TENANT}/v2.0"), "aud": APP,
            "appid": null, "appidacr": null, "azp": APP, "azpacr": "0", "scp": "access_as_user",
            "amr": ["pwd", "mfa"], "upn": null, "unique_name": null
        })))),
        ok(
            "a v2.0 access token for the app's own API (aud = azp): an access token",
            "app+user",
            "satisfied",
            0,
            &["not-partner-center"],
        ),
    )?;
    const B2C_TENANT: &str = "775527ff-9a37-4307-8b3d-cc311f58d925";
    let b2c = obj(json!({
        "iss": format!("https://contoso.b2clogin.com/{B2C_TENANT}/v2.0/"), "exp": EXP, "nbf": IAT, "iat": IAT,
        "aud": "90c0fe63-bcf2-44d5-8fb7-b8bbc0b29dc6", "sub": "45b7b3b1-0a9b-4c36-8d45-0b8f6a1b2c3d",
        "name": "Customer Example", "tfp": "B2C_1_signupsignin1", "scp": "demo.read",
        "azp": "90c0fe63-bcf2-44d5-8fb7-b8bbc0b29dc6", "ver": "1.0"
    }));
    write(
        "which/b2c.jwt",
        &line(rs(b2c)),
        ok(
            "an Azure AD B2C access token (b2clogin.com v2.0 issuer, ver 1.0, tfp)",
            "app+user",
            "missing",
            1,
            &["b2c-token", "no-mfa", "not-partner-center"],
        ),
    )?;
    write(
        "which/wia.jwt",
        &line(rs(user(json!({"amr": ["wia"]})))),
        ok("amr [wia]: Windows integrated authentication, one factor", "app+user", "missing", 1, &["wia-no-mfa"]),
    )?;
    write(
        "which/personal-guest.jwt",
        &line(rs(user(json!({"idp": "live.com", "upn": null, "email": "someone@outlook.example"})))),
        ok("a personal Microsoft account guest (idp live.com), MFA", "app+user", "satisfied", 0, &["cross-tenant"]),
    )?;
    write(
        "which/issuer-tenant-mismatch.jwt",
        &line(rs(user(json!({"tid": CUSTOMER})))),
        ok("iss names the partner tenant, tid another tenant", "app+user", "satisfied", 0, &["issuer-tenant-mismatch"]),
    )?;
    let (signed, full_signature) = mfa_token.rsplit_once('.').context("three segments")?;
    write(
        "which/truncated-signature.jwt",
        &line(format!("{signed}.{}", &full_signature[..200])),
        Expect {
            signature: Some("invalid"),
            ..ok(
                "mfa.jwt with its RS256 signature cut to 150 bytes",
                "app+user",
                "satisfied",
                0,
                &["truncated-signature"],
            )
        },
    )?;
    // Microsoft's docs print sample tokens in padded standard base64: check refuses them (exit 2),
    // decode shows their claims with a warning, scan reports them.
    let padded_std = |bytes: &[u8]| base64::Engine::encode(&base64::engine::general_purpose::STANDARD, bytes);
    let docs_sample = format!(
        "{}.{}.{}",
        padded_std(&serde_json::to_vec(&header("RS256", RSA_KID))?),
        padded_std(&serde_json::to_vec(&user(json!({"amr": ["pwd"]})))?),
        password_token.rsplit_once('.').context("three segments")?.1
    );
    assert!(docs_sample.contains('='), "the sample must show padding");
    write(
        "which/docs-sample.txt",
        &line(docs_sample),
        bad("password-only.jwt as documentation prints samples: padded standard base64", "bad-base64"),
    )?;
    write(
        "which/msa-opaque.txt",
        "EwCAA8l6BAAUbDba3x2OMJElkF7gJ4z/VbCPEz0AAWVs8EXAMPLEONLYnotARealTokenAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n",
        bad("a consumer Microsoft account token (EwC…): opaque", "opaque"),
    )?;
    write(
        "which/refresh-token.txt",
        "0.AXkAExampleOnlyNotARealRefreshTokenAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA-_AAAAAAAAAAAAAAAAAAAAAA\n",
        bad("an Entra ID refresh token (0.A…): opaque", "not-a-jwt"),
    )?;

    // Bad input: every class of SPEC §3.
    let none = br#"{"typ":"JWT","alg":"none"}"#;
    let claims = serde_json::to_vec(&user(json!({})))?;
    fs::create_dir_all(dir.join("bad"))?;
    write("bad/empty.txt", "", bad("an empty file", "empty"))?;
    write("bad/random.txt", "this is not a token\n", bad("a line of text", "not-a-jwt"))?;
    write(
        "bad/two-segments.txt",
        &line(mfa_token.rsplit_once('.').map_or(String::new(), |(head, _)| head.to_owned())),
        bad("a token cut after the payload", "not-a-jwt"),
    )?;
    let jwe = format!(
        "{}.OKOawDo13gRp2ojaHV7LFpZcgV7T6DVZKTyKOMTYUmKoTCVJRgckCL9kiMT03JGeipsEdY3mx_etLbbWSrFr05kLzcSr4qKAq7YN7e9jvQRb23nfa6c9d-StnImGyFDbSv04uVuxIp5Zms1gNxKKK2Da14B8S4rzVRltdYwam_lDp5XnZAYpQdb76FdIKLaVmqgfwX7XWRxv2322i-vDxRfqNzo_tETKzpVLzfiwQyeyPGLBIO56YJ7eObdv0je81860ppamavo35UgoRdbYaBcoh9QcfylQr66oc6vFWXRcZ_ZT2LawVCWTIy3brGPi6UklfCpIMfIjf7iGdXKHzg.48V1_ALb6US04U3b.5eym8TW_c8SuK0ltJ3rpYIzOeDQz7TALvtu6UG9oMo4vpzs9tX_EFShS8iB7j6jiSdiwkIr3ajwQzaBtQD_A.XFBoMYUZodetZdvTiFvSkQ",
        base64url(br#"{"alg":"RSA-OAEP","enc":"A256GCM"}"#)
    );
    write("bad/jwe.txt", &line(jwe), bad("an encrypted token (JWE, 5 segments)", "encrypted"))?;
    write(
        "bad/opaque.txt",
        "EwBwA8l6BAAUO9chh8cJscQLmU-LSWpbnr0vmwwAAc4RfvZlgkAAAQVuJ2Exzv2Do3bGb0RRA4N3YvUuEwZlsr8S9UL6VqtF2xdxs8b\n",
        bad("an opaque (reference) token", "opaque"),
    )?;
    write(
        "bad/bad-base64.txt",
        &line(format!("eyJ0eXAi$$.{}.", base64url(&claims))),
        bad("a header with characters outside base64url", "bad-base64"),
    )?;
    write(
        "bad/padded.txt",
        &line(format!("{}.{}==.", base64url(none), base64url(b"{\"a\":1}"))),
        bad("a payload padded with '='", "bad-base64"),
    )?;
    let std_payload = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD_NO_PAD,
        br#"{"upn":"~~~~~~??????@x.example","amr":["pwd"]}"#,
    );
    assert!(std_payload.contains(['+', '/']), "the payload must show the standard alphabet");
    write(
        "bad/standard-alphabet.txt",
        &line(format!("{}.{std_payload}.", base64url(none))),
        bad("a payload in standard base64 ('+', '/')", "bad-base64"),
    )?;
    write(
        "bad/payload-array.txt",
        &line(encode_raw(none, br#"["amr","mfa"]"#, "")),
        bad("a payload that is a JSON array", "not-an-object"),
    )?;
    write(
        "bad/payload-not-json.txt",
        &line(encode_raw(none, b"amr=mfa", "")),
        bad("a payload that is not JSON", "bad-json"),
    )?;
    write(
        "bad/invalid-utf8.txt",
        &line(encode_raw(none, b"{\"upn\":\"\xff\xfe\"}", "")),
        bad("a payload that is not UTF-8", "invalid-utf8"),
    )?;
    let deep = format!("{{\"x\":{}{}}}", "[".repeat(500), "]".repeat(500));
    write(
        "bad/deep-nesting.txt",
        &line(encode_raw(none, deep.as_bytes(), "")),
        bad("a payload nested 500 levels deep", "too-deep"),
    )?;
    let twice = br#"{"aud":"https://api.partnercenter.microsoft.com","scp":"user_impersonation","amr":["pwd"],"upn":"a@x.example","amr":["pwd","mfa"]}"#;
    write(
        "bad/duplicate-amr.txt",
        &line(encode_raw(none, twice, "")),
        bad("amr given twice (pwd, then pwd+mfa)", "duplicate-claim"),
    )?;
    write(
        "bad/no-alg.txt",
        &line(encode_raw(br#"{"typ":"JWT"}"#, &claims, "")),
        bad("a header without alg", "no-alg"),
    )?;

    // Input forms.
    fs::create_dir_all(dir.join("inputs"))?;
    let az = json!({
        "accessToken": mfa_token,
        "expiresOn": "2099-12-31 23:00:00.000000",
        "expires_on": EXP,
        "subscription": "00000000-0000-0000-0000-000000000000",
        "tenant": TENANT,
        "tokenType": "Bearer"
    });
    write(
        "inputs/az-get-access-token.json",
        &(serde_json::to_string_pretty(&az)? + "\n"),
        ok("`az account get-access-token` output (pretty JSON)", "app+user", "satisfied", 0, &[]),
    )?;
    let responses = [&password_token, &app_token].map(|t| {
        serde_json::to_string(
            &json!({"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": t}),
        )
        .expect("json")
    });
    write(
        "inputs/token-responses.ndjson",
        &(responses.join("\n") + "\n"),
        Expect {
            kind: None,
            mfa: None,
            signature: None,
            ..ok("two OAuth token responses, one per line: password-only, app-only", "", "", 1, &[])
        },
    )?;
    let pasted = format!("Authorization: Bearer {mfa_token}\r\n\r\n\"{mfa_token}\",\r\n  Bearer {app_token}  \r\n");
    write(
        "inputs/pasted.txt",
        &pasted,
        Expect {
            kind: None,
            mfa: None,
            signature: None,
            ..ok("pastes: a header line, a quoted JSON string, Bearer, CRLF", "", "", 0, &[])
        },
    )?;
    let mixed = format!("{mfa_token}\n{password_token}\nnot-a-token\n{app_token}\n");
    write(
        "inputs/mixed.txt",
        &mixed,
        Expect {
            kind: None,
            mfa: None,
            signature: None,
            ..ok("a batch: MFA, password-only, garbage, app-only", "", "", 2, &[])
        },
    )?;

    // Attacks on the signature: each passes the MFA rule when the signature is not checked, and
    // fails it with --jwks keys/jwks.json.
    fs::create_dir_all(dir.join("attack"))?;
    let attack = |what, exit, findings: &[&'static str], signature| Expect {
        signature: Some(signature),
        ..ok(what, "app+user", "satisfied", exit, findings)
    };
    let (signed_part, password_signature) = password_token.rsplit_once('.').context("three segments")?;
    let password_header = signed_part.split('.').next().context("a header")?;
    let mfa_payload = mfa_token.split('.').nth(1).context("a payload")?;
    write(
        "attack/tampered.jwt",
        &line(format!("{password_header}.{mfa_payload}.{password_signature}")),
        attack("password-only.jwt with its payload swapped for one with amr [pwd, mfa]", 0, &[], "invalid"),
    )?;
    write(
        "attack/other-key-same-kid.jwt",
        &line(encode(&header("RS256", RSA_KID), &user(json!({})), Some(&other))?),
        attack("signed by keys/test-rsa-other.pem, naming the kid of the test RSA key", 0, &[], "invalid"),
    )?;
    write(
        "attack/other-key-other-kid.jwt",
        &line(encode(&header("RS256", OTHER_KID), &user(json!({})), Some(&other))?),
        attack("signed by keys/test-rsa-other.pem with its own kid, which the JWKS lacks", 0, &[], "unknown-key"),
    )?;
    write(
        "attack/none-with-key.jwt",
        &line(encode(&header("none", RSA_KID), &user(json!({})), None)?),
        attack("alg none with an empty signature, naming the kid of the test RSA key", 0, &["unsigned"], "invalid"),
    )?;
    let hmac = Signer { key: EncodingKey::from_secret(&rsa_public_pem), alg: Algorithm::HS256 };
    write(
        "attack/hs256-confusion.jwt",
        &line(encode(&header("HS256", RSA_KID), &user(json!({})), Some(&hmac))?),
        attack("HS256 with the test RSA public key (keys/test-rsa.pub.pem) as the HMAC secret", 0, &[], "invalid"),
    )?;
    write(
        "attack/key-type-mismatch.jwt",
        &line(es256.sign(&header("ES256", RSA_KID), &user(json!({})))?),
        attack("signed ES256 by the test EC key, naming the kid of the test RSA key", 0, &[], "invalid"),
    )?;

    // Captures and logs for `mfacheck scan`.
    fs::create_dir_all(dir.join("scan"))?;
    let scan =
        |what, exit| Expect { command: "scan", kind: None, mfa: None, signature: None, ..ok(what, "", "", exit, &[]) };
    write(
        "scan/session.har",
        &(serde_json::to_string_pretty(&har(&password_token, &mfa_token, &app_token))? + "\n"),
        scan(
            "`mfacheck scan`: a devtools HAR export: a password-grant token response, two Partner Center calls \
             with that token (the second answered 401), one with an MFA token, one app-only",
            1,
        ),
    )?;
    let curl = format!(
        "*   Trying 20.190.151.68:443...\n* Connected to api.partnercenter.microsoft.com (20.190.151.68) port 443\n\
         > GET /v1/customers HTTP/1.1\n> Host: api.partnercenter.microsoft.com\n> User-Agent: curl/8.5.0\n\
         > Accept: application/json\n> Authorization: Bearer {password_token}\n>\n\
         < HTTP/1.1 401 Unauthorized - MFA required\n< Transfer-Encoding: chunked\n\
         < Request-Context: appId=cid-v1:03ce8ca8-8373-4021-8f25-d5dd45c7b12f\n\
         < WWW-Authenticate: Bearer error=\"invalid_token\"\n< Date: Thu, 14 Feb 2019 21:54:58 GMT\n<\n\
         * Connection #0 to host api.partnercenter.microsoft.com left intact\n"
    );
    write("scan/curl-verbose.txt", &curl, scan("`mfacheck scan`: `curl -v` output of a call refused for MFA", 1))?;
    let log = format!(
        "2025-12-01T09:00:01Z INFO  request GET /v1/customers auth=\"Bearer {mfa_token}\" status=200\n\
         2025-12-01T09:00:02Z INFO  request GET /v1/invoices auth=\"Bearer {mfa_token}\" status=200\n\
         2025-12-01T09:00:03Z DEBUG cookie: session=abc; access_token={app_token}; Path=/\n\
         2025-12-01T09:00:04Z INFO  {{\"event\":\"token-refreshed\",\"access_token\":\"{mfa_token}\"}}\n\
         2025-12-01T09:00:05Z INFO  health check ok (payload eyJzdGF0dXMiOiJvayJ9. not a token)\n"
    );
    write(
        "scan/server.log",
        &log,
        scan("`mfacheck scan`: a server log: one MFA token three times, an app-only token in a cookie", 0),
    )?;

    // The public keys, as a JWKS and as a single JWK (for --key).
    let mut keys = Vec::new();
    for (signer, kid) in [(&rsa, RSA_KID), (&ec, EC_KID), (&ed, ED_KID)] {
        let mut jwk = Jwk::from_encoding_key(&signer.key, signer.alg)?;
        jwk.common.key_id = Some(kid.into());
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        jwk.common.key_algorithm = Some(KeyAlgorithm::from(signer.alg));
        keys.push(jwk);
    }
    fs::write(dir.join("keys/test-ec.jwk.json"), serde_json::to_string_pretty(&keys[1])? + "\n")?;
    fs::write(dir.join("keys/jwks.json"), serde_json::to_string_pretty(&JwkSet { keys })? + "\n")?;

    fs::write(dir.join("manifest.json"), manifest(&expects)? + "\n")?;
    fs::write(dir.join("README.md"), readme(&expects))?;
    println!("wrote {} fixtures to {}", expects.len(), dir.display());
    Ok(())
}

/// A HAR 1.2 capture as a browser's devtools export it, trimmed to what matters.
fn har(password_token: &str, mfa_token: &str, app_token: &str) -> Value {
    let api = "https://api.partnercenter.microsoft.com/v1";
    let headers = |token: &str| {
        json!([
            {"name": "Accept", "value": "application/json"},
            {"name": "Authorization", "value": format!("Bearer {token}")},
            {"name": "MS-RequestId", "value": "b85cb7ab-cc2e-4966-93f0-cf0d8377a93f"}
        ])
    };
    let response = |status: u16, text: &str, body: &str| {
        json!({
            "status": status, "statusText": text, "httpVersion": "HTTP/1.1",
            "headers": [{"name": "Content-Type", "value": "application/json; charset=utf-8"}],
            "cookies": [], "content": {"size": body.len(), "mimeType": "application/json", "text": body},
            "redirectURL": "", "headersSize": -1, "bodySize": body.len()
        })
    };
    let entry = |at: &str, method: &str, url: String, headers: Value, post: Option<Value>, response: Value| {
        let mut request = json!({
            "method": method, "url": url, "httpVersion": "HTTP/1.1", "headers": headers,
            "queryString": [], "cookies": [], "headersSize": -1, "bodySize": 0
        });
        if let Some(post) = post {
            request["postData"] = post;
        }
        json!({
            "startedDateTime": at, "time": 120.5, "request": request, "response": response,
            "cache": {}, "timings": {"send": 0.1, "wait": 110.2, "receive": 10.2}
        })
    };
    let token_response = json!({"token_type": "Bearer", "expires_in": 3599, "access_token": password_token});
    json!({"log": {
        "version": "1.2",
        "creator": {"name": "WebInspector", "version": "537.36"},
        "pages": [],
        "entries": [
            entry(
                "2025-12-01T09:00:00.000Z", "POST",
                format!("https://login.microsoftonline.com/{TENANT}/oauth2/token"),
                json!([{"name": "Content-Type", "value": "application/x-www-form-urlencoded"}]),
                Some(json!({"mimeType": "application/x-www-form-urlencoded",
                            "text": format!("grant_type=password&client_id={APP}&resource={PC}&username=isaiah&password=[redacted]")})),
                response(200, "OK", &token_response.to_string()),
            ),
            entry("2025-12-01T09:00:01.000Z", "GET", format!("{api}/customers"), headers(password_token), None,
                  response(200, "OK", r#"{"totalCount":0,"items":[]}"#)),
            entry("2025-12-01T09:00:02.000Z", "GET", format!("{api}/customers/{CUSTOMER}/subscriptions"),
                  headers(password_token), None, response(401, "Unauthorized - MFA required", "")),
            entry("2025-12-01T09:00:03.000Z", "GET", format!("{api}/invoices"), headers(mfa_token), None,
                  response(200, "OK", r#"{"totalCount":0,"items":[]}"#)),
            entry("2025-12-01T09:00:04.000Z", "GET", format!("{api}/profiles/organization"), headers(app_token), None,
                  response(200, "OK", r#"{"companyName":"Contoso"}"#)),
            entry("2025-12-01T09:00:05.000Z", "OPTIONS", format!("{api}/customers"),
                  json!([{"name": "Origin", "value": "https://partner.microsoft.com"}]), None, response(204, "No Content", ""))
        ]
    }})
}

/// An ES256 signer whose signatures are reproducible (RFC 6979).
struct Es256(p256::ecdsa::SigningKey);

impl Es256 {
    fn sign(&self, header: &Map<String, Value>, claims: &Map<String, Value>) -> Result<String> {
        use p256::ecdsa::signature::Signer as _;
        let unsigned = encode(header, claims, None)?; // `HEADER.PAYLOAD.`: the signature goes last
        let signing_input = unsigned.strip_suffix('.').context("an unsigned token ends with a dot")?;
        let signature: p256::ecdsa::Signature = self.0.sign(signing_input.as_bytes());
        Ok(unsigned + &base64url(&signature.to_bytes()))
    }
}

fn base64url(bytes: &[u8]) -> String {
    base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, bytes)
}

fn manifest(expects: &[Expect]) -> Result<String> {
    let rows: Vec<Value> = expects
        .iter()
        .map(|e| {
            json!({
                "file": e.file, "command": e.command, "what": e.what, "kind": e.kind, "mfa": e.mfa,
                "exit": e.exit, "findings": e.findings, "error": e.error, "signature": e.signature
            })
        })
        .collect();
    Ok(serde_json::to_string_pretty(&rows)?)
}

fn readme(expects: &[Expect]) -> String {
    let mut text = String::from(
        "# Fixtures\n\n\
         Made by `cargo run --example fixtures` (`examples/fixtures.rs`); do not edit by hand. The run is\n\
         deterministic, and CI fails when the committed files differ from a fresh run.\n\n\
         **`keys/test-rsa.pem`, `keys/test-ec.pem` and `keys/test-ed25519.pem` are TEST KEYS, published on\n\
         purpose: never trust them for anything.** They were made with `openssl genpkey -algorithm RSA\n\
         -pkeyopt rsa_keygen_bits:2048`, `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256`\n\
         and `openssl genpkey -algorithm ED25519`; `keys/jwks.json` holds their public halves (kid\n\
         `mfacheck-test-rsa`, `mfacheck-test-ec`, `mfacheck-test-ed25519`).\n\
         **`keys/test-rsa-other.pem` is a TEST KEY too**, made the same way: the \"other key\" that signs\n\
         the forgeries under `attack/` (kid `mfacheck-test-other`, in no JWKS). `keys/test-rsa.pub.pem`\n\
         is the public half of `test-rsa.pem` (`openssl pkey -in test-rsa.pem -pubout`), for `--key`\n\
         and as the HMAC secret of `attack/hs256-confusion.jwt`; `test-ec.pub.pem` and\n\
         `test-ed25519.pub.pem` were made the same way, and `test-rsa.cert.pem` is a self-signed\n\
         certificate of it (`openssl req -new -x509 -key test-rsa.pem -days 36500`).\n\
         `keys/test-ec.jwk.json` is the EC key's public JWK alone (made here).\n\n\
         Signed tokens use RS256 with `mfacheck-test-rsa` unless the table says otherwise. Valid tokens\n\
         are issued 2025-12-01 and expire 2100-01-01; `seed.jwt` keeps the 2019 times of Microsoft's\n\
         sample. `manifest.json` holds the same table for the tests (`tests/fixtures.rs`).\n\n\
         The sample-claim tokens are what `mfacheck sample` prints, byte for byte; for example\n\
         `password-only.jwt` is\n\n\
         \x20   mfacheck sample --now 2025-12-01T00:00:00Z --exp 2100-01-01T00:00:00Z --amr pwd \\\n\
         \x20       --key fixtures/keys/test-rsa.pem --kid mfacheck-test-rsa\n\n\
         (`tests/workflows.rs` checks seven such commands). The exit status is that of\n\
         `mfacheck check @FILE` without a key, or of `mfacheck scan FILE` for the files under `scan/`\n\
         (their `command` in `manifest.json` is `scan`). \"signature\" is the result with\n\
         `--jwks keys/jwks.json`, where anything but `verified` makes the token non-compliant (exit 1).\n\n\
         | file | what it is | kind | mfa | exit | findings / error | signature |\n\
         |---|---|---|---|---|---|---|\n",
    );
    for e in expects {
        let detail = match e.error {
            Some(code) => format!("error `{code}`"),
            None => e.findings.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", "),
        };
        text.push_str(&format!(
            "| `{}` | {} | {} | {} | {} | {} | {} |\n",
            e.file,
            e.what.replace('|', "\\|"),
            e.kind.unwrap_or("—"),
            e.mfa.unwrap_or("—"),
            e.exit,
            detail,
            e.signature.unwrap_or("—")
        ));
    }
    text
}
