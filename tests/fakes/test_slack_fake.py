"""The Slack fake answers a real slack_sdk client the way Slack does."""

import json
import re
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.webhook import WebhookClient

from tests.fakes.slack import PARTNER_TEAM, Call, FakeSlack

TOKEN = "xoxb-test-token"
TS = re.compile(r"^\d{10}\.\d{6}$")


@pytest.fixture
def slack():
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def client(slack: FakeSlack) -> WebClient:
    return WebClient(token=TOKEN, base_url=slack.url)


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def slack_error(call: Callable[[], object]) -> SlackApiError:
    with pytest.raises(SlackApiError) as raised:
        call()
    return raised.value


def test_url_is_loopback_api_base(slack: FakeSlack):
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/api/", slack.url)


def test_post_message_is_recorded_with_token_and_answered_in_slack_shape(slack, client):
    answer = client.chat_postMessage(
        channel="C1", text="BTC below cash cost", blocks=[section("x")]
    )

    assert answer["ok"] and answer["channel"] == "C1" and TS.match(answer["ts"])
    assert answer["message"]["ts"] == answer["ts"]
    assert answer["message"]["bot_id"] == slack.bot_id
    [call] = slack.calls
    assert call.method == "chat.postMessage"
    assert call.token == TOKEN
    assert call.headers["authorization"] == f"Bearer {TOKEN}"
    assert call.args["blocks"] == [section("x")]
    assert call.response == answer.data
    assert slack.messages() == [call.args]


def test_form_encoded_arguments_are_parsed(slack, client):
    client.api_call("chat.postMessage", params={"channel": "C1", "text": "a & b"})

    [call] = slack.calls_to("chat.postMessage")
    assert call.headers["content-type"].startswith("application/x-www-form-urlencoded")
    assert call.args == {"channel": "C1", "text": "a & b"}


def test_message_ts_are_unique_and_increasing(client):
    stamps = [client.chat_postMessage(channel="C1", text=str(i))["ts"] for i in range(5)]

    assert all(TS.match(ts) for ts in stamps)
    assert stamps == sorted(stamps, key=float) and len(set(stamps)) == 5


def test_messages_keeps_only_accepted_posts_and_filters_by_channel(slack, client):
    slack.fail("chat.postMessage", error="not_in_channel", channel="C2")
    client.chat_postMessage(channel="C1", text="one")
    slack_error(lambda: client.chat_postMessage(channel="C2", text="refused"))
    client.chat_postMessage(channel="C2", text="two")

    assert [m["text"] for m in slack.messages()] == ["one", "two"]
    assert [m["text"] for m in slack.messages("C2")] == ["two"]
    assert len(slack.calls_to("chat.postMessage")) == 3


def test_rate_limit_then_success_with_retry_handler(slack):
    slack.fail("chat.postMessage", times=2, status=429, retry_after=0)
    client = WebClient(
        token=TOKEN,
        base_url=slack.url,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)],
    )

    answer = client.chat_postMessage(channel="C1", text="alert")

    assert answer["ok"]
    assert [c.status for c in slack.calls_to("chat.postMessage")] == [429, 429, 200]
    assert [m["text"] for m in slack.messages()] == ["alert"]


def test_rate_limit_answer_carries_retry_after(slack, client):
    slack.fail("chat.postMessage", times=1, status=429, retry_after=7)

    error = slack_error(lambda: client.chat_postMessage(channel="C1", text="x"))

    assert error.response.status_code == 429
    assert error.response["error"] == "ratelimited"
    headers = {k.lower(): v for k, v in error.response.headers.items()}
    assert headers["retry-after"] == "7"
    assert client.chat_postMessage(channel="C1", text="x")["ok"]  # the fault is used up


def test_server_error_for_a_number_of_calls(slack, client):
    slack.fail("auth.test", times=2, status=500)

    statuses = [slack_error(client.auth_test).response.status_code for _ in range(2)]

    assert statuses == [500, 500]
    assert client.auth_test()["ok"]


def test_permanent_error_for_one_channel(slack, client):
    slack.fail("chat.postMessage", error="channel_not_found", channel="C123", times=None)

    for _ in range(3):
        error = slack_error(lambda: client.chat_postMessage(channel="C123", text="x"))
        assert error.response.status_code == 200
        assert error.response["error"] == "channel_not_found"
    assert client.chat_postMessage(channel="C456", text="x")["ok"]


def test_a_channel_the_bot_is_not_in_refuses_its_posts(slack, client):
    slack.channels["C0PUBLIC"] = {"is_member": False}
    slack.channels["C0SECRET"] = {"is_member": False, "is_private": True}

    public = slack_error(lambda: client.chat_postMessage(channel="C0PUBLIC", text="x"))
    secret = slack_error(lambda: client.chat_postMessage(channel="C0SECRET", text="x"))

    assert public.response["error"] == "not_in_channel"
    assert secret.response["error"] == "channel_not_found"
    assert client.conversations_info(channel="C0PUBLIC")["channel"]["is_member"] is False
    assert slack.messages() == []
    slack.channels["C0PUBLIC"]["is_member"] = True  # /invite @Hashfloor
    assert client.chat_postMessage(channel="C0PUBLIC", text="x")["ok"]


def test_faults_queue_in_order(slack, client):
    slack.fail("auth.test", status=429, retry_after=0)
    slack.fail("auth.test", error="account_inactive")

    assert slack_error(client.auth_test).response.status_code == 429
    assert slack_error(client.auth_test).response["error"] == "account_inactive"
    assert client.auth_test()["ok"]


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"times": 0}, {"status": 400}],
)
def test_fail_refuses_meaningless_faults(slack, kwargs):
    with pytest.raises(ValueError):
        slack.fail("auth.test", **kwargs)


@pytest.mark.parametrize(
    "call, error",
    [
        (lambda c: c.api_call("chat.postMessage", json={"channel": "C1"}), "no_text"),
        (lambda c: c.chat_postMessage(channel="C1", text="x" * 40_001), "msg_too_long"),
        (
            lambda c: c.chat_postMessage(channel="C1", text="x", blocks=[section("x")] * 51),
            "invalid_blocks",
        ),
        (
            lambda c: c.chat_postMessage(channel="C1", text="x", blocks=[section("x" * 3001)]),
            "invalid_blocks",
        ),
        (
            lambda c: c.chat_update(channel="C1", ts="1700000000.000100", text="x"),
            "message_not_found",
        ),
        (lambda c: c.chat_postEphemeral(channel="C1", user="", text="x"), "user_not_found"),
        (lambda c: c.views_publish(user_id="U1", view={"type": "modal"}), "invalid_arguments"),
        (lambda c: c.api_call("hashfloor.nonsense"), "unknown_method"),
        (lambda c: WebClient(base_url=c.base_url).auth_test(), "not_authed"),
        (lambda c: WebClient(token="bogus", base_url=c.base_url).auth_test(), "invalid_auth"),
        (lambda c: c.files_completeUploadExternal(files=[{"id": "F9"}]), "file_not_found"),
    ],
)
def test_refusals_raise_slack_api_error(client, call, error):
    assert slack_error(lambda: call(client)).response["error"] == error


def test_chat_update_and_ephemeral(client):
    posted = client.chat_postMessage(channel="C1", text="below", blocks=[section("old")])

    updated = client.chat_update(channel="C1", ts=posted["ts"], text="recovered")
    ephemeral = client.chat_postEphemeral(channel="C1", user="U1", text="only you")

    assert updated["ts"] == posted["ts"] and updated["text"] == "recovered"
    assert updated["message"]["blocks"] == [section("old")]  # as on Slack: blocks kept if omitted
    assert TS.match(ephemeral["message_ts"]) and float(ephemeral["message_ts"]) > float(
        posted["ts"]
    )


def test_chat_update_refuses_as_slack_does(slack, client):
    """A person's message: cant_update_message; a channel the bot left: not_in_channel; past the
    workspace's edit window: edit_window_closed. Nothing changes in any of them."""
    theirs = slack.post_as_user("C1", "U1", "mine")
    assert (
        slack_error(lambda: client.chat_update(channel="C1", ts=theirs, text="x")).response["error"]
        == "cant_update_message"
    )
    ours = client.chat_postMessage(channel="C1", text="alert")["ts"]
    slack.channels["C1"] = {"is_member": False}
    assert (
        slack_error(lambda: client.chat_update(channel="C1", ts=ours, text="x")).response["error"]
        == "not_in_channel"
    )
    slack.channels["C1"] = {"is_member": True}
    slack.edit_window_s = 0.0
    assert (
        slack_error(lambda: client.chat_update(channel="C1", ts=ours, text="x")).response["error"]
        == "edit_window_closed"
    )
    slack.edit_window_s = None
    assert slack.message("C1", ours)["text"] == "alert"
    assert slack.message("C1", theirs)["text"] == "mine"
    client.chat_update(channel="C1", ts=ours, text="recovered")
    assert slack.message("C1", ours)["text"] == "recovered"


def test_thread_reply_carries_thread_ts(client):
    parent = client.chat_postMessage(channel="C1", text="alert")

    reply = client.chat_postMessage(channel="C1", text="recovered", thread_ts=parent["ts"])

    assert reply["message"]["thread_ts"] == parent["ts"]


def test_views_publish_answers_the_home_view(slack, client):
    answer = client.views_publish(user_id="U1", view={"type": "home", "blocks": [section("hi")]})

    assert answer["view"]["type"] == "home"
    assert answer["view"]["blocks"] == [section("hi")]
    assert answer["view"]["id"].startswith("V")
    assert slack.calls_to("views.publish")[0].args["user_id"] == "U1"


@pytest.mark.parametrize(
    "flags",
    [
        {},
        {"is_admin": True},
        {"is_owner": True, "is_primary_owner": True},
        {"is_restricted": True},
        {"is_ultra_restricted": True, "is_restricted": True},
        {"is_stranger": True},
    ],
)
def test_users_info_flags_are_configurable(slack, client, flags):
    slack.users["U1"] = flags

    user = client.users_info(user="U1")["user"]

    assert user["id"] == "U1" and user["team_id"] == slack.team_id
    for flag in ("is_admin", "is_owner", "is_restricted", "is_ultra_restricted", "is_stranger"):
        assert user.get(flag, False) == flags.get(flag, False)


def test_conversations_info_defaults_and_overrides(slack, client):
    slack.channels["C1"] = {"name": "mining-ops", "is_private": True}

    configured = client.conversations_info(channel="C1")["channel"]
    default = client.conversations_info(channel="C2")["channel"]

    assert (configured["id"], configured["name"], configured["is_private"]) == (
        "C1",
        "mining-ops",
        True,
    )
    assert default["id"] == "C2" and default["is_channel"] and not default["is_private"]


def test_auth_test_identity_and_per_token_override(slack, client):
    default = client.auth_test()
    slack.auth["xoxb-other"] = {"team_id": "T2", "bot_id": "B2"}
    other = WebClient(token="xoxb-other", base_url=slack.url).auth_test()

    assert (default["team_id"], default["user_id"], default["bot_id"]) == (
        slack.team_id,
        slack.bot_user_id,
        slack.bot_id,
    )
    assert default["url"].startswith("https://")
    assert (other["team_id"], other["bot_id"]) == ("T2", "B2")


def test_oauth_v2_access_default_and_configured(slack):
    client = WebClient(base_url=slack.url)

    default = client.oauth_v2_access(client_id="1.2", client_secret="s", code="abc")
    slack.oauth_response = {"ok": False, "error": "invalid_code"}
    refused = slack_error(
        lambda: client.oauth_v2_access(client_id="1.2", client_secret="s", code="x")
    )

    assert default["token_type"] == "bot" and default["access_token"].startswith("xoxb-")
    assert default["team"]["id"] == slack.team_id
    assert refused.response["error"] == "invalid_code"
    assert slack.calls_to("oauth.v2.access")[0].headers["authorization"].startswith("Basic ")


def test_auth_revoke_revokes_the_token(slack, client):
    assert client.auth_revoke(test=True)["revoked"] is False
    assert client.auth_test()["ok"]

    assert client.auth_revoke()["revoked"] is True
    assert slack_error(client.auth_test).response["error"] == "token_revoked"


def test_apps_uninstall_revokes_the_token(slack, client):
    assert client.apps_uninstall(client_id="1.2", client_secret="s")["ok"]
    assert TOKEN in slack.revoked
    assert slack_error(client.auth_test).response["error"] == "token_revoked"


def test_files_upload_v2_end_to_end(slack, client):
    data = bytes(range(256)) * 40

    answer = client.files_upload_v2(
        content=data, filename="digest.png", title="Week 12", channel="C1", initial_comment="digest"
    )

    [issued] = slack.calls_to("files.getUploadURLExternal")
    [completed] = slack.calls_to("files.completeUploadExternal")
    file_id = issued.response["file_id"]
    assert issued.response["upload_url"].startswith(slack.root)
    assert issued.args["length"] == str(len(data))
    assert slack.uploads == {file_id: data}
    assert completed.args["channel_id"] == "C1"
    assert completed.args["initial_comment"] == "digest"
    assert answer["file"]["id"] == file_id
    assert answer["file"]["title"] == "Week 12" and answer["file"]["size"] == len(data)


def test_upload_url_accepts_multipart(slack, client):
    upload_url = client.files_getUploadURLExternal(filename="a.png", length=3)["upload_url"]
    body = (
        b"--XyZ\r\n"
        b'Content-Disposition: form-data; name="filename"\r\n\r\na.png\r\n'
        b"--XyZ\r\n"
        b'Content-Disposition: form-data; name="file"; filename="a.png"\r\n'
        b"Content-Type: image/png\r\n\r\n\x00\x01\x02\r\n"
        b"--XyZ--\r\n"
    )
    request = urllib.request.Request(
        upload_url, data=body, headers={"Content-Type": "multipart/form-data; boundary=XyZ"}
    )

    with urllib.request.urlopen(request) as response:
        assert response.status == 200

    assert list(slack.uploads.values()) == [b"\x00\x01\x02"]


def test_upload_to_an_unissued_url_is_refused(slack):
    request = urllib.request.Request(f"{slack.root}/upload/v1/F0NOPE", data=b"x")

    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request)

    assert raised.value.code == 404
    assert slack.uploads == {}


def test_response_url_records_json_posts(slack):
    url = slack.response_url("cmd-1")

    WebhookClient(url).send(text="74,600 below", response_type="ephemeral")

    assert url.startswith(slack.root)
    assert slack.responses("cmd-1") == [{"text": "74,600 below", "response_type": "ephemeral"}]
    assert slack.responses("cmd-2") == []


def test_wait_for_sees_calls_made_by_other_threads(slack, client):
    worker = threading.Thread(target=lambda: client.chat_postMessage(channel="C9", text="late"))
    worker.start()

    found = slack.wait_for(lambda calls: [c for c in calls if c.args.get("channel") == "C9"])
    worker.join()

    assert isinstance(found[0], Call) and found[0].args["text"] == "late"


def test_wait_for_fails_with_what_it_saw(slack, client):
    client.auth_test()

    with pytest.raises(AssertionError, match="auth.test=200"):
        slack.wait_for(lambda calls: len(calls) > 1, timeout=0.01)


def test_delay_holds_the_answer_and_can_be_removed(slack):
    slack.delay("auth.test", 30)
    request = urllib.request.Request(
        f"{slack.url}auth.test", data=b"", headers={"Authorization": f"Bearer {TOKEN}"}
    )

    with pytest.raises((TimeoutError, urllib.error.URLError)):
        urllib.request.urlopen(request, timeout=0.2)
    slack.wait_for(lambda calls: calls)  # the call arrived; only its answer was held
    slack.delay("auth.test", 0)

    with urllib.request.urlopen(request, timeout=10) as response:
        assert json.load(response)["ok"] is True


def test_reset_clears_calls_and_faults(slack, client):
    slack.fail("auth.test", error="invalid_auth", times=None)
    slack_error(client.auth_test)

    slack.reset()

    assert slack.calls == []
    assert client.auth_test()["ok"]


def test_unknown_paths_are_not_found(slack):
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(f"{slack.root}/nowhere")

    assert raised.value.code == 404


def test_an_external_user_answers_with_their_own_team_and_no_stranger_flag(slack, client):
    slack.external_user("U0PARTNER", is_admin=True)
    slack.external_user("U0GRID", "T0GRIDWS", enterprise_id="E0PARTNER")

    partner = client.users_info(user="U0PARTNER")["user"]
    grid = client.users_info(user="U0GRID")["user"]

    assert (partner["team_id"], partner["is_stranger"], partner["is_admin"]) == (
        PARTNER_TEAM,
        False,
        True,
    )
    assert partner["team_id"] != slack.team_id
    assert grid["team_id"] == "T0GRIDWS"
    assert grid["enterprise_user"]["enterprise_id"] == "E0PARTNER"
