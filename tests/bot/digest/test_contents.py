from datetime import UTC, datetime

import pytest

from bot.digest.contents import WEEK_S, build_digest
from bot.lines import CostLine
from bot.market.snapshot import Network, Snapshot

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC).timestamp()
START = NOW - WEEK_S
H = 3600.0

CASH = CostLine("cash", "CoinShares cash cost (2025-Q2)", 74_600.0)
ALLIN = CostLine("allin", "CoinShares all-in cost (2025-Q2)", 137_800.0)
OWN = CostLine("cost:7", "Our cost", 80_000.0)

D_OLD = 150e12
D_NEW = 152e12
NET_OLD = Network(difficulty=D_OLD, tip_height=900_000, fees_per_block_btc=0.02)
NET_NEW = Network(difficulty=D_NEW, tip_height=900_100, fees_per_block_btc=0.02)
NET_NO_FEES = Network(difficulty=D_NEW, tip_height=900_050)  # the fee source failed this poll
NET_ADJ = Network(
    difficulty=D_NEW,
    tip_height=900_200,
    fees_per_block_btc=0.02,
    previous_adjustment_percent=1.5,
    previous_adjustment_at=NOW - 3 * 86_400,
    next_adjustment_percent=-0.8,
    next_adjustment_at=NOW + 9 * 86_400,
    next_adjustment_blocks=1_300,
)


def snap(hours: float, price: float | None, fresh: bool = True, net: Network | None = None):
    return Snapshot(
        taken_at=START + hours * H,
        quotes=(),
        price_usd=price,
        fresh=fresh,
        network=net or Network(),
    )


# Hourly polls with one 24-hour hole (7 h → 31 h) and one missed poll (3 h → 5 h).
# Intervals between fresh snapshots: 1,1,1,2,1,1,24,1,1 → median 1 h → each counts ≤ 2 h.
WEEK = [
    snap(-1, 50_000.0, net=NET_OLD),  # before the week: not counted
    snap(0, 90_000.0, net=NET_OLD),  # open
    snap(1, 80_000.0),
    snap(2, 70_000.0),  # below cash (1 h)
    snap(3, 72_000.0),  # below cash (2 h to the next fresh one)
    snap(4, 100_000.0, fresh=False),  # stale: its price counts for nothing
    snap(5, 76_000.0),
    snap(6, 95_000.0, net=NET_NEW),  # high; difficulty rises from here
    snap(7, 65_000.0, net=NET_NO_FEES),  # low; below cash, then a 24 h hole: 2 h counted
    snap(31, 85_000.0),
    snap(32, 88_000.0, net=NET_ADJ),
    snap(33, 91_000.0, net=NET_NO_FEES),  # close
    snap(24 * 7 + 1, 1.0),  # after now: not counted
]


def hashprice(difficulty: float, height: int, fees: float, price: float) -> float:
    subsidy = 50 / 2 ** ((height + 1) // 210_000)
    return 86_400e12 / (difficulty * 2**32) * (subsidy + fees) * price * 1_000


def test_week_in_numbers():
    d = build_digest(WEEK, [CASH, ALLIN, OWN], NOW)
    assert d.now == NOW and d.week_start == START
    assert d.samples == 10
    assert d.poll_interval_s == H
    assert (d.open_usd, d.close_usd, d.high_usd, d.low_usd) == (90_000, 91_000, 95_000, 65_000)
    assert d.price_now_usd == 91_000 and d.price_at == START + 33 * H
    assert d.change_usd == 1_000
    assert d.change == pytest.approx(1 / 90)


@pytest.mark.parametrize(
    "line, margin, hours",
    [
        (CASH, (91_000 - 74_600) / 74_600, 1 + 2 + 2),
        (ALLIN, (91_000 - 137_800) / 137_800, 1 + 1 + 1 + 2 + 1 + 1 + 2 + 1 + 1),
        # 80,000 itself is not below 80,000; 76,000 at 5 h is (1 h)
        (OWN, (91_000 - 80_000) / 80_000, 1 + 2 + 1 + 2),
        (CostLine("below:60000", "below $60,000", 60_000.0), 0.5166666, 0.0),
    ],
)
def test_margin_and_hours_below_each_line(line, margin, hours):
    (stat,) = build_digest(WEEK, [line], NOW).lines
    assert (stat.key, stat.label, stat.value_usd) == (line.key, line.label, line.value_usd)
    assert stat.margin == pytest.approx(margin, rel=1e-6)
    assert stat.hours_below == pytest.approx(hours)


def test_lines_keep_their_order():
    d = build_digest(WEEK, [OWN, ALLIN, CASH], NOW)
    assert [s.key for s in d.lines] == ["cost:7", "allin", "cash"]


def test_hashprice_now_and_a_week_ago():
    d = build_digest(WEEK, [], NOW)
    # now: the close, with the latest complete network (NET_ADJ; the last poll missed its fees)
    now_hp = hashprice(D_NEW, 900_200, 0.02, 91_000)
    ago_hp = hashprice(D_OLD, 900_000, 0.02, 90_000)
    assert d.hashprice_usd_per_ph_day == pytest.approx(now_hp)
    assert d.hashprice_usd_per_ph_day == pytest.approx(37.88, abs=0.01)  # DESIGN §4 vector
    assert d.hashprice_week_ago_usd_per_ph_day == pytest.approx(ago_hp)
    assert d.hashprice_week_ago_at == START
    assert d.hashprice_change == pytest.approx(now_hp / ago_hp - 1)


def test_network_figures_are_the_latest_known():
    d = build_digest(WEEK, [], NOW)
    assert d.difficulty == D_NEW
    assert d.tip_height == 900_050  # the last poll's tip, though its fees were missing
    assert d.blocks_to_halving == 1_050_000 - 900_050
    assert (d.previous_adjustment_percent, d.previous_adjustment_at) == (1.5, NOW - 3 * 86_400)
    assert (d.next_adjustment_percent, d.next_adjustment_at, d.next_adjustment_blocks) == (
        -0.8,
        NOW + 9 * 86_400,
        1_300,
    )


def test_fleet_breakeven_moves_with_difficulty():
    # 20 J/TH at $0.06/kWh, 2% pool fee: $70,605 at D = 152 T (DESIGN §4); at 150 T it is
    # 70,605 × 150/152 ≈ $69,676, so 70,000 at 2 h is above the line then and does not count.
    d = build_digest(WEEK, [], NOW, fleets=[("main", (20.0, 0.06, 0.02))])
    (fleet,) = d.fleets
    assert fleet.name == "main"
    assert (fleet.efficiency_j_per_th, fleet.power_usd_per_kwh, fleet.pool_fee) == (20, 0.06, 0.02)
    assert fleet.breakeven_price_usd == pytest.approx(70_605, abs=1)
    assert fleet.margin == pytest.approx((91_000 - fleet.breakeven_price_usd) / 70_605, rel=1e-3)
    assert fleet.hours_below == pytest.approx(2.0)  # 65,000 at 7 h, capped at 2 h


def test_no_fleet():
    assert build_digest(WEEK, [CASH], NOW).fleets == ()


@pytest.mark.parametrize(
    "points, line, hours",
    [
        # (hour, price) of fresh snapshots; line; expected hours below
        ([(0, 1.0), (1, 1.0), (2, 1.0)], 2.0, 2.0),
        ([(0, 1.0), (1, 3.0), (2, 1.0), (3, 3.0)], 2.0, 2.0),
        # 15-minute polls, one 6-hour hole while below: the hole counts 30 minutes
        (
            [(0, 1.0), (0.25, 1.0), (0.5, 1.0), (6.5, 1.0), (6.75, 3.0)],
            2.0,
            0.25 + 0.25 + 0.5 + 0.25,
        ),
        # the last snapshot's price does not extend to now
        ([(0, 3.0), (1, 3.0), (2, 1.0)], 2.0, 0.0),
        # one fresh snapshot: no interval, no hours
        ([(5, 1.0)], 2.0, 0.0),
        # exactly on the line is not below it
        ([(0, 2.0), (1, 2.0)], 2.0, 0.0),
    ],
)
def test_hours_below_table(points, line, hours):
    snaps = [snap(h, p) for h, p in points]
    (stat,) = build_digest(snaps, [CostLine("x", "x", line)], NOW).lines
    assert stat.hours_below == pytest.approx(hours)


def test_snapshot_order_does_not_matter():
    a = build_digest(WEEK, [CASH, ALLIN], NOW, fleets=[("main", (20.0, 0.06, 0.02))])
    b = build_digest(
        list(reversed(WEEK)), [CASH, ALLIN], NOW, fleets=[("main", (20.0, 0.06, 0.02))]
    )
    assert a == b


@pytest.mark.parametrize(
    "snapshots",
    [
        [],
        [snap(10, None, fresh=False), snap(11, 91_000.0, fresh=False)],
        [snap(-30, 91_000.0), snap(-29, 92_000.0)],  # only data older than the week
    ],
)
def test_empty_week_is_a_digest_not_an_error(snapshots):
    d = build_digest(snapshots, [CASH, ALLIN], NOW, fleets=[("main", (20.0, 0.06, 0.02))])
    assert d.samples == 0 and not d.has_prices
    assert d.price_now_usd is None and d.open_usd is None and d.change is None
    assert [(s.key, s.margin, s.hours_below) for s in d.lines] == [
        ("cash", None, 0.0),
        ("allin", None, 0.0),
    ]
    assert d.hashprice_usd_per_ph_day is None and d.hashprice_change is None
    assert d.fleets[0].breakeven_price_usd is None
    assert d.fleets[0].hours_below == 0.0


def test_stale_week_still_reports_the_network():
    d = build_digest([snap(10, None, fresh=False, net=NET_ADJ)], [CASH], NOW)
    assert d.samples == 0
    assert d.tip_height == 900_200 and d.next_adjustment_blocks == 1_300


def test_network_data_from_before_the_week_feeds_hashprice():
    snaps = [snap(-2, None, fresh=False, net=NET_NEW), snap(1, 91_000.0), snap(2, 91_000.0)]
    d = build_digest(snaps, [], NOW)
    assert d.hashprice_usd_per_ph_day == pytest.approx(hashprice(D_NEW, 900_100, 0.02, 91_000))
    assert d.tip_height is None  # the week's own network figures stay within the week


def test_nonsense_network_reading_is_ignored():
    bad = Network(difficulty=0.0, tip_height=900_000, fees_per_block_btc=0.02)
    d = build_digest(
        [snap(1, 91_000.0, net=bad), snap(2, 91_000.0)], [CASH], NOW, [("main", (20, 0.06, 0))]
    )
    assert d.hashprice_usd_per_ph_day is None
    assert d.fleets[0].breakeven_price_usd is None


def test_hours_covered_is_what_hours_below_rest_on():
    # Intervals 1,1,1,2,1,1 then the 24 h hole counted as 2 h, then 1,1: 11 h of data.
    assert build_digest(WEEK, [CASH], NOW).hours_covered == 11.0
    assert build_digest([snap(160, 91_000.0)], [CASH], NOW).hours_covered == 0.0


def test_fleet_earnings_per_mwh_and_the_hpc_lease():
    # DESIGN §4.1: 17.5 J/TH, 2% earns $88.38 per MWh at D = 152 T, fees 0.02, BTC $91,000.
    s21 = [("main", (17.5, 0.05, 0.02))]
    d = build_digest(WEEK, [], NOW, s21, hpc_lease_usd_per_kw_month=150.0)
    (fleet,) = d.fleets
    assert fleet.earnings_usd_per_mwh == pytest.approx(88.38, abs=0.005)
    assert d.hpc_lease_usd_per_kw_month == 150.0
    assert build_digest(WEEK, [], NOW, s21).hpc_lease_usd_per_kw_month is None


def test_a_fleet_without_a_price_has_no_earnings_per_mwh():
    week = [snap(1, None, fresh=False, net=NET_NEW)]
    d = build_digest(week, [], NOW, [("main", (17.5, 0.05, 0.02))])
    (fleet,) = d.fleets
    assert fleet.earnings_usd_per_mwh is None


@pytest.mark.parametrize(
    "period, old",
    [
        # NOW is 2026-11-23: 2025-Q4 ended 327 days before, 2026-Q1 236 days before.
        ("2025-Q4", "old: 2025-Q4 ended 327 days ago, next report overdue since about 30 Jun 2026"),
        ("2026-Q1", ""),
        (None, ""),
    ],
)
def test_each_line_is_marked_old_at_the_digests_time(period, old):
    line = CostLine("cash", "CoinShares cash cost", 79_995.0, "src", period)
    (stat,) = build_digest(WEEK, [line], NOW).lines
    assert stat.old == old
