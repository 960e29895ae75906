"""ticketbot: a help-desk chatbot framework.

A plugin only needs ``from ticketbot import hookimpl``.
"""

from ticketbot.hookspecs import hookimpl

__version__ = "0.1.0"

__all__ = ["__version__", "hookimpl"]
