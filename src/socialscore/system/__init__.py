"""What the program needs from the operating system and the terminal.

- ``interrupts``: stopping cleanly on signals, deferring them inside
  transactions, exclusive locks.
- ``terminal``: text for the terminal, escaped and shortened.
- ``display``: short displays of results in a notebook (``_repr_html_``).
"""
