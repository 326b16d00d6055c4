"""Read side of the Dashboard: the stats queries over the projections, their cache, and
the answers (:mod:`dashboard.stats.answers`) the API sends, read through both.

Every query reads projection rows only (totals, per-bucket series, per-app and per-owner
counters), never the processed events, so its cost does not grow with how many events were
folded.
"""
