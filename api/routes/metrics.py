"""/metrics: Prometheus figures of the server (requests, latency, tickets, model)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.security import HTTPAuthorizationCredentials
from prometheus_client import CONTENT_TYPE_LATEST

from ticketbot.api.auth import authenticate, bearer
from ticketbot.api.errors import problem_responses
from ticketbot.api.service import Service, get_service

router = APIRouter(tags=["health"])


@router.get(
    "/metrics",
    response_class=Response,
    summary="Prometheus metrics (text format)",
    responses={
        200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "The figures"},
        **problem_responses(401, 404),
    },
)
async def metrics(
    request: Request,
    service: Annotated[Service, Depends(get_service)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Response:
    """Requests and latency by route and status, tickets created and flagged
    ``needs_review`` by department, classification latency, and the model version.

    Needs a valid API key of any role unless ``TICKETBOT_METRICS=public``;
    ``TICKETBOT_METRICS=off`` removes the endpoint (404).
    """
    mode = service.settings.metrics
    if mode == "off":
        raise HTTPException(404, "Metrics are switched off (TICKETBOT_METRICS=off).")
    if mode == "key":
        await authenticate(request, credentials)
    return Response(service.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)
