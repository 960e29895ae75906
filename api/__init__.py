"""The ticket API: FastAPI + Peewee, with automatic department routing.

Build an application with :func:`ticketbot.api.app.create_app`; run it with ``ticketbot serve``.
"""

from pathlib import Path

BUNDLED_TICKETS = Path(__file__).resolve().parent / "data" / "department_train.csv"
"""The example tickets written by the team (``text,label,language``): they train the
department classifier and teach the intent model what a problem description looks like."""
HELD_OUT_TICKETS = Path(__file__).resolve().parent / "data" / "department_eval.csv"
"""Tickets written with the training data but never trained on (``text,label``): the default
set of ``ticketbot eval department``."""
