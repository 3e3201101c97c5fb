"""The HPC/AI lease comparison in words (DESIGN §4.1): what a MW earns leased next to mining.

Pure: numbers in, plain text out (no mrkdwn), for Slack answers, the digest and the App Home.
"""

from __future__ import annotations

from bot import economics as econ
from bot import fmt


def verdict(hpc_usd_per_mwh: float, mining_usd_per_mwh: float) -> str:
    """`2.3× what mining earns`, `1.4× less than mining`, or `while mining earns nothing`."""
    if mining_usd_per_mwh <= 0:
        return "while mining earns nothing"
    ratio = hpc_usd_per_mwh / mining_usd_per_mwh
    return f"{ratio:.1f}× what mining earns" if ratio >= 1 else f"{1 / ratio:.1f}× less than mining"


def lease_words(lease_usd_per_kw_month: float, mining_usd_per_mwh: float | None) -> str:
    """`HPC lease at $150/kW-month: $205.48/MWh, 2.3× what mining earns` (no verdict without a
    mining figure)."""
    hpc = econ.hpc_lease_usd_per_mwh(lease_usd_per_kw_month)
    words = f"HPC lease at {fmt.usd(lease_usd_per_kw_month)}/kW-month: ${hpc:,.2f}/MWh"
    if mining_usd_per_mwh is None:
        return words
    return f"{words}, {verdict(hpc, mining_usd_per_mwh)}"
