"""`hashfloor backtest` end to end: CSV files made here, and a fake mempool on loopback."""

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from storage import costs, workspaces
from storage import history as store
from storage.db import Storage
from storage.migrations import migrate
from tests.fakes.mempool_history import FakeMempoolHistory

DAY = 86_400

# Worked out by hand against a line at $50,000 (see tests/bot/backtest/test_replay.py)
HAND_CSV = """date,price_usd
2024-12-24,52000
2024-12-25,49000
2024-12-26,51000
2024-12-27,49500
2024-12-28,49800
2024-12-29,50200
2024-12-30,50600
2024-12-31,50400
2025-01-01,51000
2025-01-02,52000
2025-01-03,49000
2025-01-05,48000
"""


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    # wide enough that rich does not wrap the tables' cells
    return {"HASHFLOOR_DB": str(tmp_path / "hashfloor.db"), "COLUMNS": "200"}


def run(env: dict[str, str], *args: str):
    return CliRunner().invoke(app, ["backtest", *args], env=env)


def run_json(env: dict[str, str], *args: str) -> dict:
    result = run(env, *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def write(tmp_path: Path, text: str, name: str = "h.csv") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_hand_series_from_csv(env, tmp_path):
    data = run_json(env, "--csv", write(tmp_path, HAND_CSV), "--rules", "below:50000")
    assert [(a["date"], a["event"], a["price_usd"], a["margin"]) for a in data["alerts"]] == [
        ("2024-12-28", "crossed_below", 49_800, -0.004),
        ("2025-01-02", "recovered_above", 52_000, 0.04),
        ("2025-01-05", "crossed_below", 48_000, -0.04),
    ]
    assert all(a["line"] == "below:50000" and a["line_usd"] == 50_000 for a in data["alerts"])
    (line,) = data["lines"]
    assert (line["start_state"], line["final_state"]) == ("above", "below")
    assert (line["days_observed"], line["days_below"]) == (12, 5)
    assert line["longest_run_below"] == {
        "days": 2,
        "start": "2024-12-27T00:00Z",
        "end": "2024-12-28T00:00Z",
    }
    assert [
        (y["year"], y["days_below"], y["longest_run_below"]["days"]) for y in line["years"]
    ] == [
        (2024, 3, 2),
        (2025, 2, 1),
    ]
    assert (data["from"], data["to"], data["points"], data["poll"]) == (
        "2024-12-24T00:00Z",
        "2025-01-05T00:00Z",
        12,
        "daily",
    )
    assert data["source"]["kind"] == "csv"


def test_bad_csv_rows_are_reported_by_line_and_skipped(env, tmp_path):
    text = HAND_CSV.replace("2024-12-26,51000\n", "2024-12-26,51000\n2024-12-32,1\nnope,2\n")
    path = write(tmp_path, text)
    result = run(env, "--csv", path, "--rules", "below:50000", "--json")
    assert result.exit_code == 0
    assert f"{path}:5:" in result.stderr and f"{path}:6:" in result.stderr
    assert "row skipped" in result.stderr
    data = json.loads(result.stdout)
    assert [r["line"] for r in data["skipped_rows"]] == [5, 6]
    assert len(data["alerts"]) == 3  # the answer is that of the good rows


def test_text_report(env, tmp_path):
    result = run(env, "--csv", write(tmp_path, HAND_CSV), "--rules", "below:50000")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Alerts that would have fired" in out
    assert "2024-12-28" in out and "2025-01-02" in out and "2025-01-05" in out
    assert "$49,800" in out and "-0.4%" in out
    assert "Days below each line" in out
    assert "2 days, 2024-12-27 → 2024-12-28" in out


def test_quarter_in_force_and_default_rules(env, tmp_path):
    # $48,000: above 2024-Q1's cash cost ($47,200), below 2024-Q2's ($49,500)
    days = [(datetime(2024, 3, 29) + timedelta(days=n)).date() for n in range(7)]
    prices = [48_000] * 5 + [50_100] * 2
    csv = "date,price_usd\n" + "".join(f"{d},{p}\n" for d, p in zip(days, prices, strict=True))
    data = run_json(env, "--csv", write(tmp_path, csv))
    assert [line["key"] for line in data["lines"]] == ["cash", "allin"]
    cash, allin = data["lines"]
    assert [(a["date"], a["line"], a["event"], a["period"]) for a in data["alerts"]] == [
        ("2024-04-04", "cash", "recovered_above", "2024-Q2")
    ]
    assert [c["state"] for c in cash["silent_changes"]] == ["below"]
    assert allin["first_seen"] == "2024-04-01T00:00Z"  # no 2024-Q1 all-in value
    assert any("quarter" in a for a in data["assumptions"])


@pytest.mark.parametrize(
    "rules, keys",
    [
        ("cash", ["cash"]),
        ("allin,below:80000", ["allin", "below:80000"]),
        ("all,below:$60k", ["cash", "allin", "below:60000"]),
    ],
)
def test_rule_selection(env, tmp_path, rules, keys):
    data = run_json(env, "--csv", write(tmp_path, HAND_CSV), "--rules", rules)
    assert [line["key"] for line in data["lines"]] == keys


@pytest.mark.parametrize(
    "args, words",
    [
        (["--rules", "cash,gold"], "unknown rule 'gold'"),
        (["--rules", "fleet"], "needs a fleet"),
        (["--rules", "cost:999"], "no cost line #999"),
        (["--fleet", "17.5", "abc", "2"], "--fleet"),
        # No historical rate to convert with: said, not guessed.
        (["--fleet", "17.5", "€0.05", "2"], "a power price in US$ here"),
        (["--from", "2025-13-01"], "--from"),
        (["--from", "2025-02-01", "--to", "2025-01-01"], "before --from"),
        (["--from", "2030-01-01"], "no prices in the period"),
    ],
)
def test_bad_arguments_fail_in_one_line(env, tmp_path, args, words):
    result = run(env, "--csv", write(tmp_path, HAND_CSV), *args)
    assert result.exit_code in (1, 2)
    assert words in result.stderr
    assert "Traceback" not in result.output


def test_bad_csv_file(env, tmp_path):
    result = run(env, "--csv", write(tmp_path, "when,price\n2024-01-01,1\n"))
    assert result.exit_code == 2
    assert "date,price_usd[,difficulty]" in result.stderr


def test_to_includes_the_whole_day(env, tmp_path):
    start = datetime(2025, 3, 1, tzinfo=UTC)
    csv = "date,price_usd\n" + "".join(
        f"{(start + timedelta(hours=h)).isoformat()},{60_000 + h}\n" for h in range(72)
    )
    data = run_json(
        env, "--csv", write(tmp_path, csv), "--rules", "below:50000", "--poll", "hourly",
        "--from", "2025-03-02", "--to", "2025-03-02T06:00",
    )  # fmt: skip
    assert (data["from"], data["to"], data["points"]) == (
        "2025-03-02T00:00Z",
        "2025-03-02T23:00Z",
        24,
    )


def test_from_and_to(env, tmp_path):
    data = run_json(
        env, "--csv", write(tmp_path, HAND_CSV), "--rules", "below:50000",
        "--from", "2024-12-27", "--to", "2024-12-30",
    )  # fmt: skip
    assert (data["from"], data["to"], data["points"]) == (
        "2024-12-27T00:00Z",
        "2024-12-30T00:00Z",
        4,
    )
    # 12-27 is the first poll: below, taken silently; nothing fires before 12-30
    assert data["alerts"] == []
    assert data["lines"][0]["start_state"] == "below"


def test_fleet_from_the_command_line(env, tmp_path):
    # difficulty 152e12 after the 2024 halving: 17.5 J/TH at $0.05, 2% fee → $51,483 (DESIGN §4)
    csv = (
        "date,price_usd,difficulty\n2025-01-01,60000,152e12\n2025-01-02,50000,\n2025-01-03,50000,\n"
    )
    data = run_json(env, "--csv", write(tmp_path, csv), "--fleet", "17.5", "0.05", "2")
    assert [line["key"] for line in data["lines"]] == ["cash", "allin", "fleet"]
    (alert,) = [a for a in data["alerts"] if a["line"] == "fleet"]
    assert alert["date"] == "2025-01-03" and alert["event"] == "crossed_below"
    assert alert["line_usd"] == pytest.approx(51_483, abs=1)
    assert any("0.02 BTC per block" in a for a in data["assumptions"])
    higher_fees = run_json(
        env, "--csv", write(tmp_path, csv), "--rules", "fleet", "--fleet", "17.5", "5c", "2%",
        "--fees-btc", "0.5",
    )  # fmt: skip
    assert higher_fees["alerts"] == []  # more fees: a lower breakeven, never crossed
    assert any("0.5 BTC per block" in a for a in higher_fees["assumptions"])


@pytest.mark.parametrize("difficulty", ["152T", "1.52e14", "152.00 trillion"])
def test_fleet_difficulty_with_a_unit_and_each_line_value_in_json(env, tmp_path, difficulty):
    csv = (
        f"date,price_usd,difficulty\n2025-01-01,60000,{difficulty}\n2025-01-02,50000,\n"
        "2025-01-03,50000,\n"
    )
    data = run_json(env, "--csv", write(tmp_path, csv), "--fleet", "17.5", "0.05", "2")
    fleet, cash = data["lines"][2], data["lines"][0]
    assert fleet["key"] == "fleet"
    assert fleet["value_usd"]["first"] == pytest.approx(51_483, abs=1)
    assert fleet["value_usd"]["min"] == fleet["value_usd"]["max"] == fleet["value_usd"]["last"]
    assert cash["value_usd"]["first"] > 10_000  # a benchmark in US$ per BTC
    assert data["skipped_rows"] == []


def test_a_difficulty_in_trillions_is_refused_not_a_zero_breakeven(env, tmp_path):
    csv = "date,price_usd,difficulty\n2025-01-01,60000,152\n2025-01-02,50000,152\n"
    result = run(env, "--csv", write(tmp_path, csv), "--fleet", "17.5", "0.05", "2", "--json")
    assert "difficulty '152' is too small for Bitcoin" in result.stderr
    assert "write 152T or 1.52e14" in result.stderr
    assert result.exit_code == 2  # no row left to replay: said, not a silent "no alert"
    assert "no row could be used (2 skipped, see above)" in result.stderr


def test_fleet_without_difficulty(env, tmp_path):
    result = run(env, "--csv", write(tmp_path, HAND_CSV), "--fleet", "17.5", "0.05", "2")
    assert result.exit_code == 2
    assert "difficulty" in result.stderr


def test_the_assumption_is_in_the_help(env):
    result = CliRunner().invoke(app, ["backtest", "--help"], env=env)
    assert result.exit_code == 0
    assert "--fees-btc" in result.stdout
    assert "fee history" in result.stdout


def test_workspace_lines(env, tmp_path):
    storage = Storage(env["HASHFLOOR_DB"])
    migrate(storage.db)
    row_id = costs.add(storage.db, "T1", "Acme", "cash", 50_000, now=1.0)
    storage.close()
    data = run_json(env, "--csv", write(tmp_path, HAND_CSV), "--workspace", "T1")
    keys = [line["key"] for line in data["lines"]]
    assert keys == ["cash", "allin", f"cost:{row_id}"]
    assert len([a for a in data["alerts"] if a["line"] == f"cost:{row_id}"]) == 3
    chosen = run_json(env, "--csv", write(tmp_path, HAND_CSV), "--rules", f"cost:{row_id}")
    assert [line["label"] for line in chosen["lines"]] == ["Acme cash cost"]


def test_workspace_fleets_are_watched_by_default(env, tmp_path):
    storage = Storage(env["HASHFLOOR_DB"])
    migrate(storage.db)
    workspaces.set_fleet(storage.db, "T1", workspaces.Fleet(17.5, 0.05, 0.02), "U1", 1.0)
    texas = workspaces.Fleet(30.0, 0.07, 0.02, 200.0, "Texas")  # breaks even at $123,559
    workspaces.set_fleet(storage.db, "T1", texas, "U1", 1.0)
    storage.close()
    csv = (
        "date,price_usd,difficulty\n2025-01-01,60000,152e12\n2025-01-02,50000,\n2025-01-03,50000,\n"
    )
    data = run_json(env, "--csv", write(tmp_path, csv), "--workspace", "T1")
    assert [line["key"] for line in data["lines"]] == ["cash", "allin", "fleet:main", "fleet:texas"]
    (alert,) = [a for a in data["alerts"] if a["line"] == "fleet:main"]
    assert alert["line_usd"] == pytest.approx(51_483, abs=1)
    texas_line = data["lines"][3]
    assert texas_line["label"].startswith("fleet Texas breakeven (30 J/TH at $0.07/kWh")
    assert texas_line["start_state"] == "below"  # $60,000 is below $123,559 from the start
    # one stored fleet by name, whatever its case
    one = run_json(env, "--csv", write(tmp_path, csv), "-w", "T1", "--rules", "Fleet:TEXAS")
    assert [line["key"] for line in one["lines"]] == ["fleet:texas"]
    assert one["lines"][0]["value_usd"]["first"] == pytest.approx(123_559, abs=1)
    # `fleet` alone is the fleet `main`
    main = run_json(env, "--csv", write(tmp_path, csv), "-w", "T1", "--rules", "fleet")
    assert main["lines"][0]["value_usd"]["first"] == pytest.approx(51_483, abs=1)
    # without the workspace there is no fleet to watch
    result = run(env, "--csv", write(tmp_path, csv), "--rules", "fleet")
    assert result.exit_code == 2 and "needs a fleet" in result.stderr
    result = run(env, "--csv", write(tmp_path, csv), "--rules", "fleet:texas")
    assert result.exit_code == 2 and "no fleet 'texas' in --workspace" in result.stderr
    result = run(env, "--csv", write(tmp_path, csv), "-w", "T1", "--rules", "fleet:utah")
    assert result.exit_code == 2 and "no fleet 'utah' in workspace T1" in result.stderr


@pytest.mark.parametrize(
    ("model", "breakeven"),
    [("S21", 51_483), ("antminer-s21", 51_483), ("17.5", 51_483), ("S19jPro", None)],
)
def test_fleet_given_as_a_model(env, tmp_path, model, breakeven):
    csv = (
        "date,price_usd,difficulty\n2025-01-01,60000,152e12\n2025-01-02,50000,\n2025-01-03,50000,\n"
    )
    data = run_json(
        env, "--csv", write(tmp_path, csv), "--rules", "fleet", "--fleet", model, "0.05", "2"
    )
    (line,) = data["lines"]
    if breakeven is not None:
        assert line["value_usd"]["first"] == pytest.approx(breakeven, abs=1)
    assert line["value_usd"]["first"] > 0


@pytest.mark.parametrize(
    ("model", "words"),
    [("S99", "'S99' is no model"), ("S2", "several models"), ("M6", "type more of the name")],
)
def test_fleet_with_an_unknown_or_ambiguous_model_fails_in_one_line(env, tmp_path, model, words):
    result = run(env, "--csv", write(tmp_path, HAND_CSV), "--fleet", model, "0.05", "2")
    assert result.exit_code == 2
    assert words in result.stderr and "--fleet" in result.stderr
    assert "Traceback" not in result.output


def test_hourly_csv(env, tmp_path):
    start = datetime(2025, 3, 1, tzinfo=UTC)
    rows = [
        ((start + timedelta(hours=h)).isoformat(), 40_000 if 5 <= h < 11 else 60_000)
        for h in range(24)
    ]
    csv = "date,price_usd\n" + "".join(f"{t},{p}\n" for t, p in rows)
    hourly = run_json(
        env, "--csv", write(tmp_path, csv), "--rules", "below:50000", "--poll", "hourly"
    )
    assert [(a["time"], a["event"]) for a in hourly["alerts"]] == [
        ("2025-03-01T06:00Z", "crossed_below"),
        ("2025-03-01T12:00Z", "recovered_above"),
    ]
    assert hourly["lines"][0]["days_below"] == pytest.approx(0.25)
    daily = run_json(env, "--csv", write(tmp_path, csv), "--rules", "below:50000")
    assert daily["points"] == 1 and daily["alerts"] == []  # the day's last price: $60,000


def test_chart(env, tmp_path):
    png = tmp_path / "out" / "backtest.png"
    png.parent.mkdir()
    result = run(
        env, "--csv", write(tmp_path, HAND_CSV), "--rules", "below:50000", "--chart", str(png)
    )
    assert result.exit_code == 0, result.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert str(png) in result.stdout
    bad = run(env, "--csv", write(tmp_path, HAND_CSV), "--chart", str(tmp_path / "no" / "x.png"))
    assert bad.exit_code == 1 and "--chart" in bad.stderr


# --- from mempool -----------------------------------------------------------------------------


@pytest.fixture
def mempool(env) -> Iterator[FakeMempoolHistory]:
    """Sixty days of daily prices up to today, swinging across $50,000, and adjustments."""
    now = time.time()
    today = int(now // DAY) * DAY
    with FakeMempoolHistory(now=now) as fake:
        for d in range(60):
            fake.add_price(today - (59 - d) * DAY, 45_000 if (d // 10) % 2 else 55_000)
        for n in range(5):
            fake.add_adjustment(today - (59 - n * 14) * DAY + 600, 880_000 + n * 2016, 1.4e14)
        for d in range(60):  # a block a day: 0.02 BTC of fees the first 30 days, then 0.5 BTC
            sats = 2_000_000 if d < 30 else 50_000_000
            fake.add_block(today - (59 - d) * DAY + 60, 880_000 + d * 144, sats)
        env["HASHFLOOR_MEMPOOL_URL"] = fake.url
        yield fake


def test_download_then_only_what_is_new(env, mempool):
    first = run_json(env, "--rules", "below:50000", "--from", "2000-01-01")
    assert mempool.requests_to("prices") == [{"currency": "USD"}]
    assert mempool.paths()[-2:] == [
        "/api/v1/mining/difficulty-adjustments",
        "/api/v1/mining/blocks/fees/all",
    ]
    assert first["source"]["prices_added"] == 60
    assert first["source"]["fee_days_stored"] == 60
    assert first["source"]["adjustments_added"] == 5
    assert first["points"] == 60
    assert len(first["alerts"]) == 5  # five swings after the first ten days

    mempool.requests.clear()
    second = run_json(env, "--rules", "below:50000", "--from", "2000-01-01")
    # today's price again (the day is still running), and the adjustments of the last week (the
    # latest on file is 3 days old)
    queries = mempool.requests_to("prices")
    assert len(queries) == 1 or (len(queries) == 2 and time.time() % DAY < 60)  # past midnight
    assert all(q["currency"] == "USD" and "timestamp" in q for q in queries)
    (adjustments,) = [p for p in mempool.paths() if "difficulty" in p]
    assert adjustments == "/api/v1/mining/difficulty-adjustments/1w"
    assert (second["source"]["prices_added"], second["source"]["adjustments_added"]) == (0, 0)
    assert second["alerts"] == first["alerts"]


def test_default_from_is_the_first_benchmark_quarter(env, mempool):
    data = run_json(env, "--rules", "cash")
    start = datetime.fromisoformat(data["from"].replace("Z", "+00:00"))
    assert start >= datetime(2024, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "status, body, words",
    [
        (429, "Too Many Requests", "rate limited (HTTP 429)"),
        (500, "<html>oops</html>", "HTTP 500"),
        (200, "<html>captive portal</html>", "HTML instead of JSON"),
        (200, '{"prices": [{"time": 17', "truncated or not JSON"),
    ],
)
def test_download_errors_exit_1_and_keep_the_cache(env, mempool, status, body, words):
    first = run_json(env, "--rules", "below:50000", "--from", "2000-01-01")
    mempool.override("prices", status, body)
    failed = run(env, "--rules", "below:50000", "--json")
    assert failed.exit_code == 1
    message = failed.stderr.strip()
    assert words in message and mempool.url in message
    assert "--cached" in message  # what to do instead
    assert failed.stdout == ""
    cached = run_json(env, "--rules", "below:50000", "--from", "2000-01-01", "--cached")
    assert cached["alerts"] == first["alerts"]
    assert cached["source"]["cached"] is True


def test_first_download_fails_nothing_cached(env, mempool):
    mempool.override("adjustments", 503, "Service Unavailable")
    result = run(env, "--rules", "below:50000")
    assert result.exit_code == 1
    assert "difficulty adjustments" in result.stderr and "HTTP 503" in result.stderr
    # the prices that did come are kept for next time
    storage = Storage(env["HASHFLOOR_DB"])
    assert store.counts(storage.db) == (60, 0)
    storage.close()


def test_cached_without_a_cache(env):
    result = run(env, "--cached")
    assert result.exit_code == 1
    assert "no price history cached" in result.stderr


def test_text_report_from_mempool(env, mempool):
    result = run(env, "--rules", "below:50000", "--from", "2000-01-01")
    assert result.exit_code == 0, result.output
    assert "mempool" in result.stdout and "60 new prices" in result.stdout
    assert "Alerts that would have fired" in result.stdout


def test_the_fleet_line_follows_each_days_fees(env, mempool):
    """Difficulty 1.4e14 throughout; fees 0.02 BTC per block for 30 days, then 0.5 BTC. 17.5 J/TH
    at $0.05 with a 2% pool fee breaks even at $47,418 with the first (the price swings 45k/55k
    across it) and $41,139 with the second (45k stays above): the fleet alerts stop there."""
    data = run_json(env, "--rules", "fleet", "--fleet", "17.5", "0.05", "2", "--from", "2000-01-01")
    (fleet,) = data["lines"]
    assert fleet["value_usd"]["max"] == pytest.approx(47_418, abs=2)
    assert fleet["value_usd"]["min"] == pytest.approx(41_139, abs=2)
    alerts = data["alerts"]
    assert alerts and all(a["line_usd"] == pytest.approx(47_418, abs=2) for a in alerts)
    switch = datetime.fromisoformat(data["from"].replace("Z", "+00:00")).timestamp() + 30 * DAY
    assert all(datetime.fromisoformat(a["time"].replace("Z", "+00:00")).timestamp() < switch
               for a in alerts)  # fmt: skip
    (note,) = [a for a in data["assumptions"] if a.startswith("fleet breakeven")]
    assert "fees per block from mempool's daily averages (0.020–0.500 BTC" in note
    # The text report says where the fees came from too.
    text = run(env, "--rules", "fleet", "--fleet", "17.5", "0.05", "2", "--cached",
               "--from", "2000-01-01")  # fmt: skip
    assert text.exit_code == 0, text.output
    assert "mempool's daily averages" in text.stdout


@pytest.mark.parametrize(
    "status, body, words",
    [
        (200, "<!DOCTYPE html><html>Just a moment...</html>", "HTML instead of JSON"),
        (200, '[{"avgHeight": 880000, "timestamp": 17', "truncated or not JSON"),
        (502, "<html>Bad gateway</html>", "HTTP 502"),
    ],
)
def test_a_bad_fee_answer_exits_1_and_keeps_the_fee_cache(env, mempool, status, body, words):
    first = run_json(
        env, "--rules", "fleet", "--fleet", "17.5", "0.05", "2", "--from", "2000-01-01"
    )
    storage = Storage(env["HASHFLOOR_DB"])
    before = store.fees(storage.db)
    storage.close()
    mempool.override("fees", status, body)
    failed = run(env, "--rules", "fleet", "--fleet", "17.5", "0.05", "2", "--json")
    assert failed.exit_code == 1 and failed.stdout == ""
    message = failed.stderr.strip()
    assert message.startswith("hashfloor backtest: could not download fees per block from")
    assert words in message and "60 days of fees" in message and "--cached" in message
    storage = Storage(env["HASHFLOOR_DB"])
    assert store.fees(storage.db) == before
    storage.close()
    cached = run_json(env, "--rules", "fleet", "--fleet", "17.5", "0.05", "2", "--cached",
                      "--from", "2000-01-01")  # fmt: skip
    assert cached["alerts"] == first["alerts"]


def test_hashprice_and_early_warning_rules_replay_with_the_fee_history(env, mempool):
    """Difficulty 1.4e14; $45,000 days give $20.34/PH/day with 0.02 BTC of fees, $23.44 with
    0.5 BTC (the last 30 days): a $22 threshold is crossed only while fees are low. An early
    warning 5% above $50,000 ($52,500) fires on every dip to $45,000."""
    rules = "hashprice:22,within:5:below:50000"
    data = run_json(env, "--rules", rules, "--from", "2000-01-01")
    hp, warn = data["lines"]
    assert (hp["key"], hp["metric"], warn["key"]) == (
        "hashprice:usd:22",
        "hashprice_usd",
        "within:5:below:50000",
    )
    hp_alerts = [a for a in data["alerts"] if a["line"] == "hashprice:usd:22"]
    assert [a["event"] for a in hp_alerts] == ["crossed_below", "recovered_above"]
    first = hp_alerts[0]
    assert (first["metric"], first["price_usd"], first["line_usd"]) == ("hashprice_usd", 45_000, 22)
    assert first["value"] == pytest.approx(20.34, abs=0.01)
    switch = datetime.fromisoformat(data["from"].replace("Z", "+00:00")).timestamp() + 30 * DAY
    assert all(datetime.fromisoformat(a["time"].replace("Z", "+00:00")).timestamp() < switch
               for a in hp_alerts)  # fmt: skip
    warn_alerts = [a for a in data["alerts"] if a["line"] == "within:5:below:50000"]
    assert len(warn_alerts) == 5 and warn_alerts[0]["line_usd"] == pytest.approx(52_500)
    (note,) = [a for a in data["assumptions"] if a.startswith("hashprice $22/PH/day")]
    assert "hashprice from each day's difficulty and fees per block from mempool's" in note
    # The text report names the rules as written and shows the hashprice with its price.
    text = run(env, "--rules", rules, "--cached", "--from", "2000-01-01")
    assert text.exit_code == 0, text.output
    assert "hashprice below $22/PH/day" in text.stdout
    assert "$20.34/PH/day (BTC $45,000)" in text.stdout and "$22/PH/day" in text.stdout
    assert "within 5% of $50,000" in text.stdout


def test_a_bad_hashprice_rule_is_quoted_and_nothing_runs(env, mempool):
    result = run(env, "--rules", "cash,hashprice:cheap")
    assert result.exit_code == 2
    assert "'hashprice:cheap': a hashprice level" in result.stderr
    assert mempool.paths() == []  # refused before any download


def test_an_alert_on_a_line_past_270_days_says_it_was_old_then(env, tmp_path):
    # April 2026: the all-in line in force is still 2025-Q2's (none was published for 2025-Q4),
    # and 2025-Q2 ended more than 270 days before (day 271 is 2026-03-28).
    days = [(datetime(2026, 4, 1) + timedelta(days=n)).date() for n in range(8)]
    prices = [140_000] * 4 + [130_000] * 4
    csv = "date,price_usd\n" + "".join(f"{d},{p}\n" for d, p in zip(days, prices, strict=True))
    data = run_json(env, "--csv", write(tmp_path, csv), "--rules", "allin")
    assert [(a["line"], a["event"], a["period"], a["period_old_then"]) for a in data["alerts"]] == [
        ("allin", "crossed_below", "2025-Q2", True)
    ]
    text = run(env, "--csv", write(tmp_path, csv), "--rules", "allin").stdout
    assert "all-in (2025-Q2) old then" in text
    # A year earlier the same line was not old: no mark.
    earlier = csv.replace("2026-04", "2025-08")
    data = run_json(env, "--csv", write(tmp_path, earlier), "--rules", "allin")
    assert [a["period_old_then"] for a in data["alerts"]] == [False]
    assert "old then" not in run(env, "--csv", write(tmp_path, earlier), "--rules", "allin").stdout
