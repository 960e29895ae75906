"""/health: is the service usable, and with which model."""

from __future__ import annotations

from typing import Annotated

import peewee
from fastapi import APIRouter, Depends, Response

from ticketbot.api.schemas import Health
from ticketbot.api.service import Service, get_service

router = APIRouter(tags=["health"])


@router.get(
    "/health",
    response_model=Health,
    summary="Service status, database reachability and model version",
    responses={503: {"model": Health, "description": "The database is unreachable"}},
)
def health(service: Annotated[Service, Depends(get_service)], response: Response) -> Health:
    """``ok`` with 200 when the database answers; ``degraded`` with 503 otherwise."""
    try:
        with service.database.connection_context():
            service.database.execute_sql("SELECT 1")
        database_ok = service.try_ensure_schema()
    except peewee.PeeweeException:
        database_ok = False
    if not database_ok:
        response.status_code = 503
    return Health(
        status="ok" if database_ok else "degraded",
        database=database_ok,
        model_version=service.classifier.version,
        model=service.classifier.info(),
    )
