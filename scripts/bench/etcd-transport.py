#!/usr/bin/env python3
"""Puts (and gets) per second against one etcd: through its JSON gateway vs through gRPC.

The same workload both ways, from the same Python process model, so the difference is the transport:
  gateway  http.client keep-alive connections, POST /v3/kv/put and /v3/kv/range (what EtcdKV speaks)
  grpc     the etcd3 package (grpcio, one HTTP/2 channel shared by all writers, as clientv3 does)
Writers are threads; each writes its own keys under /bench/. Rounds alternate the transports.

  python3 -m venv /tmp/etcd-bench && /tmp/etcd-bench/bin/pip install etcd3 'protobuf<4' grpcio
  /tmp/etcd-bench/bin/python scripts/bench/etcd-transport.py http://127.0.0.1:2379 --writers 1 64
"""
import argparse
import base64
import http.client
import json
import statistics
import threading
import time
from urllib.parse import urlparse


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def gateway_worker(host, port, op, keys, value, latencies):
    conn = http.client.HTTPConnection(host, port)
    headers = {"Content-Type": "application/json"}
    for key in keys:
        if op == "put":
            path, body = "/v3/kv/put", {"key": b64(key), "value": b64(value)}
        else:
            path, body = "/v3/kv/range", {"key": b64(key)}
        start = time.perf_counter()
        conn.request("POST", path, json.dumps(body), headers)
        response = conn.getresponse()
        payload = response.read()
        latencies.append(time.perf_counter() - start)
        if response.status != 200:
            raise RuntimeError(payload)
    conn.close()


def grpc_worker(client, op, keys, value, latencies):
    for key in keys:
        start = time.perf_counter()
        if op == "put":
            client.put(key, value)
        else:
            client.get(key)
        latencies.append(time.perf_counter() - start)


def run(transport, op, writers, per_writer, url, grpc_client, tag):
    value = b"v" * 64
    threads, latencies = [], []
    for w in range(writers):
        keys = [f"/bench/{tag}/{w}/{i}".encode() for i in range(per_writer)]
        if transport == "gateway":
            args = (url.hostname, url.port, op, keys, value, latencies)
            threads.append(threading.Thread(target=gateway_worker, args=args))
        else:
            threads.append(threading.Thread(target=grpc_worker, args=(grpc_client, op, keys, value, latencies)))
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    latencies.sort()
    return writers * per_writer / elapsed, latencies[len(latencies) // 2] * 1000, latencies[int(len(latencies) * 0.99)] * 1000


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("endpoint")
    parser.add_argument("--writers", type=int, nargs="+", default=[1, 64])
    parser.add_argument("--ops", type=int, default=3000, help="operations per round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    url = urlparse(args.endpoint)
    import etcd3  # imported late so --help works without it

    grpc_client = etcd3.client(host=url.hostname, port=url.port)
    print(f"{'op':4} {'writers':>7} {'transport':9} {'ops/s (median)':>15} {'p50 ms':>7} {'p99 ms':>7}  rounds")
    for op in ("put", "get"):
        for writers in args.writers:
            results = {"gateway": [], "grpc": []}
            for r in range(args.rounds):
                for transport in ("gateway", "grpc") if r % 2 == 0 else ("grpc", "gateway"):
                    # gets read the keys the puts of the same round wrote
                    tag = f"{transport}-{writers}-{r}"
                    per_writer = max(1, args.ops // writers)
                    results[transport].append(run(transport, op, writers, per_writer, url, grpc_client, tag))
            for transport, rounds in results.items():
                rate = statistics.median(x[0] for x in rounds)
                p50 = statistics.median(x[1] for x in rounds)
                p99 = statistics.median(x[2] for x in rounds)
                print(f"{op:4} {writers:7} {transport:9} {rate:15.0f} {p50:7.2f} {p99:7.2f}  "
                      + " ".join(f"{x[0]:.0f}" for x in rounds), flush=True)
    grpc_client.delete_prefix("/bench/")


if __name__ == "__main__":
    main()
