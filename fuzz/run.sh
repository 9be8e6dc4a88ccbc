#!/usr/bin/env bash
# Fuzzes each target in turn for SECONDS_EACH seconds (default 1200) on one core, seeded with the
# fixtures; new inputs go to fuzz/corpus/TARGET/ (not committed), crashes to
# fuzz/artifacts/TARGET/ (commit each as a regression test, then fix). Logs to fuzz/logs/.
#
#   fuzz/run.sh                        # paths, decode, scan, verify: 20 minutes each
#   SECONDS_EACH=60 TARGETS=scan fuzz/run.sh
#
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`).
set -euo pipefail
cd "$(dirname "$0")"
SECONDS_EACH=${SECONDS_EACH:-1200}
mkdir -p logs
for target in ${TARGETS:-paths decode scan verify}; do
    case $target in
        scan) seeds="../fixtures/scan ../fixtures/inputs" max_len=16384 ;;
        verify) seeds="seeds/verify" max_len=4096 ;;
        *) seeds="../fixtures" max_len=8192 ;;
    esac
    mkdir -p "corpus/$target"
    cargo +nightly fuzz build -O "$target"
    echo "== $target, $SECONDS_EACH s, from $(date -u +%FT%TZ)"
    # shellcheck disable=SC2086 # the seed directories are separate arguments
    cargo +nightly fuzz run -O "$target" "corpus/$target" $seeds -- \
        -max_total_time="$SECONDS_EACH" -max_len="$max_len" -print_final_stats=1 -rss_limit_mb=2048 \
        > "logs/$target.log" 2>&1 || { echo "$target: failed, see fuzz/logs/$target.log"; exit 1; }
    # The final line (runs, coverage, corpus) and libFuzzer's final stats.
    grep -E "^#[0-9]+[[:space:]]+DONE|^Done |stat::" "logs/$target.log" || true
done
