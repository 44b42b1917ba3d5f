"""Stage 3: what a run did to people, computed from its tables.

- ``harms``: the ``metrics`` table, every harm measure with words and interval.
- ``disparity``: gate outcomes by group, ratios, tests and verdicts.
- ``chilling``: legal behaviour forgone because of the regime.
- ``steady``: whether a series has settled by the end of a run.
- ``audit``: the legal checks of a regime.
- ``decomposition``: a gate's gap split into the part the assumed group differences
  explain and the part the regime adds (the arithmetic; the reruns are a study).
- ``groups``: harms at a gate by any citizen attribute and by intersections.
- ``trails``: one citizen's story read out of a trace (decision trails).
- ``accountability``: the audit's CJEU checks (explanations, the scorer decides).
"""
