"""Read side of the Dashboard: the stats queries over the projections, and their cache.

Every query reads projection rows only (totals, per-bucket series, per-app and per-owner
counters), never the processed events, so its cost does not grow with how many events were
folded.
"""
