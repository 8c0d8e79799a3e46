#!/usr/bin/env bash
# Fuzz a parser with libFuzzer for SECONDS (default 30): builds the target with -sanitize=fuzzer,address in
# its own build folder, runs it over a corpus seeded from the test captures, and fails on any crash.
# Crashers are left in .build/fuzz/<target>-artifacts/; pin each as a named test (see TFTPCrasherTests).
# Usage: scripts/fuzz.sh tftp|dhcp|dns [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: scripts/fuzz.sh tftp|dhcp|dns [SECONDS]}
seconds=${2:-30}
case $target in
  tftp) product=tftp-fuzz ;;
  dhcp) product=dhcp-fuzz ;;
  dns) product=dns-fuzz ;;
  *) echo "fuzz.sh: unknown target $target (known: tftp dhcp dns)" >&2; exit 2 ;;
esac

# lld: gold hits an internal error on the ASan-instrumented objects.
build=.build/fuzz
flags=(-c release --build-path "$build" -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld -Xswiftc -D -Xswiftc FUZZING)
swift build "${flags[@]}" --product "$product" >"$build.log" 2>&1 || { tail -30 "$build.log"; exit 1; }
binary=$(swift build "${flags[@]}" --show-bin-path)/$product

corpus=$build/$target-corpus
artifacts=$build/$target-artifacts
mkdir -p "$corpus" "$artifacts"
if [[ $target == dhcp ]]; then
  # Seeds: every DHCP datagram of the shared captures (DISCOVER to ACK, relayed, proxyDHCP, port 4011).
  python3 - "$corpus" ../shared/testdata/pcap/*.pcap <<'PY'
import struct, sys
out = sys.argv[1]
for path in sys.argv[2:]:
    data = open(path, 'rb').read()
    if len(data) < 24 or data[:4] not in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1'): continue
    link = struct.unpack('<I', data[20:24])[0]
    off, n = 24, 0
    while off + 16 <= len(data):
        caplen = struct.unpack('<I', data[off + 8:off + 12])[0]
        frame = data[off + 16:off + 16 + caplen]; off += 16 + caplen; n += 1
        ip = frame[14:] if link == 1 else frame[16:] if link == 113 else frame
        if len(ip) < 28 or ip[0] >> 4 != 4 or ip[9] != 17: continue
        udp = ip[(ip[0] & 15) * 4:]
        sport, dport = struct.unpack('>HH', udp[:4])
        if {sport, dport} & {67, 68, 4011}:
            open('%s/%s-%d' % (out, path.rsplit('/', 1)[-1][:-5], n), 'wb').write(udp[8:])
PY
  max_len=1500
elif [[ $target == dns ]]; then
  # Seeds: a query with EDNS, a compressed response, an AXFR query and a NOTIFY.
  printf '\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x01\x04pxe1\x03lab\x00\x00\x01\x00\x01\x00\x00\x29\x04\xd0\x00\x00\x80\x00\x00\x00' >"$corpus/query"
  printf '\xab\xcd\x85\x00\x00\x01\x00\x02\x00\x00\x00\x00\x03www\x03lab\x00\x00\x05\x00\x01\xc0\x0c\x00\x05\x00\x01\x00\x00\x0e\x10\x00\x07\x04pxe1\xc0\x10\xc0\x25\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x0a\x00\x00\x15' >"$corpus/response"
  printf '\x00\x07\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03lab\x00\x00\xfc\x00\x01' >"$corpus/axfr"
  printf '\x00\x08\x24\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03lab\x00\x00\x06\x00\x01' >"$corpus/notify"
  max_len=1024
else
# Seeds: every request of the RFCs' shapes, as the captures show them.
printf '\x00\x01pxelinux.0\x00octet\x00blksize\x001432\x00tsize\x000\x00' >"$corpus/rrq"
printf '\x00\x01ipxe.efi\x00octet\x00tsize\x000\x00blksize\x001468\x00windowsize\x004\x00' >"$corpus/rrq-window"
printf '\x00\x02up\x00netascii\x00' >"$corpus/wrq"
printf '\x00\x03\x00\x01data' >"$corpus/data"
printf '\x00\x04\x00\x01' >"$corpus/ack"
printf '\x00\x05\x00\x08User aborted the transfer\x00' >"$corpus/error"
printf '\x00\x06blksize\x001432\x00tsize\x0042430\x00' >"$corpus/oack"
  max_len=1024
fi

echo "fuzz.sh: $product for ${seconds}s" >&2
"$binary" "$corpus" -max_total_time="$seconds" -max_len="$max_len" -artifact_prefix="$artifacts/" -print_final_stats=1 \
  2>&1 | tail -25
