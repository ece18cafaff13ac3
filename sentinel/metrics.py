"""What the daemon counts, served as Prometheus text at ``/metrics``, with ``/healthz``
(200 while the daemon is healthy, 503 otherwise), when ``metrics: {host, port}`` is set
(``sentinel.config.MetricsConfig``).

Each daemon has its own registry (prometheus-client's), so two in one process (tests,
the demo) do not mix their counts. The pipeline and the outbox report to it through
plain callbacks; nothing below this module imports it.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    make_wsgi_app,
)
from prometheus_client.exposition import ThreadingWSGIServer

log = logging.getLogger("sentinel.metrics")
disable_created_metrics()  # no *_created series next to each counter

JOB_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)


class Metrics:
    """The daemon's counters (the names are the outside contract, PRODUCT.md)."""

    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        self.posts_fetched = Counter(
            "sentinel_posts_fetched",
            "Posts a source handed over (new, changed or seen).",
            ["source"],
            registry=r,
        )
        self.source_up = Gauge(
            "sentinel_source_up",
            "1 when the source's last run worked, else 0.",
            ["source"],
            registry=r,
        )
        self.matches = Counter(
            "sentinel_matches", "Posts matched against the watchlists.", registry=r
        )
        self.incidents_opened = Counter(
            "sentinel_incidents_opened", "Incidents opened.", registry=r
        )
        self.notifications_sent = Counter(
            "sentinel_notifications_sent", "Messages delivered.", ["channel"], registry=r
        )
        self.notifications_failed = Counter(
            "sentinel_notifications_failed",
            "Delivery attempts that failed (retried or given up).",
            ["channel"],
            registry=r,
        )
        self.job_duration = Histogram(
            "sentinel_job_duration_seconds",
            "How long each run of a job took.",
            ["job"],
            buckets=JOB_BUCKETS,
            registry=r,
        )

    # -- what the daemon reports -------------------------------------------------------
    def source_run(self, run) -> None:
        """A ``sentinel.pipeline.SourceRun`` that ended (a cancelled one says nothing)."""
        if run.error_kind == "cancelled":
            return
        self.posts_fetched.labels(run.source).inc(run.new + run.changed + run.seen)
        self.source_up.labels(run.source).set(0 if run.error else 1)

    def processed(self, stats) -> None:
        """A ``sentinel.pipeline.ProcessStats`` of one matching pass."""
        self.matches.inc(max(0, stats.matched))
        self.incidents_opened.inc(stats.incidents_opened)

    def delivery(self, channel: str, outcome: str) -> None:
        """One message's delivery attempt: ``sent``, or ``retry``/``failed``."""
        if outcome == "sent":
            self.notifications_sent.labels(channel).inc()
        elif outcome in ("retry", "failed"):
            self.notifications_failed.labels(channel).inc()

    def job(self, name: str, seconds: float) -> None:
        self.job_duration.labels(name).observe(seconds)

    def text(self) -> str:
        from prometheus_client import generate_latest

        return generate_latest(self.registry).decode("utf-8")


class _Quiet(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


class MetricsServer:
    """``/metrics`` and ``/healthz`` on a thread of their own."""

    def __init__(self, metrics: Metrics, host: str, port: int, healthy: Callable[[], dict]):
        self.metrics, self.healthy = metrics, healthy
        prometheus = make_wsgi_app(metrics.registry)

        def app(environ, start_response):
            path = environ.get("PATH_INFO", "")
            if path == "/metrics":
                return prometheus(environ, start_response)
            if path == "/healthz":
                state = healthy()
                status = "200 OK" if state.get("ok") else "503 Service Unavailable"
                body = json.dumps(state, ensure_ascii=False, default=str).encode("utf-8")
                start_response(status, [("Content-Type", "application/json; charset=utf-8")])
                return [body]
            start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
            return ["只有 /metrics 和 /healthz\n".encode()]

        self._httpd = make_server(host, port, app, ThreadingWSGIServer, handler_class=_Quiet)
        self.port = self._httpd.server_port
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="metrics", daemon=True
        )

    def start(self) -> MetricsServer:
        self._thread.start()
        log.info("监控指标：http://%s:%d/metrics", self._httpd.server_address[0], self.port)
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
