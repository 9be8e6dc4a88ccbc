#!/usr/bin/env bash
# Does the progress line slow a run? `check` on N generated tokens (default 1,000,000: a run of
# over a second, so the line is drawn) with stderr on a pseudo-terminal, where the progress line
# is drawn, against the same run with stderr to /dev/null, where it is not; both under `script`
# (util-linux), so both pay for the pseudo-terminal alike. One thread (`-j 1`, or ARGS): the
# thread that draws the line is the one that checks, so its cost cannot hide, and the run lasts
# long enough (the line appears after a second). Runs alternate, RUNS of each (default 7); prints
# each wall time, the medians and their ratio.
#
#   benches/progress.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."

N=${1:-1000000}
RUNS=${RUNS:-7}
NOW=2026-01-01T00:00:00Z
ARGS=${ARGS:--j 1}
DIR=target/bench
BIN=$PWD/target/release/mfacheck
mkdir -p "$DIR"
command -v script > /dev/null || { echo "needs script (util-linux)" >&2; exit 1; }
cargo build --release --quiet --bin mfacheck --example tokens
TOKENS=$PWD/$DIR/tokens-$N.txt
[ -s "$TOKENS" ] || target/release/examples/tokens "$N" > "$TOKENS"

echo "cpus: $(nproc); $(lscpu | sed -n 's/^Model name: *//p'); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
# run [REDIRECT]: one run under a pseudo-terminal (its stderr, unless REDIRECT sends it elsewhere),
# results to /dev/null; prints its wall seconds.
run() {
    local start end
    start=$(date +%s%N)
    script -qec "$BIN check $ARGS --format ndjson --now $NOW - < $TOKENS > /dev/null ${1:-}" /dev/null > "$DIR/progress-tty.txt" || true
    end=$(date +%s%N)
    awk -v ns=$((end - start)) 'BEGIN { printf "%.3f\n", ns / 1e9 }'
}
: > "$DIR/with.txt"
: > "$DIR/without.txt"
for i in $(seq "$RUNS"); do
    with=$(run)
    # What the terminal received: the proof that the line was drawn in that run.
    drawn=$(tr '\r' '\n' < "$DIR/progress-tty.txt" | grep -c ' tokens, ' || true)
    without=$(run "2> /dev/null")
    echo "run $i: progress line ${with} s ($drawn updates drawn), no progress line ${without} s"
    echo "$with" >> "$DIR/with.txt"
    echo "$without" >> "$DIR/without.txt"
done
median() { sort -n "$1" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
awk -v w="$(median "$DIR/with.txt")" -v o="$(median "$DIR/without.txt")" -v n="$N" -v r="$RUNS" 'BEGIN {
    printf "median of %d: with the progress line %.3f s (%.0f tokens/s), without %.3f s (%.0f tokens/s); with/without %.3f\n",
        r, w, n / w, o, n / o, w / o }'
