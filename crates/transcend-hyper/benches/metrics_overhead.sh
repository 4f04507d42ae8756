#!/usr/bin/env bash
# A queued silo with the `metrics` feature on (a Prometheus recorder installed) against
# the same silo built without it: webhook to 200 p50 and jobs per second, alternating
# runs of the two benchmark binaries, medians and their ratios.
#
#   bash crates/transcend-hyper/benches/metrics_overhead.sh [rounds]   # default 7
set -euo pipefail
cd "$(dirname "$0")/../../.."
rounds="${1:-7}"
build() {
    cargo bench -p transcend-hyper --features "test-util,queue,redis$1" --bench silo --no-run \
        --message-format=json 2>/dev/null |
        python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "silo" and m.get("executable"):
        print(m["executable"])' | tail -1
}
off="$(build "")"
cp "$off" target/silo-bench-metrics-off
on="$(build ",metrics")"
cp "$on" target/silo-bench-metrics-on
for _ in $(seq "$rounds"); do
    for variant in off on; do
        SILO_BENCH_ONLY=metrics "target/silo-bench-metrics-$variant"
    done
done | python3 -c '
import re, statistics, sys
runs = {"on": [], "off": []}
for line in sys.stdin:
    m = re.match(r"metrics (on|off): webhook to 200 p50 (\d+) us, (\d+) jobs/s", line)
    if m:
        runs[m[1]].append((int(m[2]), int(m[3])))
p50 = {k: statistics.median(r[0] for r in v) for k, v in runs.items()}
rate = {k: statistics.median(r[1] for r in v) for k, v in runs.items()}
print("%d alternating rounds, medians:" % len(runs["on"]))
print("  webhook to 200 p50: off %d us, on %d us, on/off %.3f" % (p50["off"], p50["on"], p50["on"] / p50["off"]))
print("  jobs/s: off %d, on %d, off/on %.3f" % (rate["off"], rate["on"], rate["off"] / rate["on"]))
'
