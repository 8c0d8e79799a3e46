#!/usr/bin/env bash
# Unpacks Debian packages of peer servers (dnsmasq-base, kea-dhcp4-server) into .build/peers/PACKAGE without
# installing them: installed, they would start a daemon on port 67. Prints each unpacked root.
# Usage: scripts/peer-unpack.sh PACKAGE...
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .build/peers
for package; do
  root=.build/peers/$package
  if [[ ! -d $root ]]; then
    tmp=$(mktemp -d)
    (cd "$tmp" && apt-get download -q "$package" >/dev/null 2>&1 && dpkg-deb -x "$package"_*.deb "$package")
    mv "$tmp/$package" "$root"
    rm -rf "$tmp"
  fi
  echo "$PWD/$root"
done
