#!/usr/bin/env bash
# DNS query throughput on loopback: Provision against NSD and dnsmasq serving the same generated zones
# (HOSTS hosts in bench., their PTR records in 1.10.in-addr.arpa.), the same dnsperf query mix (half A, half
# PTR, all names that exist), the server pinned to one core and dnsperf to another (taskset). Prints
# queries per second and the ratios; see docs/PERFORMANCE.md.
# The peer servers are unpacked from their Debian packages (apt-get download), never installed.
# Usage: scripts/bench-dns.sh [RUNS] [SECONDS] [HOSTS]   (best of RUNS per server, default 3 runs of 10 s, 2000 hosts)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
seconds=${2:-10}
hosts=${3:-2000}
scripts/install-deps.sh build dns

work=${TMPDIR:-/tmp}/provision-bench-dns
servers=.build/bench-dns
rm -rf "$work"
mkdir -p "$work/state" "$servers"

for package in nsd dnsmasq-base; do
  if [[ ! -d $servers/$package ]]; then
    (cd "$servers" && apt-get download -q "$package" >/dev/null && dpkg-deb -x "$package"_*.deb "$package")
  fi
done
nsd=$servers/nsd/usr/sbin/nsd
dnsmasq=$servers/dnsmasq-base/usr/sbin/dnsmasq

echo "bench-dns: building provision (release)" >&2
swift build -c release --product provision >"$work/build.log" 2>&1 || { tail -30 "$work/build.log"; exit 1; }
provision=$(swift build -c release --show-bin-path)/provision

server_core=0
client_core=$(( $(nproc) > 1 ? 1 : 0 ))

free_port() {
  local port
  while true; do
    port=$((20000 + RANDOM % 40000))
    ss -Htauln "sport = :$port" | grep -q . || { echo "$port"; return; }
  done
}
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

# The zones, three ways: zone files (NSD), a hosts file (dnsmasq), config records (Provision).
address() { echo "10.1.$(( $1 / 250 )).$(( $1 % 250 + 1 ))"; }
# The records once, as zone-file lines: the zone files and Provision's config both take them.
for ((i = 0; i < hosts; i++)); do echo "host-$i IN A $(address $i)"; done >"$work/forward.records"
for ((i = 0; i < hosts; i++)); do
  a=$(address $i); IFS=. read -r _ _ c d <<<"$a"
  echo "$d.$c IN PTR host-$i.bench."
done >"$work/reverse.records"
{
  echo '$ORIGIN bench.'
  echo '$TTL 300'
  echo '@ IN SOA ns.bench. hostmaster.bench. 1 3600 600 604800 60'
  echo '@ IN NS ns.bench.'
  echo 'ns IN A 10.1.255.1'
  cat "$work/forward.records"
} >"$work/bench.zone"
{
  echo '$ORIGIN 1.10.in-addr.arpa.'
  echo '$TTL 300'
  echo '@ IN SOA ns.bench. hostmaster.bench. 1 3600 600 604800 60'
  echo '@ IN NS ns.bench.'
  cat "$work/reverse.records"
} >"$work/reverse.zone"
for ((i = 0; i < hosts; i++)); do echo "$(address $i) host-$i.bench"; done >"$work/hosts"
{
  for ((i = 0; i < hosts; i++)); do
    echo "host-$((RANDOM % hosts)).bench A"
    a=$(address $((RANDOM % hosts))); IFS=. read -r a1 b c d <<<"$a"
    echo "$d.$c.$b.$a1.in-addr.arpa PTR"
  done
} >"$work/queries"

port_provision=$(free_port)
{
  echo "data-dir: $work/state"
  echo "log-level: warning"
  echo "http:"
  echo "  listen: 127.0.0.1:$(free_port)"
  echo "tftp:"
  echo "  enabled: false"
  echo "dns:"
  echo "  listen: 127.0.0.1:$port_provision"
  echo "  zones:"
  echo "    - name: bench."
  echo "      primary: ns.bench."
  echo "      records:"
  echo "        - \"ns IN A 10.1.255.1\""
  sed 's/.*/        - "&"/' "$work/forward.records"
  echo "    - name: 1.10.in-addr.arpa."
  echo "      primary: ns.bench."
  echo "      records:"
  sed 's/.*/        - "&"/' "$work/reverse.records"
} >"$work/appliance.yaml"
taskset -c $server_core "$provision" serve --config "$work/appliance.yaml" >"$work/provision.log" 2>&1 &
pids+=($!)

port_nsd=$(free_port)
cat >"$work/nsd.conf" <<CONF
server:
  ip-address: 127.0.0.1
  port: $port_nsd
  server-count: 1
  username: ""
  chroot: ""
  zonesdir: "$work"
  database: ""
  zonelistfile: "$work/zone.list"
  xfrdfile: "$work/xfrd.state"
  xfrdir: "$work"
  pidfile: "$work/nsd.pid"
  logfile: "$work/nsd.log"
  verbosity: 0
remote-control:
  control-enable: no
zone:
  name: bench.
  zonefile: bench.zone
zone:
  name: 1.10.in-addr.arpa.
  zonefile: reverse.zone
CONF
taskset -c $server_core "$nsd" -d -c "$work/nsd.conf" >"$work/nsd.out" 2>&1 &
pids+=($!)

port_dnsmasq=$(free_port)
taskset -c $server_core "$dnsmasq" -k --conf-file=/dev/null --port="$port_dnsmasq" --listen-address=127.0.0.1 \
  --bind-interfaces --no-resolv --no-hosts --addn-hosts="$work/hosts" --local=/bench/ --local=/1.10.in-addr.arpa/ \
  --pid-file= --user=root >"$work/dnsmasq.out" 2>&1 &
pids+=($!)

# Every server answers a name and an address before the runs start (Provision builds its zones first).
for port in "$port_provision" "$port_nsd" "$port_dnsmasq"; do
  for _ in $(seq 100); do
    [[ $(dig @127.0.0.1 -p "$port" +short +time=1 +tries=1 host-7.bench A) == "$(address 7)" ]] && break
    sleep 0.2
  done
  [[ $(dig @127.0.0.1 -p "$port" +short +time=1 +tries=1 -x "$(address 7)") == host-7.bench. ]] || {
    echo "bench-dns: server on port $port does not answer: see $work" >&2; exit 1; }
done

# queries per second of the best of $runs runs
qps() { # port
  local best=0 run q
  for ((run = 0; run < runs; run++)); do
    q=$(taskset -c $client_core dnsperf -s 127.0.0.1 -p "$1" -d "$work/queries" -l "$seconds" -c 8 -q 200 2>&1 |
      awk '/Queries per second/ { print int($4) }')
    ((q > best)) && best=$q
  done
  echo "$best"
}
calc() { awk "BEGIN { printf \"%.2f\", $* }"; }

echo "bench-dns: $hosts hosts, $((2 * hosts)) queries (A and PTR), best of $runs x ${seconds}s, server on core $server_core, dnsperf on core $client_core" >&2
q_provision=$(qps "$port_provision")
q_nsd=$(qps "$port_nsd")
q_dnsmasq=$(qps "$port_dnsmasq")
printf '%-10s %10s\n' server qps provision "$q_provision" nsd "$q_nsd" dnsmasq "$q_dnsmasq"
echo "provision/nsd:     $(calc "$q_provision / $q_nsd")   (target >= 0.80)"
echo "provision/dnsmasq: $(calc "$q_provision / $q_dnsmasq")   (target >= 1.00)"
