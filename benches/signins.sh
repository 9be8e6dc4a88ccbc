#!/usr/bin/env bash
# `signins` on a one-record-per-line Event Hub export against `jq -c` selecting the same
# records (the Partner Center sign-ins), in the same run: MB/s, the ratio, and peak RSS; then
# peak RSS on the same records as one `{"records": [...]}` batch and as a Graph `value` page.
# The exports: TOTAL_MB (default 300) each, from benches/signin_log.py.
#
#   benches/signins.sh
#   RUNS=5 TOTAL_MB=100 benches/signins.sh
#
# Needs GNU time (/usr/bin/time), python3 and jq, which this script does not install. Files go
# to target/bench/ and are reused.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-3}
TOTAL_MB=${TOTAL_MB:-300}
DIR=target/bench
BIN=target/release/mfacheck
PC=fa3d9a0c-3fb0-42cc-9193-47c7ecd2edbd
mkdir -p "$DIR"

for tool in /usr/bin/time python3 jq; do
    command -v "$tool" >/dev/null || { echo "needs $tool" >&2; exit 1; }
done
cargo build --release --quiet --bin mfacheck

for shape in lines records value; do
    file=$DIR/signins-$shape-$TOTAL_MB.json
    if [ ! -s "$file" ]; then
        echo "generating $file"
        python3 benches/signin_log.py "$shape" "$TOTAL_MB" > "$file.tmp"
        mv "$file.tmp" "$file"
    fi
done
LOG=$DIR/signins-lines-$TOTAL_MB.json
BYTES=$(stat -c %s "$LOG")

echo "== machine"
echo "cpus: $(nproc); $(lscpu | sed -n 's/^Model name: *//p'); kernel $(uname -r)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "export: $((BYTES / 1000000)) MB, $(wc -l < "$LOG") records, $(grep -c "$PC" "$LOG") to Partner Center"

# measure LABEL COMMAND...: RUNS runs (the file is in the page cache after the first); prints
# the median wall time, MB/s of $BYTES, peak RSS, and the output's line count.
measure() {
    local label=$1
    shift
    local walls=() rss=0
    for _ in $(seq "$RUNS"); do
        # Exit 1 (a sign-in Partner Center would refuse) is a result, not a failure of the run.
        /usr/bin/time -f "%e %M" -o "$DIR/time.out" "$@" > "$DIR/signins.out" || [ $? -le 1 ]
        read -r wall kb < <(tail -n 1 "$DIR/time.out")
        walls+=("$wall")
        [ "$kb" -gt "$rss" ] && rss=$kb
    done
    local median mbs
    median=$(printf '%s\n' "${walls[@]}" | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p")
    mbs=$(awk -v b="$BYTES" -v s="$median" 'BEGIN { printf "%.0f", b / 1000000 / s }')
    printf '%-44s %7.2f s  %6s MB/s  %6d MiB peak RSS  %7d lines out\n' \
        "$label" "$median" "$mbs" $((rss / 1024)) "$(wc -l < "$DIR/signins.out")"
    echo "$mbs" > "$DIR/last.mbs"
}

echo "== one record per line, $RUNS runs each, medians"
measure "jq -c select(Partner Center)" jq -c "select(.properties.resourceId==\"$PC\" or .properties.resourceDisplayName==\"Partner Center\")" "$LOG"
JQ=$(cat "$DIR/last.mbs")
measure "mfacheck signins --format ndjson" "$BIN" signins --format ndjson "$LOG"
SIGNINS=$(cat "$DIR/last.mbs")
awk -v a="$SIGNINS" -v b="$JQ" 'BEGIN { printf "signins / jq: %.2f\n", a / b }'

echo "== other shapes of the same records (memory: the whole export is never held)"
measure "signins, one {\"records\": [...]} batch" "$BIN" signins --format ndjson "$DIR/signins-records-$TOTAL_MB.json"
measure "signins, one Graph {\"value\": [...]} page" "$BIN" signins --format ndjson "$DIR/signins-value-$TOTAL_MB.json"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
