"""Multi-workspace mode: the OAuth install through Bolt, against the fake Slack, and token rotation."""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from slack_bolt import App
from slack_bolt.request import BoltRequest
from slack_sdk.oauth.installation_store import Bot
from slack_sdk.signature import SignatureVerifier

from bot.settings import Settings, SettingsError, load_settings
from bot.slack.client import make_client
from bot.slack.oauth import (
    INSTALL_PATH,
    SCOPES,
    SECRET_KEY_REQUIRED,
    BotTokens,
    authorization_url,
    failure_page,
    oauth_settings,
    require_secret_key,
    success_page,
)
from bot.slack.oauth_state import SignedStateStore
from storage.db import Storage
from storage.installations import EncryptedInstallationStore
from storage.migrations import migrate
from tests.fakes.slack import Call, FakeSlack

CLIENT_ID = "1111.2222"
CLIENT_SECRET = "client-secret-for-tests"
SIGNING_SECRET = "signing-secret-for-tests"
KEY = "test-secret-key-of-at-least-32-characters"
LONG = "x" * 32
HOUR = 3600


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def settings(slack: FakeSlack, db_path: Path) -> Settings:
    return load_settings(
        slack_client_id=CLIENT_ID,
        slack_client_secret=CLIENT_SECRET,
        slack_signing_secret=SIGNING_SECRET,
        hashfloor_secret_key=KEY,
        slack_api_url=slack.url,
        hashfloor_db=db_path,
    )


@pytest.fixture
def storage(db_path: Path) -> Iterator[Storage]:
    s = Storage(db_path)
    migrate(s.db)
    yield s
    s.close()


@pytest.fixture
def store(storage: Storage) -> EncryptedInstallationStore:
    return EncryptedInstallationStore(storage, KEY)


@pytest.fixture
def app(settings: Settings, storage: Storage) -> App:
    app = App(
        signing_secret=SIGNING_SECRET,
        client=make_client(settings),
        oauth_settings=oauth_settings(settings, storage),
        process_before_response=True,  # run listeners before dispatch returns
    )
    app.enable_token_revocation_listeners()  # as bot.slack.app.build_app does

    @app.command("/ping")
    def ping(ack, client, command):
        ack()
        client.chat_postMessage(channel=command["channel_id"], text="pong")

    return app


def raw_bytes(storage: Storage) -> bytes:
    path = storage.path
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


def client_credentials(call: Call) -> tuple[str, str]:
    """oauth.v2.access authenticates the app with HTTP Basic (client id and secret)."""
    scheme, _, value = call.headers["authorization"].partition(" ")
    assert scheme == "Basic"
    client_id, _, secret = base64.b64decode(value).decode().partition(":")
    return client_id, secret


def start_install(app: App) -> tuple[str, str]:
    """GET /slack/install: the URL of Slack's consent page, and the browser's state cookie."""
    response = app.oauth_flow.handle_installation(BoltRequest(body="", query="", headers={}))
    assert response.status == 302
    location = response.headers["location"][0]
    cookie = response.headers["set-cookie"][0].split(";")[0]
    return location, cookie


def redirect(app: App, query: dict[str, str], cookie: str | None):
    """GET /slack/oauth_redirect?… as the installer's browser sends it back from Slack."""
    headers = {"cookie": cookie} if cookie else {}
    return app.oauth_flow.handle_callback(
        BoltRequest(body="", query=urlencode(query), headers=headers)
    )


def install(app: App, code: str = "code-1") -> None:
    location, cookie = start_install(app)
    state = parse_qs(urlsplit(location).query)["state"][0]
    response = redirect(app, {"code": code, "state": state}, cookie)
    assert response.status == 200, response.body


# -- settings -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("client_id", "client_secret", "key", "result"),
    [
        (CLIENT_ID, CLIENT_SECRET, LONG, LONG),
        (CLIENT_ID, CLIENT_SECRET, None, SettingsError),
        (CLIENT_ID, CLIENT_SECRET, "", SettingsError),
        (None, None, None, None),  # single workspace: no tokens stored, no key needed
        (CLIENT_ID, None, None, None),
        (None, None, LONG, LONG),
    ],
)
def test_multi_workspace_mode_needs_a_secret_key(db_path, client_id, client_secret, key, result):
    settings = load_settings(
        slack_client_id=client_id,
        slack_client_secret=client_secret,
        hashfloor_secret_key=key,
        hashfloor_db=db_path,
    )
    if result is SettingsError:
        with pytest.raises(SettingsError) as raised:
            require_secret_key(settings)
        assert str(raised.value) == SECRET_KEY_REQUIRED
    else:
        assert require_secret_key(settings) == result


def test_the_missing_key_message_says_why_and_how():
    assert SECRET_KEY_REQUIRED.startswith("HASHFLOOR_SECRET_KEY: required when SLACK_CLIENT_ID")
    assert "encrypts the stored workspace tokens" in SECRET_KEY_REQUIRED
    assert "python -c 'import secrets; print(secrets.token_urlsafe(32))'" in SECRET_KEY_REQUIRED


def test_oauth_settings_and_bot_tokens_refuse_to_start_without_a_key(settings, storage):
    keyless = settings.model_copy(update={"hashfloor_secret_key": None})
    for build in (oauth_settings, BotTokens):
        with pytest.raises(SettingsError, match="HASHFLOOR_SECRET_KEY: required"):
            build(keyless, storage)


def test_oauth_settings(settings, storage, slack):
    s = oauth_settings(settings, storage)

    assert (s.client_id, s.client_secret) == (CLIENT_ID, CLIENT_SECRET)
    assert list(s.scopes) == SCOPES == ["commands", "chat:write", "files:write", "users:read"]
    assert (s.install_path, s.redirect_uri_path) == ("/slack/install", "/slack/oauth_redirect")
    assert isinstance(s.installation_store, EncryptedInstallationStore)
    assert isinstance(s.state_store, SignedStateStore)
    assert s.state_store.expiration_seconds == s.state_expiration_seconds == 600
    assert s.token_rotation_expiration_minutes == 120
    # Tokens rotated while handling a request go to SLACK_API_URL too, not to slack.com.
    assert s.authorize.token_rotator.client.base_url == slack.url
    assert s.authorization_url == slack.root + "/oauth/v2/authorize"


@pytest.mark.parametrize(
    ("api_url", "authorize"),
    [
        ("https://slack.com/api/", "https://slack.com/oauth/v2/authorize"),
        ("https://slack-gov.com/api/", "https://slack-gov.com/oauth/v2/authorize"),
        ("http://127.0.0.1:8123/api/", "http://127.0.0.1:8123/oauth/v2/authorize"),
        ("https://proxy.example/slack/api", "https://proxy.example/slack/oauth/v2/authorize"),
    ],
)
def test_authorization_url_is_on_the_web_api_host(api_url, authorize):
    assert authorization_url(api_url) == authorize


# -- pages ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reason", "words"),
    [
        ("access_denied", "cancelled"),
        ("invalid_browser", "did not start the installation"),
        ("invalid_state", "expired"),
        ("missing_code", "did not send an authorization code"),
        ("invalid_code", "did not accept the authorization code"),
        ("storage_error", "could not save the installation"),
        ("<script>x</script>", "error “&lt;script&gt;x&lt;/script&gt;”"),
    ],
)
def test_failure_page_says_what_happened_and_where_to_start_again(reason, words):
    page = failure_page(reason)
    assert "Hashfloor was not installed" in page
    assert words in page
    assert f'href="{INSTALL_PATH}"' in page
    assert "<script>" not in page


@pytest.mark.parametrize(
    ("fields", "words", "link"),
    [
        (
            {"team_id": "T1", "team_name": "Acme & Sons", "app_id": "A1"},
            "installed in Acme &amp; Sons",
            "slack://app?team=T1&amp;id=A1",
        ),
        ({"team_id": None, "team_name": None, "app_id": "A1"}, "your workspace", "slack://open"),
        (
            {
                "team_id": None,
                "team_name": None,
                "app_id": "A1",
                "enterprise_name": "Acme Grid",
                "is_enterprise_install": True,
            },
            "the organization Acme Grid",
            "slack://open",
        ),
    ],
)
def test_success_page_names_the_workspace_and_the_next_step(fields, words, link):
    page = success_page(**fields)
    assert "Hashfloor is installed" in page and words in page and link in page
    assert "/breakeven" in page and "/hashfloor subscribe" in page


# -- the OAuth flow through Bolt ------------------------------------------------------------------


def test_install_redirects_to_slack_with_state_and_scopes(app, slack, storage):
    location, cookie = start_install(app)

    url = urlsplit(location)
    query = parse_qs(url.query)
    assert f"{url.scheme}://{url.netloc}{url.path}" == slack.root + "/oauth/v2/authorize"
    assert query["client_id"] == [CLIENT_ID]
    assert query["scope"] == [",".join(SCOPES)]
    state = query["state"][0]
    assert cookie == f"slack-app-oauth-state={state}"


def test_redirect_stores_an_encrypted_installation(app, slack, storage, store):
    location, cookie = start_install(app)
    state = parse_qs(urlsplit(location).query)["state"][0]

    response = redirect(app, {"code": "abc123", "state": state}, cookie)

    assert response.status == 200
    assert "Hashfloor is now installed in Hashfloor Test" in response.body
    assert "slack-app-oauth-state=deleted" in response.headers["set-cookie"][0]
    [access] = slack.calls_to("oauth.v2.access")
    assert access.args["code"] == "abc123"
    assert client_credentials(access) == (CLIENT_ID, CLIENT_SECRET)

    token = "xoxb-T0HASHFLR-abc123"  # what the fake's oauth.v2.access hands out
    found = store.find_installation(enterprise_id=None, team_id=slack.team_id)
    assert found is not None
    assert (found.bot_token, found.bot_id, found.user_id) == (token, slack.bot_id, "U0INSTALLR")
    assert found.bot_scopes == SCOPES
    assert store.find_bot(enterprise_id=None, team_id=slack.team_id).bot_token == token
    storage.close()
    data = raw_bytes(storage)
    assert slack.team_id.encode() in data
    assert token.encode() not in data
    # The same redirect again: Slack spends an authorization code once, nothing is installed twice.
    again = redirect(app, {"code": "abc123", "state": state}, cookie)
    assert again.status == 401 and "did not accept the authorization code" in again.body


def test_org_wide_install_is_stored_for_the_whole_org(app, slack, store):
    slack.oauth_response = {
        "ok": True,
        "app_id": slack.app_id,
        "authed_user": {"id": "U0ADMIN"},
        "scope": ",".join(SCOPES),
        "token_type": "bot",
        "access_token": "xoxb-E0GRID-org",
        "bot_user_id": slack.bot_user_id,
        "team": None,
        "enterprise": {"id": "E0GRID", "name": "Acme Grid"},
        "is_enterprise_install": True,
    }
    slack.auth["xoxb-E0GRID-org"] = {"url": "https://acme-grid.enterprise.slack.com/"}

    install(app)

    bot = store.find_bot(enterprise_id="E0GRID", team_id="T0ANY", is_enterprise_install=True)
    assert bot is not None and bot.bot_token == "xoxb-E0GRID-org"
    found = store.find_installation(enterprise_id="E0GRID", team_id=None)
    assert found.is_enterprise_install and found.enterprise_url.startswith("https://acme-grid")


@pytest.mark.parametrize(
    ("case", "status", "words"),
    [
        ("no cookie", 400, "did not start the installation"),
        ("unknown state", 401, "expired"),
        ("cancelled", 200, "cancelled"),
        ("no code", 401, "did not send an authorization code"),
        ("slack refuses the code", 401, "did not accept the authorization code"),
    ],
)
def test_redirect_failures_store_nothing_and_say_why(app, slack, store, case, status, words):
    location, cookie = start_install(app)
    state = parse_qs(urlsplit(location).query)["state"][0]
    query = {"code": "abc", "state": state}
    if case == "no cookie":
        cookie = None
    elif case == "unknown state":
        # A browser that carries its own cookie, with a state this server never issued.
        query["state"] = "forged"
        cookie = "slack-app-oauth-state=forged"
    elif case == "cancelled":
        query = {"error": "access_denied", "state": state}
    elif case == "no code":
        del query["code"]
    else:
        slack.fail("oauth.v2.access", error="invalid_code")

    response = redirect(app, query, cookie)

    assert response.status == status
    assert "Hashfloor was not installed" in response.body and words in response.body
    assert store.find_installation(enterprise_id=None, team_id=slack.team_id) is None


def signed_command(command: str, team_id: str, response_url: str) -> BoltRequest:
    body = urlencode(
        {
            "command": command,
            "text": "",
            "team_id": team_id,
            "user_id": "U0SOMEONE",
            "channel_id": "C0ALERTS",
            "api_app_id": "A0HASHAPP",
            "response_url": response_url,
            "trigger_id": "1.2.3",
        }
    )
    ts = str(int(time.time()))
    signature = SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=ts, body=body)
    headers = {
        "content-type": "application/x-www-form-urlencoded",
        "x-slack-request-timestamp": ts,
        "x-slack-signature": signature,
    }
    return BoltRequest(body=body, headers=headers)


def test_requests_from_an_installed_workspace_use_its_token(app, slack):
    install(app, code="c1")

    response = app.dispatch(signed_command("/ping", slack.team_id, slack.response_url("ping")))

    assert response.status == 200
    [post] = slack.calls_to("chat.postMessage")
    assert post.ok and post.token == "xoxb-T0HASHFLR-c1"


def test_requests_from_a_workspace_that_never_installed_are_refused(app, slack):
    install(app)
    response = app.dispatch(signed_command("/ping", "T0STRANGER", slack.response_url("ping")))

    assert response.status == 200  # Slack shows the user a reply, not a failed command
    assert slack.calls_to("chat.postMessage") == []
    [reply] = slack.responses("ping")
    assert "reinstall this app" in reply["text"]


def rotating_install_answer(slack: FakeSlack, token: str, refresh: str, expires_in: int) -> dict:
    return {
        "ok": True,
        "app_id": slack.app_id,
        "authed_user": {"id": "U0INSTALLR"},
        "scope": ",".join(SCOPES),
        "token_type": "bot",
        "access_token": token,
        "refresh_token": refresh,
        "expires_in": expires_in,
        "bot_user_id": slack.bot_user_id,
        "team": {"id": slack.team_id, "name": slack.team_name},
        "enterprise": None,
        "is_enterprise_install": False,
    }


def refresh_answer(token: str, refresh: str) -> dict:
    return {
        "ok": True,
        "token_type": "bot",
        "access_token": token,
        "refresh_token": refresh,
        "expires_in": 12 * HOUR,
    }


def test_a_request_rotates_an_expiring_token_through_slack_api_url(app, slack, store):
    slack.oauth_response = rotating_install_answer(slack, "xoxe.xoxb-1-old", "xoxe-1-r1", 600)
    install(app)
    slack.oauth_response = refresh_answer("xoxe.xoxb-1-new", "xoxe-1-r2")

    response = app.dispatch(signed_command("/ping", slack.team_id, slack.response_url("ping")))

    assert response.status == 200
    refresh = slack.calls_to("oauth.v2.access")[-1]
    assert refresh.args["grant_type"] == "refresh_token"
    assert refresh.args["refresh_token"] == "xoxe-1-r1"
    [post] = slack.calls_to("chat.postMessage")
    assert post.token == "xoxe.xoxb-1-new"
    bot = store.find_bot(enterprise_id=None, team_id=slack.team_id)
    assert (bot.bot_token, bot.bot_refresh_token) == ("xoxe.xoxb-1-new", "xoxe-1-r2")


# -- tokens for scheduled work --------------------------------------------------------------------


def save_bot(
    store: EncryptedInstallationStore,
    team_id: str | None = "T1",
    token: str = "xoxe.xoxb-T1-old",
    refresh: str | None = "xoxe-1-T1-old",
    expires_in: int | None = 600,
    **fields: object,
) -> None:
    store.save_bot(
        Bot(
            app_id="A0HASHAPP",
            team_id=team_id,
            bot_token=token,
            bot_id="B0HASHBOT",
            bot_user_id="U0HASHBOT",
            bot_scopes=SCOPES,
            bot_refresh_token=refresh,
            bot_token_expires_at=None if expires_in is None else int(time.time()) + expires_in,
            installed_at=time.time(),
            **fields,  # type: ignore[arg-type]
        )
    )


def test_single_workspace_mode_hands_out_slack_bot_token(db_path, storage):
    settings = load_settings(slack_bot_token="xoxb-single", hashfloor_db=db_path)
    tokens = BotTokens(settings, storage)
    assert tokens.for_team("T1") == tokens.for_team(None) == "xoxb-single"


def test_scheduled_work_rotates_a_token_that_expires_soon(settings, storage, store, slack):
    save_bot(store, expires_in=10 * 60)
    slack.oauth_response = refresh_answer("xoxe.xoxb-T1-new", "xoxe-1-T1-new")
    before = int(time.time())
    tokens = BotTokens(settings, storage)

    assert tokens.for_team("T1") == "xoxe.xoxb-T1-new"

    [call] = slack.calls
    assert call.method == "oauth.v2.access"
    assert call.args["grant_type"] == "refresh_token"
    assert call.args["refresh_token"] == "xoxe-1-T1-old"
    assert client_credentials(call) == (CLIENT_ID, CLIENT_SECRET)
    bot = store.find_bot(enterprise_id=None, team_id="T1")
    assert (bot.bot_token, bot.bot_refresh_token) == ("xoxe.xoxb-T1-new", "xoxe-1-T1-new")
    assert bot.bot_token_expires_at >= before + 12 * HOUR
    # A fresh token is used as it is: no second refresh.
    assert tokens.for_team("T1") == "xoxe.xoxb-T1-new"
    assert len(slack.calls) == 1
    # The rotated token is sealed too.
    storage.close()
    assert b"xoxe.xoxb-T1-new" not in raw_bytes(storage)
    assert b"xoxe-1-T1-new" not in raw_bytes(storage)


@pytest.mark.parametrize(
    ("refresh", "expires_in"),
    [
        ("xoxe-1-T1-old", 3 * HOUR),  # outside the 2-hour window
        (None, None),  # token rotation not enabled for the app: the token never expires
    ],
)
def test_a_token_that_is_not_expiring_is_used_as_it_is(
    settings, storage, store, slack, refresh, expires_in
):
    save_bot(store, refresh=refresh, expires_in=expires_in)
    assert BotTokens(settings, storage).for_team("T1") == "xoxe.xoxb-T1-old"
    assert slack.calls == []


@pytest.mark.parametrize(
    ("expires_in", "expected"),
    [
        (10 * 60, "xoxe.xoxb-T1-old"),  # Slack refused, but the token still works for a while
        (-60, None),  # Slack refused and the token is already dead
    ],
)
def test_a_failed_rotation_falls_back_while_the_old_token_lives(
    settings, storage, store, slack, expires_in, expected
):
    save_bot(store, expires_in=expires_in)
    slack.fail("oauth.v2.access", error="invalid_refresh_token")

    assert BotTokens(settings, storage).for_team("T1") == expected

    bot = store.find_bot(enterprise_id=None, team_id="T1")
    assert bot.bot_token == "xoxe.xoxb-T1-old"  # nothing half-saved


def test_unknown_workspace_has_no_token(settings, storage, store):
    save_bot(store, team_id="T1", refresh=None, expires_in=None)
    assert BotTokens(settings, storage).for_team("T2") is None


def test_an_org_wide_install_serves_every_workspace_of_the_org(settings, storage, store, slack):
    save_bot(
        store,
        team_id=None,
        token="xoxb-org",
        refresh=None,
        expires_in=None,
        enterprise_id="E1",
        is_enterprise_install=True,
    )
    tokens = BotTokens(settings, storage)
    assert tokens.for_team("T7", enterprise_id="E1") == "xoxb-org"
    assert tokens.for_team("T7", enterprise_id="E2") is None
    assert tokens.for_team("T7") is None


# -- the install link writes nothing ------------------------------------------------------------


def row_counts(storage: Storage) -> dict[str, int]:
    db = storage.db
    return {t: db.execute(f"SELECT count(*) FROM [{t}]").fetchone()[0] for t in db.table_names()}


def test_a_thousand_install_links_write_no_row(app, storage, slack):
    before = row_counts(storage)
    watcher = sqlite3.connect(storage.path)  # data_version moves when anyone else commits
    version = watcher.execute("PRAGMA data_version").fetchone()

    states = {parse_qs(urlsplit(start_install(app)[0]).query)["state"][0] for _ in range(1000)}

    assert len(states) == 1000
    assert watcher.execute("PRAGMA data_version").fetchone() == version
    assert row_counts(storage) == before
    watcher.close()
    # Any one of them still installs.
    state = sorted(states)[500]
    response = redirect(app, {"code": "c500", "state": state}, f"slack-app-oauth-state={state}")
    assert response.status == 200, response.body


def test_a_tampered_state_does_not_install_even_with_a_matching_cookie(app, slack, store):
    location, _ = start_install(app)
    nonce, expiry, signature = parse_qs(urlsplit(location).query)["state"][0].split(".")
    forged = f"{nonce}.{int(expiry) + 30 * 86_400}.{signature}"  # a link that never expires

    response = redirect(app, {"code": "abc", "state": forged}, f"slack-app-oauth-state={forged}")

    assert response.status == 401 and "expired" in response.body
    assert slack.calls_to("oauth.v2.access") == []
    assert store.find_installation(enterprise_id=None, team_id=slack.team_id) is None


# -- token rotation: one refresh, and a valid token is kept ----------------------------------------


def install_rotating(app: App, slack: FakeSlack, expires_in: int = 600) -> None:
    """Install with token rotation on; the fake then knows the refresh token `xoxe-1-install`."""
    slack.oauth_response = rotating_install_answer(
        slack, "xoxe.xoxb-install", "xoxe-1-install", expires_in
    )
    install(app)
    slack.oauth_response = None
    slack.refresh_tokens["xoxe-1-install"] = slack.team_id
    slack.reset()


def refreshes(slack: FakeSlack) -> list[Call]:
    return [c for c in slack.calls_to("oauth.v2.access") if c.args.get("grant_type")]


def test_concurrent_requests_and_scheduled_work_refresh_once(app, slack, settings, storage, store):
    install_rotating(app, slack)
    slack.delay("oauth.v2.access", 0.5)  # long enough for every caller to arrive meanwhile
    # Scheduled work in what stands for another process: its own connections to the file.
    other = Storage(storage.path)
    tokens = BotTokens(settings, other)
    statuses: list[int] = []
    scheduled: list[str | None] = []

    def request(i: int) -> None:
        response = app.dispatch(signed_command("/ping", slack.team_id, slack.response_url(f"{i}")))
        statuses.append(response.status)

    threads = [threading.Thread(target=request, args=(i,)) for i in range(6)]
    threads.append(
        threading.Thread(target=lambda: scheduled.append(tokens.for_team(slack.team_id)))
    )
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)

    assert len(refreshes(slack)) == 1
    assert refreshes(slack)[0].args["refresh_token"] == "xoxe-1-install"
    posts = slack.calls_to("chat.postMessage")
    assert len(posts) == 6 and all(p.ok for p in posts)
    assert all(slack.responses(f"{i}") == [] for i in range(6))  # nobody told to reinstall
    assert statuses == [200] * 6
    bot = store.find_bot(enterprise_id=None, team_id=slack.team_id)
    # The old token is still valid while the refresh runs: either one is right to use.
    assert scheduled in (["xoxe.xoxb-install"], [bot.bot_token])
    assert (bot.bot_token, bot.bot_refresh_token) == (
        f"xoxe.xoxb-{slack.team_id}-r1",
        f"xoxe-1-{slack.team_id}-r1",
    )
    assert slack.refresh_tokens == {f"xoxe-1-{slack.team_id}-r1": slack.team_id}
    # From now on everyone uses the new token, with no further refresh.
    slack.delay("oauth.v2.access", 0)
    assert tokens.for_team(slack.team_id) == bot.bot_token
    app.dispatch(signed_command("/ping", slack.team_id, slack.response_url("after")))
    assert slack.calls_to("chat.postMessage")[-1].token == bot.bot_token
    assert len(refreshes(slack)) == 1
    other.close()


def test_a_failed_refresh_keeps_a_valid_token_in_use(app, slack, settings, storage, store):
    install_rotating(app, slack)
    slack.fail("oauth.v2.access", error="invalid_refresh_token", times=None)

    first = app.dispatch(signed_command("/ping", slack.team_id, slack.response_url("1")))
    second = app.dispatch(signed_command("/ping", slack.team_id, slack.response_url("2")))

    assert first.status == second.status == 200
    posts = slack.calls_to("chat.postMessage")
    assert [p.token for p in posts] == ["xoxe.xoxb-install"] * 2 and all(p.ok for p in posts)
    assert slack.responses("1") == slack.responses("2") == []  # no "reinstall this app"
    assert BotTokens(settings, storage).for_team(slack.team_id) == "xoxe.xoxb-install"
    # One refresh tried; the others wait out the minute instead of hammering Slack.
    assert len(refreshes(slack)) == 1
    bot = store.find_bot(enterprise_id=None, team_id=slack.team_id)
    assert (bot.bot_token, bot.bot_refresh_token) == ("xoxe.xoxb-install", "xoxe-1-install")


def test_an_expired_token_that_cannot_be_refreshed_asks_for_a_reinstall(app, slack, store):
    install_rotating(app, slack, expires_in=-60)
    slack.fail("oauth.v2.access", error="invalid_refresh_token", times=None)

    response = app.dispatch(signed_command("/ping", slack.team_id, slack.response_url("ping")))

    assert response.status == 200
    assert slack.calls_to("chat.postMessage") == []
    [reply] = slack.responses("ping")
    assert "reinstall this app" in reply["text"]


SCHEDULED_WORK = """
import sys
from bot.settings import load_settings
from bot.slack.oauth import BotTokens
from storage.db import Storage
print(BotTokens(load_settings(), Storage(sys.argv[1])).for_team(sys.argv[2]), flush=True)
"""


def test_processes_on_the_same_file_refresh_once(app, slack, settings, storage, store):
    install_rotating(app, slack)
    slack.delay("oauth.v2.access", 1.0)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "HASHFLOOR_"))},
        "PYTHONPATH": str(Path(__file__).resolve().parents[3]),
        "SLACK_CLIENT_ID": CLIENT_ID,
        "SLACK_CLIENT_SECRET": CLIENT_SECRET,
        "HASHFLOOR_SECRET_KEY": KEY,
        "SLACK_API_URL": slack.url,
    }
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", SCHEDULED_WORK, str(storage.path), slack.team_id],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    here = [app.dispatch(signed_command("/ping", slack.team_id, slack.response_url("p")))]
    outputs = [p.communicate(timeout=60) for p in procs]

    assert [p.returncode for p in procs] == [0] * 4, [err for _, err in outputs]
    assert here[0].status == 200 and slack.responses("p") == []
    assert len(refreshes(slack)) == 1
    new = store.find_bot(enterprise_id=None, team_id=slack.team_id).bot_token
    assert new == f"xoxe.xoxb-{slack.team_id}-r1"
    assert {out.strip() for out, _ in outputs} <= {"xoxe.xoxb-install", new}


def test_a_busy_database_does_not_stop_a_valid_token(settings, storage, store, slack):
    save_bot(store, expires_in=10 * 60)
    slack.refresh_tokens["xoxe-1-T1-old"] = "T1"
    writer = sqlite3.connect(storage.path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # another process holds the write lock meanwhile
    try:
        storage.serve_slack()  # a thread answering Slack waits 1.5 s at most
        assert BotTokens(settings, storage).for_team("T1") == "xoxe.xoxb-T1-old"
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert refreshes(slack) == []


# -- Bolt's authorize cache ------------------------------------------------------------------------


def signed_event(event_type: str, team_id: str, tokens: dict | None = None) -> BoltRequest:
    event: dict = {"type": event_type}
    if tokens is not None:
        event["tokens"] = tokens
    body = json.dumps(
        {
            "team_id": team_id,
            "api_app_id": "A0HASHAPP",
            "event": event,
            "type": "event_callback",
            "event_id": f"Ev{event_type}",
            "event_time": int(time.time()),
        }
    )
    ts = str(int(time.time()))
    signature = SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=ts, body=body)
    headers = {
        "content-type": "application/json",
        "x-slack-request-timestamp": ts,
        "x-slack-signature": signature,
    }
    return BoltRequest(body=body, headers=headers)


def pings(app: App, slack: FakeSlack, n: int) -> list[str]:
    """n /ping commands; the reply each one got at its response_url, if any."""
    replies = []
    for i in range(n):
        url = slack.response_url(f"ping{i}")
        assert app.dispatch(signed_command("/ping", slack.team_id, url)).status == 200
        replies.append(" ".join(r["text"] for r in slack.responses(f"ping{i}")))
    return replies


def test_commands_from_one_workspace_ask_auth_test_once(app, slack):
    install(app)
    slack.reset()

    pings(app, slack, 5)

    assert len(slack.calls_to("chat.postMessage")) == 5
    assert [c.token for c in slack.calls_to("auth.test")] == ["xoxb-T0HASHFLR-code-1"]


@pytest.mark.parametrize(
    "event_type, tokens",
    [("app_uninstalled", None), ("tokens_revoked", {"bot": ["U0HASHBOT"]})],
)
def test_uninstall_and_revoked_tokens_drop_the_cached_answer(app, slack, event_type, tokens):
    install(app)
    pings(app, slack, 1)
    cache = app._authorize.authorize_result_cache  # the one oauth_settings put in
    assert len(cache) == 1
    slack.reset()

    assert app.dispatch(signed_event(event_type, slack.team_id, tokens)).status == 200

    assert len(cache) == 0
    [reply] = pings(app, slack, 1)
    assert "reinstall this app" in reply
    assert slack.calls_to("chat.postMessage") == []


def test_a_token_revoked_unheard_of_is_asked_about_again_after_the_cache_time(app, slack):
    """No event reached this process (another one got it): the cached answer ages out."""
    install(app)
    pings(app, slack, 1)
    slack.reset()
    token = "xoxb-T0HASHFLR-code-1"
    slack.revoked.add(token)
    app._authorize.authorize_result_cache.ttl_s = 0.0  # the cache time has passed

    [reply] = pings(app, slack, 1)

    assert "reinstall this app" in reply
    assert [c.token for c in slack.calls_to("auth.test")] == [token]
