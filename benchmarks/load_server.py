"""Load test of `POST /v1/check` on a local `zkphoto serve` (loopback only, bounded).

    python benchmarks/load_server.py [--requests 200] [--concurrency 4] [--workers 2]

Starts `zkphoto serve` on 127.0.0.1 with a free port, waits for /healthz, sends at most
--requests multipart uploads of fixtures/sample.jpg from --concurrency client threads (stopping
after --max-seconds whatever happens), prints requests/s and latency percentiles, then stops
the server. Nothing leaves this machine.
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def multipart(photo: bytes) -> tuple[bytes, str]:
    b = uuid.uuid4().hex
    body = (f"--{b}\r\nContent-Disposition: form-data; name=\"spec\"\r\n\r\nmoe-2021\r\n"
            f"--{b}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"sample.jpg\"\r\n"
            f"Content-Type: image/jpeg\r\n\r\n").encode() + photo + f"\r\n--{b}--\r\n".encode()
    return body, f"multipart/form-data; boundary={b}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--max-seconds", type=float, default=120)
    args = ap.parse_args()
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "zkphoto.cli", "serve", "--host", "127.0.0.1",
                               "--port", str(port), "--workers", str(args.workers)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                c.request("GET", "/healthz")
                if c.getresponse().status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                print("server did not start")
                return 1
            time.sleep(0.2)
        body, ctype = multipart((ROOT / "fixtures" / "sample.jpg").read_bytes())
        # warm every worker (models load on first use)
        for _ in range(args.workers * 2):
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            c.request("POST", "/v1/check", body=body, headers={"Content-Type": ctype})
            c.getresponse().read()
        latencies: list[float] = []
        errors = 0
        lock = threading.Lock()
        counter = iter(range(args.requests))
        stop_at = time.monotonic() + args.max_seconds

        def client() -> None:
            nonlocal errors
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            for _ in counter:
                if time.monotonic() > stop_at:
                    return
                t0 = time.perf_counter()
                try:
                    conn.request("POST", "/v1/check", body=body, headers={"Content-Type": ctype})
                    r = conn.getresponse()
                    r.read()
                    ok = r.status == 200
                except OSError:
                    ok = False
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                with lock:
                    latencies.append(time.perf_counter() - t0)
                    errors += 0 if ok else 1

        t0 = time.perf_counter()
        threads = [threading.Thread(target=client) for _ in range(args.concurrency)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        lat = sorted(latencies)
        n = len(lat)
        p = (lambda q: lat[min(n - 1, int(q * n))] * 1000)
        print(f"POST /v1/check, sample.jpg (480×640), spec moe-2021; server workers {args.workers}, "
              f"client concurrency {args.concurrency}, {os.cpu_count()} cores")
        print(f"requests: {n} in {wall:.1f} s → {n / wall:.1f} req/s; errors: {errors}")
        print(f"latency: p50 {p(0.5):.0f} ms, p95 {p(0.95):.0f} ms, max {lat[-1] * 1000:.0f} ms, "
              f"mean {statistics.mean(lat) * 1000:.0f} ms")
        return 0 if errors == 0 else 1
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    sys.exit(main())
