"""ticketbot-webhook: POST each ticket event as JSON to the URLs of a setting.

An example of the ``ticket_event`` hook (docs/plugin-hooks.md). Settings, read from the
environment of the API process at each event:

- ``TICKETBOT_WEBHOOK_URLS``: the URLs, separated by spaces or commas (nothing is sent while
  it is empty);
- ``TICKETBOT_WEBHOOK_TIMEOUT``: seconds per attempt (default 5);
- ``TICKETBOT_WEBHOOK_RETRIES``: attempts after the first one (default 3);
- ``TICKETBOT_WEBHOOK_BACKOFF``: seconds before the first retry, doubled at each retry
  (default 0.5; a ``Retry-After`` of a few seconds is honoured instead);
- ``TICKETBOT_WEBHOOK_SECRET``: when set, each request carries
  ``X-Ticketbot-Signature: sha256=<HMAC-SHA256 of the body with this secret>``;
- ``TICKETBOT_WEBHOOK_INTERNAL``: ``1`` to send the events of internal notes too (by default
  they stay inside ticketbot).

Connection errors, timeouts, 429 and 5xx answers are retried with backoff; another 4xx is
the receiver refusing the event, logged and not retried. An event still undelivered after the
last retry is dropped and logged. Each request carries ``X-Ticketbot-Event`` (the event's
type) and ``X-Ticketbot-Delivery`` (its id, the same on every retry, to deduplicate).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import logging
import os
import re
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests

from ticketbot import hookimpl

__version__ = "0.1.0"
log = logging.getLogger("ticketbot_webhook")
MAX_RETRY_AFTER = 30.0


@dataclass(frozen=True)
class Config:
    """The webhook settings."""

    urls: tuple[str, ...]
    timeout: float = 5.0
    retries: int = 3
    backoff: float = 0.5
    secret: str | None = None
    internal: bool = False

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Config:
        env = os.environ if environ is None else environ
        urls = []
        for url in re.split(r"[\s,]+", env.get("TICKETBOT_WEBHOOK_URLS", "").strip()):
            if not url:
                continue
            parts = urlsplit(url)
            if parts.scheme not in {"http", "https"} or not parts.netloc:
                log.warning("TICKETBOT_WEBHOOK_URLS: %r is not an http(s) URL; skipped", url)
                continue
            urls.append(url)
        return cls(
            urls=tuple(urls),
            timeout=_number(env, "TICKETBOT_WEBHOOK_TIMEOUT", 5.0, float, low=0.1),
            retries=_number(env, "TICKETBOT_WEBHOOK_RETRIES", 3, int, low=0),
            backoff=_number(env, "TICKETBOT_WEBHOOK_BACKOFF", 0.5, float, low=0.0),
            secret=env.get("TICKETBOT_WEBHOOK_SECRET") or None,
            internal=env.get("TICKETBOT_WEBHOOK_INTERNAL", "").strip().lower()
            in {"1", "true", "yes", "on"},
        )


def _number(env: dict[str, str], name: str, default, kind, low):
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        value = None
    if value is None or value < low:
        log.warning("%s=%r is not a number >= %s; using %s", name, raw, low, default)
        return default
    return value


def signature(secret: str, body: bytes) -> str:
    """The ``X-Ticketbot-Signature`` header of ``body``: ``sha256=<hex HMAC>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def deliver(url: str, event: dict[str, Any], config: Config, sleep=time.sleep) -> bool:
    """POST ``event`` to ``url``, retrying as the module says; True once a 2xx answers."""
    body = json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": f"ticketbot-webhook/{__version__}",
        "X-Ticketbot-Event": str(event.get("type")),
        "X-Ticketbot-Delivery": str(event.get("id")),
    }
    if config.secret:
        headers["X-Ticketbot-Signature"] = signature(config.secret, body)
    wait = config.backoff
    for attempt in range(config.retries + 1):
        retry_after = None
        try:
            response = requests.post(url, data=body, headers=headers, timeout=config.timeout)
        except requests.RequestException as error:
            problem = f"{type(error).__name__}"
        else:
            if 200 <= response.status_code < 300:
                return True
            if response.status_code != 429 and response.status_code < 500:
                log.warning(
                    "webhook %s refused the %s event of ticket %s (HTTP %s); not retried",
                    url,
                    event.get("type"),
                    event.get("ticket_id"),
                    response.status_code,
                )
                return False
            problem = f"HTTP {response.status_code}"
            retry_after = _retry_after(response)
        if attempt < config.retries:
            pause = retry_after if retry_after is not None else wait
            log.info("webhook %s: %s; retry %s in %.1f s", url, problem, attempt + 1, pause)
            sleep(pause)
            wait *= 2
    log.warning(
        "webhook %s: the %s event of ticket %s was dropped after %s attempts (last: %s)",
        url,
        event.get("type"),
        event.get("ticket_id"),
        config.retries + 1,
        problem,
    )
    return False


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "").strip()
    try:
        seconds = float(value)
    except ValueError:
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


_SETTINGS = (
    "TICKETBOT_WEBHOOK_URLS",
    "TICKETBOT_WEBHOOK_TIMEOUT",
    "TICKETBOT_WEBHOOK_RETRIES",
    "TICKETBOT_WEBHOOK_BACKOFF",
    "TICKETBOT_WEBHOOK_SECRET",
    "TICKETBOT_WEBHOOK_INTERNAL",
)


@functools.lru_cache(maxsize=8)
def _config(values: tuple[str | None, ...]) -> Config:
    return Config.from_env({k: v for k, v in zip(_SETTINGS, values, strict=True) if v is not None})


def current_config() -> Config:
    """The settings as the environment holds them now, parsed once per distinct value (an
    event costs a few lookups, not a parse)."""
    return _config(tuple(os.environ.get(name) for name in _SETTINGS))


@hookimpl
def ticket_event(event: dict[str, Any]) -> None:
    """Send ``event`` to every configured URL."""
    config = current_config()
    comment = event.get("comment") or {}
    if comment.get("internal") and not config.internal:
        return
    for url in config.urls:
        deliver(url, event, config)
