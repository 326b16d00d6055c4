"""The worker's gap-healing interval setting."""

import pytest

from dashboard.worker.healing import DEFAULT_INTERVAL, INTERVAL_VARIABLE, sync_interval


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [(None, DEFAULT_INTERVAL), ("", DEFAULT_INTERVAL), ("0", 0.0), ("2.5", 2.5), (" 30 ", 30.0)],
)
def test_the_interval_comes_from_the_environment(raw, seconds):
    environ = {} if raw is None else {INTERVAL_VARIABLE: raw}
    assert sync_interval(environ) == seconds


@pytest.mark.parametrize("raw", ["-1", "soon"])
def test_a_bad_interval_is_refused(raw):
    with pytest.raises(ValueError, match=INTERVAL_VARIABLE if raw == "-1" else "float"):
        sync_interval({INTERVAL_VARIABLE: raw})
