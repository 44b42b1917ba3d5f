"""``python -m socialscore``."""

from socialscore.cli import main

main()
