"""The HTML run report: a self-contained page a person can read at a glance."""

from socialscore.report.build import (
    RunFacts,
    build,
    chart_library_name,
    chart_library_text,
    run_charts,
)

__all__ = ["RunFacts", "build", "chart_library_name", "chart_library_text", "run_charts"]
