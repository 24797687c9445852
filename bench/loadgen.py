"""A small closed-loop HTTP load generator: N clients posting forms, latencies recorded."""

from __future__ import annotations

import http.client
import os
import socket
import statistics
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import urlencode


@dataclass
class Result:
    requests: int
    seconds: float
    latencies: list[float]
    statuses: dict[int, int]

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000

    def line(self, name: str) -> str:
        return (
            f"{name:28s} {self.rate:8.1f} req/s   p50 {self.percentile(50):6.1f} ms   "
            f"p99 {self.percentile(99):6.1f} ms   statuses {dict(sorted(self.statuses.items()))}"
        )


def run(
    port: int,
    path: str,
    body: Callable[[int], dict],
    clients: int,
    total: int,
    headers: dict[str, str] | None = None,
    headers_for: Callable[[int], dict[str, str]] | None = None,
) -> Result:
    """Post ``total`` form bodies from ``clients`` threads; each waits for its answer.

    ``headers_for(i)`` adds headers of request ``i`` (say, the visitor's X-Forwarded-For).
    """
    counter = iter(range(total))
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    sent_headers = {"Content-Type": "application/x-www-form-urlencoded"} | (headers or {})

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                break
            start = time.perf_counter()
            try:
                extra = headers_for(i) if headers_for else {}
                conn.request("POST", path, urlencode(body(i)), sent_headers | extra)
                response = conn.getresponse()
                response.read()
                status = response.status
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
            except (http.client.HTTPException, OSError):
                conn.close()
                status = 0
            elapsed = time.perf_counter() - start
            with lock:
                latencies.append(elapsed)
                statuses[status] = statuses.get(status, 0) + 1

    threads = [threading.Thread(target=client) for _ in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return Result(total, time.perf_counter() - start, latencies, statuses)


def median(values: list[float]) -> float:
    return statistics.median(values)


def serve(
    command: list[str], port: int, cwd: Path, env: dict[str, str], log: IO[bytes] | None = None
) -> subprocess.Popen:
    """Start a server process and wait (up to a minute) until it accepts connections."""
    proc = subprocess.Popen(command, cwd=cwd, env=os.environ | env, stderr=log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"{command[0]} did not start on port {port}")
