"""Plain statistics any stage may use: intervals, tie conventions, bootstraps.

Nothing here knows about scenarios, runs or gates; every function takes arrays
or numbers and returns numbers.

- ``intervals``: intervals for rates, ratios and means across seeds (Wilson,
  Katz, Newcombe, Poisson, Student t).
- ``ties``: the one tie convention (mid-ranks, fractional membership).
- ``statistics``: Gini, rank-rank correlation, persistence, assortativity, AUC,
  histograms (with numba kernels).
- ``bootstrap``: the Poisson bootstrap over citizens.
"""
