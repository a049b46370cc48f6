"""Personal data in a transcript: which runs of recognised words are names, dates, NHS numbers, phones, ...

:func:`find` takes the words of a transcript (:class:`~redact.speech.words.Word`, in time order) and returns
``(first, stop, category)`` word-index ranges; nothing here keeps, returns, logs or raises with the words.

The rules prefer recall (a run that could be personal is flagged) and expect what Whisper writes: digits rather
than number words (but both are read), capitals on names and places, sentences with full stops and question marks.

1. **Patterns** on a normalised transcript: number words become digits ("nine four three" -> ``9 4 3``,
   "forty two" -> ``42``, "nineteen fifty two" -> ``1952``, "fourth" -> ``4th``, "double oh" -> ``00``), punctuation
   between digit groups is dropped, then :func:`redact.pii.spans` runs over it (its form-label rule, which takes
   everything after a label up to the end of the text, is left out, and names lose common words at their ends:
   "I'm Dr" is "Dr"), plus spoken dates with a year ("4th of March 1952", "March the 4th, 1952", "March 1952"),
   years 1900-2039, runs of six or more digits (up to two short mis-heard words between digit groups: "7, 7,
   double, go 9"), and postcodes spelt out a character at a time ("L S 6 2 Q T").
2. **Spoken labels** (:data:`LABELS`): after "date of birth" / "DOB" / "born" / a mis-heard "... birth", "NHS
   number", "hospital number", "phone/mobile/contact number", "postcode", "address" / "live(s) at", "my name is" /
   "full name" / "surname": the value. When it starts as such a value should (a date, digits, postcode pieces) it
   is the run of such words; otherwise (a name or postcode the recogniser mis-heard as other words) the words up
   to the sentence's end, a few at most. After a question ("what's your postcode?") the value is the answer: the
   next sentence, after "yes, it's". Digits within six words of "NHS", "number", "phone", "mobile", "call me on"
   are an identifier even when the check digit fails or the recogniser broke them up.
3. **Names**: a title (Dr, Mr, Mrs, Ms, Miss, Nurse, Sister, Doctor, Mister, ...) and the capitalised words after
   it (after Dr/Mr/Mrs/Ms the next word even in lower case; a title heard as a sound-alike, "missing" for "Mrs",
   "insist" for "I'm Sister", when the recogniser was unsure of it or of the name after it; not "miss" / "missed"
   after its subject: "You missed a dose"); "I'm X" / "I am X" /
   "this is X" / a relation ("my son X") / a greeting ("morning X") with X capitalised and not a common word
   (:data:`SPEECH_STOP`); any capitalised, not common word inside a sentence (the recogniser capitalises proper
   nouns); at a sentence's start, two such words, or one followed by a comma ("Sarah, can you ...").

Day and month without a year ("the 1st of April today", "May 4") are not flagged on their own: appointment and
today's dates are ordinary ward talk; after a date-of-birth label they are.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from typing import Sequence

from redact import pii

from .lexicon import (ADDRESS_TRIGGERS, ANSWER_LEAD, DATE_GLUE, DOB_TRIGGERS, FILLERS, GAP_STOP, GAP_WORDS,
                      GREETINGS, LABELS, LEAD, LETTER_NAMES, MONTHS, NAME_BREAK, NAME_GLUE, NAME_LABELS,
                      NAME_TRIGGER_DETERMINERS,
                      NOT_NAME, NUMBER_GLUE, POSSESSIVES,
                      NUMBER_TRIGGERS, ORD_TEENS, ORD_UNITS, POSTCODE_TRIGGERS, RELATIONS, SPEECH_STOP, SURE_TITLES,
                      TEENS, TENS, TITLES, UNITS, VALUE_STOP)
from .numbers import numeric_units
from .tokens import Token, tokens
from .words import Word

Found = tuple[int, int, str]  # first word, one past the last word, category

_DATE_NUMBER = re.compile(r"\d+(?:st|nd|rd|th)?|'\d\d|\d+[/.\-]\d+(?:[/.\-]\d+)?")
_POSTCODE_FULL = re.compile(r"(?:[A-PR-UWYZ](?:[A-HK-Y]?\d[A-Z\d]?|\d[A-HJKPSTUW]?)\d[ABD-HJLNP-UW-Z]{2})$")
_MONTH_RX = pii.MONTHS
_SPOKEN_DATES = [
    re.compile(r"(?<![\w])(?:the\s+)?\d{1,2}(?:st|nd|rd|th)?\s+(?:(?:of|on)\s+)?(?:the\s+)?" + _MONTH_RX
               + r"\b\.?,?\s+(?:of\s+)?(?:\d{4}|'?\d{2})(?!\d)", re.I),
    re.compile(r"\b" + _MONTH_RX + r"\b\.?,?\s+(?:the\s+)?\d{1,2}(?:st|nd|rd|th)?(?!\d),?\s+(?:\d{4}|'?\d{2})(?!\d)",
               re.I),
    re.compile(r"\b" + _MONTH_RX + r"\b\.?,?\s+(?:of\s+)?(?:19|20)\d{2}(?!\d)", re.I),
    re.compile(r"(?<![\w])(?:19[0-9]{2}|20[0-3][0-9])(?![\w])"),
]


# -- the rules -------------------------------------------------------------------------------------------------
def find(words: Sequence[Word]) -> list[Found]:
    """``(first, stop, category)`` word ranges of personal data in ``words`` (a transcript, in time order)."""
    toks = tokens(words)
    if not toks:
        return []
    units = numeric_units(toks)
    out: list[Found] = []
    out += _pattern_spans(toks, units)
    out += _digit_runs(toks, units)
    out += _spelt_postcodes(toks, units)
    out += _dob_context(toks, units)
    out += _number_context(toks, units)
    out += _postcode_context(toks)
    out += _address_context(toks)
    out += _names(toks)
    out += _labelled_values(toks)
    return [(a, b, c) for a, b, c in out if b > a]


def _text(units: list[tuple[str, int, int]]) -> tuple[str, list[tuple[int, int]]]:
    parts, bounds, pos = [], [], 0
    for s, _, _ in units:
        parts.append(s)
        bounds.append((pos, pos + len(s)))
        pos += len(s) + 1
    return " ".join(parts), bounds


def _to_tokens(start: int, end: int, units: list[tuple[str, int, int]],
               bounds: list[tuple[int, int]]) -> tuple[int, int] | None:
    """The token range ``(first, stop)`` of the units overlapping characters ``[start, end)`` of the text."""
    lo = bisect.bisect_right(bounds, (start, 1 << 62)) - 1  # the unit holding (or just before) ``start``
    lo = max(lo, 0)
    if bounds[lo][1] <= start:
        lo += 1
    hi = bisect.bisect_left(bounds, (end, -1)) - 1  # the last unit starting before ``end``
    if lo >= len(bounds) or hi < lo:
        return None
    return units[lo][1], units[hi][2] + 1


def _pattern_spans(toks: list[Token], units: list[tuple[str, int, int]]) -> list[Found]:
    text, bounds = _text(units)
    norm = unicodedata.normalize("NFKC", text)
    if len(norm) != len(text):  # offsets must stay put (the units were NFKC-normalised already)
        norm = text
    form_values = set(pii.label_spans(norm))
    found = [s for s in pii.spans(norm) if s[2] != "label" and s not in form_values]
    for rx in _SPOKEN_DATES:
        found += [(m.start(), m.end(), "date") for m in rx.finditer(norm)]
    out: list[Found] = []
    for start, end, cat in found:
        r = _to_tokens(start, end, units, bounds)
        if r is None:
            continue
        a, b = r
        if cat == "name":  # "I'm Dr", "So Sarah": common words at either end are not the name
            while a < b and toks[a].low in SPEECH_STOP and toks[a].low not in TITLES:
                a += 1
            while b > a and toks[b - 1].low in SPEECH_STOP:
                b -= 1
        if b > a:
            out.append((a, b, cat))
    return out


def _is_digit_unit(u: tuple[str, int, int]) -> bool:
    return u[0].isdigit()


def _classify_digits(digits: str, hint: str = "") -> str:
    if len(digits) == 10 and pii.nhs_check(digits):
        return "nhs_number"
    if hint:
        return hint
    if digits.startswith("0") and 10 <= len(digits) <= 11:
        return "phone"
    if digits.startswith("44") and len(digits) in (11, 12):
        return "phone"
    return "hospital_number"




def _gap_word(text: str) -> bool:
    """A word the recogniser may put between the digit groups of one spoken number ("double", "and", a mis-heard
    "oh" such as "go" or "low")."""
    w = text.lower().strip(",.?!")
    return w in GAP_WORDS or (w.isalpha() and len(w) <= 2 and w not in ("so", "is", "at", "in", "on", "to", "of"))


def _digit_runs(toks: list[Token], units: list[tuple[str, int, int]]) -> list[Found]:
    """Runs of six or more digits (consecutive digit words; up to two separator words such as "and", "double" or a
    mis-heard "oh" allowed between)."""
    out: list[Found] = []
    k = 0
    while k < len(units):
        if not _is_digit_unit(units[k]):
            k += 1
            continue
        j, digits, last = k, "", k
        while j < len(units):
            if _is_digit_unit(units[j]):
                digits += units[j][0]
                last = j
                j += 1
                if toks[units[last][2]].ends_sentence:
                    break
            else:  # up to two separator words, then more digits
                g = j
                while g < len(units) and g - j < 2 and _gap_word(units[g][0]) and not toks[units[g][2]].ends_sentence:
                    g += 1
                if g > j and g < len(units) and _is_digit_unit(units[g]):
                    j = g
                else:
                    break
        if len(digits) >= 6:
            out.append((units[k][1], units[last][2] + 1, _classify_digits(digits)))
        k = max(j, k + 1)
    return out


def _postcode_piece(tok: Token, prev: Token | None = None) -> str | None:
    """What a word contributes to a postcode spelt out character by character, or None if it cannot."""
    after_double = prev is not None and prev.low == "double"
    if tok.low in LETTER_NAMES:
        return "W" if after_double and tok.low in ("you", "u") else LETTER_NAMES[tok.low]
    if tok.low in UNITS:
        return str(UNITS[tok.low])
    if tok.low in TEENS:
        return str(TEENS[tok.low])
    c = re.sub(r"[.\-]", "", tok.clean)
    if not c.isalnum() or not c.isascii():
        return None
    if after_double and c[:1] in "uU":
        c = "W" + c[1:]
    letters, digits = any(ch.isalpha() for ch in c), any(ch.isdigit() for ch in c)
    if len(c) == 1 or (letters and digits and len(c) <= 8) or (digits and len(c) <= 2) \
            or (letters and c.isupper() and len(c) <= 2):
        return c.upper()
    return None


def _spelt_postcodes(toks: list[Token], units: list[tuple[str, int, int]]) -> list[Found]:
    out: list[Found] = []
    n = len(toks)
    for i in range(n):
        acc = ""
        for j in range(i, min(n, i + 8)):
            piece = _postcode_piece(toks[j], toks[j - 1] if j else None)
            if piece is None:
                break
            acc += piece
            if 5 <= len(acc) <= 7 and _POSTCODE_FULL.fullmatch(acc):
                out.append((i, j + 1, "postcode"))
            if len(acc) > 7 or toks[j].ends_sentence:
                break
    return out


def _match_at(toks: list[Token], i: int, phrase: tuple[str, ...]) -> bool:
    return all(i + k < len(toks) and toks[i + k].low == w for k, w in enumerate(phrase))


def _dateish(tok: Token) -> bool:
    lw = tok.low
    return (lw in MONTHS or lw in ORD_UNITS or lw in ORD_TEENS or lw in UNITS or lw in TEENS or lw in TENS
            or lw in ("thousand", "hundred") or bool(_DATE_NUMBER.fullmatch(lw)))


def _dob_context(toks: list[Token], units: list[tuple[str, int, int]]) -> list[Found]:
    """After a date-of-birth label: the date-like words that follow (fillers allowed before them)."""
    out: list[Found] = []
    for i, t in enumerate(toks):
        if t.low not in DOB_TRIGGERS:
            continue
        span = _value_run(toks, i + 1, _dateish, DATE_GLUE, max_lead=8, max_len=10)
        if span:
            out.append((span[0], span[1], "date"))
    return out





def _gap_ok(tok: Token) -> bool:
    """A word that may be a mis-heard part of a value (between its digits or date words): short and not one of
    the words that usually end a value."""
    w = tok.low
    return w in GAP_WORDS or (len(w) <= 6 and w.replace("'", "").replace("-", "").isalpha() and w not in GAP_STOP)


def _value_start(toks: list[Token], i: int, is_value, max_lead: int, lead_ok=None) -> int | None:
    """The first value word from ``i`` on within ``max_lead`` words (``lead_ok``: which words may come before it;
    default any), crossing a sentence end only after a question (the answer); None when there is none."""
    n = len(toks)
    for k in range(i, min(n, i + max_lead + 1)):
        if is_value(toks[k]):
            return k
        if lead_ok is not None and not lead_ok(toks[k]):
            return None
        if toks[k].ends_sentence and not toks[k].question and k > i:
            return None  # (a full stop right after the label is the recogniser's: "hospital number is. RX ...")
    return None


def _value_run(toks: list[Token], i: int, is_value, glue: frozenset[str] | set[str], max_lead: int = 6,
               max_len: int = 10, lead_words: frozenset[str] | None = FILLERS, gaps: int = 2,
               trailing: bool = False) -> tuple[int, int] | None:
    """From token ``i``: skip up to ``max_lead`` words (``lead_words`` only, when given), then take the run of value
    words (``glue`` words, and up to ``gaps`` other short words in a row, allowed between values) up to ``max_len``
    words; ``trailing``: also one short word right after the last value that ends its clause (a mis-heard last
    digit). ``(first, stop)`` of the values, or None."""
    n = len(toks)
    first = _value_start(toks, i, is_value, max_lead,
                         None if lead_words is None else (lambda tk: tk.low in lead_words or tk.low in glue))
    if first is None:
        return None
    last = k = first
    missed = 0  # non-glue words since the last value
    while not toks[k].ends_sentence and k + 1 < n and k + 1 - first < max_len:
        k += 1
        if is_value(toks[k]):
            last, missed = k, 0
        elif toks[k].low in glue or (gaps and _gap_ok(toks[k])):
            missed += toks[k].low not in glue
            if missed > gaps or k - last > gaps + 2:
                break
        else:
            break
    if first > 0 and is_value is _digitish and re.fullmatch(r"[A-Z]{1,3}", toks[first - 1].clean):
        first -= 1  # the letters of a hospital number ("RX 1234567")
    if trailing and last + 1 < n and not toks[last].ends_sentence and toks[last + 1].ends_clause \
            and _gap_ok(toks[last + 1]) and toks[last + 1].low not in GAP_WORDS:
        last += 1
    return first, last + 1


def _digitish(tok: Token) -> bool:
    lw = tok.low
    c = re.sub(r"[.,\-–/$£]", "", lw)
    return (c.isdigit() or lw in UNITS or lw in TEENS or lw in TENS or lw in ("double", "triple", "oh", "o")
            or lw in ORD_UNITS or (c.isalnum() and c.isascii() and len(c) <= 12 and any(ch.isdigit() for ch in c)))


def _digit_count(toks: list[Token], a: int, b: int) -> tuple[str, int]:
    digits = "".join(str(UNITS[toks[k].low]) if toks[k].low in UNITS else re.sub(r"\D", "", toks[k].clean)
                     for k in range(a, b))
    return digits, sum(bool(re.sub(r"\D", "", toks[k].clean)) or toks[k].low in UNITS or toks[k].low in ("oh", "o")
                       for k in range(a, b))


def _number_context(toks: list[Token], units: list[tuple[str, int, int]]) -> list[Found]:
    """After "NHS" / "number" / "phone" / "mobile" / "call me on" / "hospital number": the digits that follow
    (within six words; mis-heard words between the digits allowed)."""
    out: list[Found] = []
    glue = NUMBER_GLUE
    for i, t in enumerate(toks):
        if t.low not in NUMBER_TRIGGERS:
            continue
        span = _value_run(toks, i + 1, _digitish, glue, max_lead=6, max_len=18, lead_words=None, trailing=True)
        if not span:
            continue
        digits, groups = _digit_count(toks, *span)
        if len(digits) < 4 and groups < 3:
            continue
        hint = NUMBER_TRIGGERS[t.low]
        back = {toks[k].low for k in range(max(0, i - 3), i)}
        if hint == "" or t.low == "on":
            if back & {"nhs", "n.h.s"}:
                hint = "nhs_number"
            elif back & {"phone", "mobile", "telephone", "contact", "landline", "call", "ring"}:
                hint = "phone"
            elif back & {"hospital", "unit", "patient", "mrn"}:
                hint = "hospital_number"
            elif len(digits) < 6:
                continue
        out.append((span[0], span[1], _classify_digits(digits, hint)))
    return out


def _postcode_context(toks: list[Token]) -> list[Found]:
    out: list[Found] = []
    for i in range(len(toks)):
        for phrase in POSTCODE_TRIGGERS:
            if _match_at(toks, i, phrase):
                span = _value_run(toks, i + len(phrase), lambda tk: _postcode_piece(tk) is not None
                                  and tk.low not in FILLERS - {"a", "o", "oh"},
                                  frozenset({"double"}), max_lead=4, max_len=8)
                if span:
                    out.append((span[0], span[1], "postcode"))
    return out


def _address_context(toks: list[Token]) -> list[Found]:
    """After "live(s) at" / "address (is)": the rest of the clause (at most eight words), commas allowed."""
    out: list[Found] = []
    n = len(toks)
    for i in range(n):
        for phrase in ADDRESS_TRIGGERS:
            if not _match_at(toks, i, phrase):
                continue
            j = i + len(phrase)
            while j < n and toks[j].low in ("is", "it's", "its", "um", "er", "uh", "erm", "at", "on", "in"):
                j += 1
            k = j
            while k < n and k - j < 8:
                if toks[k].low in ("and", "but", "so", "because", "with", "since") and k > j:
                    break
                k += 1
                if toks[k - 1].ends_sentence:
                    break
            if k > j and any(tok.cap or _digitish(tok) for tok in toks[j:k]):
                out.append((j, k, "address"))
    return out


def _namelike(tok: Token) -> bool:
    return tok.cap and tok.low not in SPEECH_STOP and tok.low not in MONTHS and any(c.isalpha() for c in tok.low) \
        and not (tok.clean.isupper() and len(tok.clean) <= 4 and len(tok.clean) > 1)


def _extend_name(toks: list[Token], j: int, max_words: int = 3) -> int:
    """One past the capitalised, not-common words starting at ``j`` (none: ``j``)."""
    k = j
    while k < len(toks) and k - j < max_words and _namelike(toks[k]):
        k += 1
        if toks[k - 1].ends_clause:
            break
    return k


PAUSE = 0.45
"""Seconds between two words that end a name taken after a trigger (:func:`_after_trigger`)."""
UNSURE = 0.4
"""A word the recogniser gives less than this probability may be a name it mis-heard ("It's made the need" for "It's
Bethany from"): after a trigger it does not end the name (:func:`_plainly_not_name`). benchmarks/speech.py, the same
transcripts, names / ordinary speech covered, clean and brown noise 15 dB with beeps, in the benchmark's voices and
with --voice-shift 1: 0.3 gave 0.905 / 0.091, 0.810 / 0.078, 0.710 / 0.077, 0.646 / 0.082; 0.4 gave 0.905 / 0.091,
0.844 / 0.091, 0.762 / 0.078, 0.703 / 0.083."""
TITLE_SOUNDALIKES = frozenset("missing misses missed nice insist preface".split())
"""Words the recogniser writes for a title it mis-heard ("missing" for "Mrs", "missed" for "Mister", "nice" for
"Nurse", "insist" for "I'm Sister", "preface" for "Professor"): taken as the title when it, or the word after it,
was heard without confidence (:data:`UNSURE`). Only sound-alikes seen in benchmarks/speech.py: "assist" (for "I'm
Sister") bleeped "Can you assist me to the toilet" there, and taking the word after a sound-alike even when the
rules see no name in it ("insist I don't ...") bleeped "nice and warm" ("Nurse, is it nice and warm ...")."""
WEAK_SOUNDALIKES = frozenset({"not"})
"""Sound-alikes of a title that are also very common words ("not" for "Nurse": "Can you ask, not so clever to
bring ..." for "ask Nurse Okafor to bring"): a title only when one of the next two words was heard with less than
:data:`WEAK_UNSURE` probability and the word before is not one that "not" usually follows (:data:`NOT_AFTER`:
"you're not", "is not", "do not"), unless that is an introduction ("This is not the one killing" for "This is
Nurse Siobhan Kelly": "I'm not", "it's not", "this is not")."""
WEAK_UNSURE = 0.2
"""0.3 bleeped "crack, not in tomorrow mode" ("scratch, nothing to worry about", "tomorrow" heard at 0.25) in
benchmarks/speech.py --voice-shift 3, clean (ordinary 0.097 -> 0.105); 0.2 keeps the names in the benchmark's
voices, clean (0.905 -> 0.944), and in --voice-shift 2, clean (0.683 -> 0.722)."""
NOT_AFTER = frozenset("""are were is was am be do does did have has had will would could should can may might must
shall you're they're we're i'm it's that's there's he's she's isn't aren't wasn't weren't don't i you we they he
she it and or but why if""".split())
REQUEST_VERBS = frozenset("ask asked tell told call called page paged fetch get".split())
"""After one of these, "no" with a guess (under :data:`WEAK_UNSURE`) in the next two words is "Nurse" mis-heard
("Can you ask, no sarcather~0.27 to bring" for "ask Nurse Okafor to bring", "Please call, no sabbatical~0.14" for
"call Nurse Abernathy-Lowe"): a request names whom to ask, and "ask no one" is rare on a ward. benchmarks/speech.py,
the same transcripts: names in the 8 sets of docs/benchmarks.md 0.815 -> 0.817, ordinary 0.098 both (one name, in
--voice-shift 2 with brown noise); sentences 101-120, where the pattern was first seen, 6 sets 0.668 -> 0.688 and
8 sets in other voices 0.692 -> 0.732, ordinary 0.083 both and 0.068 -> 0.071 (the neighbours of the names found:
"Please call," "when she's")."""
COMMA_PAUSE = 0.1
"""Seconds: a comma right after "I'm" / "this is" / "it's" with no longer pause than this after it is the
recogniser's, not the speaker's, and the name trigger is not ended by it."""
TRIGGER_WORDS = 4
"""At most this many words are taken as the name after a trigger."""


def _plainly_not_name(tok: Token, common: bool = False, title: bool = False) -> bool:
    """A word that cannot be (part of) a name said after a trigger, even a mis-heard one: a function word, a common
    verb, adverb or state ("going", "here", "worried"), a number, a month; with ``common`` also any common word
    (:data:`SPEECH_STOP`: after "I'm" / "it's" / "this is" / "my son" ordinary words are usual, after a title or
    "my name is" a name is, and a mis-heard one is often made of common words: "Doctor pa tell")."""
    lw = tok.low
    if not any(c.isalpha() for c in lw) or any(c.isdigit() for c in lw):
        return True
    if tok.probability < UNSURE and not tok.ends_sentence:  # a guess: the recogniser was not sure of this word
        return False
    if title and lw in NAME_GLUE:  # after a title: "Nurse our catheter" is "Nurse Okafor" mis-heard
        return False
    if lw in NOT_NAME or lw in NAME_BREAK or lw in MONTHS or lw in UNITS or lw in TEENS or lw in TENS:
        return True
    if common and lw in SPEECH_STOP:
        return True
    return not tok.cap and len(lw) > 5 and lw.endswith(("ing", "ly"))


def _after_trigger(toks: list[Token], j: int, most: int = TRIGGER_WORDS, common: bool = False,
                   title: bool = False, intro: bool = False) -> int:
    """One past the words from ``j`` that are taken as the name said after a trigger: every word, whatever the
    recogniser made of it ("Doctor pa tell"), up to the next pause (:data:`PAUSE`), the end of the clause or a word
    that is plainly not a name (:func:`_plainly_not_name`); a comma is crossed when a capitalised word follows at
    once ("Sarah, Jones"). ``intro``: after "I'm" / "it's" / "this is", where the name does not start with one of
    :data:`INTRO_NOT_FIRST` even when the recogniser was unsure of it."""
    n = len(toks)
    k = j
    while k < n and k - j < most:
        t = toks[k]
        if k > j and t.pause_before > PAUSE:
            break
        if intro and k == j and t.low in INTRO_NOT_FIRST:  # "It's a~0.28 thing serious"
            break
        if _plainly_not_name(t, common, title) and not (title and k == j and _split_name(toks, k, common)):
            break
        k += 1
        if t.ends_sentence:
            break
        if t.ends_clause and not (k < n and toks[k].cap and toks[k].pause_before <= PAUSE
                                  and not _plainly_not_name(toks[k], common)):
            break
    while k > j and toks[k - 1].low in NAME_GLUE:  # not ending on "the" / "a"
        k -= 1
    return k


def _split_name(toks: list[Token], k: int, common: bool) -> bool:
    """Whether ``toks[k]``, the first word after a title, is the start of a name the recogniser split into a common
    word and a guess ("Nurse are covered to" for "Nurse Okafor to", "missed at one side" for "Mister Wojciechowski"):
    a word (not a number, not ending a clause) followed at once by a word heard without confidence
    (:data:`UNSURE`) that is not plainly not a name."""
    t = toks[k]
    if k + 1 >= len(toks) or t.ends_clause or not any(c.isalpha() for c in t.low) or any(c.isdigit() for c in t.low):
        return False
    nxt = toks[k + 1]
    return nxt.probability < UNSURE and nxt.pause_before <= PAUSE and not _plainly_not_name(nxt, common, True)


def _soundalike_title(toks: list[Token], i: int) -> bool:
    """Whether ``toks[i]`` is a title the recogniser mis-heard as another word (:data:`TITLE_SOUNDALIKES`,
    :data:`WEAK_SOUNDALIKES`), judged by how unsure it was of it and of the words after it."""
    t, n = toks[i], len(toks)
    if t.ends_clause or i + 1 >= n:
        return False
    if t.low in TITLE_SOUNDALIKES:
        return t.probability < UNSURE or toks[i + 1].probability < UNSURE
    if t.low in WEAK_SOUNDALIKES:
        intro = (i >= 2 and toks[i - 1].low == "is" and toks[i - 2].low in ("this", "it")) \
            or (i >= 1 and toks[i - 1].low in ("i'm", "it's", "this's"))  # "This is not the one killing"
        return (i == 0 or toks[i - 1].low not in NOT_AFTER or intro) \
            and min(tk.probability for tk in toks[i + 1:i + 3]) < WEAK_UNSURE
    if t.low == "no":  # "Can you ask, no sarcather~0.27" for "ask Nurse Okafor"
        return i > 0 and toks[i - 1].low in REQUEST_VERBS and min(tk.probability for tk in toks[i + 1:i + 3]) < WEAK_UNSURE
    return False


INTRO_NOT_FIRST = frozenset("a an the her his in on at of to for with".split())
"""Words that do not start the name after "I'm" / "it's" / "this is" even when the recogniser was unsure of them
("It's a~0.28 thing serious" for "It's nothing serious", "It's her~0.28 thing serious"): an introduction goes on
with the name, not with an article, a possessive or a preposition. benchmarks/speech.py, the same transcripts, other
voices (--voice-shift 2), ordinary speech clean 0.111 -> 0.102, brown noise with beeps 0.130 -> 0.121, no name or
other personal speech lost in any of the 8 sets measured (docs/benchmarks.md); applied to family words as well it
lost "My husband, the~0.06 reels," ("Dariusz") in brown noise."""
VERB_SOUNDALIKES = frozenset("miss misses missed missing".split())
VERB_SUBJECTS = frozenset("""i you we they he she i'll you'll we'll they'll he'll she'll i'd you'd we'd they'd i've
you've we've they've to will would could should might must don't didn't won't can't never not also just""".split())
"""A "miss" / "missed" / ... right after one of these, heard with confidence, is the verb ("You missed a dose",
"you'll miss the ..."), not "Mrs" / "Mister" mis-heard (:func:`_verb_soundalike`)."""


def _verb_soundalike(toks: list[Token], i: int) -> bool:
    """Whether ``toks[i]`` is "miss" / "missed" / ... used as a verb, after its subject or an auxiliary heard with
    confidence ("You missed a dose", "you'll miss the ..."), not a title the recogniser mis-heard ("Is that missing
    evidence" for "Mrs Evans"; "I~0.08 miss an event" too: the "I" was a guess; "Thank you Miss Patel": the
    recogniser wrote the title with its capital). benchmarks/speech.py, the same
    transcripts, --voice-shift 1, ordinary speech clean 0.091 -> 0.083, brown noise with beeps 0.097 -> 0.093, no
    personal speech lost in the 8 sets measured (without the confidence condition: names 0.859 -> 0.838 and
    0.783 -> 0.751 there)."""
    return toks[i].low in VERB_SOUNDALIKES and not toks[i].cap and i > 0 and toks[i - 1].low in VERB_SUBJECTS \
        and toks[i - 1].probability >= UNSURE and not toks[i - 1].ends_clause


def _trigger_names(toks: list[Token]) -> list[Found]:
    """Names after a trigger, covered even when the recogniser turned them into ordinary words: "my name is X",
    "I'm X", "I am X", "this is X", "it's X", a title ("Doctor X", "Nurse X", "Mrs X"; after "the" / "a" / "your"
    a title is a common noun and is left to :func:`_names`), "consultant X", a family word after a possessive ("my
    husband X", "her son X")."""
    out: list[Found] = []
    n = len(toks)
    for i, t in enumerate(toks):
        lw, nxt = t.low, toks[i + 1].low if i + 1 < n else ""
        j = None
        first = None  # where the span starts (the title itself for titles)
        common = True  # ordinary words are usual after this trigger
        intro = False
        if any(_match_at(toks, i, phrase) for phrase in NAME_LABELS):
            phrase = next(p for p in NAME_LABELS if _match_at(toks, i, p))
            if not toks[i + len(phrase) - 1].ends_sentence:
                j, common = i + len(phrase), False
        elif lw in ("i'm", "im") or (lw == "i" and nxt == "am") or (lw in ("this", "it") and nxt in ("is", "'s")) \
                or lw in ("it's", "this's"):
            j = i + (2 if lw in ("i", "this", "it") else 1)
            intro = True
            if toks[j - 1].ends_sentence or (toks[j - 1].ends_clause and not (
                    j < len(toks) and toks[j].pause_before <= COMMA_PAUSE)):
                j = None  # "This is, nice Chivon": a comma the recogniser put where there was no pause is crossed
        elif _verb_soundalike(toks, i):
            pass  # the verb: "You missed a dose"
        elif (lw in TITLES or lw == "consultant") and not t.ends_clause \
                and (lw in SURE_TITLES or lw == "consultant" or i == 0
                     or toks[i - 1].low not in NAME_TRIGGER_DETERMINERS):
            j, first, common = i + 1, (i if lw in TITLES else None), False
        elif _soundalike_title(toks, i):
            j, first, common = i + 1, i, False  # "missing evidence" for "Mrs Evans", heard without confidence
        elif lw in RELATIONS and i > 0 and toks[i - 1].low in POSSESSIVES and not t.ends_sentence:
            j = i + 1
        if j is None:
            continue
        while j < n and toks[j].low in ("um", "er", "uh", "erm", "is", "it's", "its", "am") and not toks[j].ends_clause:
            j += 1
        k = _after_trigger(toks, j, common=common, title=first is not None, intro=intro)
        if k > j:
            out.append((j if first is None else first, k, "name"))
    return out


def _names(toks: list[Token]) -> list[Found]:
    out: list[Found] = _trigger_names(toks)
    n = len(toks)
    for i, t in enumerate(toks):
        lw = t.low
        # "my name is X", "call me X", "surname ...": the next words even if not capitalised
        for phrase in NAME_LABELS:
            if _match_at(toks, i, phrase) and not toks[i + len(phrase) - 1].ends_sentence:
                j = i + len(phrase)
                while j < n and toks[j].low in ("um", "er", "uh", "erm", "it's", "is", "its"):
                    j += 1
                k = j
                while k < n and k - j < 3 and toks[k].low not in NAME_BREAK:
                    k += 1
                    if toks[k - 1].ends_clause:
                        break
                if k > j:
                    out.append((j, k, "name"))
        # "I'm X" / "I am X" / "this is X" / "it's X": X capitalised and not a common word
        if (lw in ("i'm", "im") or (lw == "i" and i + 1 < n and toks[i + 1].low == "am")
                or (lw in ("this", "it's", "its", "it") and i + 1 < n and toks[i + 1].low in ("is", "'s"))
                or lw in ("it's", "this's")) and not t.ends_clause:
            j = i + 1
            if j < n and toks[j].low in ("am", "is", "'s"):
                j += 1
            while j < n and toks[j].low in ("um", "er", "uh", "erm"):
                j += 1
            k = _extend_name(toks, j)
            if k > j:
                out.append((j, k, "name"))
        # titles: "Dr Patel", "Mrs Sarah Jones", "Nurse Okafor"
        if lw in TITLES and not t.ends_clause and i + 1 < n and not _verb_soundalike(toks, i):
            k = _extend_name(toks, i + 1)
            if k == i + 1 and lw in SURE_TITLES and toks[i + 1].low not in SPEECH_STOP \
                    and any(c.isalpha() for c in toks[i + 1].low):
                k = i + 2
            if k > i + 1:
                out.append((i, k, "name"))
        # relations and greetings: "my son Daniel", "morning Joan"
        if (lw in RELATIONS or lw in GREETINGS) and not t.ends_sentence and i + 1 < n:
            k = _extend_name(toks, i + 1)
            if k > i + 1:
                out.append((i + 1, k, "name"))
        # a capitalised, not-common word inside a sentence (the recogniser capitalises proper nouns)
        if not t.sentence_start and _namelike(t):
            out.append((i, _extend_name(toks, i) if not t.ends_clause else i + 1, "name"))
        # at a sentence's start, a capitalised not-common word said on its own ("Sarah, can you ...")
        if t.sentence_start and _namelike(t) and t.ends_clause and not t.ends_sentence:
            out.append((i, i + 1, "name"))
        # at a sentence's start, two capitalised not-common words ("Sarah Jones, ...")
        if t.sentence_start and _namelike(t) and not t.ends_clause and i + 1 < n and _namelike(toks[i + 1]):
            out.append((i, _extend_name(toks, i), "name"))
    return out





def _label_value_kind(cat: str):
    """``(is_value, glue)`` for the typed value of a label of category ``cat`` (None: any words)."""
    if cat == "date":
        return _dateish, DATE_GLUE
    if cat in ("nhs_number", "hospital_number", "phone"):
        return _digitish, NUMBER_GLUE
    if cat == "postcode":
        return (lambda tk: _postcode_piece(tk) is not None and tk.low not in FILLERS - {"a", "o", "oh"}), \
            frozenset({"double"})
    return None, frozenset()


def _labelled_values(toks: list[Token]) -> list[Found]:
    """After a spoken label: its value, whatever the recogniser made of it (a made-up name or a postcode is
    often mis-heard as other words). In a statement the value follows the label ("the postcode is ..."); after
    a question ("... your postcode?") it starts the next sentence (the answer). When the value starts the way it
    should (digits after "NHS number", a date after "date of birth") it is the run of such words (up to two
    mis-heard words inside it); otherwise it is every word up to the sentence's end, at most the label's word
    count, ``and`` / ``but`` / ``so`` ending it unless a number follows."""
    out: list[Found] = []
    n = len(toks)
    for i in range(n):
        for phrase, cat, most, blind in LABELS:
            if not _match_at(toks, i, phrase):
                continue
            j = i + len(phrase)
            end_of_label = toks[j - 1]
            if end_of_label.ends_sentence:
                if not end_of_label.question:
                    continue
                lead = ANSWER_LEAD
            else:
                while j < n and toks[j].low in LEAD and not toks[j].ends_sentence:
                    j += 1
                if j < n and toks[j].low in LEAD and toks[j].ends_sentence:
                    j += 1
                k = j
                while k < n and not toks[k].ends_sentence:
                    k += 1
                if k < n and toks[k].question:  # a question: the value is the answer
                    j = k + 1
                    lead = ANSWER_LEAD
                else:
                    lead = frozenset()
            answer = lead is ANSWER_LEAD
            while j < n and toks[j].low in lead and not toks[j].ends_sentence:
                j += 1
            if j >= n:
                continue
            is_value, glue = _label_value_kind(cat)
            if is_value is not None and not (answer and not is_value(toks[j])):
                span = _value_run(toks, j, is_value, glue, max_lead=0 if cat != "date" else 2, max_len=most + 4,
                                  lead_words=None, trailing=cat != "date")
                if span is not None:
                    out.append((span[0], span[1], cat))
                    continue
                if cat in ("nhs_number", "hospital_number", "phone"):
                    later = _value_start(toks, j, is_value, most)
                    if later is not None:  # "... contact number for your next of kin, 07700 ...": the digits
                        continue           # are found by _number_context
            if not blind:
                continue
            k = j
            while k < n and k - j < most:
                if k > j and toks[k].low in VALUE_STOP and not (k + 1 < n and _digitish(toks[k + 1])):
                    break
                if cat == "name" and toks[k].low in NAME_BREAK:
                    break
                k += 1
                if toks[k - 1].ends_sentence:
                    break
            if k > j:
                out.append((j, k, cat))
    return out
