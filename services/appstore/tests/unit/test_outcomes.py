"""Every refusal a service can raise has the HTTP status it always had."""

from __future__ import annotations

from appstore import errors
from appstore.api.outcomes import STATUS

EXPECTED_STATUS = {
    errors.AppstoreError: 400,
    errors.Unauthorized: 401,
    errors.InsufficientCredit: 402,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.InvalidRequest: 422,
}


def refusals(cls: type) -> set[type]:
    return {cls}.union(*(refusals(sub) for sub in cls.__subclasses__()))


def test_each_refusal_is_answered_with_its_status():
    assert refusals(errors.AppstoreError) == set(EXPECTED_STATUS)
    assert {cls: STATUS[cls.outcome] for cls in EXPECTED_STATUS} == EXPECTED_STATUS


def test_outcomes_are_distinct():
    outcomes = [cls.outcome for cls in EXPECTED_STATUS]
    assert len(set(outcomes)) == len(outcomes) == len(STATUS)
