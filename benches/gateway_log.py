#!/usr/bin/env python3
"""Writes a gateway-style log for benches/scan.sh: TOTAL_MB of lines, OCCURRENCES of which carry
a bearer token drawn (deterministically) from the DISTINCT tokens in TOKENS_FILE, the others are
ordinary request lines without one.

    benches/gateway_log.py TOKENS_FILE DISTINCT OCCURRENCES TOTAL_MB > gateway.log
"""
import random
import sys


def main():
    tokens_file, distinct, occurrences, total_mb = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    with open(tokens_file) as f:
        tokens = [line.strip() for _, line in zip(range(distinct), f)]
    if len(tokens) < distinct:
        sys.exit(f"{tokens_file} has {len(tokens)} tokens, fewer than {distinct}")
    rng = random.Random(7)
    paths = ["/v1/customers", "/v1/invoices", "/v1/subscriptions", "/v1/orders", "/v1/productUpgrades"]
    target = total_mb * 1_000_000
    token_bytes = occurrences * (sum(len(t) for t in tokens) // len(tokens) + 120)
    filler = max(0, target - token_bytes)
    filler_line = 180  # bytes, about
    fillers = filler // filler_line
    lines = occurrences + fillers
    # Spread the token lines evenly among the filler lines.
    every = max(1, lines // occurrences)
    out = sys.stdout
    written = 0
    sec = 0
    for i in range(lines):
        sec += 1
        stamp = f"2026-05-04T{(sec // 3600) % 24:02d}:{(sec // 60) % 60:02d}:{sec % 60:02d}.{i % 1000:03d}Z"
        path = paths[i % len(paths)]
        if i % every == 0 and written < occurrences:
            token = tokens[rng.randrange(distinct)]
            out.write(f"{stamp} INFO gateway GET {path} status=200 dur={i % 97}ms "
                      f"Authorization: Bearer {token}\n")
            written += 1
        else:
            out.write(f"{stamp} INFO gateway GET {path}?$top=100&skip={i % 1000} status=200 dur={i % 97}ms "
                      f"ua=\"Mozilla/5.0 (X11; Linux x86_64) PartnerTool/4.2\" req={i:012d}\n")


if __name__ == "__main__":
    main()
