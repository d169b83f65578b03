"""Requests per second and latency of `gesture-audit serve` at 1, 8 and 32 concurrent clients.

    python -m benchmarks.serve                               # starts its own server on a free port
    python -m benchmarks.serve --requests 200 --levels 1,8,32 --max-batch 16 --batch-wait-ms 5
    python -m benchmarks.serve --url http://127.0.0.1:8080 --token-file tokens   # a running server

Each client posts one photo to POST /v1/check and waits for the answer before sending the next
(a closed loop, like upload workers), until the level's `--requests` are answered. Photos: the
labelled scenes of ../shared/data/dev (24, the "dev" corpus of benchmarks/throughput.py) when
present, else rendered hands. Per level: requests/s over its wall time, p50/p99 latency measured by
the client, and the mean photos per engine call from /metrics. Client and server share the
machine, as they would on a one-box deployment. Writes benchmarks/results/serve-<date>-<machine>.json
and prints a markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import httpx
import numpy as np

import benchmarks
from benchmarks import write_results

REPO = Path(__file__).resolve().parents[1]
DEV = benchmarks.DEV


def photos(n: int = 24, seed: int = 0) -> tuple[str, list[bytes]]:
    """The dev scenes the throughput benchmark uses, or rendered hands where there is no dev set."""
    if (DEV / "labels.jsonl").is_file():
        rows = [json.loads(line) for line in (DEV / "labels.jsonl").read_text().splitlines() if line.strip()]
        scenes = [r for r in rows if r["kind"] in ("scene", "negative") or r["set"] == "mediapipe"]
        picked = np.random.default_rng(seed).choice(len(scenes), min(n, len(scenes)), replace=False)
        return "dev scenes", [(DEV / scenes[i]["path"]).read_bytes() for i in sorted(picked)]
    from gesture_audit.synth import GESTURES, render_hand

    rng = np.random.default_rng(seed)
    return "rendered hands", [
        render_hand(gesture=GESTURES[i % len(GESTURES)], rng=rng, size=(640, 480)).jpeg for i in range(n)
    ]


def start_server(folder: Path, args: list[str]) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = open(folder / "server.log", "wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "gesture_audit", "serve", "--port", str(port), *args],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"the server exited with {process.returncode}; see {folder / 'server.log'}")
        try:
            if httpx.get(url + "/readyz", timeout=5).status_code == 200:
                return process, url
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    process.kill()
    sys.exit("the server was not ready after 180 s")


def batch_totals(url: str, headers: dict) -> tuple[float, float]:
    """(engine calls, photos) so far, from /metrics."""
    values = {}
    for line in httpx.get(url + "/metrics", headers=headers, timeout=30).text.splitlines():
        if line.startswith(("gesture_audit_batch_size_count ", "gesture_audit_batch_size_sum ")):
            name, value = line.split()
            values[name] = float(value)
    return values.get("gesture_audit_batch_size_count", 0.0), values.get("gesture_audit_batch_size_sum", 0.0)


async def level(url: str, headers: dict, corpus: list[bytes], clients: int, requests: int) -> dict:
    latencies: list[float] = []
    errors: dict[str, int] = {}
    sent = 0

    async def client(http: httpx.AsyncClient) -> None:
        nonlocal sent
        while sent < requests:
            photo = corpus[sent % len(corpus)]
            sent += 1
            started = time.perf_counter()
            try:
                response = await http.post("/v1/check", content=photo, headers={"Content-Type": "image/jpeg"})
                outcome = str(response.status_code)
            except httpx.HTTPError as e:
                outcome = type(e).__name__
            if outcome == "200":
                latencies.append(time.perf_counter() - started)
            else:
                errors[outcome] = errors.get(outcome, 0) + 1

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=600, limits=limits) as http:
        calls, photos_before = batch_totals(url, headers)
        started = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(clients)))
        seconds = time.perf_counter() - started
    calls_after, photos_after = batch_totals(url, headers)
    ms = np.array(latencies) * 1000
    return {
        "clients": clients,
        "requests": requests,
        "ok": len(latencies),
        "errors": errors,
        "seconds": round(seconds, 2),
        "requests_per_s": round(len(latencies) / seconds, 2),
        "p50_ms": round(float(np.percentile(ms, 50)), 1) if len(ms) else None,
        "p99_ms": round(float(np.percentile(ms, 99)), 1) if len(ms) else None,
        "mean_batch": round((photos_after - photos_before) / max(1.0, calls_after - calls), 2),
    }


def table(record: dict) -> str:
    lines = [
        "| clients | requests/s | p50 ms | p99 ms | photos per engine call | errors |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for r in record["levels"]:
        lines.append(
            f"| {r['clients']} | {r['requests_per_s']:.2f} | {r['p50_ms']:.0f} | {r['p99_ms']:.0f} | "
            f"{r['mean_batch']:.1f} | {sum(r['errors'].values())} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--levels", default="1,8,32", help="concurrent clients per level")
    parser.add_argument("--requests", type=int, default=200, help="requests per level")
    parser.add_argument("--max-batch", type=int, default=16)
    parser.add_argument("--batch-wait-ms", type=float, default=5.0)
    parser.add_argument("--url", help="a running server instead of one started here")
    parser.add_argument("--token-file", type=Path, help="its bearer token (first line used)")
    args = parser.parse_args()

    source, corpus = photos()
    headers = {}
    if args.token_file:
        token = next(
            line.strip()
            for line in args.token_file.read_text().splitlines()
            if line.strip() and not line.startswith("#")
        )
        headers["Authorization"] = f"Bearer {token}"
    import onnxruntime

    record = {
        "date": date.today().isoformat(),
        "machine": platform.node(),
        "cpu_count": os.cpu_count(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "onnxruntime": onnxruntime.__version__,
        "server": args.url or {"max_batch": args.max_batch, "batch_wait_ms": args.batch_wait_ms},
        "photos": {
            "source": source,
            "count": len(corpus),
            "mean_kb": round(statistics.mean(map(len, corpus)) / 1024, 1),
        },
        "levels": [],
    }
    with tempfile.TemporaryDirectory(prefix="gesture-audit-bench-serve-") as tmp:
        process = None
        url = args.url
        if not url:
            process, url = start_server(
                Path(tmp), ["--max-batch", str(args.max_batch), "--batch-wait-ms", str(args.batch_wait_ms)]
            )
        try:
            asyncio.run(level(url, headers, corpus, 4, 8))  # warm-up: first calls allocate
            for clients in map(int, args.levels.split(",")):
                result = asyncio.run(level(url, headers, corpus, clients, args.requests))
                record["levels"].append(result)
                print(
                    f"  {clients} clients: {result['requests_per_s']} req/s, p50 {result['p50_ms']} ms, "
                    f"p99 {result['p99_ms']} ms, {result['mean_batch']} photos/call",
                    flush=True,
                )
        finally:
            if process is not None:
                process.terminate()
                process.wait(60)
    out = write_results("serve", record)
    print()
    print(table(record))
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
