#!/usr/bin/env python3
"""The verifying peer of `benches/verify.sh`: PyJWT checks each token's signature with the key its
header names (`jwt.decode(token, key, algorithms=[ALG])`), then judges it like
`benches/pyjwt_loop.py`. Keys are parsed once, before the clock starts, as mfacheck does. Time
claims are not enforced (mfacheck does not enforce them without --require-valid-time).

    python3 benches/pyjwt_verify.py JWKS ALG < tokens.txt

Prerequisite (not installed by the bench script): `pip install "pyjwt[crypto]"`.
"""
import json
import sys
import time

import jwt  # PyJWT

from pyjwt_loop import kind

OPTIONS = {"verify_exp": False, "verify_nbf": False, "verify_iat": False, "verify_aud": False, "verify_iss": False}


def main():
    jwks_path, alg = sys.argv[1], sys.argv[2]
    with open(jwks_path) as f:
        keys = {k["kid"]: jwt.PyJWK(k).key for k in json.load(f)["keys"]}
    counts = {"not-required": 0, "satisfied": 0, "missing": 0, "error": 0}
    tokens = [line.strip() for line in sys.stdin if line.strip()]
    start = time.perf_counter()
    for token in tokens:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            claims = jwt.decode(token, keys[kid], algorithms=[alg], options=OPTIONS)
        except (jwt.PyJWTError, KeyError):
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
    n = len(tokens)
    print(f"pyjwt {alg}: {n} tokens in {seconds:.2f} s = {n / seconds:,.0f} tokens/s {counts}")


if __name__ == "__main__":
    main()
