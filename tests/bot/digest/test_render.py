import json
import re
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot.digest.contents import FleetStat, LineStat, WeekDigest
from bot.digest.render import RuleLine, digest_blocks, digest_text

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC).timestamp()  # 1795424400
DAY = 86_400.0

CASH = LineStat("cash", "CoinShares cash cost (2025-Q2)", 74_600.0, 0.2225201, 0.0)
ALLIN = LineStat("allin", "CoinShares all-in cost (2025-Q2)", 137_800.0, -0.3381713, 167.5)

DIGEST = WeekDigest(
    now=NOW,
    week_start=NOW - 7 * DAY,
    samples=10_080,
    poll_interval_s=60.0,
    hours_covered=168.0,
    price_now_usd=91_200.0,
    price_at=NOW - 30,
    open_usd=88_000.0,
    close_usd=91_200.0,
    high_usd=93_450.4,
    low_usd=86_120.6,
    change_usd=3_200.0,
    change=3_200 / 88_000,
    lines=(CASH, ALLIN),
    hashprice_usd_per_ph_day=37.884,
    hashprice_week_ago_usd_per_ph_day=38.5,
    hashprice_week_ago_at=NOW - 7 * DAY,
    hashprice_change=37.884 / 38.5 - 1,
    difficulty=152e12,
    previous_adjustment_percent=1.93,
    previous_adjustment_at=NOW - 3 * DAY,  # Fri 20 Nov 2026
    next_adjustment_percent=-0.5,
    next_adjustment_at=NOW + 9 * DAY,  # Wed 02 Dec 2026
    next_adjustment_blocks=1_300,
    tip_height=925_000,
    blocks_to_halving=125_000,
    fleets=(FleetStat(17.5, 0.05, 0.02, 51_483.0, 91_200 / 51_483 - 1, 0.0),),
)

EMPTY = replace(
    DIGEST,
    samples=0,
    poll_interval_s=None,
    hours_covered=0.0,
    price_now_usd=None,
    price_at=None,
    open_usd=None,
    close_usd=None,
    high_usd=None,
    low_usd=None,
    change_usd=None,
    change=None,
    lines=(replace(CASH, margin=None), replace(ALLIN, margin=None, hours_below=0.0)),
    hashprice_usd_per_ph_day=None,
    hashprice_week_ago_usd_per_ph_day=None,
    hashprice_week_ago_at=None,
    hashprice_change=None,
    fleets=(),
)


def md(text):
    return {"type": "mrkdwn", "text": text}


def section(text):
    return {"type": "section", "text": md(text)}


def test_blocks_json():
    text, blocks = digest_blocks(DIGEST, "mining-ops")
    assert text == (
        "Hashfloor weekly digest for #mining-ops: BTC $91,200 (+3.6% on the week); "
        "22.3% above CoinShares cash cost (2025-Q2) of $74,600; "
        "33.8% below CoinShares all-in cost (2025-Q2) of $137,800; hashprice $37.88/PH/day."
    )
    expected = [
        {
            "type": "header",
            "text": {
                "type": "plain_text",
                "text": "Weekly digest: BTC against the cost to mine",
                "emoji": True,
            },
        },
        {
            "type": "context",
            "elements": [
                md("Week to <!date^1795424400^{date_short_pretty}|Mon 23 Nov 2026> · #mining-ops")
            ],
        },
        {
            "type": "section",
            "fields": [
                md("*BTC now*\n$91,200"),
                md("*Week change*\n+3.6% (+$3,200)"),
                md("*Open, close*\n$88,000, $91,200"),
                md("*High, low*\n$93,450, $86,121"),
            ],
        },
        {"type": "divider"},
        section(
            "*Cost lines*\n"
            "• *CoinShares cash cost (2025-Q2)* $74,600: 22.3% above · not below it this week\n"
            "• *CoinShares all-in cost (2025-Q2)* $137,800: 33.8% below · "
            "167.5 h below it this week"
        ),
        {"type": "divider"},
        {
            "type": "section",
            "fields": [
                md("*Hashprice*\n$37.88/PH/day (-1.6% on the week)"),
                md("*Difficulty*\n152.00 trillion"),
                md(
                    "*Last difficulty adjustment*\n"
                    "+1.93% on <!date^1795165200^{date_short_pretty}|Fri 20 Nov 2026>"
                ),
                md(
                    "*Next difficulty adjustment*\n-0.50% (estimate) around "
                    "<!date^1796202000^{date_short_pretty}|Wed 02 Dec 2026>, in 1,300 blocks"
                ),
                md("*Next halving*\nin 125,000 blocks (about 868 days)"),
            ],
        },
        section(
            "*Fleet main* (17.5 J/TH at $0.05/kWh, 2% pool fee): breaks even at $51,483; "
            "BTC is 77.1% above it; not below it this week."
        ),
        {
            "type": "context",
            "elements": [
                md(
                    "From 10,080 fresh polls, about every 60 s. Hours below a line leave out gaps "
                    "in the data; margins use the latest fresh price. Price as of "
                    "<!date^1795424370^{date_short_pretty} {time}|2026-11-23 08:59 UTC>."
                )
            ],
        },
    ]
    assert json.loads(json.dumps(blocks)) == expected


def test_empty_week_blocks_say_so():
    text, blocks = digest_blocks(EMPTY)
    assert text == "Hashfloor weekly digest: no fresh price data this week."
    body = json.dumps(blocks)
    assert "No fresh price data this week" in body
    assert "no fresh price to compare" in body
    assert "Fleet main" not in body
    assert blocks[2] == section(
        ":warning: No fresh price data this week: the price sources did not agree or the bot "
        "was not polling, so there is no price, margin or time below a line to report."
    )
    assert blocks[-1]["elements"][0]["text"] == "No fresh poll this week."


def test_no_lines_points_to_costs_add():
    _, blocks = digest_blocks(replace(DIGEST, lines=()))
    assert section("*Cost lines*\nNone on file: add one with `/costs add`.") in blocks


def test_fleet_without_network_data():
    fleet = FleetStat(17.5, 0.05, 0.0, None, None, 0.0)
    _, blocks = digest_blocks(replace(DIGEST, fleets=(fleet,)))
    assert (
        section(
            "*Fleet main* (17.5 J/TH at $0.05/kWh, 0% pool fee): breakeven unknown "
            "(no network data this week)."
        )
        in blocks
    )


def test_every_fleet_is_listed_and_fifty_stay_within_slack_limits():
    main = FleetStat(17.5, 0.05, 0.02, 51_483.0, 91_200 / 51_483 - 1, 0.0)
    texas = FleetStat(30.0, 0.07, 0.02, 123_559.0, 91_200 / 123_559 - 1, 168.0, "<Texas>")
    d = replace(DIGEST, fleets=(main, texas))
    _, blocks = digest_blocks(d)
    body = json.dumps(blocks, ensure_ascii=False)
    assert "*Fleet main* (17.5 J/TH at $0.05/kWh, 2% pool fee): breaks even at $51,483" in body
    assert (
        "*Fleet &lt;Texas&gt;* (30 J/TH at $0.07/kWh, 2% pool fee): breaks even at $123,559" in body
    )
    text = digest_text(d)
    assert "Fleet main   17.5 J/TH at $0.05/kWh, 2% pool fee: breaks even at $51,483" in text
    assert "Fleet <Texas> 30 J/TH at $0.07/kWh, 2% pool fee: breaks even at $123,559" in text
    many = replace(DIGEST, fleets=tuple(replace(texas, name=f"site-{i:02d}") for i in range(50)))
    _, blocks = digest_blocks(many)
    assert len(blocks) <= 50
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in blocks)
    assert "site-49" in json.dumps(blocks)


def test_hashprice_change_since_a_later_start():
    d = replace(DIGEST, hashprice_week_ago_at=NOW - 2 * DAY)  # data began on Sat 21 Nov
    _, blocks = digest_blocks(d)
    assert "(-1.6% since <!date^1795251600^{date_short_pretty}|Sat 21 Nov 2026>)" in json.dumps(
        blocks
    )


@pytest.mark.parametrize(
    "change, change_usd, words",
    [
        (0.0, 0.0, "+0.0% (+$0)"),
        (-0.0523, -4_700.0, "-5.2% (-$4,700)"),
        (1.5, 60_000.0, "+150.0% (+$60,000)"),
    ],
)
def test_signed_week_change(change, change_usd, words):
    _, blocks = digest_blocks(replace(DIGEST, change=change, change_usd=change_usd))
    assert blocks[2]["fields"][1] == md(f"*Week change*\n{words}")


def all_texts(blocks):
    """Every text object in the blocks, with the kind of holder it is in."""
    for block in blocks:
        if "text" in block:
            yield block["type"], block["text"]["text"]
        for field in block.get("fields", []):
            yield "field", field["text"]
        for element in block.get("elements", []):
            yield "context", element["text"]


def assert_within_slack_limits(text, blocks):
    assert len(blocks) <= 50
    assert 0 < len(text) <= 4000
    for block in blocks:
        assert len(block.get("fields", [])) <= 10
        assert len(block.get("elements", [])) <= 10
    for kind, value in all_texts(blocks):
        limit = {"header": 150, "field": 2000}.get(kind, 3000)
        assert 0 < len(value) <= limit, (kind, len(value))


NASTY = "Ops & <finance> <!channel> <@U123|x> " * 200


@pytest.mark.parametrize("n_lines", [0, 1, 30, 31, 500])
@pytest.mark.parametrize("label", ["c", NASTY])
def test_limits_hold_for_extreme_inputs(n_lines, label):
    lines = tuple(
        LineStat(f"cost:{i}", f"{label} {i}", 1e15 + i, -0.9999 if i % 2 else 1e9, 1e6)
        for i in range(n_lines)
    )
    d = replace(
        DIGEST,
        lines=lines,
        price_now_usd=1e15,
        high_usd=1e15,
        change=1e9,
        change_usd=1e15,
        samples=10**9,
        next_adjustment_blocks=10**9,
        blocks_to_halving=10**9,
    )
    text, blocks = digest_blocks(d, NASTY)
    assert_within_slack_limits(text, blocks)
    body = "\n".join(value for _, value in all_texts(blocks))
    shown = body.count("\n• ")
    hidden = re.search(r"…and (\d+) more lines?", body)
    assert shown + (int(hidden.group(1)) if hidden else 0) == n_lines
    assert shown == min(n_lines, 30)


@pytest.mark.parametrize("digest", [DIGEST, EMPTY])
def test_user_text_is_escaped(digest):
    evil_line = LineStat("cost:1", "R&D <b> cost <!here>", 80_000.0, 0.1, 0.0)
    text, blocks = digest_blocks(replace(digest, lines=(evil_line,)), "ops&<fin>")
    body = json.dumps(blocks, ensure_ascii=False)
    assert "#ops&amp;&lt;fin&gt;" in body and "#ops&amp;&lt;fin&gt;" in text
    assert "R&amp;D &lt;b&gt; cost &lt;!here&gt;" in body
    assert "<!here>" not in body + text and "<fin>" not in body + text and "<b>" not in body
    if digest.has_prices:
        assert "R&amp;D &lt;b&gt; cost &lt;!here&gt;" in text
    # the only unescaped < in the blocks open Slack date tokens
    for _, value in all_texts(blocks):
        assert re.sub(r"<!date\^\d+\^[^|>]+\|[^>]+>", "", value).count("<") == 0


def test_channel_name_with_or_without_hash():
    a, _ = digest_blocks(DIGEST, "#ops")
    b, _ = digest_blocks(DIGEST, "ops")
    assert a == b and "#ops:" in a and "##" not in a


def test_newlines_in_labels_do_not_break_the_layout():
    line = LineStat("cost:1", "two\nlines\n• fake bullet", 80_000.0, 0.1, 0.0)
    _, blocks = digest_blocks(replace(DIGEST, lines=(line,)))
    assert "• *two lines • fake bullet* $80,000" in json.dumps(blocks, ensure_ascii=False)


def test_digest_text():
    out = digest_text(DIGEST)
    assert out.splitlines()[:2] == [
        "Weekly digest: BTC against the cost to mine",
        "Week to 2026-11-23 09:00 UTC",
    ]
    for expected in [
        "BTC now      $91,200",
        "Week change  +3.6% (+$3,200)",
        "High, low    $93,450, $86,121",
        "CoinShares all-in cost (2025-Q2)   $137,800  33.8% below · 167.5 h below it this week",
        "Hashprice    $37.88/PH/day (-1.6% on the week)",
        "Last adj.    +1.93% on Fri 20 Nov 2026",
        "Next adj.    -0.50% (estimate) around Wed 02 Dec 2026, in 1,300 blocks",
        "Halving      in 125,000 blocks (about 868 days)",
        "Fleet main   17.5 J/TH at $0.05/kWh, 2% pool fee: breaks even at $51,483",
    ]:
        assert expected in out
    assert "<!date" not in out and "*" not in out


def test_digest_text_of_an_empty_week():
    out = digest_text(replace(EMPTY, lines=()))
    assert "No fresh price data this week" in out
    assert "  (none)" in out
    assert "Hashprice    —" in out


@pytest.mark.parametrize(
    ("covered", "allin_hours", "words"),
    [
        # The first week: two hours of data, all-in below only at the latest poll.
        (
            2.0,
            0.0,
            "33.8% below · below it since the latest poll, not before it in the 2.0 h of "
            "data this week",
        ),
        (2.0, 1.5, "33.8% below · 1.5 h below it in the 2.0 h of data this week"),
        (0.0, 0.0, "33.8% below · hours below not counted yet (one poll of data this week)"),
        (168.0, 0.0, "33.8% below · below it since the latest poll, not before it this week"),
    ],
)
def test_hours_below_say_what_data_they_rest_on(covered, allin_hours, words) -> None:
    d = replace(DIGEST, hours_covered=covered, lines=(replace(ALLIN, hours_below=allin_hours),))
    text = json.dumps(digest_blocks(d, "mining"), ensure_ascii=False)
    assert words in text
    assert "33.8% below · not below it" not in text
    assert (f"covering {covered:.1f} h of the week's 168" in text) == (covered < 168)
    cash = replace(DIGEST, hours_covered=covered, lines=(CASH,))
    if covered:
        scope = "this week" if covered == 168.0 else f"in the {covered:.1f} h of data this week"
        assert f"22.3% above · not below it {scope}" in digest_text(cash)


def test_money_in_the_workspace_currency_first():
    from bot.currency import Rate

    d = replace(DIGEST, rate=Rate("EUR", 0.92, NOW - 60))
    text, blocks = digest_blocks(d)
    body = "\n".join(t for _, t in all_texts(blocks))
    assert "*BTC now*\n€83,904 ($91,200)" in body
    assert "*Open, close*\n€80,960 ($88,000), €83,904 ($91,200)" in body
    assert "€34.85 ($37.88)/PH/day" in body
    assert "breaks even at €47,364 ($51,483)" in body
    # Cost lines stay in US$, as published; the rate and its age are said.
    assert "$74,600" in body and "€68,632" not in body
    assert "EUR at 0.92 EUR/USD, 60s old (mempool.space); cost lines in US$" in body
    assert text.startswith("Hashfloor weekly digest: BTC €83,904 ($91,200)")
    assert "BTC now      €83,904 ($91,200)" in digest_text(d)
    assert_within_slack_limits(text, blocks)


def test_without_a_fresh_rate_the_digest_says_so_in_dollars():
    warning = ":warning: No fresh EUR/USD rate (none polled): amounts in US$ only."
    text, blocks = digest_blocks(replace(DIGEST, rate_warning=warning))
    body = "\n".join(t for _, t in all_texts(blocks))
    assert "*BTC now*\n$91,200" in body and "€" not in body
    assert warning in body
    assert "No fresh EUR/USD rate (none polled)" in digest_text(
        replace(DIGEST, rate_warning=warning)
    )


def test_the_channels_rules_are_listed_escaped_and_counted_past_twenty() -> None:
    rules = [
        RuleLine(f"within {i}% of Acme <b> & co", "within 5%", NOW - 3600, "BTC <fell> & more")
        for i in range(1, 26)
    ]
    text, blocks = digest_blocks(DIGEST, "mining", rules)
    (section,) = [
        b for b in blocks if "Alerts in this channel" in b.get("text", {}).get("text", "")
    ]
    body = section["text"]["text"]
    assert body.count("\n• ") == 20
    assert "• within 1% of Acme &lt;b&gt; &amp; co: *within 5%* · last message " in body
    assert "“BTC &lt;fell&gt; &amp; more”" in body
    assert body.endswith("…and 5 more: `/hashfloor status` here.")
    assert "<b>" not in body and len(body) <= 3000 and len(blocks) <= 50
    assert "Alerts in this channel" not in json.dumps(digest_blocks(DIGEST, "mining")[1])


OLD = "old: 2025-Q2 ended 511 days ago, next report overdue since about 31 Dec 2025"


def test_an_old_line_is_marked_in_blocks_text_and_fallback():
    d = replace(DIGEST, lines=(replace(CASH, old=OLD), ALLIN))
    fallback, blocks = digest_blocks(d)
    body = json.dumps(blocks, ensure_ascii=False)
    assert f"$74,600: 22.3% above · not below it this week :hourglass: _{OLD}_" in body
    assert body.count(":hourglass:") == 1  # the all-in line is not marked
    assert "22.3% above CoinShares cash cost (2025-Q2) (old) of $74,600" in fallback
    assert f"$74,600  22.3% above · not below it this week  ({OLD})" in digest_text(d)
    assert "(old)" not in digest_blocks(DIGEST)[0] and OLD not in digest_text(DIGEST)


def test_fleet_sentence_shows_mining_per_mwh_and_the_hpc_lease():
    fleet = replace(DIGEST.fleets[0], earnings_usd_per_mwh=88.38)
    with_lease = replace(DIGEST, fleets=(fleet,), hpc_lease_usd_per_kw_month=150.0)
    words = (
        "mining earns $88.38/MWh (its curtailment price); "
        "HPC lease at $150/kW-month: $205.48/MWh, 2.3× what mining earns."
    )
    assert words in json.dumps(digest_blocks(with_lease)[1], ensure_ascii=False)
    assert words in digest_text(with_lease)
    # Without `/hashfloor hpc`, mining alone; without a mining figure, the lease alone.
    alone = digest_text(replace(DIGEST, fleets=(fleet,)))
    assert "mining earns $88.38/MWh (its curtailment price)." in alone and "HPC" not in alone
    no_mining = digest_text(replace(DIGEST, hpc_lease_usd_per_kw_month=150.0))
    assert "HPC lease at $150/kW-month: $205.48/MWh." in no_mining
