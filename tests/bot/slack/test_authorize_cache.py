"""AuthorizeCache: Bolt's authorize answers kept by token, aged out, bounded, forgotten on delete."""

from __future__ import annotations

from slack_bolt.authorization import AuthorizeResult

from bot.slack.authorize_cache import AuthorizeCache


def result(team_id: str | None, enterprise_id: str | None = None) -> AuthorizeResult:
    return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, bot_token="xoxb")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_entry_is_kept_for_the_cache_time_only():
    clock = Clock()
    cache = AuthorizeCache(ttl_s=600, clock=clock)
    cache["xoxb-1"] = r = result("T1")
    clock.now += 599
    assert "xoxb-1" in cache and cache["xoxb-1"] is r
    clock.now += 1
    assert "xoxb-1" not in cache
    assert len(cache) == 0


def test_the_oldest_entries_go_beyond_the_limit():
    cache = AuthorizeCache(max_entries=2, clock=Clock())
    for i in range(3):
        cache[f"xoxb-{i}"] = result(f"T{i}")
    assert ["xoxb-0" in cache, "xoxb-1" in cache, "xoxb-2" in cache] == [False, True, True]


def test_forget_drops_a_workspace_or_an_org_and_nothing_else():
    cache = AuthorizeCache(clock=Clock())
    cache["a"] = result("T1")
    cache["a2"] = result("T1")  # a rotated token of the same workspace
    cache["b"] = result("T2", "E1")
    cache["c"] = result("T3", "E1")
    cache["d"] = result("T4", "E2")
    assert cache.forget(None, "T1") == 2
    assert cache.forget("E1", None) == 2  # an org-wide install: every workspace of the org
    assert ["a" in cache, "b" in cache, "c" in cache, "d" in cache] == [False, False, False, True]
    assert cache.forget(None, None) == 0


def test_an_entry_found_is_handed_over_even_if_forgotten_before_it_is_read():
    """Bolt asks `token in cache`, then reads `cache[token]`: a forget in between (another
    thread's uninstall) must not make that request fail."""
    cache = AuthorizeCache(clock=Clock())
    cache["a"] = r = result("T1")
    assert "a" in cache
    cache.forget(None, "T1")
    assert cache["a"] is r
