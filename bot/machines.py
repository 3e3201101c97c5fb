"""The machine catalogue's pure part: model names matched as miners type them, and CSV rows
validated in words.

Matching ignores case, spaces, dashes and the maker's name (`S21 XP` = `s21xp` =
`Antminer S21-XP`). An exact match wins; otherwise every model whose name starts with what was
typed is a candidate: one is used, several are listed, none gets the nearest names.
"""

from __future__ import annotations

import csv
import difflib
import io
import math
import re
from dataclasses import dataclass

# Brand and maker words people put before a model, or leave out.
MAKER_WORDS = ("bitmain", "antminer", "microbt", "whatsminer", "canaan", "avalon", "auradine")
COLUMNS = (
    "maker",
    "model",
    "hashrate_ths",
    "power_w",
    "efficiency_j_th",
    "cooling",
    "source",
    "note",
)
COOLING = ("air", "hydro", "immersion")
# J/TH read from the row must agree with W ÷ TH/s within this share (bins and firmware vary ±5%).
EFFICIENCY_TOLERANCE = 0.05
BOUNDS = {
    "hashrate_ths": (1.0, 10_000.0, "TH/s"),
    "power_w": (100.0, 100_000.0, "W"),
    "efficiency_j_th": (1.0, 200.0, "J/TH"),
}


@dataclass(frozen=True)
class Machine:
    maker: str
    model: str
    hashrate_ths: float
    power_w: float
    efficiency_j_th: float
    cooling: str
    source: str
    note: str = ""

    @property
    def key(self) -> str:
        return key(self.model)


@dataclass(frozen=True)
class Match:
    machine: Machine | None  # the model to use, when there is exactly one
    candidates: tuple[Machine, ...] = ()  # several models fit what was typed
    nearest: tuple[str, ...] = ()  # nothing fits: names that look alike


def key(name: str) -> str:
    """`Antminer S21-XP` → `s21xp`: no case, spaces, dashes, underscores or maker words."""
    k = re.sub(r"[\s\-_]+", "", name.lower())
    for word in MAKER_WORDS:
        if k.startswith(word) and len(k) > len(word):
            k = k[len(word) :]
    return k


def match(typed: str, machines: list[Machine]) -> Match:
    want = key(typed)
    if not want:
        return Match(None)
    by_key = {m.key: m for m in machines}
    if want in by_key:
        return Match(by_key[want])
    starts = tuple(m for m in machines if m.key.startswith(want))
    if len(starts) == 1:
        return Match(starts[0])
    if starts:
        return Match(None, candidates=starts)
    close = difflib.get_close_matches(want, list(by_key), n=3, cutoff=0.5)
    return Match(None, nearest=tuple(by_key[k].model for k in close))


def looks_like_model(token: str) -> bool:
    """A token that starts a model name rather than a number (`S21`, `M60S`, `antminer`)."""
    return bool(re.match(r"^[A-Za-z]", token)) and not re.match(r"(?i)^\d", token)


# --- CSV ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


def _num(row: dict[str, str], column: str) -> float | None:
    raw = (row.get(column) or "").strip().replace(",", "")
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{column} `{raw[:20]}` is not a number") from None
    low, high, unit = BOUNDS[column]
    if not math.isfinite(value) or not low <= value <= high:
        raise ValueError(f"{column} {raw[:20]} is outside {low:g}–{high:g} {unit}")
    return value


def _row(row: dict[str, str]) -> Machine:
    maker = (row.get("maker") or "").strip()
    model = (row.get("model") or "").strip()
    if not model:
        raise ValueError("the model name is empty")
    if not re.fullmatch(r"[A-Za-z0-9 +\-_.()/]{1,60}", model):
        raise ValueError(f"model `{model[:30]}` may hold letters, digits, spaces and + - _ . ( ) /")
    ths, watts, eff = (_num(row, c) for c in ("hashrate_ths", "power_w", "efficiency_j_th"))
    if eff is None:
        if ths is None or watts is None:
            raise ValueError("give efficiency_j_th, or both hashrate_ths and power_w")
        eff = round(watts / ths, 1)
    if ths is not None and watts is not None:
        derived = watts / ths
        if abs(derived - eff) > EFFICIENCY_TOLERANCE * eff:
            raise ValueError(
                f"efficiency_j_th {eff:g} disagrees with power_w ÷ hashrate_ths = {derived:.1f}"
            )
    cooling = (row.get("cooling") or "air").strip().lower()
    if cooling not in COOLING:
        raise ValueError(f"cooling `{cooling[:20]}` is not one of {', '.join(COOLING)}")
    source = (row.get("source") or "").strip()
    if not source:
        raise ValueError("source is empty: say where the figures come from")
    return Machine(
        maker=maker,
        model=model,
        hashrate_ths=ths or 0.0,
        power_w=watts or 0.0,
        efficiency_j_th=eff,
        cooling=cooling,
        source=source,
        note=(row.get("note") or "").strip(),
    )


def read_csv(text: str) -> tuple[list[Machine], list[RowError]]:
    """Every good row and every bad row's reason; a file without a `model` column is one error."""
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    if "model" not in header:
        return [], [RowError(1, f"the header must name the columns {', '.join(COLUMNS)}")]
    reader.fieldnames = header
    good: list[Machine] = []
    bad: list[RowError] = []
    seen: set[str] = set()
    for row in reader:
        line = reader.line_num
        try:
            m = _row(row)
        except ValueError as exc:
            bad.append(RowError(line, str(exc)))
            continue
        if m.key in seen:
            bad.append(RowError(line, f"{m.model} appears twice in the file"))
            continue
        seen.add(m.key)
        good.append(m)
    return good, bad
