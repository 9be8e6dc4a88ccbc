#!/usr/bin/env python3
"""The baseline mfacheck is compared with: a Python loop that decodes each token with PyJWT
(signature not verified, as mfacheck does by default) and judges it (app-only or app+user by the
same ordered rules, then `mfa` in `amr`), one token per line on stdin.

Prerequisite (not installed by the bench script): `pip install pyjwt`.
Prints one line: tokens, seconds, tokens/s, and the counts of each verdict.
"""
import sys
import time

import jwt  # PyJWT

USER_CLAIMS = ("upn", "unique_name", "preferred_username", "amr", "name")


def kind(claims):
    idtyp = claims.get("idtyp")
    if idtyp in ("app", "user"):
        return "app-only" if idtyp == "app" else "app+user"
    if "scp" in claims:
        return "app+user"
    if claims.get("oid") is not None and claims.get("oid") == claims.get("sub"):
        return "app-only"
    if any(name in claims for name in USER_CLAIMS):
        return "app+user"
    if "roles" in claims:
        return "app-only"
    return "app+user"


def main():
    counts = {"not-required": 0, "satisfied": 0, "missing": 0, "error": 0}
    start = time.perf_counter()
    n = 0
    for line in sys.stdin:
        token = line.strip()
        if not token:
            continue
        n += 1
        try:
            claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            counts["error"] += 1
            continue
        amr = claims.get("amr")
        if kind(claims) == "app-only":
            counts["not-required"] += 1
        elif isinstance(amr, list) and "mfa" in amr:
            counts["satisfied"] += 1
        else:
            counts["missing"] += 1
    seconds = time.perf_counter() - start
    print(f"pyjwt: {n} tokens in {seconds:.2f} s = {n / seconds:,.0f} tokens/s {counts}")


if __name__ == "__main__":
    main()
