"""require_role: which roles may read the dashboard."""

from __future__ import annotations

import pytest

from dashboard.auth import DASHBOARD_READER_ROLES, Forbidden, Principal, require_role


@pytest.mark.parametrize(
    ("role", "allowed"),
    [("user", False), ("service", False), ("management", True), ("admin", True)],
)
def test_dashboard_reader_roles(role, allowed):
    principal = Principal(user_id="7", username="sam", role=role)

    if allowed:
        assert require_role(principal, {"management", "admin"}) is principal
    else:
        with pytest.raises(Forbidden, match=role):
            require_role(principal, {"management", "admin"})


def test_reader_roles_constant_is_management_and_admin():
    assert frozenset({"management", "admin"}) == DASHBOARD_READER_ROLES


def test_role_match_is_exact():
    with pytest.raises(Forbidden):
        require_role(Principal(user_id="7", username="sam", role="Admin"), DASHBOARD_READER_ROLES)
