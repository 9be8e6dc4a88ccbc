#!/usr/bin/env bash
# Load on `mfacheck serve` with wrk (Debian's package), on loopback only, each run bounded in
# time. Prints the machine, then:
#   1. gate mode, keep-alive, mixed tokens (mfa, password-only, app-only): requests/s, latency
#      percentiles, errors (socket errors, and any status but the expected 200 or 401);
#   2. peak RSS of the server (VmHWM) after a run at 1,000 connections;
#   3. proxy mode's added latency: the same compliant requests sent to an upstream directly and
#      through `serve --upstream`, at low concurrency so latency is not queueing. The upstream
#      is a second `mfacheck serve` (gate mode, which answers 200), measured in the same run.
#
#   benches/serve.sh                  # DURATION=10 CONNS=100 THREADS=1
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10}
CONNS=${CONNS:-100}
THREADS=${THREADS:-1}
BIN=target/release/mfacheck
DIR=target/bench-serve
mkdir -p "$DIR"

command -v wrk >/dev/null || { echo "needs wrk (apt-get install wrk)" >&2; exit 1; }
cargo build --release --quiet --bin mfacheck

echo "== machine"
echo "cpus: $(nproc); $(lscpu | sed -n 's/^Model name: *//p'); kernel $(uname -r); $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

# The Lua script: each request carries the next token of TOKENS (files, space-separated), and
# a response whose status is not in OK (space-separated) is counted as an error.
cat > "$DIR/mixed.lua" <<'LUA'
local tokens, ok, i, bad = {}, {}, 0, 0
for path in string.gmatch(os.getenv("TOKENS"), "%S+") do
  local f = assert(io.open(path)); tokens[#tokens + 1] = f:read("*l"); f:close()
end
for s in string.gmatch(os.getenv("OK"), "%S+") do ok[tonumber(s)] = true end
request = function()
  i = i + 1
  return wrk.format("GET", "/v1/customers?size=10", { ["Authorization"] = "Bearer " .. tokens[i % #tokens + 1] })
end
response = function(status) if not ok[status] then bad = bad + 1 end end
done = function(summary, latency)
  -- wrk runs threads in separate Lua states: `bad` of the main state is not theirs.
  local e = summary.errors
  io.write(string.format("socket errors: connect %d, read %d, write %d, timeout %d; non-2xx/3xx: %d\n",
    e.connect, e.read, e.write, e.timeout, e.status))
end
LUA

PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

# start NAME ARGS...: a server on a free loopback port; sets PORT and PID.
start() {
    local name=$1; shift
    "$BIN" serve --listen 127.0.0.1:0 "$@" > /dev/null 2> "$DIR/$name.err" &
    PID=$!
    PIDS+=("$PID")
    for _ in $(seq 100); do
        PORT=$(sed -n '1s/.*127\.0\.0\.1://p' "$DIR/$name.err")
        [ -n "$PORT" ] && return
        sleep 0.05
    done
    echo "$name did not start" >&2; exit 1
}

peak_rss() { awk '/VmHWM/ {printf "%.1f MiB", $2 / 1024}' "/proc/$1/status"; }

MIXED="fixtures/mfa.jwt fixtures/password-only.jwt fixtures/app-only.jwt"

echo
echo "== 1. gate mode: ${DURATION}s, $CONNS connections, $THREADS wrk thread(s), keep-alive, tokens: $MIXED (log on, to /dev/null)"
start gate
GATE=$PID
TOKENS=$MIXED OK="200 401" wrk -t"$THREADS" -c"$CONNS" -d1s -s "$DIR/mixed.lua" "http://127.0.0.1:$PORT" > /dev/null # warm-up
TOKENS=$MIXED OK="200 401" wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency -s "$DIR/mixed.lua" "http://127.0.0.1:$PORT" \
    | tee "$DIR/gate.txt" | grep -E "Requests/sec|Latency  |  50%|  90%|  99%|requests in|socket errors"
echo "(the 401s are the expected refusals of password-only: 1 request in 3)"
echo "peak RSS after $CONNS connections: $(peak_rss "$GATE")"

echo
echo "== 2. gate mode at 1,000 connections: 5s"
TOKENS=$MIXED OK="200 401" wrk -t"$THREADS" -c1000 -d5s --latency -s "$DIR/mixed.lua" "http://127.0.0.1:$PORT" \
    | grep -E "Requests/sec|  99%|socket errors"
echo "peak RSS after 1,000 connections: $(peak_rss "$GATE")"
kill "$GATE"

echo
echo "== 3. proxy mode's added latency: ${DURATION}s each, 10 connections, compliant token"
start upstream
UPSTREAM=$PORT
start proxy --upstream "http://127.0.0.1:$UPSTREAM"
PROXY=$PORT
for peer in "direct:$UPSTREAM" "proxied:$PROXY"; do
    name=${peer%%:*}
    port=${peer##*:}
    TOKENS=fixtures/mfa.jwt OK=200 wrk -t1 -c10 -d1s -s "$DIR/mixed.lua" "http://127.0.0.1:$port" > /dev/null
    TOKENS=fixtures/mfa.jwt OK=200 wrk -t1 -c10 -d"${DURATION}s" --latency -s "$DIR/mixed.lua" "http://127.0.0.1:$port" \
        > "$DIR/$name.txt"
    printf '%-8s %s; p50 %s, p99 %s; %s\n' "$name" \
        "$(awk '/Requests\/sec/ {print $2 " req/s"}' "$DIR/$name.txt")" \
        "$(awk '$1 == "50%" {print $2}' "$DIR/$name.txt")" \
        "$(awk '$1 == "99%" {print $2}' "$DIR/$name.txt")" \
        "$(grep 'socket errors' "$DIR/$name.txt")"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
