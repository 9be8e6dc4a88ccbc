#!/usr/bin/env bash
# Times the release binary on N generated tokens (default 1,000,000) and reports tokens/s and
# peak RSS, next to a PyJWT loop (and jq, jwt-cli when present) measured in the same run.
#
#   benches/throughput.sh [N]          # e.g. benches/throughput.sh 1000000
#   RUNS=5 PY_N=200000 benches/throughput.sh
#   BASELINE_BIN=/path/to/older/mfacheck benches/throughput.sh   # before/after, same run, ratios
#
# Needs GNU time (/usr/bin/time). Optional, never installed by this script: PyJWT for the Python
# baseline (`pip install pyjwt`), jq, jwt-cli (`jwt`). Token files go to target/bench/ (about
# 1.5 GB for a million tokens) and are reused when present: the generator is deterministic.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${1:-1000000}
RUNS=${RUNS:-3}
PY_N=${PY_N:-100000}
NOW=2026-01-01T00:00:00Z
DIR=target/bench
BIN=target/release/mfacheck
mkdir -p "$DIR"

[ -x /usr/bin/time ] || { echo "needs GNU time at /usr/bin/time (apt-get install time)" >&2; exit 1; }
cargo build --release --quiet --bin mfacheck --example tokens

TOKENS=$DIR/tokens-$N.txt
if [ ! -s "$TOKENS" ]; then
    echo "generating $N tokens into $TOKENS"
    target/release/examples/tokens "$N" > "$TOKENS.tmp" && mv "$TOKENS.tmp" "$TOKENS"
fi
SMALL=$DIR/tokens-$PY_N.txt
[ -s "$SMALL" ] || head -n "$PY_N" "$TOKENS" > "$SMALL"

echo "== machine"
echo "cpus: $(nproc); $(lscpu | sed -n 's/^Model name: *//p'); memory: $(free -g | awk '/Mem:/{print $2}') GiB; kernel $(uname -r)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "tokens: $N, mean length $(head -n 10000 "$TOKENS" | awk '{s+=length($0)} END {printf "%d", s/NR}') bytes"

# measure LABEL COUNT INPUT COMMAND...: RUNS runs; wall, CPU, peak RSS and tokens/s of each.
measure() {
    local label=$1 count=$2 input=$3
    shift 3
    : > "$DIR/walls.txt"
    for run in $(seq "$RUNS"); do
        /usr/bin/time -f "%e %U %S %M" -o "$DIR/time.txt" "$@" < "$input" > /dev/null || true
        read -r wall user sys rss < <(tail -n 1 "$DIR/time.txt")
        echo "$wall" >> "$DIR/walls.txt"
        awk -v l="$label" -v r="$run" -v n="$count" -v w="$wall" -v u="$user" -v s="$sys" -v m="$rss" 'BEGIN {
            printf "%-28s run %d: %7.2f s wall, %6.2f s CPU, peak RSS %6.1f MiB, %10.0f tokens/s\n",
                l, r, w, u + s, m / 1024, (w > 0 ? n / w : 0) }'
    done
    MEDIAN=$(sort -n "$DIR/walls.txt" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
}

# compare LABEL ARGS...: the baseline and this build, run after run in turn (so both see the same
# machine), RUNS runs each; the medians and their ratio. PIPE=1: the tokens come through a pipe
# (`cat FILE |`, as from `zcat` or `grep`), which hands them out 64 KiB at a time.
compare() {
    local label=$1
    shift
    : > "$DIR/before.txt"
    : > "$DIR/after.txt"
    for _ in $(seq "$RUNS"); do
        for side in before after; do
            local bin=$BIN
            [ "$side" = before ] && bin=$BASELINE_BIN
            if [ "${PIPE:-}" = 1 ]; then
                cat "$TOKENS" | /usr/bin/time -f "%e %M" -o "$DIR/time.txt" "$bin" "$@" > /dev/null || true
            else
                /usr/bin/time -f "%e %M" -o "$DIR/time.txt" "$bin" "$@" < "$TOKENS" > /dev/null || true
            fi
            tail -n 1 "$DIR/time.txt" >> "$DIR/$side.txt"
        done
    done
    median() { sort -n "$1" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
    rss() { sort -n -k2 "$1" | tail -n 1 | awk '{ printf "%.1f", $2 / 1024 }'; }
    awk -v l="$label" -v b="$(median "$DIR/before.txt")" -v a="$(median "$DIR/after.txt")" -v n="$N" \
        -v rb="$(rss "$DIR/before.txt")" -v ra="$(rss "$DIR/after.txt")" -v runs="$RUNS" 'BEGIN {
        printf "%-24s median of %d: before %9.0f tokens/s (%.1f MiB), after %9.0f tokens/s (%.1f MiB), after/before %.3f\n",
            l, runs, n / b, rb, n / a, ra, b / a }'
}

if [ -n "${BASELINE_BIN:-}" ]; then
    echo "== before ($BASELINE_BIN) and after ($BIN), $N tokens on stdin, same run"
    compare "check --format ndjson" check --format ndjson --now "$NOW" -
    compare "check --quiet" check --quiet --now "$NOW" -
    compare "check --format json" check --format json --now "$NOW" -
    PIPE=1 compare "check --quiet, from a pipe" check --quiet --now "$NOW" -
    exit 0
fi

echo "== mfacheck ($N tokens from a file on stdin, results to /dev/null)"
measure "check --format ndjson" "$N" "$TOKENS" "$BIN" check --format ndjson --now "$NOW" -
measure "check --quiet" "$N" "$TOKENS" "$BIN" check --quiet --now "$NOW" -
measure "check --format json" "$N" "$TOKENS" "$BIN" check --format json --now "$NOW" -

echo "== memory on a 100 MB single line (too-large), then one token"
{ printf 'eyJ'; head -c 100000000 /dev/zero | tr '\0' 'A'; echo; head -n 1 "$TOKENS"; } > "$DIR/one-line.txt"
measure "check, 100 MB line" 2 "$DIR/one-line.txt" "$BIN" check --format ndjson --now "$NOW" -
"$BIN" check --format ndjson --now "$NOW" - < "$DIR/one-line.txt" | grep -o '"code":"too-large"' || true
rm -f "$DIR/one-line.txt"

echo "== one token on the command line (mean of 200 processes)"
TOKEN=$(head -n 1 "$TOKENS")
per_process() {
    local label=$1
    shift
    local start end
    start=$(date +%s%N)
    for _ in $(seq 200); do "$@" > /dev/null 2>&1 || true; done
    end=$(date +%s%N)
    awk -v l="$label" -v ns=$((end - start)) 'BEGIN { printf "%-28s %.2f ms per process\n", l, ns / 200 / 1e6 }'
}
per_process "mfacheck check TOKEN" "$BIN" check --color never "$TOKEN"
if command -v jwt > /dev/null; then per_process "jwt decode TOKEN (jwt-cli)" jwt decode "$TOKEN"; else echo "jwt-cli not installed: skipped"; fi

echo "== baselines on the first $PY_N tokens, same machine, same run"
measure "mfacheck --format ndjson" "$PY_N" "$SMALL" "$BIN" check --format ndjson --now "$NOW" -
if python3 -c 'import jwt' 2> /dev/null; then
    python3 benches/pyjwt_loop.py < "$SMALL"
else
    echo "PyJWT not installed (pip install pyjwt): Python baseline skipped"
fi
if command -v jq > /dev/null; then
    start=$(date +%s%N)
    jq -R -c 'split(".")[1] | gsub("-"; "+") | gsub("_"; "/") | @base64d | fromjson | {amr, idtyp}' < "$SMALL" > /dev/null
    end=$(date +%s%N)
    awk -v n="$PY_N" -v ns=$((end - start)) 'BEGIN { printf "jq decode-only: %d tokens in %.2f s = %.0f tokens/s\n", n, ns / 1e9, n / (ns / 1e9) }'
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
