"""Spoken numbers read as digits, for the speech rules: "nine four three" -> ``9 4 3``, "forty two" -> ``42``,
"nineteen fifty two" -> ``1952``, "nineteen oh five" -> ``1905``, "two thousand and one" -> ``2001``, "fourth" ->
``4th``, "double oh" -> ``00``."""

from __future__ import annotations

import re

from .lexicon import ORD_TEENS, ORD_UNITS, TEENS, TENS, UNITS
from .tokens import DIGITS, NUMERIC_DATE, Token

def numeric_units(toks: list[Token]) -> list[tuple[str, int, int]]:
    """The transcript as ``(normal form, first token, last token)`` units: number words read as digits."""
    units: list[tuple[str, int, int]] = []
    n = len(toks)
    i = 0

    def is_num(j: int) -> bool:
        if not 0 <= j < n:
            return False
        lw = toks[j].low
        return (lw in UNITS or lw in TEENS or lw in TENS or lw == "double" or lw == "triple"
                or bool(DIGITS.fullmatch(lw)))

    while i < n:
        t = toks[i]
        lw = t.low
        nxt = toks[i + 1].low if i + 1 < n else ""
        nxt2 = toks[i + 2].low if i + 2 < n else ""
        # "double 7" / "triple 0"
        if lw in ("double", "triple") and i + 1 < n and (nxt in UNITS or nxt in ("oh", "o") or DIGITS.fullmatch(nxt)):
            d = nxt if DIGITS.fullmatch(nxt) else str(UNITS.get(nxt, 0))
            units.append((d * (2 if lw == "double" else 3), i, i + 1))
            i += 2
            continue
        # "oh" / "o" is zero next to other numbers
        if lw in ("oh", "o") and not t.cap and (is_num(i - 1) or is_num(i + 1)):
            units.append(("0", i, i))
            i += 1
            continue
        if lw in ("oh", "o") and t.cap and (is_num(i - 1) or (is_num(i + 1) and not t.ends_clause)):
            units.append(("0", i, i))
            i += 1
            continue
        # "two thousand (and) one"
        if lw in UNITS and nxt == "thousand":
            j, value = i + 2, UNITS[lw] * 1000
            if j < n and toks[j].low == "and":
                j += 1
            rest, k = two_digit(toks, j)
            if rest is not None:
                units.append((str(value + rest[0]) + rest[1], i, k - 1))
                i = k
            else:
                units.append((str(value), i, i + 1))
                i += 2
            continue
        # years: "nineteen fifty two", "nineteen oh five", "twenty twenty"
        if (lw in TEENS or lw in TENS) and not toks[i].ends_clause:
            if nxt in ("oh", "o") and nxt2 in UNITS and UNITS[nxt2] > 0:
                units.append((f"{(TEENS.get(lw) or TENS[lw]):02d}0{UNITS[nxt2]}", i, i + 2))
                i += 3
                continue
            if nxt == "hundred":
                hi = TEENS.get(lw) or TENS[lw]
                j = i + 2
                if j < n and toks[j].low == "and":
                    j += 1
                rest, k = two_digit(toks, j)
                if rest is not None and not rest[1]:
                    units.append((f"{hi * 100 + rest[0]}", i, k - 1))
                    i = k
                else:
                    units.append((f"{hi * 100}", i, i + 1))
                    i += 2
                continue
            if lw in TEENS or (lw in TENS and nxt in TENS):
                rest, k = two_digit(toks, i + 1)
                if rest is not None and rest[0] >= 10 and not rest[1]:
                    hi = TEENS.get(lw) or TENS[lw]
                    units.append((f"{hi:02d}{rest[0]:02d}", i, k - 1))
                    i = k
                    continue
        # "forty two", "twenty first", "twelve", "fourth"
        spoken, k = two_digit(toks, i)
        if spoken is not None:
            units.append((f"{spoken[0]}{spoken[1]}", i, k - 1))
            i = k
            continue
        if lw in UNITS:
            units.append((str(UNITS[lw]), i, i))
            i += 1
            continue
        digits = re.sub(r"[.,\-–/]", "", t.clean)
        if NUMERIC_DATE.fullmatch(t.clean):
            units.append((t.clean, i, i))
        elif digits.isdigit():
            units.append((digits, i, i))
        else:
            units.append((t.clean + (t.low and ("," if t.ends_clause and not t.ends_sentence else
                                                   "." if t.ends_sentence else "")), i, i))
        i += 1
    return units


def two_digit(toks: list[Token], i: int) -> tuple[tuple[int, str] | None, int]:
    """A spoken number 1-99 (or ordinal 1st-31st) starting at token ``i``: ``((value, suffix), next index)``."""
    if i >= len(toks):
        return None, i
    lw = toks[i].low
    nxt = toks[i + 1].low if i + 1 < len(toks) else ""
    if lw in TENS:
        if nxt in UNITS and UNITS[nxt] > 0 and not toks[i].ends_clause:
            return (TENS[lw] + UNITS[nxt], ""), i + 2
        if nxt in ORD_UNITS and not toks[i].ends_clause:
            v = TENS[lw] + ORD_UNITS[nxt]
            return (v, ordinal_suffix(v)), i + 2
        return (TENS[lw], ""), i + 1
    if lw in TEENS:
        return (TEENS[lw], ""), i + 1
    if lw in ORD_UNITS:
        return (ORD_UNITS[lw], ordinal_suffix(ORD_UNITS[lw])), i + 1
    if lw in ORD_TEENS:
        return (ORD_TEENS[lw], ordinal_suffix(ORD_TEENS[lw])), i + 1
    if lw in UNITS and lw != "zero":
        return None, i
    return None, i


def ordinal_suffix(v: int) -> str:
    if 10 < v % 100 < 14:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(v % 10, "th")
