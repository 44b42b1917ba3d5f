r"""Text from data made safe for the terminal: never markup, never a control code.

Scenario names, rule labels, run ids, catalogue cells and file paths come
from files and databases a user may not have written. Printed as they are,
Rich reads ``[/]`` or ``[link=...]`` in them as markup (a crash, or a hidden
hyperlink) and the terminal obeys the escape codes in them (ESC, BEL: a new
window title, a cleared screen). :func:`clean` shows every control character
escaped (``\x1b``) and shortens long values; :func:`text` wraps that in a Rich
``Text``, which Rich never reads as markup, for table cells and styled lines.
"""

from __future__ import annotations

from typing import Final

from rich.text import Text

#: Longest value echoed whole (a name, an option's value); the schema allows 200-character names.
ECHO_LIMIT: Final = 200

#: Longest line of a message (an error naming a file and a value) printed whole.
LINE_LIMIT: Final = 1000

#: What replaces the middle of a value too long to print.
CUT: Final = "…[{count:,} characters left out]…"


#: Line breaks and tabs shown as Python writes them.
_NAMED: Final = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _shown(ch: str) -> str:
    """A character as printed: itself, or its Python escape when it could act on the terminal.

    Escaped are the characters Python calls unprintable: every control (C0, DEL, C1, so
    ESC, BEL and the one-byte CSI), format character (bidi overrides and isolates,
    zero-width marks), separator other than the space (line and paragraph separators,
    no-break spaces), lone surrogate, private-use and unassigned code point.
    """
    if ch.isprintable():
        return ch
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def shorten(text: str, limit: int = ECHO_LIMIT) -> str:
    """``text`` whole if it has at most ``limit`` characters, else its start and end with a cut.

    Args:
        text: Any text.
        limit: The most characters kept (the cut marker comes on top).

    Returns:
        The text, or its first two thirds and last third of ``limit`` characters around
        a marker saying how many were left out.
    """
    if len(text) <= limit:
        return text
    head = (2 * limit) // 3
    tail = limit - head
    return text[:head] + CUT.format(count=len(text) - limit) + (text[-tail:] if tail else "")


def clean(value: object, *, limit: int | None = ECHO_LIMIT, multiline: bool = False) -> str:
    r"""Any value as plain text that cannot act on the terminal (print it as a ``Text``).

    Args:
        value: Anything; it is turned into a string with ``str``.
        limit: The most characters kept of the value (of each line when ``multiline``);
            ``None`` keeps everything.
        multiline: Keep line breaks (a message of several lines); otherwise they are
            shown escaped like any other control character.

    Returns:
        The text with every control, format and separator character shown as its Python
        escape (``\x1b``, ``\u202e``) and long values shortened in the middle.
    """
    text = str(value)
    if multiline:
        return "\n".join(clean(line, limit=limit) for line in text.split("\n"))
    shown = text if text.isprintable() else "".join(_shown(ch) for ch in text)
    return shown if limit is None else shorten(shown, limit)


def text(value: object, *, style: str = "", limit: int | None = ECHO_LIMIT) -> Text:
    """Any value as a Rich ``Text`` that prints literally: never read as markup or emoji.

    Use it for table cells, titles and any line that mixes styles with data.

    Args:
        value: Anything; it is turned into a string with ``str``.
        style: A Rich style for the whole text (``"bold"``), or none.
        limit: As for :func:`clean`.

    Returns:
        :func:`clean`'s text, so ``[/]``, ``[link=...]`` and ``[v2]`` print as written
        and control characters print escaped.
    """
    return Text(clean(value, limit=limit), style=style)
