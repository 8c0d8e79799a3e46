#!/usr/bin/env bash
# TFTP throughput on loopback: Provision against tftpd-hpa and atftpd, same client, same options.
# Fetches a 64 MiB and a 1 MiB file lock-step at several block sizes and with RFC 7440 windows, with two
# clients: atftp (the packaged client with windowsize; its time includes process start and the file
# write) and tftp-fetch (Benchmarks/TFTPFetch: receives each block in place with a 32 MiB socket buffer,
# times the transfer alone), then runs 100 concurrent 1 MiB transfers against Provision. Prints MiB/s and
# ratios; see docs/PERFORMANCE.md. Provision runs with max-window-bytes 4MiB (the default, 96KiB, suits
# clients with Linux's default socket buffer); the atftp rows ask for no window above 96 KiB anyway.
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

echo "bench-tftp: building provision and tftp-fetch (release)" >&2
for product in provision tftp-fetch; do
  swift build -c release --product "$product" >"$work/build.log" 2>&1 || { tail -30 "$work/build.log"; exit 1; }
done
provision=$(swift build -c release --show-bin-path)/provision
tftp_fetch=$(swift build -c release --show-bin-path)/tftp-fetch
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
  max-window-bytes: 4MiB
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

# seconds for one fetch, or "fail". OPTIONS is "blksize N" or "blksize N|windowsize M".
fetch() { # client port file options
  local client=$1 port=$2 file=$3 options=$4 opts args=() option start end
  IFS='|' read -r -a opts <<<"$options"
  rm -f "$work/out/$file"
  if [[ $client == atftp ]]; then
    for option in "${opts[@]}"; do args+=(--option "$option"); done
    start=$(date +%s.%N)
    atftp -g -r "$file" -l "$work/out/$file" "${args[@]}" 127.0.0.1 "$port" >"$work/out/client.log" 2>&1 || { echo fail; return; }
    end=$(date +%s.%N)
    cmp -s "$work/out/$file" "$work/root/$file" || { echo fail; return; }
    calc "$end - $start"
  else
    for option in "${opts[@]}"; do args+=("--${option% *}" "${option#* }"); done
    local result
    result=$("$tftp_fetch" "${args[@]}" --output "$work/out/$file" 127.0.0.1 "$port" "$file" 2>"$work/out/client.log") || { echo fail; return; }
    cmp -s "$work/out/$file" "$work/root/$file" || { echo fail; return; }
    echo "${result#* }"
  fi
}

best() { # client port file options -> MiB/s, best of $runs
  local best=0 seconds size rate
  size=$(stat -c %s "$work/root/$3")
  for ((i = 0; i < runs; i++)); do
    seconds=$(fetch "$@")
    [[ $seconds == fail ]] && { echo fail; return; }
    rate=$(calc "$size / 1048576 / $seconds")
    best=$(calc "($rate > $best) ? $rate : $best")
  done
  printf '%.1f' "$best"
}

ratio() { [[ $1 == fail || $2 == fail || $2 == 0.0 ]] && echo "-" || printf '%.2fx' "$(calc "$1 / $2")"; }
larger() { [[ $2 == fail ]] && echo "$1" || calc "($2 > $1) ? $2 : $1"; }

# tftpd-hpa has no windowsize: asked for one, it runs lock-step, which is its best with those options.
declare -A rows=(
  [atftp]="blksize 512;blksize 1468;blksize 8192;blksize 65464;blksize 1468|windowsize 16;blksize 1468|windowsize 64;blksize 8192|windowsize 8"
  [tftp-fetch]="blksize 512;blksize 1468;blksize 8192;blksize 65464;blksize 512|windowsize 16;blksize 1468|windowsize 16;blksize 1468|windowsize 64;blksize 32768|windowsize 16;blksize 65464|windowsize 16;blksize 65464|windowsize 64"
)
declare -A hpa_best=([64mib]=0 [1mib]=0) windowed_best=([64mib]=0 [1mib]=0) windowed_row=()
# Each windowed row (windowsize >= 16) against tftpd-hpa with the same options, which it runs lock-step.
declare -A same_block_lowest=()
for client in atftp tftp-fetch; do
  printf '\nclient: %s\n' "$client"
  printf '%-8s %-34s %10s %10s %10s %9s %9s\n' file options provision tftpd-hpa atftpd "vs hpa" "vs atftpd"
  IFS=';' read -r -a options_list <<<"${rows[$client]}"
  for file in 64mib 1mib; do
    for options in "${options_list[@]}"; do
      p=$(best "$client" "$port_provision" "$file" "$options")
      h=$(best "$client" "$port_hpa" "$file" "$options")
      a=$(best "$client" "$port_atftpd" "$file" "$options")
      hpa_best[$file]=$(larger "${hpa_best[$file]}" "$h")
      window=0
      [[ $options == *windowsize* ]] && window=${options##* }
      if ((window >= 16)) && [[ $p != fail && $h != fail ]]; then
        r=$(calc "$p / $h")
        lowest=${same_block_lowest[$client]:-}
        if [[ -z $lowest ]] || [[ $(calc "($r < ${lowest%% *}) ? 1 : 0") == 1 ]]; then
          same_block_lowest[$client]="$r ($file, ${options//|/, })"
        fi
      fi
      if ((window >= 16)) && [[ $p != fail ]] && [[ $(calc "($p > ${windowed_best[$file]}) ? 1 : 0") == 1 ]]; then
        windowed_best[$file]=$p
        windowed_row[$file]="$client, ${options//|/, }"
      fi
      printf '%-8s %-34s %10s %10s %10s %9s %9s\n' "$file" "${options//|/, }" "$p" "$h" "$a" "$(ratio "$p" "$h")" "$(ratio "$p" "$a")"
    done
  done
done
echo
for file in 64mib 1mib; do
  printf 'windowsize >= 16 best (%s: %s) vs tftpd-hpa best of any row: %s / %.1f MiB/s = %s\n' "$file" "${windowed_row[$file]:-none}" \
    "${windowed_best[$file]}" "${hpa_best[$file]}" "$(ratio "${windowed_best[$file]}" "$(printf '%.1f' "${hpa_best[$file]}")")"
done

for client in atftp tftp-fetch; do
  lowest=${same_block_lowest[$client]:-}
  [[ -n $lowest ]] && printf 'windowsize >= 16 vs tftpd-hpa at the same options (lock-step: it has no windowsize), %s, lowest row: %.2fx %s\n' \
    "$client" "${lowest%% *}" "${lowest#* }"
done

# What no server can beat on this machine: tftp-fetch against a bare sender in its own process (no file,
# no state machine), 64 KiB blocks, where GSO has nothing to pack. 5x tftpd-hpa's best is only reachable
# if this is above it.
for window in 16 64; do
  ceiling=0
  for ((i = 0; i < runs; i++)); do
    result=$("$tftp_fetch" --blksize 65464 --windowsize "$window" --ceiling $((64 << 20)) 2>/dev/null) || continue
    ceiling=$(larger "$ceiling" "$(calc "${result% *} / 1048576 / ${result#* }")")
  done
  printf 'ceiling (bare sender, 64 MiB, blksize 65464, windowsize %d): %.1f MiB/s = %.2fx tftpd-hpa best (64mib)\n' "$window" "$ceiling" \
    "$(calc "$ceiling / ${hpa_best[64mib]}")"
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
