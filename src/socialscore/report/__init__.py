"""The HTML run report: a self-contained page a person can read at a glance."""

from socialscore.report.build import RunFacts, build

__all__ = ["RunFacts", "build"]
