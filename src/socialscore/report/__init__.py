"""The HTML run report: a self-contained page a person can read at a glance."""

from socialscore.report.build import RunFacts, build, run_charts

__all__ = ["RunFacts", "build", "run_charts"]
