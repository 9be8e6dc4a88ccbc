#!/usr/bin/env bash
# Signature verification throughput, with its peers measured in the same run, and the
# ratios the issue sets as targets:
#
#   - mfacheck check -q --jwks on N distinct tokens (RS256, 2048-bit test key; ES256; EdDSA);
#   - a PyJWT loop verifying the same tokens (benches/pyjwt_verify.py);
#   - openssl speed's RSA-2048 (and P-256, Ed25519) verify rate per core, times the cores;
#   - the repeated stream: 2,000 distinct RS256 tokens, each 50 times, 100,000 lines;
#   - peak RSS of every mfacheck run (GNU time).
#
#   benches/verify.sh                       # N=20000, 3 runs of each mfacheck measurement
#   RUNS=5 N=50000 benches/verify.sh
#   BASELINE_BIN=/path/to/old/mfacheck benches/verify.sh   # an older build, measured alongside
#
# Needs GNU time (/usr/bin/time; apt-get install time) and openssl; PyJWT with its crypto extra
# (`pip install "pyjwt[crypto]"`) for the Python peer, skipped without it. Installs nothing.
# Tokens and key sets go to target/bench/verify/ and are reused (the generator is deterministic).
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-20000}
RUNS=${RUNS:-3}
DISTINCT=2000
REPEATS=50
DIR=target/bench/verify
BIN=target/release/mfacheck
mkdir -p "$DIR"

[ -x /usr/bin/time ] || { echo "needs GNU time at /usr/bin/time (apt-get install time)" >&2; exit 1; }
cargo build --release --quiet --bin mfacheck --example tokens
CORES=$(nproc)

# The kids the token generator (src/corpus.rs) puts in headers: each test key is published under
# both, one JWKS per algorithm.
KIDS='["kWbkaa6qs8wsTnBwiiNYOhHbnAw", "JDNa_4i4r7FgigL3sHIlI3xV-IU"]'
for alg in rs256 es256 eddsa; do
    case $alg in rs256) kty=RSA pem=test-rsa.pem;; es256) kty=EC pem=test-ec.pem;; eddsa) kty=OKP pem=test-ed25519.pem;; esac
    [ -s "$DIR/jwks-$alg.json" ] || python3 - "$kty" "$KIDS" > "$DIR/jwks-$alg.json" <<'EOF'
import json, sys
kty, kids = sys.argv[1], json.loads(sys.argv[2])
key = next(k for k in json.load(open("fixtures/keys/jwks.json"))["keys"] if k["kty"] == kty)
print(json.dumps({"keys": [dict(key, kid=kid, x5t=kid) for kid in kids]}))
EOF
    if [ ! -s "$DIR/$alg-$N.txt" ]; then
        echo "generating $N $alg tokens (signing is slow: RS256 about 1 ms a token)"
        target/release/examples/tokens "$N" --seed 12 --key "fixtures/keys/$pem" > "$DIR/$alg-$N.txt.tmp"
        mv "$DIR/$alg-$N.txt.tmp" "$DIR/$alg-$N.txt"
    fi
done
REPEATED=$DIR/repeated-$DISTINCT-x$REPEATS.txt
if [ ! -s "$REPEATED" ]; then
    head -n "$DISTINCT" "$DIR/rs256-$N.txt" > "$DIR/distinct.tmp"
    for _ in $(seq "$REPEATS"); do cat "$DIR/distinct.tmp"; done > "$REPEATED"
    rm "$DIR/distinct.tmp"
fi
REPEATED_LINES=$((DISTINCT * REPEATS))

echo "== machine"
echo "cpus: $CORES; $(lscpu | sed -n 's/^Model name: *//p'); kernel $(uname -r); $(openssl version)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "tokens: $N distinct per algorithm, mean length $(awk '{s+=length($0)} END {printf "%d", s/NR}' "$DIR/rs256-$N.txt") bytes (RS256)"

# Sanity: every token verifies (a bench of failures would measure the wrong thing).
for alg in rs256 es256 eddsa; do
    verified=$("$BIN" check --format ndjson --jwks "$DIR/jwks-$alg.json" - < "$DIR/$alg-$N.txt" | grep -c '"signature":"verified"' || true)
    [ "$verified" = "$N" ] || { echo "only $verified of $N $alg tokens verified" >&2; exit 1; }
done

# measure NAME COUNT INPUT COMMAND...: RUNS runs; prints each, keeps the median tokens/s in
# RATE[NAME] and the largest peak RSS (KiB) in RSS[NAME].
declare -A RATE RSS
measure() {
    local name=$1 count=$2 input=$3
    shift 3
    local rates=() peak=0
    for run in $(seq "$RUNS"); do
        /usr/bin/time -f "%e %U %S %M" -o "$DIR/time.txt" "$@" < "$input" > /dev/null || true
        read -r wall user sys rss < <(tail -n 1 "$DIR/time.txt")
        local rate
        rate=$(awk -v n="$count" -v w="$wall" 'BEGIN { printf "%.0f", (w > 0 ? n / w : 0) }')
        rates+=("$rate")
        [ "$rss" -gt "$peak" ] && peak=$rss
        awk -v l="$name" -v r="$run" -v w="$wall" -v u="$user" -v s="$sys" -v m="$rss" -v t="$rate" 'BEGIN {
            printf "%-34s run %d: %6.2f s wall, %6.2f s CPU, peak RSS %5.1f MiB, %9d tokens/s\n", l, r, w, u + s, m / 1024, t }'
    done
    RATE[$name]=$(printf '%s\n' "${rates[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}')
    RSS[$name]=$peak
}

echo "== mfacheck check -q (2 worker threads on a stream this size), $N distinct tokens"
measure "rs256" "$N" "$DIR/rs256-$N.txt" "$BIN" check -q --jwks "$DIR/jwks-rs256.json" -
measure "es256" "$N" "$DIR/es256-$N.txt" "$BIN" check -q --jwks "$DIR/jwks-es256.json" -
measure "eddsa" "$N" "$DIR/eddsa-$N.txt" "$BIN" check -q --jwks "$DIR/jwks-eddsa.json" -
measure "rs256, no keys (reference)" "$N" "$DIR/rs256-$N.txt" "$BIN" check -q -
echo "== the repeated stream: $DISTINCT distinct RS256 tokens x $REPEATS = $REPEATED_LINES lines"
measure "repeated" "$REPEATED_LINES" "$REPEATED" "$BIN" check -q --jwks "$DIR/jwks-rs256.json" -
if [ -n "${BASELINE_BIN:-}" ]; then
    echo "== baseline build: $BASELINE_BIN"
    measure "baseline rs256" "$N" "$DIR/rs256-$N.txt" "$BASELINE_BIN" check -q --jwks "$DIR/jwks-rs256.json" -
    measure "baseline repeated" "$REPEATED_LINES" "$REPEATED" "$BASELINE_BIN" check -q --jwks "$DIR/jwks-rs256.json" -
fi

echo "== PyJWT (1 thread), the same tokens"
declare -A PY
if python3 -c 'import jwt, cryptography' 2> /dev/null; then
    for alg in rs256 es256 eddsa; do
        case $alg in rs256) name=RS256;; es256) name=ES256;; eddsa) name=EdDSA;; esac
        line=$(cd benches && python3 pyjwt_verify.py "../$DIR/jwks-$alg.json" "$name" < "../$DIR/$alg-$N.txt")
        echo "$line"
        PY[$alg]=$(echo "$line" | sed -E 's/.*= ([0-9,]+) tokens\/s.*/\1/' | tr -d ,)
    done
else
    echo 'PyJWT not installed (pip install "pyjwt[crypto]"): Python peer skipped'
fi

echo "== openssl speed -seconds 3 (verify operations per second, one core)"
speed() { openssl speed -seconds 3 "$@" 2> /dev/null; }
OSSL_RSA=$(speed rsa2048 | awk '/^rsa 2048 bits/ {printf "%d", $NF}')
OSSL_P256=$(speed ecdsap256 | awk '/nistp256\)/ {print $NF}')
OSSL_ED=$(speed ed25519 | awk '/Ed25519\)/ {print $NF}')
echo "rsa2048 verify/s: $OSSL_RSA; ecdsa p-256 verify/s: $OSSL_P256; ed25519 verify/s: $OSSL_ED (x $CORES cores)"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

echo "== summary (median of $RUNS runs; ratios against peers measured above)"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "n/a" }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
printf '%-40s %12s %10s\n' "" "tokens/s" "peak RSS"
for name in rs256 es256 eddsa "rs256, no keys (reference)" repeated "baseline rs256" "baseline repeated"; do
    [ -n "${RATE[$name]:-}" ] && printf '%-40s %12s %7s MiB\n' "mfacheck $name" "${RATE[$name]}" "$(mib "${RSS[$name]}")"
done
for alg in rs256 es256 eddsa; do
    [ -n "${PY[$alg]:-}" ] && printf '%-40s %12s\n' "PyJWT $alg" "${PY[$alg]}"
done
printf '%-40s %12s\n' "openssl rsa2048 verify/s x $CORES cores" "$((OSSL_RSA * CORES))"
maxrss=0
for name in "${!RSS[@]}"; do [ "${RSS[$name]}" -gt "$maxrss" ] && maxrss=${RSS[$name]}; done
echo
echo "RS256 distinct vs PyJWT:             $(ratio "${RATE[rs256]}" "${PY[rs256]:-0}")x   (target >= 6)"
echo "RS256 distinct vs openssl x cores:   $(ratio "${RATE[rs256]}" "$((OSSL_RSA * CORES))")    (target >= 0.60)"
echo "ES256 distinct vs PyJWT:             $(ratio "${RATE[es256]}" "${PY[es256]:-0}")x;  vs openssl p-256 x cores: $(ratio "${RATE[es256]}" "$((${OSSL_P256%.*} * CORES))")"
echo "EdDSA distinct vs PyJWT:             $(ratio "${RATE[eddsa]}" "${PY[eddsa]:-0}")x;  vs openssl ed25519 x cores: $(ratio "${RATE[eddsa]}" "$((${OSSL_ED%.*} * CORES))")"
echo "repeated stream:                     ${RATE[repeated]} tokens/s (target >= 300000)"
echo "largest peak RSS of any mfacheck run: $(mib "$maxrss") MiB (target <= 16)"
