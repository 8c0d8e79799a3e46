#!/usr/bin/env bash
# TFTP throughput on loopback: Provision against tftpd-hpa and atftpd, same client (atftp), same options.
# Fetches a 64 MiB and a 1 MiB file lock-step at several block sizes and with RFC 7440 windows, then
# runs 100 concurrent 1 MiB transfers against Provision. Prints MiB/s and ratios; see docs/PERFORMANCE.md.
# The peer servers are unpacked from their Debian packages (apt-get download) and started on high ports.
# Usage: scripts/bench-tftp.sh [RUNS]   (best of RUNS per figure, default 3)
#        PIN=CPU scripts/bench-tftp.sh [RUNS]   runs every server and client on that one CPU (taskset): on a
#        VM whose cores are shared, lock-step figures otherwise swing 3x with where the scheduler puts the
#        client and the server (a wake-up across cores costs more than the work of a block).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
scripts/install-deps.sh build tftp

work=${TMPDIR:-/tmp}/provision-bench-tftp
servers=.build/bench-tftp
rm -rf "$work"
mkdir -p "$work/root" "$work/out" "$servers"
chmod 755 "$work" "$work/root"
head -c $((64 << 20)) /dev/urandom >"$work/root/64mib"
head -c $((1 << 20)) /dev/urandom >"$work/root/1mib"
chmod 644 "$work/root/"*

# Peer servers: unpacked, never installed (installed, they conflict with each other and start on port 69).
for package in tftpd-hpa atftpd; do
  if [[ ! -d $servers/$package ]]; then
    (cd "$servers" && apt-get download -q "$package" >/dev/null && dpkg-deb -x "$package"_*.deb "$package")
  fi
done
tftpd_hpa=$servers/tftpd-hpa/usr/sbin/in.tftpd
atftpd=$servers/atftpd/usr/sbin/atftpd

echo "bench-tftp: building provision (release)" >&2
swift build -c release --product provision >"$work/build.log" 2>&1 || { tail -30 "$work/build.log"; exit 1; }
provision=$(swift build -c release --show-bin-path)/provision
if [[ ${PIN:-} ]]; then
  taskset -pc "$PIN" $$ >/dev/null  # inherited by every server and client started below
  echo "bench-tftp: servers and clients pinned to CPU $PIN" >&2
fi

# A random high port nobody listens on (UDP and TCP).
free_port() {
  local port
  while true; do
    port=$((20000 + RANDOM % 40000))
    ss -Htauln "sport = :$port" | grep -q . || { echo "$port"; return; }
  done
}
calc() { awk "BEGIN { print $* }"; }
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

port_provision=$(free_port)
cat >"$work/appliance.yaml" <<YAML
data-dir: $work/state
log-level: warning
http:
  listen: 127.0.0.1:$(free_port)
tftp:
  listen: 127.0.0.1:$port_provision
  root: $work/root
YAML
"$provision" serve --config "$work/appliance.yaml" >"$work/provision.log" 2>&1 &
pids+=($!)

port_hpa=$(free_port)
"$tftpd_hpa" -L -u nobody -s "$work/root" -a "127.0.0.1:$port_hpa" >"$work/tftpd-hpa.log" 2>&1 &
pids+=($!)

port_atftpd=$(free_port)
"$atftpd" --daemon --no-fork --user nobody --group nogroup --bind-address 127.0.0.1 --port "$port_atftpd" \
  --logfile "$work/atftpd.log" --maxthread 200 "$work/root" &
pids+=($!)
sleep 1

# seconds for one fetch, or "fail"
fetch() { # port file options...
  local port=$1 file=$2; shift 2
  local args=() option
  for option; do args+=(--option "$option"); done
  local start end
  start=$(date +%s.%N)
  if ! atftp -g -r "$file" -l "$work/out/$file" "${args[@]}" 127.0.0.1 "$port" >"$work/out/client.log" 2>&1; then
    echo fail; return
  fi
  end=$(date +%s.%N)
  cmp -s "$work/out/$file" "$work/root/$file" || { echo fail; return; }
  calc "$end - $start"
}

best() { # port file options... -> MiB/s, best of $runs
  local best=0 seconds size rate
  size=$(stat -c %s "$work/root/$2")
  for ((i = 0; i < runs; i++)); do
    seconds=$(fetch "$@")
    [[ $seconds == fail ]] && { echo fail; return; }
    rate=$(calc "$size / 1048576 / $seconds")
    best=$(calc "($rate > $best) ? $rate : $best")
  done
  printf '%.1f' "$best"
}

ratio() { [[ $1 == fail || $2 == fail || $2 == 0.0 ]] && echo "-" || printf '%.2fx' "$(calc "$1 / $2")"; }

printf '%-8s %-34s %10s %10s %10s %9s %9s\n' file options provision tftpd-hpa atftpd "vs hpa" "vs atftpd"
declare -A hpa_best=([64mib]=0 [1mib]=0) windowed=()
for file in 64mib 1mib; do
  for options in "blksize 512" "blksize 1468" "blksize 8192" "blksize 65464" \
    "blksize 1468|windowsize 16" "blksize 1468|windowsize 64" "blksize 8192|windowsize 8"; do
    IFS='|' read -r -a opts <<<"$options"
    p=$(best "$port_provision" "$file" "${opts[@]}")
    h=$(best "$port_hpa" "$file" "${opts[@]}")
    a=$(best "$port_atftpd" "$file" "${opts[@]}")
    [[ $h != fail ]] && hpa_best[$file]=$(calc "($h > ${hpa_best[$file]}) ? $h : ${hpa_best[$file]}")
    printf '%-8s %-34s %10s %10s %10s %9s %9s\n' "$file" "${options//|/, }" "$p" "$h" "$a" "$(ratio "$p" "$h")" "$(ratio "$p" "$a")"
    [[ $options == "blksize 1468|windowsize 16" ]] && windowed[$file]=$p
  done
done
for file in 64mib 1mib; do
  printf 'windowsize 16 vs tftpd-hpa best (%s): %s / %.1f MiB/s = %s\n' "$file" "${windowed[$file]}" "${hpa_best[$file]}" \
    "$(ratio "${windowed[$file]}" "$(printf '%.1f' "${hpa_best[$file]}")")"
done

# 100 concurrent 1 MiB transfers against Provision.
start=$(date +%s.%N)
for i in $(seq 1 100); do
  atftp -g -r 1mib -l "$work/out/c$i" --option "blksize 1468" --option "windowsize 16" 127.0.0.1 "$port_provision" \
    >/dev/null 2>&1 &
done
wait_failures=0
for job in $(jobs -p); do
  [[ " ${pids[*]} " == *" $job "* ]] && continue
  wait "$job" || wait_failures=$((wait_failures + 1))
done
end=$(date +%s.%N)
bad=0
for i in $(seq 1 100); do cmp -s "$work/out/c$i" "$work/root/1mib" || bad=$((bad + 1)); done
printf '100 concurrent 1 MiB (blksize 1468, windowsize 16): %d failed, %d corrupt, %.2f s, %.1f MiB/s aggregate\n' \
  "$wait_failures" "$bad" "$(calc "$end - $start")" "$(calc "100 / ($end - $start)")"
