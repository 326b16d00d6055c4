"""Which missing events the healer folds: only those missing longer than the transit time."""

from __future__ import annotations

from dashboard.worker.holes import Holes


def test_a_hole_is_ripe_only_once_it_has_outlived_the_transit_time():
    holes = Holes()
    holes.seen({5, 6}, now=100.0)
    assert holes.ripe(now=100.0, after=30) == set()
    holes.seen({5, 6, 7}, now=120.0)
    assert holes.ripe(now=129.9, after=30) == set()
    assert holes.ripe(now=130.0, after=30) == {5, 6}


def test_an_event_that_arrives_meanwhile_is_never_ripe():
    holes = Holes()
    holes.seen({5, 6}, now=0.0)
    holes.seen({6}, now=10.0)  # 5 came from the queue
    holes.seen({5, 6}, now=20.0)  # 5 missing again (say, a rebuild): its clock starts over
    assert holes.ripe(now=45.0, after=30) == {6}


def test_healed_holes_are_forgotten():
    holes = Holes()
    holes.seen({1, 2}, now=0.0)
    holes.forget({1})
    assert len(holes) == 1
    assert holes.ripe(now=0.0, after=0) == {2}
