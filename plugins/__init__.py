"""The plugins that ship with ticketbot.

They are registered through the ``ticketbot`` entry-point group in ``setup.cfg``, exactly like
a third party's, and use only the public plugin API (``ticketbot.hookimpl``, the ``Turn`` they
are given and its API client).
"""
