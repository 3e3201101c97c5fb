"""manifest.yml creates the app of DESIGN §3.3 and is valid for Slack."""

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).parents[1]
SCHEMA = ROOT / "tests" / "fixtures" / "slack" / "manifest.schema.1.0.0.json"
EVENTS_URL = "https://YOUR-HOST/slack/events"


@pytest.fixture(scope="module")
def manifest() -> dict:
    return yaml.safe_load((ROOT / "manifest.yml").read_text())


def test_manifest_validates_against_slack_schema(manifest):
    validator = jsonschema.Draft7Validator(json.loads(SCHEMA.read_text()))

    errors = [f"{'/'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(manifest)]

    assert errors == []


def test_exactly_the_four_commands(manifest):
    commands = [c["command"] for c in manifest["features"]["slash_commands"]]

    assert commands == ["/breakeven", "/hashprice", "/costs", "/hashfloor"]


@pytest.mark.parametrize(
    "command, hint_words",
    [
        ("/breakeven", ["share", "J/TH", "$/kWh", "pool fee"]),
        ("/hashprice", []),
        ("/costs", ["add", "cash=", "allin=", "period=", "source=", "remove"]),
        (
            "/hashfloor",
            ["subscribe", "unsubscribe", "status", "digest", "fleet", "mute", "unmute", "help"],
        ),
    ],
)
def test_command_is_routed_to_events_and_hinted(manifest, command, hint_words):
    [entry] = [c for c in manifest["features"]["slash_commands"] if c["command"] == command]

    assert entry["url"] == EVENTS_URL
    assert entry["should_escape"] is False
    assert entry["description"]
    assert all(word in entry.get("usage_hint", "") for word in hint_words)


def test_scopes_are_exactly_what_the_bot_uses(manifest):
    scopes = manifest["oauth_config"]["scopes"]

    assert sorted(scopes["bot"]) == sorted(["commands", "chat:write", "files:write", "users:read"])
    assert set(scopes) == {"bot"}  # no user scopes


def test_events_interactivity_and_oauth_point_at_the_bot(manifest):
    settings = manifest["settings"]

    assert settings["event_subscriptions"]["request_url"] == EVENTS_URL
    assert sorted(settings["event_subscriptions"]["bot_events"]) == [
        "app_home_opened",
        "app_uninstalled",
        "tokens_revoked",
        "user_change",
    ]
    assert settings["interactivity"] == {"is_enabled": True, "request_url": EVENTS_URL}
    assert manifest["oauth_config"]["redirect_urls"] == ["https://YOUR-HOST/slack/oauth_redirect"]
    assert settings["socket_mode_enabled"] is False
    assert settings["token_rotation_enabled"] is False


def test_app_home_and_bot_user(manifest):
    features = manifest["features"]

    assert manifest["display_information"]["name"] == "Hashfloor"
    assert features["bot_user"]["display_name"] == "Hashfloor"
    assert features["app_home"]["home_tab_enabled"] is True
