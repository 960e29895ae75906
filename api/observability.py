"""What an operator sees: Prometheus metrics, one access-log line per request, request ids.

Metrics live in a registry of their own per application (tests build many apps in one
process). With ``--workers N`` every worker writes its figures to the directory named by
``PROMETHEUS_MULTIPROC_DIR`` (``ticketbot serve`` creates one) and ``/metrics`` adds them
up with prometheus-client's multiprocess collector, so the figures cover the whole server
whichever worker answers.
"""

from __future__ import annotations

import logging
import os
import random
import re
import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

access_log = logging.getLogger("ticketbot.access")

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
REQUEST_ID_HEADER = b"x-request-id"
_CLIENT_REQUEST_ID = re.compile(rb"^[A-Za-z0-9._-]{1,64}$")
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
_CLASSIFY_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05)


class Metrics:
    """The metrics of one API instance (names start with ``ticketbot_``)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "ticketbot_http_requests",
            "HTTP requests answered, by method, route and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "ticketbot_http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route",
            ["method", "route"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.tickets_created = Counter(
            "ticketbot_tickets_created",
            "Tickets created, by department they were routed to",
            ["department"],
            registry=self.registry,
        )
        self.tickets_flagged = Counter(
            "ticketbot_tickets_needs_review",
            "Tickets created with needs_review (divide by tickets_created for the rate)",
            ["department"],
            registry=self.registry,
        )
        self.classification = Histogram(
            "ticketbot_classification_duration_seconds",
            "Time the department classifier takes for one text",
            buckets=_CLASSIFY_BUCKETS,
            registry=self.registry,
        )
        self.group_commit = Histogram(
            "ticketbot_sqlite_writes_per_commit",
            "Tickets created per SQLite transaction: those created while the writer works "
            "share the next commit (group commit)",
            buckets=(1, 2, 4, 8, 16, 32, 64),
            registry=self.registry,
        )
        self.model = Gauge(
            "ticketbot_model_info",
            "The department model in use (value 1, version as label)",
            ["version"],
            registry=self.registry,
            multiprocess_mode="max",
        )

    def model_loaded(self, version: str) -> None:
        """Record the department model version in use (the one before goes)."""
        self.model.clear()
        self.model.labels(version=version).set(1)

    def exposition(self) -> bytes:
        """The Prometheus text format of every figure (every worker's in multiprocess mode)."""
        from prometheus_client import generate_latest

        if os.environ.get(MULTIPROCESS_ENV):
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)

    def route(self, routing: Any) -> Any:
        """Time a call of ``routing()`` (the classifier) and return its result."""
        started = time.perf_counter()
        try:
            return routing()
        finally:
            self.classification.observe(time.perf_counter() - started)

    def ticket_created(self, department: str, needs_review: bool) -> None:
        """Count a created ticket."""
        self.tickets_created.labels(department=department).inc()
        if needs_review:
            self.tickets_flagged.labels(department=department).inc()


def _new_request_id() -> bytes:
    """16 hex digits, unique enough to find a request in the logs. Not uuid4: os.urandom
    releases the GIL around its system call, and taking it back from the busy threads cost
    up to 0.08 ms per request in a profile of the server under load."""
    return f"{random.getrandbits(64):016x}".encode()


class RequestLog:
    """ASGI middleware: a request id on every response (``X-Request-ID``, the client's own
    if it sent a sane one), request counts and latency by route template, and one access-log
    line per request: method, path, status, milliseconds, key name (never the key)."""

    def __init__(self, app: ASGIApp, metrics: Metrics, log_requests: bool) -> None:
        self.app = app
        self.metrics = metrics
        self.log_requests = log_requests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = (
            next(
                (
                    value
                    for name, value in scope.get("headers", [])
                    if name == REQUEST_ID_HEADER and _CLIENT_REQUEST_ID.match(value)
                ),
                None,
            )
            or _new_request_id()
        )
        scope.setdefault("state", {})["request_id"] = request_id.decode()
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {
                    **message,
                    "headers": [*message.get("headers", []), (REQUEST_ID_HEADER, request_id)],
                }
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            method = scope["method"]
            self.metrics.requests.labels(method=method, route=route, status=str(status)).inc()
            self.metrics.latency.labels(method=method, route=route).observe(seconds)
            if self.log_requests:
                access_log.info(
                    "%s %s %s %.1fms key=%s request_id=%s",
                    method,
                    scope.get("path", ""),
                    status,
                    seconds * 1000,
                    scope["state"].get("key_name", "-"),
                    request_id.decode(),
                )
