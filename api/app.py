"""The application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

import ticketbot
from ticketbot.api.classifier import DepartmentClassifier
from ticketbot.api.conversations import Conversations
from ticketbot.api.db import close_database, connect_database, describe
from ticketbot.api.errors import install_error_handlers
from ticketbot.api.limits import BodySizeLimit, HeadAsGet
from ticketbot.api.models import bind_models
from ticketbot.api.notify import EventNotifier, listeners
from ticketbot.api.observability import Metrics, RequestLog
from ticketbot.api.registry import ActiveModelWatcher, Registry
from ticketbot.api.routes import audit, classify, conversations, health, pages, tickets
from ticketbot.api.routes import metrics as metrics_route
from ticketbot.api.routes.conversations import BotFactory
from ticketbot.api.service import Service
from ticketbot.api.settings import Settings

log = logging.getLogger("ticketbot.api")

DESCRIPTION = """\
Stores help-desk tickets and routes every new one to a department (IT, HR, Finance,
Facilities, Legal) with a TF-IDF + linear SVM classifier whose scores are turned into
probabilities by temperature scaling. Each ticket records the classifier's confidence, its
top 3 departments, the model version that decided, and `needs_review` when an agent should
check the routing (confidence under the review threshold chosen when the model was trained,
or nothing to route in the text).

Errors are `application/problem+json` documents with `type`, `title`, `status` and `detail`;
422 responses also list each field at fault in `errors`.
"""


def create_app(
    settings: Settings | None = None,
    classifier: DepartmentClassifier | None = None,
    plugins: Any = None,
) -> FastAPI:
    """Build an API instance. Its lifespan opens the database and loads the classifier,
    unless the caller already loaded it (``classifier``), and the plugins that listen to
    ticket events (``plugins``: a loaded :class:`ticketbot.plugin_manager.Plugins`; default:
    the installed ones, as ``TICKETBOT_LOAD_PLUGINS`` selects)."""
    settings = settings or Settings()
    preloaded = classifier
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        classifier = preloaded or DepartmentClassifier.from_settings(settings)
        database = connect_database(settings)
        notifier = EventNotifier(
            listeners(plugins if plugins is not None else _installed_plugins()),
            queue_size=settings.event_queue_size,
            time_limit=settings.event_hook_timeout,
        )
        service = Service(
            settings=settings,
            models=bind_models(database),
            classifier=classifier,
            metrics=metrics,
            notifier=notifier,
        )
        metrics.model_loaded(classifier.version)
        log.info("tickets stored in %s", describe(database))
        service.try_ensure_schema()

        def switch(new: DepartmentClassifier) -> None:
            service.classifier = new  # requests read it once each: no lock needed
            metrics.model_loaded(new.version)

        # The version activated in the database wins over the configured one; the watcher
        # applies it now, then every model_poll_seconds.
        watcher = ActiveModelWatcher(
            database,
            Registry(service.models),
            load_default=lambda: preloaded or DepartmentClassifier.from_settings(settings),
            apply=switch,
            interval=settings.model_poll_seconds,
            review_threshold=settings.review_threshold,
        )
        watcher.start()
        app.state.model_watcher = watcher
        log.info("department model %s", service.classifier.version)
        app.state.service = service
        app.state.conversations = Conversations(
            max_conversations=settings.max_conversations,
            idle_seconds=settings.conversation_idle_seconds,
        )
        app.state.bot_factory = BotFactory(plugins)
        notifier.start()
        try:
            yield
        finally:
            watcher.stop()
            notifier.stop()
            close_database(database)

    app = FastAPIOffline(
        title="ticketbot API",
        version=ticketbot.__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(HeadAsGet)
    app.add_middleware(RequestLog, metrics=metrics, log_requests=settings.access_log)
    _describe_labels(app)
    app.include_router(tickets.router)
    app.include_router(audit.router)
    app.include_router(classify.router)
    app.include_router(conversations.router)
    pages.install(app)
    app.include_router(health.router)
    app.include_router(metrics_route.router)
    return app


def _describe_labels(app: FastAPI) -> None:
    """The OpenAPI document lists the department model's labels as the values a PATCH may
    give ``department`` (known once the lifespan has loaded the model)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        cached = app.openapi_schema is not None
        schema = generate()
        service = getattr(app.state, "service", None)
        if not cached and service is not None:
            patch = schema.get("components", {}).get("schemas", {}).get("TicketPatch", {})
            department = patch.get("properties", {}).get("department")
            if department is not None:
                department["enum"] = list(service.classifier.labels)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _installed_plugins() -> Any:
    """The installed plugins (for their ``ticket_event`` hooks); a failing plugin is left out
    with a warning, as in the shell."""
    from ticketbot.plugin_manager import get_plugin_manager

    return get_plugin_manager()


def create_app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory`` (several workers): settings from the environment."""
    return create_app(Settings())
