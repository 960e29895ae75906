"""Where ticketbot keeps its files."""

from __future__ import annotations

import os
from pathlib import Path

from ticketbot import trained_models


def data_dir() -> Path:
    """The user's ticketbot data directory (database, history, retrained models, API key).

    ``TICKETBOT_DATA_DIR`` overrides the platform default (``~/.local/share/ticketbot`` on
    Linux). The directory is created on first use, readable by its owner only.
    """
    configured = os.environ.get("TICKETBOT_DATA_DIR")
    if configured:
        path = Path(configured).expanduser()
    else:
        import platformdirs

        path = Path(platformdirs.user_data_dir("ticketbot", appauthor=False))
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def default_database_url() -> str:
    """The embedded default database: a SQLite file in :func:`data_dir`."""
    return f"sqlite:///{data_dir() / 'tickets.db'}"


def shipped_model(name: str) -> Path:
    """Path of a model shipped in ``trained_models/`` (``department`` or ``intent``)."""
    return trained_models.MODELS_DIR / f"{name}.pkl"


def example_tickets() -> Path:
    """The example tickets that ship with ticketbot (CSV ``text,label,language``, written by
    the team): they train the department classifier, and plugins may use them as examples
    of problem descriptions."""
    from ticketbot.api import BUNDLED_TICKETS

    return BUNDLED_TICKETS
