"""The offline demo (``monitor demo``): October 2019 replayed through the daemon's own pipeline.

- ``story``: ``Demo`` (the replay, driven by a simulated clock) and the story told from the stored studies.
- ``replay``: saved Federal Register responses served as they stood at the simulated time, and the timeline of the
  moments the daemon would have acted.
- ``data/``: the shipped feeds and prices (no network).
"""
