#!/usr/bin/env bash
# DHCP 4-way exchanges per second: Provision against kea-dhcp4 (memfile lease file, its usual default) on
# the same machine in one run. Both serve the same pool in a server network namespace, one after the
# other, to the same perfdhcp in a client namespace across a veth pair. Provision keeps every lease
# durable (SQLite, fsync'd, before the ACK); Kea appends to its CSV lease file (no fsync). The pool
# (196,606 addresses) holds every lease of four 10 s runs: the figure is allocation, not exhaustion.
# Kea is unpacked from its Debian package (apt-get download), never installed (it would take port 67).
# Usage: scripts/bench-dhcp.sh [SECONDS] [RUNS]   (default 10 s, best of 3)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
runs=${2:-3}
scripts/install-deps.sh build dhcp
kea_root=$(scripts/peer-unpack.sh kea-dhcp4-server)
kea=$kea_root/usr/sbin/kea-dhcp4

work=${TMPDIR:-/tmp}/provision-bench-dhcp-$$
mkdir -p "$work"
# PROVISION: a binary already built (e.g. in another build folder); by default a release build of this tree.
provision=${PROVISION:-}
if [[ -z $provision ]]; then
  echo "bench-dhcp: building provision (release)" >&2
  build=(swift build -c release --build-path "${BUILD_PATH:-.build}")
  "${build[@]}" --product provision >"$work/build.log" 2>&1 || { tail -30 "$work/build.log"; exit 1; }
  provision=$("${build[@]}" --show-bin-path)/provision
fi

tag=$(printf '%04x' $(($$ & 0xffff)))
server_ns=pvbench-s$tag client_ns=pvbench-c$tag server_if=pvbs$tag client_if=pvbc$tag
pid=
cleanup() {
  [[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  ip netns del "$server_ns" 2>/dev/null || true
  ip netns del "$client_ns" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$server_ns"
ip netns add "$client_ns"
ip link add "$server_if" netns "$server_ns" type veth peer name "$client_if" netns "$client_ns"
ip -n "$server_ns" addr add 10.55.0.1/14 dev "$server_if"
ip -n "$client_ns" addr add 10.55.0.2/14 dev "$client_if"
for ns in "$server_ns" "$client_ns"; do ip -n "$ns" link set lo up; done
ip -n "$server_ns" link set "$server_if" up
ip -n "$client_ns" link set "$client_if" up

# perfdhcp at a rate neither server reaches, so the figure is what the server sustains; each run uses
# new client MACs (random seed), so every exchange allocates and stores a new lease.
# Also the server's CPU time per exchange (user + system, all threads, from /proc): steadier than the rate
# on a shared machine, and it shows what each server pays, since perfdhcp shares the two cores with it.
rate() { # label pid -> exchanges/s of one run
  local rate before after
  before=$(awk '{ print $14 + $15 }' "/proc/$2/stat")
  rate=$(ip netns exec "$client_ns" perfdhcp -4 -l "$client_if" -r 30000 -p "$seconds" -R 60000 -s $((RANDOM + 1)) 2>&1 \
    | awk '/^Rate:/ { print $2; exit }')
  after=$(awk '{ print $14 + $15 }' "/proc/$2/stat")
  echo "bench-dhcp:   $1: ${rate:-0} exchanges/s, $(awk -v t=$((after - before)) -v r="${rate:-0}" -v s="$seconds" -v hz="$(getconf CLK_TCK)" \
    'BEGIN { printf "%.0f", (r > 0) ? t / hz * 1e6 / (r * s) : 0 }') µs of server CPU per exchange" >&2
  echo "${rate:-0}"
}
max() { awk -v a="$1" -v b="$2" 'BEGIN { print (a > b) ? a : b }'; }

wait_port() {
  for _ in $(seq 100); do
    ip netns exec "$server_ns" ss -Huln "sport = :67" | grep -q . && return 0
    sleep 0.1
  done
  echo "bench-dhcp: nothing listens on port 67" >&2
  exit 1
}

# Provision: the whole appliance, DHCP on the veth, leases in its SQLite store.
cat >"$work/appliance.yaml" <<YAML
data-dir: $work/provision
log-level: warning
http:
  listen: 127.0.0.1:8080
tftp:
  enabled: false
networks:
  - name: bench
    interface: $server_if
    address: 10.55.0.1
    subnet: 10.52.0.0/14
    pool: 10.52.0.1-10.54.255.254
    router: 10.55.0.1
    lease-time: 1h
YAML
# Kea: memfile, raw sockets on the same interface.
cat >"$work/kea.json" <<JSON
{ "Dhcp4": {
  "interfaces-config": { "interfaces": [ "$server_if" ] },
  "lease-database": { "type": "memfile", "persist": true, "name": "$work/kea-leases4.csv", "lfc-interval": 0 },
  "valid-lifetime": 3600,
  "subnet4": [ { "id": 1, "subnet": "10.52.0.0/14", "pools": [ { "pool": "10.52.0.1 - 10.54.255.254" } ],
                 "option-data": [ { "name": "routers", "data": "10.55.0.1" } ] } ],
  "loggers": [ { "name": "kea-dhcp4", "severity": "WARN", "output_options": [ { "output": "stdout" } ] } ]
} }
JSON
start_provision() {
  ip netns exec "$server_ns" "$provision" serve --config "$work/appliance.yaml" >>"$work/provision.log" 2>&1 &
  pid=$!
  wait_port
}
start_kea() {
  KEA_LOCKFILE_DIR=none KEA_PIDFILE_DIR=$work ip netns exec "$server_ns" "$kea" -c "$work/kea.json" >>"$work/kea.log" 2>&1 &
  pid=$!
  wait_port
}
stop() {
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
  # The port is free before the next server starts.
  for _ in $(seq 100); do ip netns exec "$server_ns" ss -Huln "sport = :67" | grep -q . || return 0; sleep 0.1; done
}

# The servers take turns, run by run, so that a slow minute of this shared machine costs both alike.
provision_rate=0 kea_rate=0 bound=0 pairs=()
for ((run = 1; run <= runs; run++)); do
  start_provision
  p=$(rate "provision run $run" "$pid")
  metrics=$(ip netns exec "$server_ns" curl -s http://127.0.0.1:8080/metrics)
  bound=$(awk '/^dhcp_leases_persisted_total/ { print $2 }' <<<"$metrics")
  awk '/^osis_commits_total/ { c = $2 } /^osis_writes_total/ { w = $2 }
    END { if (c > 0) printf "bench-dhcp:   provision run: %.1f store writes per commit (fsync)\n", w / c }' <<<"$metrics" >&2
  stop
  start_kea
  k=$(rate "kea run $run" "$pid")
  stop
  provision_rate=$(max "$provision_rate" "$p") kea_rate=$(max "$kea_rate" "$k")
  pairs+=("$(awk -v a="$p" -v b="$k" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }')")
done

ratio=$(awk -v a="$provision_rate" -v b="$kea_rate" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }')
echo "provision: $provision_rate 4-way exchanges/s (best of $runs; its last run made $bound leases durable)"
echo "kea-dhcp4 (memfile): $kea_rate 4-way exchanges/s (best of $runs)"
echo "ratio provision/kea: ${ratio}x (best against best); run by run: ${pairs[*]}"
