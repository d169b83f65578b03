"""The service's counters and histograms, written in the Prometheus text format (version 0.0.4).

A few dozen lines instead of prometheus-client: three metrics, one process, no extra dependency.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# Seconds per request: a small photo alone takes tens of milliseconds on a fast CPU, a batch
# behind a queue on a busy 2-core machine several seconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64)


def _labels(names: tuple[str, ...], values: tuple[str, ...], extra: str = "") -> str:
    pairs = [f'{n}="{_escape(v)}"' for n, v in zip(names, values)]
    if extra:
        pairs.append(extra)
    return "{" + ",".join(pairs) + "}" if pairs else ""


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf"
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


class Counter:
    def __init__(self, name: str, help: str, labels: tuple[str, ...] = ()):
        self.name, self.help, self.label_names = name, help, labels
        self._values: dict[tuple[str, ...], float] = {}
        self._lock = threading.Lock()

    def inc(self, *labels: str, amount: float = 1.0) -> None:
        with self._lock:
            self._values[labels] = self._values.get(labels, 0.0) + amount

    def render(self) -> Iterable[str]:
        yield f"# HELP {self.name} {self.help}"
        yield f"# TYPE {self.name} counter"
        with self._lock:
            items = sorted(self._values.items())
        for labels, value in items:
            yield f"{self.name}{_labels(self.label_names, labels)} {_number(value)}"


class Histogram:
    def __init__(self, name: str, help: str, buckets: tuple[float, ...], labels: tuple[str, ...] = ()):
        self.name, self.help, self.label_names = name, help, labels
        self.buckets = tuple(sorted(buckets)) + (math.inf,)
        self._series: dict[tuple[str, ...], list[float]] = {}  # per-bucket counts, then the sum
        self._lock = threading.Lock()

    def observe(self, value: float, *labels: str) -> None:
        with self._lock:
            series = self._series.setdefault(labels, [0.0] * (len(self.buckets) + 1))
            for i, bound in enumerate(self.buckets):
                if value <= bound:
                    series[i] += 1
                    break
            series[-1] += value

    def render(self) -> Iterable[str]:
        yield f"# HELP {self.name} {self.help}"
        yield f"# TYPE {self.name} histogram"
        with self._lock:
            items = sorted((labels, list(series)) for labels, series in self._series.items())
        for labels, series in items:
            cumulative = 0.0
            for bound, count in zip(self.buckets, series):
                cumulative += count
                le = f'le="{_number(bound)}"'
                yield f"{self.name}_bucket{_labels(self.label_names, labels, le)} {_number(cumulative)}"
            yield f"{self.name}_sum{_labels(self.label_names, labels)} {_number(series[-1])}"
            yield f"{self.name}_count{_labels(self.label_names, labels)} {_number(cumulative)}"


class ServiceMetrics:
    """What /metrics reports: requests by endpoint and status, their latency, engine batch sizes."""

    def __init__(self) -> None:
        self.requests = Counter(
            "gesture_audit_requests_total",
            "HTTP requests answered, by endpoint, method and status.",
            ("endpoint", "method", "status"),
        )
        self.latency = Histogram(
            "gesture_audit_request_duration_seconds",
            "Time from request to response, by endpoint.",
            LATENCY_BUCKETS,
            ("endpoint",),
        )
        self.batch_size = Histogram(
            "gesture_audit_batch_size", "Photos per engine call (micro-batches).", BATCH_BUCKETS
        )

    def observe_request(self, endpoint: str, method: str, status: int, seconds: float) -> None:
        self.requests.inc(endpoint, method, str(status))
        self.latency.observe(seconds, endpoint)

    def render(self) -> str:
        lines = [*self.requests.render(), *self.latency.render(), *self.batch_size.render()]
        return "\n".join(lines) + "\n"
