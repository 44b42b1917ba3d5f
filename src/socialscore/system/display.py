"""Short displays of results in a notebook: a few lines, not a dump of every table.

``Result``, ``Comparison``, ``Audit`` and ``SweepResult`` show themselves in
Jupyter with ``_repr_html_`` built here: a title, the facts that identify the
result, its headline findings in sentences (never a verdict by colour alone:
each line says it in words), and a link to the full report. Plain HTML
from strings, so every layer's result object can use it.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

__all__ = ["summary_html", "summary_text"]

STYLE = (
    "font-family:system-ui,sans-serif;line-height:1.4;border:1px solid #d9dee4;"
    "border-radius:4px;padding:0.5em 0.8em;max-width:60em"
)


def summary_text(title: str, facts: Sequence[tuple[str, str]]) -> str:
    """One line: the title and the identifying facts (a ``__repr__``)."""
    return f"<{title}: " + ", ".join(f"{k} {v}" for k, v in facts) + ">"


def summary_html(
    title: str,
    facts: Sequence[tuple[str, str]],
    lines: Sequence[tuple[str, bool]],
    *,
    link: Path | None = None,
    note: str = "",
) -> str:
    """A small HTML block: title, facts, findings (``(sentence, alarm)``), a link, a note."""
    out = [f'<div style="{STYLE}">', f"<b>{html.escape(title)}</b><br>"]
    out.append(" · ".join(f"{html.escape(k)} <b>{html.escape(v)}</b>" for k, v in facts) + "<br>")
    if lines:
        out.append('<ul style="margin:0.4em 0;padding-left:1.2em">')
        for sentence, alarm in lines:
            mark = "⚠ " if alarm else ""
            out.append(f"<li>{mark}{html.escape(sentence)}</li>")
        out.append("</ul>")
    if link is not None:
        uri = html.escape(link.resolve().as_uri(), quote=True)
        out.append(f'<a href="{uri}" target="_blank">{html.escape(link.name)}</a> ')
    if note:
        out.append(f'<span style="color:#5b6571">{html.escape(note)}</span>')
    out.append("</div>")
    return "".join(out)
