#!/usr/bin/env bash
# `scan` on a gateway log against `rg -c eyJ` on the same file, in the same run: MB/s, the
# ratio, and peak RSS. The log: TOTAL_MB (default 378) of request lines, OCCURRENCES (default
# 120,000) of which carry a bearer token out of DISTINCT (default 5,000) tokens.
#
#   benches/scan.sh
#   RUNS=5 THREADS=2 benches/scan.sh
#   OLD=/tmp/mfacheck-before benches/scan.sh     # another build measured alongside, with its output compared
#
# Needs GNU time (/usr/bin/time), python3 (the log generator) and ripgrep (`rg`), which this
# script does not install (`apt-get install ripgrep`). Files go to target/bench/ and are reused.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-3}
DISTINCT=${DISTINCT:-5000}
OCCURRENCES=${OCCURRENCES:-120000}
TOTAL_MB=${TOTAL_MB:-378}
THREADS=${THREADS:-$(nproc)}
OLD=${OLD:-}
NOW=2026-05-05T00:00:00Z
DIR=target/bench
BIN=target/release/mfacheck
mkdir -p "$DIR"

for tool in /usr/bin/time python3 rg; do
    command -v "$tool" >/dev/null || { echo "needs $tool" >&2; exit 1; }
done
cargo build --release --quiet --bin mfacheck --example tokens

TOKENS=$DIR/tokens-$DISTINCT.txt
[ -s "$TOKENS" ] || target/release/examples/tokens "$DISTINCT" --seed 11 > "$TOKENS"
LOG=$DIR/gateway-$TOTAL_MB-$OCCURRENCES-$DISTINCT.log
if [ ! -s "$LOG" ]; then
    echo "generating $LOG"
    python3 benches/gateway_log.py "$TOKENS" "$DISTINCT" "$OCCURRENCES" "$TOTAL_MB" > "$LOG.tmp"
    mv "$LOG.tmp" "$LOG"
fi
BYTES=$(stat -c %s "$LOG")

echo "== machine"
echo "cpus: $(nproc); $(lscpu | sed -n 's/^Model name: *//p'); kernel $(uname -r)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "log: $((BYTES / 1000000)) MB, $(rg -c eyJ "$LOG") lines with a token, $DISTINCT distinct"

# measure LABEL COMMAND...: RUNS runs (the file is in the page cache after the first);
# prints the median wall time, MB/s and peak RSS.
measure() {
    local label=$1
    shift
    local walls=() rss=0
    for _ in $(seq "$RUNS"); do
        # Exit 1 (a token without MFA) is a result, not a failure of the run.
        /usr/bin/time -f "%e %M" -o "$DIR/time.out" "$@" > /dev/null || [ $? -le 1 ]
        # GNU time puts "Command exited with non-zero status N" first: the figures are last.
        read -r wall kb < <(tail -n 1 "$DIR/time.out")
        walls+=("$wall")
        [ "$kb" -gt "$rss" ] && rss=$kb
    done
    local median
    median=$(printf '%s\n' "${walls[@]}" | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p")
    local mbs
    mbs=$(awk -v b="$BYTES" -v s="$median" 'BEGIN { printf "%.0f", b / 1000000 / s }')
    printf '%-42s %7.2f s  %6s MB/s  %6d MiB peak RSS\n' "$label" "$median" "$mbs" $((rss / 1024))
    echo "$mbs" > "$DIR/last.mbs"
}

echo "== $RUNS runs each, medians"
measure "rg -c eyJ" rg -c eyJ "$LOG"
RG=$(cat "$DIR/last.mbs")
measure "mfacheck scan --format ndjson -j $THREADS" "$BIN" scan --format ndjson --now "$NOW" -j "$THREADS" "$LOG"
SCAN=$(cat "$DIR/last.mbs")
measure "mfacheck scan --format ndjson -j 1" "$BIN" scan --format ndjson --now "$NOW" -j 1 "$LOG"
awk -v a="$SCAN" -v b="$RG" 'BEGIN { printf "scan -j N / rg: %.2f\n", a / b }'
if [ -n "$OLD" ]; then
    measure "before: scan --format ndjson -j $THREADS" "$OLD" scan --format ndjson --now "$NOW" -j "$THREADS" "$LOG"
    OLD_SCAN=$(cat "$DIR/last.mbs")
    measure "before: scan --format ndjson -j 1" "$OLD" scan --format ndjson --now "$NOW" -j 1 "$LOG"
    awk -v a="$OLD_SCAN" -v b="$RG" 'BEGIN { printf "before: scan -j N / rg: %.2f\n", a / b }'
    # The same tokens, first lines and final counts (a result line's count is the count when it
    # was written, which depends on where chunks end).
    totals() {
        "$1" scan --format ndjson --now "$NOW" "$LOG" | python3 -c '
import json, sys
rows = [json.loads(line) for line in sys.stdin]
results = [r for r in rows if "repeats" not in r]
total = {i + 1: r["count"] for i, r in enumerate(results)}
for r in rows:
    for x in r.get("repeats", []):
        total[x["result"]] = x["count"]
for i, r in enumerate(results):
    print(r["source"], r.get("mfa"), total[i + 1])
' || [ $? -le 1 ]
    }
    if cmp -s <(totals "$BIN") <(totals "$OLD"); then echo "same results as before"; else echo "RESULTS DIFFER from before"; fi
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
