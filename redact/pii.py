"""Classify recognised text into personal-data categories, without keeping the text.

:func:`classify` maps one string to a set of category names; :func:`classify_line` does the same
for the several OCR boxes of one line of text, so that a number split across boxes, or a value in
the box after its label, is still found. Nothing here stores, returns, logs or raises with the text:
only category names leave this module.

Rules (recall beats precision: when a rule could go either way, it flags):

``nhs_number``
    10 digits, spaces/dashes allowed between them (OCR letters O/o read as 0 and I/l/| as 1 inside
    digit groups), passing the NHS Modulus-11 check (weights 10..2 on the first nine digits,
    check = 11 - (sum mod 11), 11 -> 0, 10 -> invalid). Also any number after an "NHS No" label.
``hospital_number``
    1-3 letters then 6-8 digits (``RX1234567``, ``A 123456``), or 7-10 digits (separators allowed)
    that are not a valid NHS number and not part of a date or phone number; any value after an
    "MRN" / "Hospital No" / "Unit No" label.
``date``
    ``dd/mm/yyyy``, ``dd-mm-yy``, ``dd.mm.yyyy``, ``yyyy-mm-dd``, ``d Mon yyyy`` / ``Mon d, yyyy``
    (month names or 3-letter abbreviations), and "DOB" / "Date of birth" labels with their value.
``phone``
    UK numbers: ``07xxx xxxxxx``, ``01xxx``/``02x``/``03xx``/``08xx`` numbers, ``+44`` forms
    (10-11 digits once ``+44`` is read as ``0``), and "Ext"/"Bleep" + 3-6 digits.
``postcode``
    The UK postcode shape (``SW1A 1AA``, ``M1 1AE``, ``GIR 0AA``), any letter case.
``email``
    ``something@something``.
``address``
    A house number then up to three words then a street word (Road, Rd, Street, St, Lane, Avenue,
    Close, Drive, Way, Crescent, Place, Court, Gardens, Terrace, Grove, Hill, Park, Square, Row,
    Mews, Walk), or a capitalised word then a street word; any value after an "Address" label.
``name``
    A title (Dr, Mr, Mrs, Ms, Miss, Mx, Prof, Nurse, Sister, Matron) then a capitalised word or an
    initial; ``SURNAME, Forename``; two or three consecutive capitalised (or all-capitals) words
    none of which is in the built-in stop list of common English, signage and hospital words; any
    value after a "Name:", "Patient:", "Consultant:", "Surname:", "Next of kin:" ... label.
``label``
    A field label itself ("Name:", "DOB", "NHS No", "MRN", "Address:", ...). Labels are flagged
    too: redacting one costs little and it marks a form whose values may be misread.

:func:`is_pii` is true for any non-empty category set (every category, ``label`` included, is a
reason to redact).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Iterable, Sequence

from redact.types import CATEGORY_ORDER, most_sensitive

CATEGORIES = CATEGORY_ORDER
"""Every category :func:`classify` can return, most sensitive first (one order for the whole tool)."""

Span = tuple[int, int, str]  # start, end, category

# -- numbers -----------------------------------------------------------------------------------
_DIGITISH = str.maketrans({"O": "0", "o": "0", "I": "1", "l": "1", "|": "1"})
_GROUP = re.compile(r"(?<![A-Za-z0-9])[0-9OoIl|]+(?![A-Za-z0-9])")
"""A group of digits (OCR's O/o, I/l/| allowed) standing alone; groups joined by one space/dash chain."""


def nhs_check(digits: str) -> bool:
    """True when ``digits`` (exactly ten digits, nothing else) passes the NHS Modulus-11 check."""
    if len(digits) != 10 or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1)))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def _chains(text: str) -> list[list[tuple[int, int, str]]]:
    """Runs of digit groups separated by single spaces/dashes: ``[(start, end, digits), ...]`` each."""
    chains: list[list[tuple[int, int, str]]] = []
    for m in _GROUP.finditer(text):
        raw = m.group(0)
        if sum(c.isdigit() for c in raw) < max(1, len(raw) - 2):
            continue  # mostly letters: a word, not a misread number
        group = (m.start(), m.end(), raw.translate(_DIGITISH))
        if chains and re.fullmatch(r" ?[\-\u2013]? ?", text[chains[-1][-1][1]:m.start()]):
            chains[-1].append(group)
        else:
            chains.append([group])
    return chains


def _digit_spans(text: str, taken: list[Span]) -> list[Span]:
    """NHS numbers (valid check digit) and 7-10 digit hospital numbers among the digit chains."""
    out: list[Span] = []
    for chain in _chains(text):
        windows = [(chain[i][0], chain[j][1], "".join(g[2] for g in chain[i:j + 1]))
                   for i in range(len(chain)) for j in range(i, len(chain))]
        nhs = [(s, e, "nhs_number") for s, e, d in windows if len(d) == 10 and nhs_check(d)]
        out += nhs
        out += [(s, e, "hospital_number") for s, e, d in windows
                if 7 <= len(d) <= 10 and not _overlaps(s, e, taken + nhs)]
    return out


_MRN = re.compile(r"(?<![A-Za-z])[A-Za-z]{1,3}[ \-]?\d{6,8}(?!\d)")

# -- dates, phones, postcodes, emails ----------------------------------------------------------
MONTHS = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
          r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)")
_DATES = [
    re.compile(r"(?<!\d)\d{1,2}\s?[/.\-]\s?\d{1,2}\s?[/.\-]\s?(?:\d{4}|\d{2})(?!\d)"),
    re.compile(r"(?<!\d)\d{4}[/.\-]\d{1,2}[/.\-]\d{1,2}(?!\d)"),
    re.compile(r"(?<!\d)\d{1,2}(?:st|nd|rd|th)?[\s\-/.]*" + MONTHS + r"\.?[\s\-/.,]*(?:\d{4}|'?\d{2})(?!\d)", re.I),
    re.compile(r"(?<![A-Za-z])" + MONTHS + r"\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}(?!\d)", re.I),
]
_PHONES = [
    re.compile(r"(?:\+\s?44\s?(?:\(0\)\s?)?|(?<![\d+])0)\d(?:[ \-]?\d){8,9}(?!\d)"),
    re.compile(r"\b(?:ext|extn|bleep|bleep no|pager)\.?\s*:?\s*\d{3,6}(?!\d)", re.I),
]
_POSTCODE = re.compile(
    r"(?<![A-Za-z0-9])(?:GIR ?0AA|[A-PR-UWYZ](?:[A-HK-Y]?\d[A-Z\d]?|\d[A-HJKPSTUW]?) ?\d[ABD-HJLNP-UW-Z]{2})"
    r"(?![A-Za-z0-9])", re.I)
_EMAIL = re.compile(r"[\w.+\-]+\s?@\s?[\w\-]+(?:\.[\w\-]+)*")

# -- addresses ---------------------------------------------------------------------------------
_STREET = (r"(?:road|rd|street|st|lane|ln|avenue|ave|close|drive|way|crescent|cres|place|pl|court|ct|"
           r"gardens|gdns|terrace|grove|hill|park|square|sq|row|mews|walk)")
_NUMBERED_STREET = re.compile(r"(?<![\w])\d{1,4}[A-Za-z]?,?\s+(?:[A-Za-z'\-]+\s+){0,3}" + _STREET + r"\b", re.I)
_NAMED_STREET = re.compile(r"\b([A-Z][a-z'\-]+)\s+(?i:" + _STREET + r")\b")
# Words that are never part of a street's name: between a number and a street word they make the street word a verb
# or a noun of ordinary speech ("by 14, then you place them", "2 of us walk"), not an address.
_NOT_IN_STREET_NAME = frozenset("""
i you he she it we they me him her us them my your his its our their then so and but or if when because to of
for with by as at in on is are was were be been will would can could should must shall may might do does did
not no just all both each some any this that these those there here what which who how than too very also
""".split())


def _numbered_streets(text: str) -> list[Span]:
    out = []
    for m in _NUMBERED_STREET.finditer(text):
        words = m.group(0).split()[1:-1]  # between the house number and the street word
        if not any(w.strip(",.").lower() in _NOT_IN_STREET_NAME for w in words):
            out.append((m.start(), m.end(), "address"))
    return out


# -- names -------------------------------------------------------------------------------------
_TITLE = re.compile(r"\b(?:Dr|Mr|Mrs|Ms|Miss|Mx|Prof|Nurse|Sister|Matron|DR|MR|MRS|MS|MISS|PROF)\b\.?\s*"
                    r"(?:[A-Z]\.?\s*)?([A-Z][A-Za-z'’\-]*)")
_SURNAME_FIRST = re.compile(r"\b[A-Z][A-Z'\-]{1,},\s*[A-Z][a-z'\-]+")
_CAPWORD = re.compile(r"\b(?:[A-Z][a-z'’\-]+|[A-Z]{2,})\b")

STOP_WORDS = frozenset("""
a an and are as at be by for from has have he her his i in is it its no not of on or our she so
that the their them then there these they this to up us was we were what when where which who will
with you your all any can do if into more new now off only out over please see than too use very
yes open closed close push pull keep clear entry exit fire door doors way out in stop go left right
ahead toilet toilets wc lift lifts stairs floor level ground first second third fourth fifth
hospital ward wards unit bay bed beds room rooms clinic centre center department dept reception
waiting area theatre theatres outpatients inpatients emergency accident a&e urgent care intensive
critical maternity children childrens paediatric paediatrics surgery surgical medical medicine
general royal nhs trust foundation health service services staff only visitor visitors visiting
hours patient patients nurse nurses doctor doctors station pharmacy radiology x-ray xray scan
mri ct ultrasound lab laboratory pathology blood tests test main entrance east west north south
wing block building car park parking hand hygiene wash hands gel wear mask masks gloves apron
danger warning caution notice oxygen no smoking smoking infection control isolation sterile
clean dirty utility store cupboard sluice kitchen office manager sister day night shift team
board today tomorrow date time name from monday tuesday wednesday thursday friday saturday
sunday january february march april may june july august september october november december
one two three four five six seven eight nine ten eleven twelve red blue green yellow orange black
white grey gray pink purple brown help information info welcome thank thanks you sign signs here
call bell alarm emergency resuscitation defibrillator aed chair wheelchair trolley bin waste
clinical domestic recycling paper only hot cold water drinking not safe high low risk falls
allergy allergies diet nil by mouth fluids nbm dnr dnacpr observations obs plan discharge
admission admitted transfer bleep ext extension phone telephone mobile tel fax email address
road street lane avenue close drive way crescent place court gardens terrace grove hill park square
row mews walk
""".split())


def _name_runs(text: str) -> list[Span]:
    """Two or more capitalised words in a row (separated by spaces only), none of them a stop word."""
    out: list[Span] = []
    run: list[re.Match[str]] = []
    for word in [*_CAPWORD.finditer(text), None]:
        if word is not None and word.group(0).lower() not in STOP_WORDS and (
                not run or re.fullmatch(r"[ \t]+", text[run[-1].end():word.start()])):
            run.append(word)
            continue
        if len(run) >= 2:
            out.append((run[0].start(), run[-1].end(), "name"))
        run = [word] if word is not None and word.group(0).lower() not in STOP_WORDS else []
    return out


# -- labels ------------------------------------------------------------------------------------
_FIELDS: list[tuple[str, str]] = [
    (r"nhs\s*(?:no|num|number|#)\.?", "nhs_number"),
    (r"nhs", "nhs_number"),
    (r"(?:mrn|hosp(?:ital)?\.?\s*(?:no|num|number|#)|unit\s*(?:no|number)|pas\s*(?:no|number)|"
     r"case\s*(?:no|number)|patient\s*(?:id|no|number))\.?", "hospital_number"),
    (r"(?:d\.?\s?o\.?\s?b\.?|date\s*of\s*birth|born|admitted|admission\s*date)", "date"),
    (r"(?:tel|telephone|phone|mobile|mob|contact\s*(?:no|number))\.?", "phone"),
    (r"(?:e-?mail)", "email"),
    (r"(?:post\s*code)", "postcode"),
    (r"(?:address|addr)\.?", "address"),
    (r"(?:patient\s*name|full\s*name|surname|forename|first\s*name|last\s*name|family\s*name|given\s*name|"
     r"name|patient|consultant|named\s*nurse|key\s*worker|next\s*of\s*kin|nok|signed|signature|"
     r"doctor|nurse|midwife|gp|carer)", "name"),
]
_LABEL = re.compile(
    r"(?<![A-Za-z])(?:" + "|".join(f"(?P<f{i}>{p})" for i, (p, _) in enumerate(_FIELDS))
    + r")(?![A-Za-z])\s*(?P<sep>[:#\-=]?)",
    re.I,
)
_NEEDS_COLON = {"nhs", "patient", "doctor", "nurse", "midwife", "gp", "carer", "signed", "born", "admitted",
                "name", "contact"}
_ALNUM = re.compile(r"[A-Za-z0-9]")


def label_spans(text: str) -> list[Span]:
    """Spans of labels (``label``) and of the values that follow them (the label's field)."""
    found = []
    for m in _LABEL.finditer(text):
        idx = next(int(k[1:]) for k, v in m.groupdict().items() if k != "sep" and v is not None)
        word = re.sub(r"\s+", " ", m.group(f"f{idx}").lower()).strip(". ")
        if not m.group("sep") and word in _NEEDS_COLON:
            continue  # an everyday word without a colon is not a form label
        found.append((m.start(), m.end(), _FIELDS[idx][1]))
    out: list[Span] = []
    for n, (start, end, field) in enumerate(found):
        out.append((start, end, "label"))
        stop = found[n + 1][0] if n + 1 < len(found) else len(text)
        if _ALNUM.search(text, end, stop):
            out.append((end, stop, field))
    return out


# -- public API --------------------------------------------------------------------------------
def _overlaps(start: int, end: int, spans: Iterable[Span]) -> bool:
    return any(s < end and start < e for s, e, _ in spans)


def spans(text: str) -> list[Span]:
    """``(start, end, category)`` for every PII match in ``text`` (offsets only; text is not kept)."""
    text = unicodedata.normalize("NFKC", text)
    out: list[Span] = []
    for rx in _DATES:
        out += [(m.start(), m.end(), "date") for m in rx.finditer(text)]
    for rx in _PHONES:
        out += [(m.start(), m.end(), "phone") for m in rx.finditer(text)
                if not _overlaps(m.start(), m.end(), out)]
    out += _digit_spans(text, list(out))
    out += [(m.start(), m.end(), "hospital_number") for m in _MRN.finditer(text)]
    out += [(m.start(), m.end(), "postcode") for m in _POSTCODE.finditer(text)]
    out += [(m.start(), m.end(), "email") for m in _EMAIL.finditer(text) if "@" in m.group(0)]
    out += _numbered_streets(text)
    out += [(m.start(), m.end(), "address") for m in _NAMED_STREET.finditer(text)
            if m.group(1).lower() not in STOP_WORDS]
    out += [(m.start(), m.end(), "name") for m in _TITLE.finditer(text) if m.group(1).lower() not in STOP_WORDS]
    out += [(m.start(), m.end(), "name") for m in _SURNAME_FIRST.finditer(text)]
    out += _name_runs(text)
    out += label_spans(text)
    return out


def classify(text: str) -> set[str]:
    """The PII categories (a subset of :data:`CATEGORIES`) found in ``text``; empty when none."""
    return {c for _, _, c in spans(text)}


def classify_line(texts: Sequence[str]) -> list[set[str]]:
    """Categories for each OCR box of one line (``texts`` in reading order, left to right).

    Each box gets its own categories plus those of every match on the joined line (boxes joined
    with one space) that overlaps it, so ``["NHS No:", "943 476", "5919"]`` gives ``nhs_number``
    for both number boxes (and ``label`` for the first).
    """
    texts = [unicodedata.normalize("NFKC", t) for t in texts]
    bounds, pos = [], 0
    for t in texts:
        bounds.append((pos, pos + len(t)))
        pos += len(t) + 1
    out = [classify(t) for t in texts]
    for start, end, cat in spans(" ".join(texts)):
        for i, (b0, b1) in enumerate(bounds):
            if start < b1 and b0 < end and _ALNUM.search(texts[i]):
                out[i].add(cat)
    return out


def is_pii(categories: Iterable[str]) -> bool:
    """True when any category was found (every category in :data:`CATEGORIES` is a reason to redact)."""
    return any(c in CATEGORIES for c in categories)


def most_specific(categories: Iterable[str]) -> str | None:
    """The first of ``categories`` in :data:`CATEGORIES` order, or ``None`` when there is none."""
    return most_sensitive(categories)
