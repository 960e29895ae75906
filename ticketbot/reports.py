"""Human-readable rendering of evaluation reports (rich tables)."""

from __future__ import annotations

from typing import Any


def print_report(report: dict[str, Any], title: str) -> None:
    """Print accuracy, macro-F1, the per-class table and the confusion matrix."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(f"[bold]{title}[/bold] on {report['rows']} rows")
    console.print(f"accuracy {report['accuracy']:.4f}   macro-F1 {report['macro_f1']:.4f}")
    for key, value in report.items():
        if key == "unknown_labels":
            console.print(f"[yellow]labels the model does not know:[/yellow] {', '.join(value)}")
    review = report.get("review")
    if review:
        console.print(
            f"needs_review (threshold {review['threshold']:.3f}): {review['flagged']:.1%} of "
            f"tickets flagged, {review['errors_flagged']:.1%} of the {review['errors']} "
            "routing errors among them"
        )
    per_class = Table("label", "precision", "recall", "F1", "support", title="per class")
    for label, figures in report["per_class"].items():
        per_class.add_row(
            label,
            f"{figures['precision']:.3f}",
            f"{figures['recall']:.3f}",
            f"{figures['f1']:.3f}",
            str(figures["support"]),
        )
    console.print(per_class)
    labels = report["confusion"]["labels"]
    confusion = Table("true \\ predicted", *labels, title="confusion matrix")
    for label, row in zip(labels, report["confusion"]["matrix"], strict=True):
        confusion.add_row(label, *(str(count) for count in row))
    console.print(confusion)


def plugins_text(described: list[dict[str, Any]]) -> str:
    """The plugins, one block each (readable at any terminal width)."""
    if not described:
        return "no plugins loaded (see TICKETBOT_LOAD_PLUGINS)"
    blocks = []
    for plugin in described:
        lines = [
            f"{plugin['name']} {plugin['version'] or ''} ({plugin['source']})".replace("  ", " ")
        ]
        if plugin["intents"]:
            lines.append(f"  intents: {', '.join(plugin['intents'])}")
        if plugin["entities"]:
            lines.append(f"  entities: {', '.join(plugin['entities'])}")
        lines.append(f"  hooks: {', '.join(plugin['hooks']) or '-'}")
        blocks.append("\n".join(lines))
    return "\n".join(blocks)
