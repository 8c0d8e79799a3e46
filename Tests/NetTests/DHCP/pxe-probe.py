#!/usr/bin/env python3
# Plays PXE firmware's first step: broadcasts one DISCOVER with option 60 PXEClient and option 93 = 7
# (UEFI x86-64) on INTERFACE, and prints every OFFER heard within SECONDS as one line of key=value.
# Usage: pxe-probe.py INTERFACE MAC SECONDS
import socket, struct, sys, time

interface, mac, seconds = sys.argv[1], bytes.fromhex(sys.argv[2].replace(':', '')), float(sys.argv[3])
xid = 0x50584531
vendor = b'PXEClient:Arch:00007:UNDI:003016'
options = bytes([53, 1, 1, 93, 2, 0, 7, 60, len(vendor)]) + vendor + bytes([97, 17, 0]) + bytes(range(16)) + bytes([55, 4, 1, 3, 66, 67, 255])
packet = struct.pack('!BBBBIHH4s4s4s4s16s64s128sI', 1, 1, 6, 0, xid, 0, 0x8000, b'\0' * 4, b'\0' * 4, b'\0' * 4, b'\0' * 4,
                     mac.ljust(16, b'\0'), b'', b'', 0x63825363) + options
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, interface.encode())
s.bind(('0.0.0.0', 68))
s.sendto(packet, ('255.255.255.255', 67))
deadline = time.time() + seconds
while time.time() < deadline:
    s.settimeout(max(deadline - time.time(), 0.01))
    try:
        data, source = s.recvfrom(2048)
    except socket.timeout:
        break
    if len(data) < 240 or struct.unpack('!I', data[4:8])[0] != xid:
        continue
    fields = {'source': source[0], 'yiaddr': socket.inet_ntoa(data[16:20]), 'siaddr': socket.inet_ntoa(data[20:24]),
              'file': data[108:236].split(b'\0')[0].decode()}
    i = 240
    while i < len(data) and data[i] != 255:
        if data[i] == 0:
            i += 1
            continue
        code, length = data[i], data[i + 1]
        value = data[i + 2:i + 2 + length]
        if code == 53: fields['type'] = value[0]
        if code == 54: fields['server'] = socket.inet_ntoa(value)
        if code == 60: fields['vendor'] = value.decode()
        if code == 67: fields['bootfile'] = value.decode()
        if code == 97: fields['uuid'] = value.hex()
        i += 2 + length
    print(' '.join('%s=%s' % item for item in sorted(fields.items())), flush=True)
