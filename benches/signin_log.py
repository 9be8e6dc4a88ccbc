#!/usr/bin/env python3
"""Writes a synthetic Entra ID sign-in export of about TOTAL_MB to stdout, for benches/signins.sh.

    signin_log.py SHAPE TOTAL_MB

SHAPE: `lines` (Event Hub / diagnostic settings, one record per line), `records` (the same
records in one `{"records": [...]}` batch, on one line) or `value` (Graph signIn objects in one
pretty-printed `{"value": [...]}` page). A mix of categories and resources; about one record in
eight is a user sign-in to Partner Center. Invented values only (contoso.example).
"""
import json
import random
import sys

PARTNER_CENTER = "fa3d9a0c-3fb0-42cc-9193-47c7ecd2edbd"
RESOURCES = [
    (PARTNER_CENTER, "Partner Center"),
    ("00000003-0000-0000-c000-000000000000", "Microsoft Graph"),
    ("797f4846-ba00-4fd7-ba43-dac1f8f63013", "Windows Azure Service Management API"),
    ("00000002-0000-0ff1-ce00-000000000000", "Office 365 Exchange Online"),
    ("00000003-0000-0ff1-ce00-000000000000", "Office 365 SharePoint Online"),
    ("00000003-0000-0000-c000-000000000000", "Microsoft Graph"),
    ("797f4846-ba00-4fd7-ba43-dac1f8f63013", "Windows Azure Service Management API"),
    ("00000002-0000-0ff1-ce00-000000000000", "Office 365 Exchange Online"),
]
CATEGORIES = ["SignInLogs", "NonInteractiveUserSignInLogs", "NonInteractiveUserSignInLogs",
              "ServicePrincipalSignInLogs", "ManagedIdentitySignInLogs"]
TYPES = {"SignInLogs": "interactiveUser", "NonInteractiveUserSignInLogs": "nonInteractiveUser",
         "ServicePrincipalSignInLogs": "servicePrincipal", "ManagedIdentitySignInLogs": "managedIdentity"}


def signin(rnd, i):
    category = rnd.choice(CATEGORIES)
    resource, resource_name = rnd.choice(RESOURCES)
    mfa = rnd.random() < 0.6
    code = rnd.choice([0] * 12 + [50076, 50126, 50140])
    minute = i // 60
    detail = "MFA requirement satisfied by claim in the token" if mfa else "Correct password"
    return category, {
        "id": "%08x-0000-4000-8000-%012x" % (i, i),
        "createdDateTime": "2026-05-%02dT%02d:%02d:%02dZ" % (1 + minute // 1440 % 28, minute // 60 % 24, minute % 60, i % 60),
        "userDisplayName": "User %d" % (i % 500),
        "userPrincipalName": "user%d@contoso.example" % (i % 500),
        "userId": "%08x-1111-4000-8000-000000000000" % (i % 500),
        "appId": "%08x-2222-4000-8000-000000000000" % (i % 40),
        "appDisplayName": "App %d" % (i % 40),
        "ipAddress": "203.0.113.%d" % (i % 250),
        "clientAppUsed": "Mobile Apps and Desktop clients",
        "correlationId": "%08x-3333-4000-8000-000000000000" % i,
        "conditionalAccessStatus": rnd.choice(["success", "notApplied"]),
        "isInteractive": category == "SignInLogs",
        "riskDetail": "none", "riskLevelAggregated": "none", "riskLevelDuringSignIn": "none",
        "riskState": "none", "riskEventTypes": [], "riskEventTypes_v2": [],
        "resourceDisplayName": resource_name,
        "resourceId": resource,
        "status": {"errorCode": code, "failureReason": "Other." if code == 0 else "Error %d" % code,
                   "additionalDetails": None},
        "deviceDetail": {"deviceId": "", "displayName": "", "operatingSystem": "Windows10",
                         "browser": "Edge 124.0.0", "isCompliant": False, "isManaged": False, "trustType": ""},
        "location": {"city": "Redmond", "state": "Washington", "countryOrRegion": "US",
                     "geoCoordinates": {"altitude": None, "latitude": 47.67, "longitude": -122.12}},
        "appliedConditionalAccessPolicies": [
            {"id": "%08x-4444-4000-8000-000000000000" % k, "displayName": "Require MFA %d" % k,
             "enforcedGrantControls": ["Mfa"], "enforcedSessionControls": [], "result": "success"}
            for k in range(3)],
        "authenticationRequirement": "multiFactorAuthentication" if mfa else "singleFactorAuthentication",
        "authenticationDetails": [
            {"authenticationStepDateTime": "2026-05-04T10:00:00Z", "authenticationMethod": "Previously satisfied",
             "authenticationMethodDetail": None, "succeeded": True,
             "authenticationStepResultDetail": detail, "authenticationStepRequirement": "Primary authentication"}],
        "signInEventTypes": [TYPES[category]],
        "tokenIssuerType": "AzureAD",
        "userAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)",
    }


def main():
    shape, total = sys.argv[1], int(sys.argv[2]) * 1000 * 1000
    rnd = random.Random(7)
    out = sys.stdout
    written, i = 0, 0
    out.write({"lines": "", "records": '{"records":[', "value": '{"@odata.context":"x","value":[\n'}[shape])
    while written < total:
        category, s = signin(rnd, i)
        if shape == "value":
            text = json.dumps(s, indent=2)
        else:
            text = json.dumps({"time": s["createdDateTime"], "resourceId": "/tenants/t/providers/Microsoft.aadiam",
                               "operationName": "Sign-in activity", "category": category, "tenantId": "t",
                               "resultType": str(s["status"]["errorCode"]), "properties": s},
                              separators=(",", ":"))
        sep = "\n" if shape == "lines" else ("" if i == 0 else ",")
        out.write((sep if shape != "lines" else "") + text + ("\n" if shape == "lines" else ""))
        written += len(text) + 1
        i += 1
    out.write({"lines": "", "records": "]}\n", "value": "\n]}\n"}[shape])


main()
