#!/usr/bin/env bash
# `scan` memory and throughput on a large HAR (52k entries, ~500 MB) and a
# large JSON-lines log (~300 MB), generated under target/scan-bench/. Peak RSS by
# `/usr/bin/time -f %M`; throughput = file size / wall time. With OLD=/path/to/mfacheck, the
# results (ndjson) are compared with that binary's.
#   benches/scan_memory.sh [MFACHECK]   (default: target/release/mfacheck)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-target/release/mfacheck}
DIR=target/scan-bench
mkdir -p "$DIR"
NOW=1780000000
if [[ ! -s $DIR/tokens.txt ]]; then
  for i in $(seq 1 40); do
    amr=$([[ $((i % 3)) == 0 ]] && echo pwd || echo pwd,mfa)
    "$BIN" sample --now $NOW --amr "$amr" --claim "upn=user$i@contoso.com" --claim "n=$i"
  done > "$DIR/tokens.txt"
fi
if [[ ! -s $DIR/big.har ]]; then
  python3 - "$DIR" <<'PY'
import json, sys, random
d = sys.argv[1]
tokens = open(f"{d}/tokens.txt").read().split()
random.seed(7)
filler = "".join(random.choice("abcdefghijklmnopqrstuvwxyz0123456789 ,.:") for _ in range(9000))
with open(f"{d}/big.har", "w") as f:
    f.write('{"log": {"version": "1.2", "creator": {"name": "gen", "version": "1"}, "entries": [\n')
    for i in range(52000):
        t = tokens[i % len(tokens)]
        entry = {
            "startedDateTime": "2026-11-26T10:00:00Z", "time": 12,
            "request": {"method": "GET", "url": f"https://api.partnercenter.microsoft.com/v1/customers/{i}?refresh_token=r{i}&x=1",
                        "headers": [{"name": "Authorization", "value": f"Bearer {t}"}, {"name": "Accept", "value": "application/json"}],
                        "queryString": [], "cookies": []},
            "response": {"status": 200, "headers": [{"name": "Content-Type", "value": "application/json"}],
                         "content": {"size": 9000, "mimeType": "application/json",
                                     "text": filler[: 8000 + i % 1000] + (f' "access_token": "{tokens[(i * 7) % len(tokens)]}"' if i % 97 == 0 else "")}},
        }
        f.write(("," if i else "") + json.dumps(entry) + "\n")
    f.write("]}}\n")
with open(f"{d}/big.jsonl", "w") as f:
    i = 0
    size = 0
    while size < 300_000_000:
        t = tokens[i % len(tokens)]
        line = json.dumps({"time": "2026-11-26T10:00:00Z", "level": "info", "path": f"/v1/customers/{i}",
                           "status": 200, "ms": i % 500, "msg": filler[: 400 + i % 200],
                           "authorization": f"Bearer {t}"}) + "\n"
        f.write(line)
        size += len(line)
        i += 1
PY
fi
for file in big.har big.jsonl; do
  bytes=$(stat -c %s "$DIR/$file")
  /usr/bin/time -f "%M %e" -o "$DIR/$file.time" "$BIN" scan --now $NOW --format ndjson "$DIR/$file" > "$DIR/$file.out" || true
  read -r kib secs < <(tail -n1 "$DIR/$file.time")
  echo "$file: $((bytes / 1000000)) MB, peak RSS $((kib / 1024)) MiB, $secs s, $(python3 -c "print(round($bytes / 1e6 / max($secs, 0.01)))") MB/s, $(wc -l < "$DIR/$file.out") results"
  if [[ -n ${OLD:-} ]]; then
    /usr/bin/time -f "%M %e" -o "$DIR/$file.old.time" "$OLD" scan --now $NOW --format ndjson "$DIR/$file" > "$DIR/$file.old.out" || true
    read -r kib secs < <(tail -n1 "$DIR/$file.old.time")
    echo "  before: peak RSS $((kib / 1024)) MiB, $secs s"
    cmp -s "$DIR/$file.out" "$DIR/$file.old.out" && echo "  same results as before" || echo "  RESULTS DIFFER from before"
  fi
done
