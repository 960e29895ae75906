"""The reference for bench.api_throughput: ticketbot's POST /tickets without the classifier.

A minimal FastAPI + Peewee app that does everything ticketbot's POST /tickets does except
routing the text to a department:

- the same Pydantic validation (``ticketbot.api.schemas.TicketCreate``) and the same 201
  response (``ticketbot.api.schemas.TicketOut``, with a ``Location`` header);
- the same bearer-key check: the key's SHA-256 looked up in this database's own ``api_key``
  table (``ticketbot.api.keys.KeyStore``, which caches verified keys in memory for 5 s, as
  ticketbot does), and the same role check (requester or admin);
- the same database settings (``ticketbot.api.db.connect_database`` with
  ``ticketbot.api.settings.Settings``: SQLite in WAL mode with the same pragmas and IMMEDIATE
  transactions, or PostgreSQL through the same pool) and the same row
  (``ticketbot.api.models``: same table, same ``search_text``), with a constant department,
  confidence and top 3 instead of classifying.

It has no body-size middleware and no problem+json error handlers (they cost nothing or
little on a valid request), and one authentication dependency where ticketbot has a service
dependency, an authentication dependency and a role dependency.

    python -m bench.baseline_app --port 8001 --database-url sqlite:////tmp/baseline.db [--workers 2]

Create its key with ``ticketbot keys create --name NAME --role admin --database-url URL``
on the same database (the ``api_key`` table is ticketbot's).
"""

# No `from __future__ import annotations`: FastAPI must see the dependencies defined inside
# create_app() as objects, not as names to resolve in the module.
import argparse
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Response, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ticketbot.api.db import connect_database
from ticketbot.api.keys import KeyStore, Principal
from ticketbot.api.models import BoundModels, bind_models, search_key
from ticketbot.api.routes.common import ticket_out
from ticketbot.api.schemas import TicketCreate, TicketOut
from ticketbot.api.settings import Settings

# What the classifier would have said: stored as is, so that the row has the same shape.
CONSTANT_ROUTING: dict[str, Any] = {
    "department": "IT",
    "confidence": 0.9,
    "ranking": [
        {"department": "IT", "score": 0.9},
        {"department": "Facilities", "score": 0.05},
        {"department": "HR", "score": 0.03},
    ],
    "needs_review": False,
    "model_version": "baseline-constant",
}
ALLOWED_ROLES = ("requester", "admin")


def create_app(settings: Settings | None = None) -> FastAPI:
    """The baseline app; settings from ``TICKETBOT_*`` variables when not given."""
    settings = settings or Settings()
    state: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database = connect_database(settings)
        models = bind_models(database)
        models.create_tables()
        state["models"] = models
        state["keys"] = KeyStore(models)
        try:
            yield
        finally:
            if hasattr(database, "close_all"):
                database.close_all()
            elif not database.is_closed():
                database.close()

    app = FastAPI(title="ticketbot baseline (no classifier)", lifespan=lifespan)
    bearer = HTTPBearer(auto_error=False)

    def authenticate(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Principal:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise HTTPException(401, "Send an API key as 'Authorization: Bearer <key>'.")
        principal = state["keys"].verify(credentials.credentials)
        if principal is None:
            raise HTTPException(401, "This API key is unknown or revoked.")
        if principal.role not in ALLOWED_ROLES:
            raise HTTPException(403, f"The {principal.role!r} role may not do this.")
        return principal

    @app.post("/tickets", status_code=status.HTTP_201_CREATED, response_model=TicketOut)
    def create_ticket(
        body: TicketCreate,
        response: Response,
        caller: Annotated[Principal, Depends(authenticate)],
    ) -> TicketOut:
        models: BoundModels = state["models"]
        database = models.database
        with database.connection_context(), database.atomic():
            ticket = models.ticket.create(
                title=body.title,
                description=body.description,
                status="open",
                search_text=search_key(f"{body.title}\n{body.description}"),
                created_by=caller.key_id,
                predicted_department=CONSTANT_ROUTING["department"],
                **CONSTANT_ROUTING,
            )
        ticket.creator = caller.name
        response.headers["Location"] = f"/tickets/{ticket.id}"
        return ticket_out(ticket)

    @app.get("/health")
    def health() -> dict[str, str]:
        database = state["models"].database
        with database.connection_context():
            database.execute_sql("SELECT 1")
        return {"status": "ok"}

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--database-url", required=True, help="sqlite:////abs/path.db or postgresql://..."
    )
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args()

    import uvicorn

    # Like `ticketbot serve`: every worker process builds its app from the environment.
    os.environ["TICKETBOT_DATABASE_URL"] = args.database_url
    common = {
        "host": args.host,
        "port": args.port,
        "log_level": args.log_level,
        "access_log": False,
    }
    if args.workers > 1:
        uvicorn.run("bench.baseline_app:create_app", factory=True, workers=args.workers, **common)
    else:
        uvicorn.run(create_app(Settings()), **common)


if __name__ == "__main__":
    main()
