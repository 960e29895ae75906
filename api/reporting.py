"""How routing does, from the database: tickets routed, corrected and flagged, per department
(the one the model chose), per model version, and week by week (ISO weeks of creation).

Tickets imported with their department (``ticketbot import --keep-labels``) were never
routed and are left out. "Flagged" is the ``needs_review`` the router set when the ticket
was created (kept in the ticket's ``created`` event: an agent's review clears the ticket's
own flag later).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from ticketbot.api.models import BoundModels

FIELDS = ("tickets", "corrected", "flagged", "corrected_flagged", "corrected_not_flagged")


def _week(at: Any) -> str:
    year, week, _ = at.isocalendar()
    return f"{year}-W{week:02d}"


def routing_report(models: BoundModels) -> dict[str, Any]:
    """The report as JSON-ready data: ``total``, then ``departments`` and ``versions`` rows
    (``key``, ``week`` and the counts of :data:`FIELDS`), oldest week first."""
    event, correction = models.event, models.correction
    corrected = {row.ticket_id for row in correction.select(correction.ticket)}
    counts: dict[tuple[str, str, str], dict[str, int]] = defaultdict(
        lambda: dict.fromkeys(FIELDS, 0)
    )
    total = dict.fromkeys(FIELDS, 0)
    query = event.select(event.ticket, event.data, event.at).where(event.kind == "created")
    for row in query.iterator():
        data = row.data or {}
        if data.get("labelled_by"):
            continue  # imported with its department: never routed
        flagged = bool(data.get("needs_review"))
        fixed = row.ticket_id in corrected
        week = _week(row.at)
        keys = [
            ("departments", str(data.get("department")), week),
            ("versions", str(data.get("model_version")), week),
        ]
        for tally in [counts[key] for key in keys] + [total]:
            tally["tickets"] += 1
            tally["corrected"] += fixed
            tally["flagged"] += flagged
            tally["corrected_flagged"] += fixed and flagged
            tally["corrected_not_flagged"] += fixed and not flagged
    report: dict[str, Any] = {"total": total, "departments": [], "versions": []}
    for (group, key, week), tally in sorted(counts.items(), key=lambda item: item[0]):
        report[group].append({"key": key, "week": week, **tally})
    return report


def plot_routing(report: dict[str, Any], path: Path) -> None:
    """The weekly share of tickets corrected and flagged, per model version, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(8, 4.5))
    by_version: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in report["versions"]:
        by_version[row["key"]].append(row)
    for version, rows in by_version.items():
        weeks = [r["week"] for r in rows]
        axis.plot(weeks, [r["corrected"] / r["tickets"] for r in rows], marker="o", label=version)
    axis.set_ylabel("share of tickets corrected by agents")
    axis.set_xlabel("week of creation")
    axis.set_title("Routing corrections per model version")
    axis.legend(fontsize="small")
    figure.autofmt_xdate()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
