#!/usr/bin/env bash
# Hunts a flaky test: runs the built test binary on FILTER ROUNDS times, PARALLEL copies at a time, beside
# HOGS busy loops (CI starts every suite at once on 2 cores; a quiet machine rarely shows such races).
# A copy still alive after HANG seconds has its threads' stacks dumped with gdb, then is killed.
# Usage: scripts/stress-tests.sh FILTER [ROUNDS=20] [PARALLEL=4] [HOGS=3] [HANG=45]
#   e.g. scripts/stress-tests.sh 'MultiNodeTests/' 30
# Build first (`swift build --build-tests`). Logs of failed copies, and stack dumps, stay in $OUT.
# Services the tests need must be up (scripts/services.sh start ...).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FILTER=${1:?usage: scripts/stress-tests.sh FILTER [ROUNDS] [PARALLEL] [HOGS] [HANG]}
ROUNDS=${2:-20}
PARALLEL=${3:-4}
HOGS=${4:-3}
HANG=${5:-45}
OUT=${OUT:-$(mktemp -d /tmp/stress-tests.XXXXXX)}
BINARY=$(find "$ROOT/.build/debug/" -maxdepth 1 -name '*PackageTests.xctest' | head -1)
[ -x "$BINARY" ] || { echo "no test binary: run swift build --build-tests first" >&2; exit 2; }
# A copy, so that a build meanwhile does not change what is being stressed.
cp "$BINARY" "$OUT/tests.xctest"

hogs=()
for _ in $(seq 1 "$HOGS"); do
    (while :; do :; done) &
    hogs+=($!)
done
trap 'kill "${hogs[@]}" 2>/dev/null' EXIT

failures=0
hangs=0
for round in $(seq 1 "$ROUNDS"); do
    pids=()
    for copy in $(seq 1 "$PARALLEL"); do
        (cd "$ROOT" && exec "$OUT/tests.xctest" --testing-library swift-testing --filter "$FILTER") \
            > "$OUT/$round-$copy.log" 2>&1 &
        pids+=($!)
    done
    for _ in $(seq 1 "$HANG"); do
        sleep 1
        alive=0
        for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        [ $alive = 0 ] && break
    done
    for pid in "${pids[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then
            gdb -p "$pid" -batch -ex "thread apply all bt 30" > "$OUT/$round-stacks-$pid.txt" 2>&1
            kill -9 "$pid" 2>/dev/null
            hangs=$((hangs + 1))
            echo "round $round: a copy still ran after ${HANG}s: stacks in $OUT/$round-stacks-$pid.txt"
        fi
    done
    wait "${pids[@]}" 2>/dev/null
    for copy in $(seq 1 "$PARALLEL"); do
        log="$OUT/$round-$copy.log"
        if grep -q "✘" "$log"; then
            failures=$((failures + 1))
            echo "round $round: failed: $log"
        else
            rm -f "$log"
        fi
    done
done
echo "$((ROUNDS * PARALLEL)) runs of '$FILTER': $failures failed, $hangs hung (logs in $OUT)"
[ $failures = 0 ] && [ $hangs = 0 ]
