"""/health: is the service usable, and with which model."""

from __future__ import annotations

from typing import Annotated

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
    """``ok`` with 200 when the database answers, holds its tables and takes writes;
    ``degraded`` with 503 and what is wrong otherwise. Lost tables are created again."""
    problem = service.database_problem()
    if problem is not None:
        response.status_code = 503
    return Health(
        status="ok" if problem is None else "degraded",
        database=problem is None,
        problem=problem,
        model_version=service.classifier.version,
        model=service.classifier.info(),
    )
