#!/usr/bin/env bash
# Throwaway real services on 127.0.0.1 for the test suite: PostgreSQL, etcd (one
# node or a 3-member cluster) and Samba, each in its own dir with free ports.
# Usage: scripts/services.sh start|stop [postgres|etcd|etcd3|samba|all]...
#        scripts/services.sh status|env
# Tests read $PROVISION_SERVICES_DIR/env (default <repo>/.services/env).
# shellcheck disable=SC1090,SC1091,SC2001,SC2015 # own env fragments; A && B || C on purpose
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIR=${PROVISION_SERVICES_DIR:-$ROOT/.services}
ALL=(postgres etcd samba)         # what "start all" brings up; etcd3 is opt-in
KNOWN=(postgres etcd etcd3 samba) # also the env merge order: etcd3 wins over etcd
WAIT=${PROVISION_SERVICES_TIMEOUT:-60}
CURRENT= # service being started, for the failure report in on_exit
export ETCDCTL_API=3
# Stray ETCD_* variables would clash with our etcd flags (etcd 3.4 refuses to start).
for v in $(compgen -e | grep -E '^ETCD(CTL)?_' | grep -v '^ETCDCTL_API$' || true); do unset "$v"; done

log() { echo "services.sh: $*" >&2; }
die() { log "$*"; exit 1; }

free_ports() { # N distinct free loopback ports (sockets held together so they differ)
  python3 -c 'import socket,sys
s=[socket.socket() for _ in range(int(sys.argv[1]))]
[x.bind(("127.0.0.1",0)) for x in s]
print(" ".join(str(x.getsockname()[1]) for x in s))' "$1"
}

procstat() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null; } # fields from 3 (state) on

ours() { # PIDFILE: its pid runs, is no zombie, and has the recorded start time (pid reuse)
  local pid st f
  read -r pid st <"$1" 2>/dev/null || return 1
  read -ra f <<<"$(procstat "$pid")"
  [[ ${#f[@]} -gt 20 && ${f[0]} != Z && ${f[19]} == "$st" ]]
}

as() { local u=$1; shift; setpriv --reuid="$u" --regid="$u" --init-groups -- "$@"; }

launch() { # PREFIX CMD...: run detached in its own session (stop kills the group);
  # logs to PREFIX.log, "pid starttime" in PREFIX.pid. 9>&- : don't inherit our lock.
  local pf=$1.pid i pid f; shift
  rm -f "$pf" "$pf.tmp"
  # shellcheck disable=SC2016 # $$ and $@ are the inner shell's
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pf.tmp" "$@" </dev/null >>"${pf%.pid}.log" 2>&1 9>&- &
  for i in {1..50}; do [[ -s $pf.tmp ]] && break; sleep 0.1; done
  pid=$(cat "$pf.tmp") || die "could not launch $*"
  read -ra f <<<"$(procstat "$pid")"
  echo "$pid ${f[19]:-0}" >"$pf" && rm -f "$pf.tmp"
}

running() { # SVC: it has processes and all of them are up
  local pf n=0
  for pf in "$DIR/$1"/*.pid; do [[ -e $pf ]] || continue; ours "$pf" || return 1; n=$((n + 1)); done
  ((n > 0))
}

kill_svc() { # SVCDIR: polite signal to each main process, wait, then KILL its group
  local sd=$1 sig=TERM pf pid st i pids=()
  [[ ${sd##*/} == postgres ]] && sig=INT # fast shutdown, don't wait for clients
  for pf in "$sd"/*.pid; do
    ours "$pf" && read -r pid st <"$pf" || continue
    pids+=("$pid"); kill -"$sig" "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    for ((i = 0; i < 150; i++)); do [[ $(procstat "$pid") =~ ^[^Z] ]] || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true # leftovers: smbd children, pg backends
  done
  # Helpers that left the session, e.g. samba-dcerpcd, all name our dir on their cmdline.
  local re; re=$(sed 's/[][\.*^$+?(){}|]/\\&/g' <<<"$sd/") # literal path as ERE
  for sig in TERM KILL; do
    mapfile -t pids < <(pgrep -f -- "$re" || true)
    ((${#pids[@]})) || break
    kill -"$sig" "${pids[@]}" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do pgrep -f -- "$re" >/dev/null || break; sleep 0.1; done
  done
}

wait_until() { # SVC CMD...: poll CMD; give up after $WAIT s or when a process died
  local svc=$1 end=$((SECONDS + WAIT)); shift
  until "$@" >/dev/null 2>&1; do
    running "$svc" || die "$svc: a process exited during startup"
    ((SECONDS < end)) || die "$svc: not ready after ${WAIT}s: $*"
    sleep 0.2
  done
}

check() { (. "$DIR/$1/env" && "check_$1"); } # SVC: the health check, with its env
smb_port() { local p=${PROVISION_TEST_SMB_URL#smb://127.0.0.1:}; echo "${p%%/*}"; }
smb() { smbclient -p "$(smb_port)" //127.0.0.1/provision -U provision%provision "$@"; }

check_postgres() { [[ $("$PG_BIN/psql" -X "$PROVISION_TEST_POSTGRES_URL" -Atqc 'select 1') == 1 ]]; }
check_samba() { smb -c ls; }
check_etcd3() { check_etcd && [[ $(etcdctl --endpoints="$PROVISION_TEST_ETCD_ENDPOINTS" member list | wc -l) == 3 ]]; }
check_etcd() { # v3 API health on every endpoint, plus the JSON gateway tests rely on
  local ep
  etcdctl --endpoints="$PROVISION_TEST_ETCD_ENDPOINTS" --dial-timeout=2s endpoint health || return 1
  for ep in ${PROVISION_TEST_ETCD_ENDPOINTS//,/ }; do
    curl -sf --max-time 3 -X POST "$ep/v3/kv/range" -d '{"key":"Zm9v"}' |
      python3 -c 'import json,sys; assert "header" in json.load(sys.stdin)' || return 1
  done
}

start_postgres() {
  local sd=$1 port; port=$(free_ports 1)
  # initdb refuses root, so the server runs as the postgres user the package creates.
  as postgres test -x "$sd" || die "postgres: user postgres cannot reach $sd; set PROVISION_SERVICES_DIR"
  mkdir -m 700 "$sd/data" && mkdir "$sd/run" && chown postgres: "$sd/data" "$sd/run"
  as postgres "$PG_BIN/initdb" -D "$sd/data" -U postgres -E UTF8 --no-locale \
    --auth-local=trust --auth-host=scram-sha-256 >"$sd/setup.log" 2>&1
  # setpriv, not the `as` function: launch execs it, and setpriv keeps the pid.
  launch "$sd/postgres" setpriv --reuid=postgres --regid=postgres --init-groups -- "$PG_BIN/postgres" -D "$sd/data" \
    -c listen_addresses=127.0.0.1 -c port="$port" -c unix_socket_directories="$sd/run"
  wait_until postgres "$PG_BIN/pg_isready" -q -h "$sd/run" -p "$port"
  # Superuser over the private unix socket (trust); tests use password auth over TCP.
  as postgres "$PG_BIN/psql" -X -h "$sd/run" -p "$port" -U postgres -d postgres -qv ON_ERROR_STOP=1 \
    -c "CREATE ROLE provision LOGIN PASSWORD 'provision'" \
    -c "CREATE DATABASE provision OWNER provision" >>"$sd/setup.log" 2>&1
  echo "export PROVISION_TEST_POSTGRES_URL=postgres://provision:provision@127.0.0.1:$port/provision" >"$sd/env"
}

start_etcd() { start_etcd_cluster "$1" 1; }; start_etcd3() { start_etcd_cluster "$1" 3; }
start_etcd_cluster() { # SVCDIR N: N members m0.., each with its own client+peer port
  local sd=$1 n=$2 i p cluster='' eps='' ports token=provision-$RANDOM
  read -ra ports <<<"$(free_ports $((2 * n)))"
  for ((i = 0; i < n; i++)); do
    cluster+="${cluster:+,}m$i=http://127.0.0.1:${ports[2 * i + 1]}"
    eps+="${eps:+,}http://127.0.0.1:${ports[2 * i]}"
  done
  for ((i = 0; i < n; i++)); do
    p=${ports[2 * i]} # client port; the peer port is the next one
    launch "$sd/m$i" etcd --name "m$i" --data-dir "$sd/m$i.data" \
      --listen-client-urls "http://127.0.0.1:$p" --advertise-client-urls "http://127.0.0.1:$p" \
      --listen-peer-urls "http://127.0.0.1:${ports[2 * i + 1]}" \
      --initial-advertise-peer-urls "http://127.0.0.1:${ports[2 * i + 1]}" \
      --initial-cluster "$cluster" --initial-cluster-state new --initial-cluster-token "$token"
  done
  echo "export PROVISION_TEST_ETCD_ENDPOINTS=$eps" >"$sd/env"
  if ((n == 3)); then echo "export PROVISION_TEST_ETCD3_ENDPOINTS=$eps" >>"$sd/env"; fi
}

start_samba() {
  local sd=$1 port; port=$(free_ports 1)
  # smbd maps SMB users onto unix accounts, so the user must exist system-wide.
  id provision >/dev/null 2>&1 || useradd -M -s /usr/sbin/nologin provision
  mkdir "$sd"/{private,lock,state,cache,run,ncalrpc,share} && chown provision "$sd/share"
  as provision test -w "$sd/share" || die "samba: user provision cannot write $sd/share; set PROVISION_SERVICES_DIR"
  cat >"$sd/smb.conf" <<EOF
[global]
  server role = standalone server
  smb ports = $port
  interfaces = 127.0.0.1/8
  bind interfaces only = yes
  disable netbios = yes
  private dir = $sd/private
  lock directory = $sd/lock
  state directory = $sd/state
  cache directory = $sd/cache
  pid directory = $sd/run
  ncalrpc dir = $sd/ncalrpc
  passdb backend = tdbsam:$sd/private/passdb.tdb
  log file = $sd/smbd.log
  max log size = 0
  load printers = no
  printcap name = /dev/null
  disable spoolss = yes
[provision]
  path = $sd/share
  read only = no
  valid users = provision
EOF
  printf 'provision\nprovision\n' | smbpasswd -c "$sd/smb.conf" -s -a provision >"$sd/setup.log" 2>&1
  launch "$sd/smbd" smbd --foreground --no-process-group -s "$sd/smb.conf"
  printf 'export PROVISION_TEST_SMB_%s\n' "URL=smb://127.0.0.1:$port/provision" \
    USER=provision PASSWORD=provision >"$sd/env"
}

verify_samba() { # a put/get round trip: the share is really writable as provision
  local rt=$DIR/samba/roundtrip
  echo "provision $RANDOM" >"$rt.in"
  smb -c "put \"$rt.in\" rt.txt; get rt.txt \"$rt.out\"; del rt.txt" >>"$DIR/samba/setup.log" 2>&1
  cmp -s "$rt.in" "$rt.out" || die "samba: put/get round trip failed"
  rm -f "$rt.in" "$rt.out"
}

regen_env() { # merge the fragments of ready services; a repeated key: last one wins
  local svc files=()
  for svc in "${KNOWN[@]}"; do [[ -e $DIR/$svc/ready ]] && files+=("$DIR/$svc/env"); done
  : >"$DIR/env.tmp"
  if ((${#files[@]})); then
    awk '{k=$2; sub(/=.*/,"",k); if (!(k in v)) o[n++]=k; v[k]=$0}
         END {for (i = 0; i < n; i++) print v[o[i]]}' "${files[@]}" >"$DIR/env.tmp"
  fi
  mv "$DIR/env.tmp" "$DIR/env"
}

start_one() {
  local svc=$1 sd=$DIR/$1 t=$SECONDS
  if [[ -e $sd/ready ]] && running "$svc" && check "$svc" >/dev/null 2>&1; then
    log "$svc: already running"; return
  fi
  if [[ -d $sd ]]; then kill_svc "$sd"; rm -rf "$sd"; fi # stale or half-started
  mkdir -p "$sd" && chmod 755 "$sd"
  CURRENT=$svc
  "start_$svc" "$sd"
  wait_until "$svc" check "$svc"
  if [[ $svc == samba ]]; then (. "$sd/env" && verify_samba); fi
  touch "$sd/ready" && CURRENT= && regen_env
  log "$svc: up in $((SECONDS - t))s"
}

stop_one() {
  [[ -d $DIR/$1 ]] || return 0
  kill_svc "$DIR/$1" && rm -rf "${DIR:?}/$1" && regen_env && log "$1: stopped"
}

on_exit() { # on a failed start: show the logs, kill what was started (dir kept to inspect)
  local rc=$? f
  ((rc != 0)) && [[ -n $CURRENT ]] || return 0
  log "$CURRENT failed to start; logs in $DIR/$CURRENT:"
  for f in "$DIR/$CURRENT"/*.log; do [[ -s $f ]] && { echo "--- $f" >&2; tail -n 25 "$f" >&2; }; done
  kill_svc "$DIR/$CURRENT"
  exit "$rc"
}

cmd=${1:-}; shift || true
svcs=()
for a in "${@:-all}"; do
  case $a in
    all) if [[ $cmd == stop ]]; then svcs+=("${KNOWN[@]}"); else svcs+=("${ALL[@]}"); fi ;;
    postgres | etcd | etcd3 | samba) svcs+=("$a") ;;
    *) die "unknown service '$a' (postgres etcd etcd3 samba all)" ;;
  esac
done
case $cmd in
  start | stop)
    # Root is needed to run postgres as its user and for smbd/useradd.
    if ((EUID != 0)); then
      command -v sudo >/dev/null || die "$cmd needs root (or sudo)"
      exec sudo env PROVISION_SERVICES_DIR="$DIR" "$ROOT/scripts/services.sh" "$cmd" "$@"
    fi
    mkdir -p "$DIR" && DIR=$(cd "$DIR" && pwd)
    exec 9>"$DIR/.lock" && flock -w 600 9 # concurrent test runs take turns
    if [[ $cmd == start ]]; then
      "$ROOT/scripts/install-deps.sh" services
      PG_BIN=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n1)
      trap on_exit EXIT
      for s in "${svcs[@]}"; do start_one "$s"; done
    else
      for s in "${svcs[@]}"; do stop_one "$s"; done
    fi ;;
  status)
    for s in "${KNOWN[@]}"; do
      if [[ ! -d $DIR/$s ]]; then st=stopped
      elif [[ -e $DIR/$s/ready ]] && running "$s"; then st="running (pids $(cut -d' ' -f1 "$DIR/$s"/*.pid | xargs))"
      else st="broken (run: $0 start $s)"; fi
      printf '%-9s %s\n' "$s" "$st"
    done ;;
  env) cat "$DIR/env" 2>/dev/null || true ;;
  *) die "usage: $0 start|stop [postgres|etcd|etcd3|samba|all]... | status | env" ;;
esac
