#!/usr/bin/env bash
# Runs the built tests (`swift test --skip-build "$@"`) under a time limit, so that a test which hangs
# ends the run with its name instead of silently using up CI's time. The suite takes a few minutes;
# SWIFT_TEST_TIMEOUT (seconds, default 1200) is far above that.
set -uo pipefail
cd "$(dirname "$0")/.."
limit="${SWIFT_TEST_TIMEOUT:-1200}"
log="$(mktemp "${TMPDIR:-/tmp}/provision-tests.XXXXXX")"
trap 'rm -f "$log"' EXIT

# A session of its own: swift test puts the test runner in a process group of its own, but not in
# another session, so the whole tree (runner, clients, VMs) can be stopped by session. stdbuf makes the
# output line-buffered; to a file it would be block-buffered and hide the last lines before a hang.
setsid stdbuf -oL -eL swift test --skip-build "$@" > "$log" 2>&1 &
runner=$!
tail -n +1 -f --pid="$runner" "$log" &
streamer=$!
# `tail --pid` ends when the runner does; `timeout` ends it first if the runner is still there.
timed_out=false
if ! timeout "$limit" tail --pid="$runner" -f /dev/null; then
    timed_out=true
    pkill -TERM -s "$runner"
    timeout 30 tail --pid="$runner" -f /dev/null || pkill -KILL -s "$runner"
fi
wait "$runner"
status=$?
wait "$streamer"

if $timed_out; then
    echo "swift test did not finish within ${limit} s. Tests that started and never ended:"
    # "◇ Test NAME started." opens a test; "✔ Test NAME …passed" or "✘ Test NAME …failed" ends it.
    awk '
        /^◇ Test (case |run started)/ { next }
        /^◇ Test .* started\.$/ { open[$3] = 1 }
        /^[✔✘] Test .* (passed|failed)/ { delete open[$3] }
        END { for (name in open) print "  " name }
    ' "$log"
    exit 124
fi
exit "$status"
