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


def plugins_table(described: list[dict[str, Any]]) -> Any:
    """A rich table of plugins (name, version, source, intents, entities, hooks)."""
    from rich.table import Table

    table = Table("plugin", "version", "from", "intents", "entities", "hooks", title="plugins")
    for plugin in described:
        table.add_row(
            plugin["name"],
            plugin["version"] or "",
            plugin["source"],
            ", ".join(plugin["intents"]) or "-",
            ", ".join(plugin["entities"]) or "-",
            ", ".join(plugin["hooks"]),
        )
    return table


def print_plugins(described: list[dict[str, Any]]) -> None:
    """Print the plugins table."""
    from rich.console import Console

    Console().print(plugins_table(described))
