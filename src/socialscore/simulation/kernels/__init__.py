"""The numba kernels: plain functions over arrays, one file per step of the day.

- ``behaviour``: each citizen's events of the day, rated into the score.
- ``score``: accumulators decay and gain points; the score is clipped.
- ``passes``: the small array passes the behaviour kernel is made of.
- ``friends``: friend lists stored as draws; ``network``: the network term and
  unfriending.
- ``ranking``: the public ranking and who is low-ranked.
- ``gates``: mortgages, jobs, schools, dating, documents, travel, contracts.
- ``feedback``: stress, chilling and gaming updates used by the gates kernel.
- ``disputes``: erroneous records disputed and settled.
- ``lending``: the histogram of a gate's view a lending policy chooses thresholds from.
- ``outcomes``: an approved loan repaid or in arrears ``after_days`` later (drawn
  in the behaviour kernel, scheduled by the gates kernel).
- ``companies``: the company score.
- ``decisions``: the day's gate decisions added to their attribute cells.
- ``monitoring``: patrols allocated from past detections, and what they observe.

The daily kernels take their arguments in named bundles (named tuples of
arrays and numbers, each made in one place): the state
(:class:`socialscore.simulation.state.State`), the scenario's compiled parts
(:mod:`socialscore.simulation.compiled`), and the day's inputs, the nation's
fixed arrays and the tallies (:mod:`socialscore.simulation.engine`). The
kernels read the fields they need and never import those classes.
"""
