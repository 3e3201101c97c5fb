"""The encrypted installation store: tokens sealed at rest, newest wins, uninstall forgets."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from slack_sdk.oauth.installation_store import Bot, Installation

from storage import forget, workspaces
from storage.db import Storage
from storage.installations import (
    WRONG_KEY,
    EncryptedInstallationStore,
    SecretKeyError,
    derive_key,
    installed_teams,
    rekey,
)
from storage.migrations import migrate

KEY = "correct horse battery staple"
T0 = 1_760_000_000.0

# Distinct, greppable secrets: if any of them is in the file, it was written in clear.
SECRETS = {
    "bot_token": "xoxb-1111-SECRET-BOT-TOKEN",
    "bot_refresh_token": "xoxe-1-SECRET-BOT-REFRESH",
    "user_token": "xoxp-2222-SECRET-USER-TOKEN",
    "user_refresh_token": "xoxe-1-SECRET-USER-REFRESH",
    "incoming_webhook_url": "https://hooks.slack.com/services/T1/B1/SECRETWEBHOOK",
}


@pytest.fixture
def storage(db_path: Path) -> Iterator[Storage]:
    s = Storage(db_path)
    migrate(s.db)
    yield s
    s.close()


@pytest.fixture
def store(storage: Storage) -> EncryptedInstallationStore:
    return EncryptedInstallationStore(storage, KEY)


def installation(
    team_id: str | None = "T1",
    user_id: str = "U1",
    installed_at: float = T0,
    enterprise_id: str | None = None,
    is_enterprise_install: bool = False,
    **overrides: object,
) -> Installation:
    fields: dict[str, object] = {
        "app_id": "A1",
        "enterprise_id": enterprise_id,
        "enterprise_name": "Acme Grid" if enterprise_id else None,
        "team_id": team_id,
        "team_name": "Acme Mining" if team_id else None,
        "bot_id": "B1",
        "bot_user_id": "UBOT",
        "bot_scopes": "commands,chat:write,files:write,users:read",
        "bot_token_expires_at": int(T0) + 43_200,
        "user_id": user_id,
        "user_scopes": "search:read",
        "user_token_expires_at": int(T0) + 43_200,
        "incoming_webhook_channel": "#alerts",
        "incoming_webhook_channel_id": "C1",
        "incoming_webhook_configuration_url": "https://acme.slack.com/services/B1",
        "is_enterprise_install": is_enterprise_install,
        "token_type": "bot",
        "installed_at": installed_at,
        **SECRETS,
    }
    fields.update(overrides)
    return Installation(**fields)  # type: ignore[arg-type]


def raw_bytes(storage: Storage) -> bytes:
    """Everything SQLite has written: the main file and the write-ahead log."""
    path = storage.path
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


def test_no_token_is_in_the_file_in_clear_text(store, storage):
    store.save(installation())
    storage.close()  # flush what this connection holds

    data = raw_bytes(storage)
    # The reading can see plain text: the team's name and id are stored as they are.
    assert b"Acme Mining" in data and b"T1" in data
    for name, secret in SECRETS.items():
        assert secret.encode() not in data, f"{name} is stored in clear text"
        assert secret.split("-")[-1].encode() not in data, f"part of {name} is in clear text"


def test_installation_round_trips(store):
    saved = installation()
    store.save(saved)

    found = store.find_installation(enterprise_id=None, team_id="T1")
    assert found is not None
    assert found.to_dict() == saved.to_dict()
    assert store.find_installation(enterprise_id=None, team_id="T1", user_id="U1") is not None
    assert store.find_installation(enterprise_id=None, team_id="T1", user_id="U2") is None
    assert store.find_installation(enterprise_id=None, team_id="T2") is None

    bot = store.find_bot(enterprise_id=None, team_id="T1")
    assert bot is not None
    assert bot.to_dict() == saved.to_bot().to_dict()


def test_installation_without_bot_or_user_token_round_trips(store):
    saved = installation(
        bot_token=None,
        bot_refresh_token=None,
        bot_token_expires_at=None,
        bot_id=None,
        bot_user_id=None,
        bot_scopes="",
        user_refresh_token=None,
        user_token_expires_at=None,
        incoming_webhook_url=None,
    )
    store.save(saved)

    found = store.find_installation(enterprise_id=None, team_id="T1")
    assert found is not None and found.to_dict() == saved.to_dict()
    assert store.find_bot(enterprise_id=None, team_id="T1") is None


def test_newest_installation_wins(store, storage):
    store.save(installation(user_id="U1", installed_at=T0, bot_token="xoxb-old"))
    store.save(installation(user_id="U2", installed_at=T0 + 60, bot_token="xoxb-new"))
    store.save(installation(user_id="U1", installed_at=T0 + 120, user_token="xoxp-u1-again"))

    latest = store.find_installation(enterprise_id=None, team_id="T1")
    assert latest is not None and latest.user_id == "U1"
    assert latest.user_token == "xoxp-u1-again"
    u2 = store.find_installation(enterprise_id=None, team_id="T1", user_id="U2")
    assert u2 is not None and u2.user_token == SECRETS["user_token"]
    # One bot per workspace: the last one saved, whoever's installation carried it.
    assert store.find_bot(enterprise_id=None, team_id="T1").bot_token == SECRETS["bot_token"]
    # Reinstalling replaces the row: superseded tokens do not stay on disk.
    rows = storage.db.execute("SELECT count(*) FROM slack_installations").fetchone()[0]
    assert rows == 2


def test_a_rotated_bot_token_shows_in_every_installation_of_the_workspace(store):
    store.save(installation(user_id="U1"))
    rotated = store.find_bot(enterprise_id=None, team_id="T1")
    rotated.bot_token, rotated.bot_refresh_token = "xoxe.xoxb-rotated", "xoxe-1-rotated"
    store.save_bot(rotated)

    for user_id in (None, "U1"):
        found = store.find_installation(enterprise_id=None, team_id="T1", user_id=user_id)
        assert found.bot_token == "xoxe.xoxb-rotated"
        assert found.bot_refresh_token == "xoxe-1-rotated"


@pytest.mark.parametrize(
    ("enterprise_id", "team_id", "is_enterprise_install", "found"),
    [
        ("E1", "T7", True, True),  # any workspace of the org, asking as an org install
        ("E1", None, True, True),
        ("E1", None, False, True),  # no team: the org-wide row
        ("E1", "T7", False, False),  # a workspace-level lookup is not the org install
        ("E2", "T7", True, False),  # another org
        (None, None, True, False),
    ],
)
def test_org_wide_install_is_found_from_any_workspace_of_the_org(
    store, enterprise_id, team_id, is_enterprise_install, found
):
    store.save(installation(team_id=None, enterprise_id="E1", is_enterprise_install=True))

    inst = store.find_installation(
        enterprise_id=enterprise_id, team_id=team_id, is_enterprise_install=is_enterprise_install
    )
    bot = store.find_bot(
        enterprise_id=enterprise_id, team_id=team_id, is_enterprise_install=is_enterprise_install
    )
    assert (inst is not None, bot is not None) == (found, found)
    if found:
        assert inst.enterprise_id == "E1" and inst.team_id is None and inst.is_enterprise_install
        assert inst.bot_token == SECRETS["bot_token"] and bot.bot_token == SECRETS["bot_token"]


def test_workspace_of_a_grid_is_kept_apart_from_the_same_team_elsewhere(store):
    store.save(installation(team_id="T1", enterprise_id="E1", bot_token="xoxb-grid"))
    store.save(installation(team_id="T1", enterprise_id=None, bot_token="xoxb-plain"))

    assert store.find_bot(enterprise_id="E1", team_id="T1").bot_token == "xoxb-grid"
    assert store.find_bot(enterprise_id=None, team_id="T1").bot_token == "xoxb-plain"
    assert installed_teams(store.storage) == [("E1", "T1"), (None, "T1")]


@pytest.mark.parametrize("wrong", ["correct horse battery stapl", KEY + " ", KEY.upper()])
def test_a_wrong_key_is_a_clear_error_never_a_token(storage, store, wrong):
    store.save(installation())
    other = EncryptedInstallationStore(storage, wrong)

    for look in (
        lambda: other.find_bot(enterprise_id=None, team_id="T1"),
        lambda: other.find_installation(enterprise_id=None, team_id="T1"),
        other.verify_key,
    ):
        with pytest.raises(SecretKeyError) as raised:
            look()
        message = str(raised.value)
        assert message.startswith(WRONG_KEY)
        assert not any(s in message for s in SECRETS.values())
        assert "gAAAA" not in message  # nor the ciphertext


def test_an_empty_key_is_refused(storage):
    with pytest.raises(ValueError, match="HASHFLOOR_SECRET_KEY is empty"):
        EncryptedInstallationStore(storage, "")


def test_verify_key_passes_with_the_right_key_and_on_an_empty_store(storage, store):
    EncryptedInstallationStore(storage, "any other key").verify_key()  # nothing stored yet
    store.save(installation())
    store.verify_key()


@pytest.mark.parametrize(
    "secret",
    ["k", "a much longer passphrase with spaces", "ключ-🔑", "x" * 500, "Zm9vYmFy" * 4],
)
def test_any_string_is_a_usable_secret(storage, secret):
    store = EncryptedInstallationStore(storage, secret)
    store.save(installation())
    assert store.find_bot(enterprise_id=None, team_id="T1").bot_token == SECRETS["bot_token"]


def test_key_derivation_is_stable_and_separates_secrets():
    assert derive_key("k") == derive_key("k")
    assert len({derive_key(s) for s in ("k", "K", "k ", "kk")}) == 4


def test_delete_all_forgets_the_workspace_and_only_it(storage, store):
    fleet = workspaces.Fleet(17.5, 0.05, 0.02)
    for team in ("T1", "T2"):
        store.save(installation(team_id=team))
        workspaces.set_fleet(storage.db, team, fleet, "U1", T0)
        workspaces.set_muted_until(storage.db, team, f"C-{team}", T0 + 3600, T0)

    store.delete_all(enterprise_id=None, team_id="T1")

    db = storage.db
    assert store.find_installation(enterprise_id=None, team_id="T1") is None
    assert store.find_bot(enterprise_id=None, team_id="T1") is None
    assert workspaces.get_fleet(db, "T1") is None
    assert workspaces.channel(db, "T1", "C-T1") is None
    # The other workspace keeps everything.
    assert store.find_bot(enterprise_id=None, team_id="T2") is not None
    assert workspaces.get_fleet(db, "T2") == fleet
    assert workspaces.channel(db, "T2", "C-T2") is not None
    assert installed_teams(storage) == [(None, "T2")]


def test_delete_all_removes_the_tokens_even_when_forgetting_fails(storage, store, monkeypatch):
    def broken(db, team, now):
        raise RuntimeError("subscriptions table is gone")

    monkeypatch.setattr(forget, "forget_team", broken)
    store.save(installation())
    workspaces.set_fleet(storage.db, "T1", workspaces.Fleet(20.0, 0.06, 0.0), "U1", T0)

    with pytest.raises(RuntimeError):
        store.delete_all(enterprise_id=None, team_id="T1")

    assert store.find_bot(enterprise_id=None, team_id="T1") is None
    # The data cleanup is one transaction: it rolled back whole, to be retried, not half done.
    assert workspaces.get_fleet(storage.db, "T1") is not None


def test_tokens_revoked_bot_leaves_the_installation_without_a_bot_token(store):
    store.save(installation())
    store.delete_bot(enterprise_id=None, team_id="T1")

    found = store.find_installation(enterprise_id=None, team_id="T1")
    assert found is not None and found.bot_token is None and found.bot_refresh_token is None
    assert found.user_token == SECRETS["user_token"]
    assert installed_teams(store.storage) == []


def test_tokens_revoked_user_deletes_only_that_users_installation(store):
    store.save(installation(user_id="U1", installed_at=T0))
    store.save(installation(user_id="U2", installed_at=T0 + 1))

    store.delete_installation(enterprise_id=None, team_id="T1", user_id="U2")

    assert store.find_installation(enterprise_id=None, team_id="T1", user_id="U2") is None
    assert store.find_installation(enterprise_id=None, team_id="T1").user_id == "U1"
    assert store.find_bot(enterprise_id=None, team_id="T1") is not None


def test_org_wide_uninstall_deletes_the_org_rows(store):
    store.save(installation(team_id=None, enterprise_id="E1", is_enterprise_install=True))
    store.save(installation(team_id="T9"))

    store.delete_all(enterprise_id="E1", team_id=None)

    assert store.find_bot(enterprise_id="E1", team_id="T7", is_enterprise_install=True) is None
    assert installed_teams(store.storage) == [(None, "T9")]


def test_installed_teams_lists_each_bot_once_oldest_first(store):
    store.save(installation(team_id="T2", installed_at=T0 + 10))
    store.save(installation(team_id="T1", installed_at=T0))
    store.save(installation(team_id="T2", user_id="U9", installed_at=T0 + 20))
    store.save(
        installation(
            team_id=None, enterprise_id="E1", is_enterprise_install=True, installed_at=T0 + 7
        )
    )
    store.save_bot(
        Bot(team_id="T3", bot_token="xoxb-3", bot_id="B3", bot_user_id="U3", installed_at=T0 + 5)
    )

    assert installed_teams(store.storage) == [
        (None, "T1"),
        (None, "T3"),
        ("E1", None),
        (None, "T2"),
    ]


# -- the key: every token checked, and rotated ------------------------------------------------

NEW_KEY = "a new key of well over thirty-two characters"


def sealed_values(storage: Storage) -> list[str]:
    rows = storage.db.execute(
        "SELECT bot_token, bot_refresh_token FROM slack_bots UNION ALL "
        "SELECT user_token, user_refresh_token FROM slack_installations"
    ).fetchall()
    hooks = storage.db.execute("SELECT incoming_webhook_url FROM slack_installations").fetchall()
    return [v for row in [*rows, *hooks] for v in row if v is not None]


def test_check_key_tries_every_token_not_only_the_first(storage, store):
    store.save(installation(team_id="T1"))
    store.save(installation(team_id="T2", installed_at=T0 + 1))
    # T3's tokens were sealed with another key (a restored backup, a half-done migration).
    EncryptedInstallationStore(storage, "some other key").save(installation(team_id="T3"))

    check = store.verify_key()  # some open: no exception, the bot serves T1 and T2

    assert (check.tokens, check.failed, check.workspaces) == (15, 5, ("T3",))
    assert check.problem.startswith(f"{WRONG_KEY} for 5 of 15 stored tokens (workspaces T3)")
    assert "must reinstall" in check.problem
    assert "\n" not in check.problem


def test_verify_key_refuses_when_no_token_opens(storage, store):
    store.save(installation(team_id="T1"))
    store.save(installation(team_id="T2"))

    with pytest.raises(SecretKeyError) as raised:
        EncryptedInstallationStore(storage, "some other key").verify_key()

    message = str(raised.value)
    assert "none of the 10 stored tokens decrypts (workspaces T1, T2)" in message
    assert "Set the key they were saved with" in message
    assert store.check_key().problem is None


def test_rekey_reseals_every_token_under_the_new_key(storage, store):
    for team in ("T1", "T2"):
        store.save(installation(team_id=team))
    store.save(installation(team_id=None, enterprise_id="E1", is_enterprise_install=True))
    before = sealed_values(storage)

    assert rekey(storage, KEY, NEW_KEY) == len(before) == 15

    after = sealed_values(storage)
    assert not set(before) & set(after)
    new, old = EncryptedInstallationStore(storage, NEW_KEY), store
    assert (new.check_key().tokens, new.check_key().failed) == (15, 0)
    assert old.check_key().failed == 15
    for team in ("T1", "T2"):
        found = new.find_installation(enterprise_id=None, team_id=team)
        assert {k: getattr(found, k) for k in SECRETS} == SECRETS
    org = new.find_bot(enterprise_id="E1", team_id=None, is_enterprise_install=True)
    assert org.bot_token == SECRETS["bot_token"]


def test_rekey_is_all_or_nothing(storage, store):
    store.save(installation(team_id="T1"))
    EncryptedInstallationStore(storage, "some other key").save(installation(team_id="T2"))
    before = sealed_values(storage)

    with pytest.raises(SecretKeyError):
        rekey(storage, KEY, NEW_KEY)

    assert sealed_values(storage) == before
    assert store.find_bot(enterprise_id=None, team_id="T1").bot_token == SECRETS["bot_token"]


def test_a_refresh_lease_is_held_by_one_and_freed_by_time_or_its_holder(storage):
    from storage.installations import end_lease, take_lease

    assert take_lease(storage, None, "T1", "a", T0, 30)
    assert not take_lease(storage, None, "T1", "b", T0 + 29, 30)
    assert take_lease(storage, None, "T2", "b", T0, 30)  # another workspace: its own lease
    assert take_lease(storage, None, "T1", "b", T0 + 31, 30)  # "a" died: its lease ran out
    end_lease(storage, None, "T1", "a")  # a late holder cannot free what is no longer its own
    assert not take_lease(storage, None, "T1", "c", T0 + 32, 30)
    end_lease(storage, None, "T1", "b", hold_off_until=T0 + 100)  # failed: nobody until then
    assert not take_lease(storage, None, "T1", "c", T0 + 99, 30)
    assert take_lease(storage, None, "T1", "c", T0 + 101, 30)
    end_lease(storage, None, "T1", "c")
    assert take_lease(storage, None, "T1", "d", T0 + 102, 30)
