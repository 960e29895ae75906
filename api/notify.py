"""Plugins hear of ticket events (the ``ticket_event`` hook) without slowing any request.

A request that committed a change hands its event to :meth:`EventNotifier.publish`, which only
puts it on a bounded queue (never waits: when the queue is full the event is dropped and
logged). One background thread takes events off the queue in order and calls each plugin's
implementation on a thread of the plugin's own pool (threads reused: starting one per event
cost more than a request's database write), waiting at most the time limit: a call that takes
longer is logged and left to finish while the next events go on; a plugin with too many calls
still running is skipped (and logged) until they end. Exceptions are logged with the plugin's
name. With no implementation at all, publishing costs nothing.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("ticketbot.api.events")

HOOK = "ticket_event"
MAX_RUNNING_PER_PLUGIN = 4  # calls past their time limit a plugin may have before it is skipped


@dataclass(frozen=True)
class Listener:
    """One plugin's implementation of the hook."""

    plugin: str
    function: Any
    argnames: tuple[str, ...]


def listeners(plugins: Any) -> list[Listener]:
    """The implementations of ``ticket_event`` among ``plugins`` (a loaded
    :class:`ticketbot.plugin_manager.Plugins`), in pluggy's calling order."""
    if plugins is None:
        return []
    caller = getattr(plugins.manager.hook, HOOK, None)
    if caller is None:
        return []
    return [
        Listener(impl.plugin_name, impl.function, tuple(impl.argnames))
        for impl in reversed(caller.get_hookimpls())  # pluggy calls the last registered first
    ]


class EventNotifier:
    """Delivers events to the listeners on a background thread (see the module's doc)."""

    def __init__(
        self, listeners: list[Listener], *, queue_size: int = 1000, time_limit: float = 30.0
    ) -> None:
        self.listeners = listeners
        self.time_limit = time_limit
        self.queue: queue.Queue[dict[str, Any] | None] = queue.Queue(maxsize=queue_size)
        # Counts, for tests and logs: delivered, raised, past the time limit, skipped (too
        # many calls still running), dropped (queue full).
        self.counts = {"delivered": 0, "failed": 0, "timed_out": 0, "skipped": 0, "dropped": 0}
        self._running: dict[str, int] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._workers = {
            listener.plugin: _Workers(f"ticketbot-event-{listener.plugin}")
            for listener in listeners
        }

    @property
    def active(self) -> bool:
        """True when some plugin listens."""
        return bool(self.listeners)

    def start(self) -> None:
        if self.active and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="ticketbot-events", daemon=True)
            self._thread.start()

    def publish(self, event: dict[str, Any]) -> None:
        """Queue ``event`` for the listeners; never blocks."""
        if not self.active:
            return
        try:
            self.queue.put_nowait(event)
        except queue.Full:
            self._count("dropped")
            log.warning(
                "event queue full (%s events): %s event of ticket %s dropped",
                self.queue.maxsize,
                event.get("type"),
                event.get("ticket_id"),
            )

    def stop(self, timeout: float = 5.0) -> None:
        """Deliver what is queued (waiting at most ``timeout`` seconds), then stop."""
        if self._thread is None:
            return
        deadline = time.monotonic() + timeout
        try:
            self.queue.put(None, timeout=timeout)
        except queue.Full:
            log.warning("event queue still full at shutdown: undelivered events dropped")
            return
        self._thread.join(max(0.0, deadline - time.monotonic()))
        if self._thread.is_alive():
            log.warning("ticket events still being delivered at shutdown were abandoned")
        self._thread = None

    def _run(self) -> None:
        while True:
            event = self.queue.get()
            if event is None:
                return
            for listener in self.listeners:
                self._call(listener, event)

    def _call(self, listener: Listener, event: dict[str, Any]) -> None:
        with self._lock:
            running = self._running.get(listener.plugin, 0)
            if running >= MAX_RUNNING_PER_PLUGIN:
                self.counts["skipped"] += 1
                log.warning(
                    "plugin %r skipped for the %s event of ticket %s: %s of its calls are "
                    "still running past the %s s limit",
                    listener.plugin,
                    event.get("type"),
                    event.get("ticket_id"),
                    running,
                    self.time_limit,
                )
                return
            self._running[listener.plugin] = running + 1

        def call() -> None:
            try:
                kwargs = {"event": event} if "event" in listener.argnames else {}
                listener.function(**kwargs)
                self._count("delivered")
            except BaseException as error:  # noqa: BLE001 - a plugin must not stop delivery
                self._count("failed")
                log.error(
                    "plugin %r failed on the %s event of ticket %s: %s: %s",
                    listener.plugin,
                    event.get("type"),
                    event.get("ticket_id"),
                    type(error).__name__,
                    error,
                    exc_info=error,
                )
            finally:
                with self._lock:
                    self._running[listener.plugin] -= 1

        if not self._workers[listener.plugin].run(call).wait(self.time_limit):
            self._count("timed_out")
            log.warning(
                "plugin %r took longer than %s s on the %s event of ticket %s; left running, "
                "going on with the next events",
                listener.plugin,
                self.time_limit,
                event.get("type"),
                event.get("ticket_id"),
            )

    def _count(self, what: str) -> None:
        with self._lock:
            self.counts[what] += 1


class _Workers:
    """Daemon threads that run one plugin's calls, started when none is idle and reused
    after (a plugin's calls left running past the limit keep theirs; daemon threads never
    hold up the process's exit)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.tasks: queue.SimpleQueue = queue.SimpleQueue()
        self.idle = 0
        self.lock = threading.Lock()

    def run(self, function) -> threading.Event:
        """Run ``function`` on one of the threads; the event is set when it returns."""
        done = threading.Event()
        with self.lock:
            start = self.idle == 0
            if not start:
                self.idle -= 1
        self.tasks.put((function, done))
        if start:
            threading.Thread(target=self._work, name=self.name, daemon=True).start()
        return done

    def _work(self) -> None:
        while True:
            function, done = self.tasks.get()
            try:
                function()
            finally:
                # Idle before the caller hears it is done: its next call finds this thread.
                with self.lock:
                    self.idle += 1
                done.set()
