"""Roles from users.info (pure): who is external, guest or admin in the workspace asked about."""

from __future__ import annotations

import pytest

from bot.slack.users import roles_of
from commands.context import Roles

TEAM = "T0HASHFLR"
LISTED = {"U0LISTED"}


@pytest.mark.parametrize(
    ("user", "enterprise", "roles"),
    [
        ({"id": "U1", "team_id": TEAM}, None, Roles()),
        ({"id": "U1", "team_id": TEAM, "is_admin": True}, None, Roles(is_admin=True)),
        ({"id": "U1", "team_id": TEAM, "is_owner": True}, None, Roles(is_admin=True)),
        ({"id": "U0LISTED", "team_id": TEAM}, None, Roles(is_admin=True)),
        ({"id": "U1", "team_id": TEAM, "is_restricted": True}, None, Roles(is_guest=True)),
        # Slack Connect: another team, is_stranger false; their home roles do not count here.
        ({"id": "U1", "team_id": "T0PARTNER", "is_stranger": False}, None, Roles(is_external=True)),
        ({"id": "U1", "team_id": "T0PARTNER", "is_admin": True}, None, Roles(is_external=True)),
        ({"id": "U0LISTED", "team_id": "T0PARTNER"}, None, Roles(is_external=True)),
        ({"id": "U1", "team_id": TEAM, "is_stranger": True}, None, Roles(is_external=True)),
        # Grid: the enterprise is the organisation, whichever of its workspaces is home.
        (
            {"id": "U1", "team_id": "T0SISTER", "enterprise_user": {"enterprise_id": "E1"}},
            "E1",
            Roles(),
        ),
        (
            {"id": "U1", "team_id": TEAM, "enterprise_user": {"enterprise_id": "E2"}},
            "E1",
            Roles(is_external=True),
        ),
        ({"id": "U1", "team_id": "T0PARTNER"}, "E1", Roles(is_external=True)),
    ],
)
def test_roles_of(user: dict, enterprise: str | None, roles: Roles) -> None:
    assert roles_of(user, TEAM, enterprise, LISTED) == roles
