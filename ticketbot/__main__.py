"""``python -m ticketbot`` runs the command-line interface."""

from ticketbot.cli import main

raise SystemExit(main())
