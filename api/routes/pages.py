"""The web pages: /chat for employees, /agent for agents. Every asset is served from here
(no CDN): the pages work offline. They call the same REST API as any client."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).resolve().parent.parent / "static"


def install(app: FastAPI) -> None:
    """Serve /chat, /agent and their assets under /static."""
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/chat", include_in_schema=False)
    def chat() -> FileResponse:
        return FileResponse(STATIC / "chat.html", headers={"Cache-Control": "no-cache"})

    @app.get("/agent", include_in_schema=False)
    def agent() -> FileResponse:
        return FileResponse(STATIC / "agent.html", headers={"Cache-Control": "no-cache"})

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/chat")
