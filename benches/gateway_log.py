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
    out = sys.stdout
    written = tokens_written = i = 0
    # A token line whenever the tokens written fall behind the bytes written: they are spread
    # evenly, and the file ends at the target size with every occurrence in it.
    while written < target or tokens_written < occurrences:
        i += 1
        stamp = f"2026-05-04T{(i // 3600) % 24:02d}:{(i // 60) % 60:02d}:{i % 60:02d}.{i % 1000:03d}Z"
        path = paths[i % len(paths)]
        if tokens_written < occurrences and tokens_written * target <= written * occurrences:
            token = tokens[rng.randrange(distinct)]
            line = f"{stamp} INFO gateway GET {path} status=200 dur={i % 97}ms Authorization: Bearer {token}\n"
            tokens_written += 1
        else:
            line = (f"{stamp} INFO gateway GET {path}?$top=100&skip={i % 1000} status=200 dur={i % 97}ms "
                    f"ua=\"Mozilla/5.0 (X11; Linux x86_64) PartnerTool/4.2\" req={i:012d}\n")
        out.write(line)
        written += len(line)


if __name__ == "__main__":
    main()
