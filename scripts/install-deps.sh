#!/usr/bin/env bash
# Install the Debian packages a group of tasks needs, but only when some are missing
# (so repeated calls from test harnesses cost one dpkg-query per package, no apt run).
# Usage: scripts/install-deps.sh GROUP...   groups: build services clients tftp dhcp dns vm
set -euo pipefail

declare -A PKG_GROUPS=(
  [build]="libpcap-dev libldns-dev libsmbclient-dev libssl-dev libsqlite3-dev pkg-config"
  [services]="postgresql etcd-server etcd-client samba smbclient python3 curl"
  [clients]="ldnsutils curl"
  # Real TFTP clients for the interop tests, and the libraries of the peer servers scripts/bench-tftp.sh
  # unpacks (tftpd-hpa and atftpd conflict as packages, and installed they would start on port 69).
  [tftp]="tftp-hpa atftp curl libwrap0 libpcre2-8-0"
  # Real DHCP clients for the interop tests (ISC dhclient, busybox udhcpc, dhcpcd; none starts a service),
  # perfdhcp (kea-admin, which also brings the Kea libraries), and the libraries of the peer servers the
  # tests and scripts/bench-dhcp.sh unpack with dpkg -x (dnsmasq, kea-dhcp4: installed, they would take port 67).
  [dhcp]="isc-dhcp-client udhcpc dhcpcd-base kea-admin iproute2 libnetfilter-conntrack3 libnftables1"
  # Real DNS clients for the interop tests (dig, kdig, drill) and the load generator of scripts/bench-dns.sh;
  # none of them starts a daemon. The peer servers (nsd, dnsmasq) are unpacked by the script, never installed.
  [dns]="bind9-dnsutils knot-dnsutils ldnsutils dnsperf"
  # A virtual machine that network-boots: QEMU (run under TCG), its iPXE option ROMs, the iPXE binaries
  # the appliance serves over TFTP, and OVMF for UEFI.
  [vm]="qemu-system-x86 ipxe-qemu ipxe ovmf"
)

die() { echo "install-deps.sh: $*" >&2; exit 1; }

usage() { die "usage: $0 GROUP...  (groups: ${!PKG_GROUPS[*]})"; }

installed() {
  [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true) == "install ok installed" ]]
}

# Another apt/dpkg run (e.g. an install started in the background) holds the locks:
# DPkg::Lock::Timeout waits for the dpkg lock, the retry covers the apt lists lock.
apt_get() {
  local i
  for i in 1 2 3 4 5 6; do
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
      apt-get -o DPkg::Lock::Timeout=600 "$@" && return 0
    ((i < 6)) || break
    echo "install-deps.sh: apt-get $1 failed (locked?), retrying in 10s" >&2
    sleep 10
  done
  return 1
}

(($#)) || usage
missing=()
for group; do
  [[ -n ${PKG_GROUPS[$group]:-} ]] || usage
  for pkg in ${PKG_GROUPS[$group]}; do
    installed "$pkg" || [[ " ${missing[*]} " == *" $pkg "* ]] || missing+=("$pkg")
  done
done
((${#missing[@]})) || exit 0

# Root runs apt directly; anyone else goes through sudo (which resets the env,
# hence `env DEBIAN_FRONTEND=...` inside apt_get).
SUDO=()
if ((EUID != 0)); then
  command -v sudo >/dev/null || die "need root or sudo to install: ${missing[*]}"
  SUDO=(sudo)
fi
echo "install-deps.sh: installing ${missing[*]}" >&2
apt_get update -q
apt_get install -y -q --no-install-recommends "${missing[@]}"
