"""Every error as application/problem+json (RFC 9457); no traceback ever reaches a client."""

from __future__ import annotations

import logging
from typing import Any

import peewee
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from playhouse.pool import MaxConnectionsExceeded
from starlette.exceptions import HTTPException as StarletteHTTPException

from ticketbot.api.lifecycle import Refused
from ticketbot.api.migrations import SchemaTooNew
from ticketbot.api.models import missing_table

log = logging.getLogger("ticketbot.api")

PROBLEM_MEDIA_TYPE = "application/problem+json"

# Stable problem types; docs/api.md describes each.
PROBLEM_TITLES = {
    400: ("bad-request", "Malformed request"),
    401: ("unauthorized", "Missing or invalid API key"),
    403: ("forbidden", "Not allowed for this API key"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    409: ("conflict", "Not allowed in the current state"),
    412: ("precondition-failed", "The ticket changed since it was read"),
    413: ("payload-too-large", "Request body too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("validation-error", "Invalid request"),
    500: ("internal-error", "Internal server error"),
    503: ("service-unavailable", "Service unavailable"),
    504: ("timeout", "The answer took too long"),
}


def problem(status: int, detail: str, headers: dict[str, str] | None = None, **extra: Any):
    """A problem+json response."""
    slug, title = PROBLEM_TITLES.get(status, ("error", "Error"))
    body = {"type": f"/problems/{slug}", "title": title, "status": status, "detail": detail}
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for the given error statuses."""
    from ticketbot.api.schemas import Problem

    return {
        status: {
            "model": Problem,
            "description": PROBLEM_TITLES[status][1],
            "content": {PROBLEM_MEDIA_TYPE: {}},
        }
        for status in statuses
    }


def _field_name(location: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in location) or "body"


def _validation_message(error: dict[str, Any]) -> str:
    message = str(error.get("msg", "invalid value"))
    # Pydantic prefixes messages of custom validators with "Value error, ".
    return message.removeprefix("Value error, ")


async def _on_validation_error(request: Request, exc: RequestValidationError):
    errors = exc.errors()
    if any(error.get("type") == "json_invalid" for error in errors):
        return problem(400, "The request body is not valid JSON.")
    fields = [
        {
            "field": _field_name(tuple(error.get("loc", ()))),
            "message": _validation_message(error),
            "type": str(error.get("type", "value_error")),
        }
        for error in errors
    ]
    summary = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
    return problem(422, f"Fix these fields and retry: {summary}", errors=fields)


async def _on_http_error(request: Request, exc: StarletteHTTPException):
    detail = (
        exc.detail
        if isinstance(exc.detail, str)
        else PROBLEM_TITLES.get(exc.status_code, ("", "Error"))[1]
    )
    headers = dict(getattr(exc, "headers", None) or {})
    if exc.status_code == 405:
        allowed = _allowed_methods(request)
        headers["Allow"] = ", ".join(allowed)
        detail = (
            f"{request.method} is not allowed on {request.url.path}; use {' or '.join(allowed)}."
        )
    return problem(exc.status_code, detail, headers=headers or None)


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route accepts for this path (Starlette names only the first route's)."""
    from starlette.routing import Match

    scope = {**request.scope, "method": "GET"}
    methods: set[str] = set()

    def visit(routes: list[Any]) -> None:
        for route in routes:
            # Included routers nest their routes (FastAPI wraps them in another object).
            nested = getattr(route, "routes", None) or getattr(
                getattr(route, "original_router", None), "routes", None
            )
            if nested:
                visit(nested)
            elif getattr(route, "methods", None) and route.matches(scope)[0] != Match.NONE:
                methods.update(route.methods)

    visit(request.app.routes)
    return sorted(methods)


async def _on_database_error(request: Request, exc: peewee.PeeweeException):
    log.warning("database error on %s %s: %s", request.method, request.url.path, exc)
    service = getattr(request.app.state, "service", None)
    if service is not None and missing_table(exc):
        service.schema_lost()
    return problem(
        503,
        "The ticket database is unreachable or busy; nothing was changed. Retry in a moment.",
        headers={"Retry-After": "5"},
    )


async def _on_schema_too_new(request: Request, exc: SchemaTooNew):
    log.error("%s", exc)
    return problem(503, str(exc))


async def _on_refused(request: Request, exc: Refused):
    return problem(exc.status, exc.detail, **exc.extra)


async def _on_unexpected_error(request: Request, exc: Exception):
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return problem(500, "An unexpected error occurred; it has been logged. Retry later.")


def install_error_handlers(app: FastAPI) -> None:
    """Route every error of ``app`` through the problem+json handlers above."""
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(peewee.OperationalError, _on_database_error)
    app.add_exception_handler(peewee.InterfaceError, _on_database_error)
    # PostgreSQL reports a missing table as a programming error: still the database's state.
    app.add_exception_handler(peewee.ProgrammingError, _on_database_error)
    app.add_exception_handler(MaxConnectionsExceeded, _on_database_error)
    app.add_exception_handler(SchemaTooNew, _on_schema_too_new)
    app.add_exception_handler(Refused, _on_refused)
    app.add_exception_handler(Exception, _on_unexpected_error)
