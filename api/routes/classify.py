"""/classify: the department prediction for a text, without storing anything."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from ticketbot.api.auth import Caller
from ticketbot.api.errors import problem_responses
from ticketbot.api.routes.common import known_query_only
from ticketbot.api.schemas import Classification, ClassifyRequest
from ticketbot.api.service import Service, get_service

router = APIRouter(tags=["classification"], dependencies=[Depends(known_query_only)])


@router.post(
    "/classify",
    response_model=Classification,
    summary="Predict the department of a text (nothing is stored)",
    responses=problem_responses(400, 401, 413, 422),
)
def classify(
    body: ClassifyRequest, service: Annotated[Service, Depends(get_service)], caller: Caller
):
    """The department a ticket with this text would be routed to, with the top 3, and
    ``needs_review`` exactly as creating that ticket would set it."""
    routing = service.metrics.route(lambda: service.classifier.route(body.text))
    return Classification(
        department=routing.department,
        confidence=routing.confidence,
        ranking=routing.ranking,
        needs_review=routing.needs_review,
        model_version=routing.model_version,
    )
