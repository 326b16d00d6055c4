"""Gap-free numbering in commit order when transactions overlap (PostgreSQL)."""

from __future__ import annotations

from appstore import outbox


def test_a_later_commit_never_gets_a_number_a_reader_has_passed(components):
    engine = components.db.engine
    with engine.connect() as slow, engine.connect() as fast, engine.connect() as relay:
        # The slow transaction inserts first but commits last.
        slow.begin()
        outbox.record(slow, "AppVerified", _verified(1))
        with fast.begin():
            outbox.record(fast, "AppVerified", _verified(2))
        with relay.begin():
            outbox.assign_sequences(relay)
        with relay.begin():
            first_read = outbox.read(relay, after=0, limit=10)
        slow.commit()
        with relay.begin():
            outbox.assign_sequences(relay)
        with relay.begin():
            second_read = outbox.read(relay, after=first_read[-1].sequence, limit=10)

    assert [(e.sequence, e.body()["data"]["app_id"]) for e in first_read] == [(1, 2)]
    assert [(e.sequence, e.body()["data"]["app_id"]) for e in second_read] == [(2, 1)]


def test_a_rolled_back_transaction_leaves_no_hole(components):
    engine = components.db.engine
    with engine.connect() as connection:
        connection.begin()
        outbox.record(connection, "AppVerified", _verified(1))
        connection.rollback()
        with connection.begin():
            outbox.record(connection, "AppVerified", _verified(2))
        with connection.begin():
            outbox.assign_sequences(connection)
        with connection.begin():
            numbered = outbox.read(connection, after=0, limit=10)

    assert [e.sequence for e in numbered] == [1]


def _verified(app_id: int) -> dict:
    return {"app_id": app_id, "verified_by": 1, "verified_at": "2026-11-26T18:00:00.000000Z"}
