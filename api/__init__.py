"""The ticket API: FastAPI + Peewee, with automatic department routing.

Build an application with :func:`api.app.create_app`; run it with ``ticketbot serve``.
"""
