"""Dates as documents state them: date headers, datelines, and user filters."""

from __future__ import annotations

import datetime as dt
import re

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"),
            ("may",), ("june", "jun"), ("july", "jul"), ("august", "aug"),
            ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_WEEKDAY = r"(?:(?:mon|tues?|wed(?:nes)?|thu(?:rs)?|fri|sat(?:ur)?|sun)(?:day)?,?\s+)?"

# Each pattern matches a date at the very start of a line; the year may be left out
# (a live blog's "Sunday 8 December"), and is then the year of the page's other dates.
_LEADING_DATE = [
    re.compile(_WEEKDAY + r"(?P<day>\d{1,2})(?:st|nd|rd|th)?\s+" + _MONTH + r"(?:,?\s+(?P<year>\d{4}))?\b", re.I),
    re.compile(_WEEKDAY + _MONTH + r"\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?\b(?:,?\s+(?P<year>\d{4})\b)?", re.I),
    # An ISO date, also as the start of a timestamp ("2024-12-09T14:05:00Z").
    re.compile(r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})(?:\b|(?=T\d))"),
]
# A time of day as pages print it: "20:07", "3:05 p.m.", "14.05 GMT" (the British style:
# with a dot, only before a zone, a separator or the line's end, as "12.50 euros" is no time).
_TIME = (
    r"(?:at\s+)?(?:\d{1,2}:\d{2}(?::\d{2})?(?:\s?[ap]\.?m\.?)?(?=[\s,)]|$)"
    r"|\d{1,2}\.\d{2}(?:\s?[ap]\.?m\.?)?(?=\s*(?:$|[,|/•·–—(-]|(?:GMT|BST|UTC|CET|CEST|EET|EST|EDT|ET|PT|PST|PDT)\b)))"
)
# What may follow a date on a header or dateline: a time, "/ Updated …", "• 14:05", a place.
_DATELINE_REST = re.compile(r"^(?:\s*$|\s*[,|/•·–—-]|\s+" + _TIME + r"|T\d{2}:\d{2}|\s+\()", re.I)
# A date without its year is read only alone on its line or before a time: "May 12, he
# said" opens a sentence, and "8 December, …" as often as not.
_YEARLESS_REST = re.compile(r"^(?:\s*$|\s+" + _TIME + r")", re.I)


def _build(year: str, month: str, day: str) -> str | None:
    month_number = int(month) if month.isdigit() else _MONTHS[month.lower().rstrip(".")]
    try:
        return dt.date(int(year), month_number, int(day)).isoformat()
    except ValueError:
        return None


def leading_date(line: str, near: str | None = None) -> str | None:
    """The ISO date a header or dateline starts with, or None.

    A date without a year ("Sunday 8 December") takes the year that puts it nearest to
    ``near`` (an ISO date the document states elsewhere); without ``near`` it is none.
    The nearest, not ``near``'s own year: a blog that runs into January has its
    "31 December" in the year before.

    >>> leading_date("09 December 2024")
    '2024-12-09'
    >>> leading_date("7 Dec, 2024 20:07 / Updated 2 days ago")
    '2024-12-07'
    >>> leading_date("9 December 2024 was a Monday") is None
    True
    >>> leading_date("Tuesday 31 December", near="2025-01-02")
    '2024-12-31'
    """
    line = line.strip()
    if len(line) > 80:
        return None
    for pattern in _LEADING_DATE:
        match = pattern.match(line)
        if match is None:
            continue
        rest = line[match.end():]
        if match["year"] is not None:
            if _DATELINE_REST.match(rest):
                return _build(match["year"], match["month"], match["day"])
        elif near is not None and _YEARLESS_REST.match(rest):
            return _nearest(near, match["month"], match["day"])
    return None


def _nearest(near: str, month: str, day: str) -> str | None:
    """The date of ``day`` and ``month`` nearest to ISO ``near``, in its year or one beside it."""
    year = int(near[:4])
    dates = [d for y in (year - 1, year, year + 1) if (d := _build(str(y), month, day)) is not None]
    reference = dt.date.fromisoformat(near)
    return min(dates, key=lambda d: abs((dt.date.fromisoformat(d) - reference).days), default=None)


def is_date_header(line: str, near: str | None = None) -> bool:
    """True when the whole line is a date (a section header, not a dateline)."""
    line = line.strip()
    if leading_date(line, near) is None:
        return False
    return any((m := p.match(line)) and not line[m.end():].strip(" ,") for p in _LEADING_DATE)


# How pages label the date they were written or changed: "Updated 3 Nov 2026 23:50".
_STAMPED = re.compile(r"^(?:(?:last\s+)?updated|(?:first\s+)?published|posted)(?:\s+on)?:?\s+", re.I)


def first_full_date(text: str) -> str | None:
    """The first date with its year that a line of ``text`` starts with (a dateline, a
    header, an "Updated …" stamp): what a date without a year on the page is read
    against. (A stamp dates the page, not the passage under it, so only here is it read.)"""
    for line in text.split("\n"):
        line = _STAMPED.sub("", line.strip().lstrip("#* ").rstrip("*: "), count=1)
        if line[:1].isalnum() and (found := leading_date(line)) is not None:
            return found
    return None


def parse_date(value: str | dt.date | None, *, name: str = "date") -> str | None:
    """Normalise a user-given date filter to ISO, or raise a ValueError that says how."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a date like '2024-12-08' (a str or a datetime.date), not {type(value).__name__}")
    text = value.strip()
    found = leading_date(text)
    if found is not None and (is_date_header(text) or re.fullmatch(r"\d{4}-\d{2}-\d{2}", text)):
        return found
    raise ValueError(
        f"{name}={value!r} is not a date I can read; use YYYY-MM-DD, e.g. 2024-12-08"
    )


def human_date(iso: str) -> str:
    """'2024-12-08' → '8 December 2024'."""
    day = dt.date.fromisoformat(iso)
    return f"{day.day} {day.strftime('%B')} {day.year}"


# A day named inside a question: "on 8 December", "December 9", "the 8th of December",
# "Sunday 8 December 2024", "2024-12-08". The year is optional.
_ORDINAL = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_MENTIONED_DATE = [
    re.compile(r"\b" + _WEEKDAY + _ORDINAL + r"\s+(?:of\s+)?" + _MONTH + r"(?:,?\s+(?P<year>\d{4}))?\b", re.I),
    re.compile(r"\b" + _WEEKDAY + _MONTH + r"\s+" + _ORDINAL + r"\b(?:,?\s+(?P<year>\d{4}))?", re.I),
    re.compile(r"\b(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})\b"),
]


def mentioned_dates(text: str, known: "set[str] | frozenset[str]" = frozenset()) -> list[tuple[str, int, int]]:
    """Days named in ``text``, as (ISO date, start, end), in order.

    A day without a year takes the year under which ``known`` (the dates the documents
    state) holds that day, else the latest year ``known`` holds, else this year: a
    user asking about "8 December" means the 8 December of their documents.

    >>> mentioned_dates("what happened on 8 December?", {"2024-12-08"})
    [('2024-12-08', 17, 27)]
    """
    found: list[tuple[str, int, int]] = []
    for pattern in _MENTIONED_DATE:
        for match in pattern.finditer(text):
            if any(s < match.end() and match.start() < e for _, s, e in found):
                continue
            year = match["year"]
            if year is None:
                years = sorted({d[:4] for d in known}, reverse=True) or [str(dt.date.today().year)]
                candidates = [_build(y, match["month"], match["day"]) for y in years]
                year_dates = [c for c in candidates if c is not None]
                iso = next((c for c in year_dates if c in known), year_dates[0] if year_dates else None)
            else:
                iso = _build(year, match["month"], match["day"])
            if iso is not None:
                found.append((iso, match.start(), match.end()))
    return sorted(found, key=lambda item: item[1])


_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAY_ALONE = r"\b(?P<weekday>" + "|".join(_WEEKDAYS) + r")\b"
# Capitalised words that start a sentence before a day rather than a name ("On Sunday …").
_BEFORE_A_DAY = frozenset("on by since until from last next this early late before after and or".split())


def _in_a_name(text: str, start: int, end: int) -> bool:
    """A weekday inside a name ("The Sunday Times", "Super Tuesday Primary") is no day:
    capitalised words on both sides of it, or "the" before it and a capitalised word
    after it, within its sentence. A capital on one side only is most often the start
    of a sentence or a name beside the day ("Israel struck Syria Sunday")."""
    before = re.search(r"([\w’'-]+)\s+$", text[max(0, start - 40) : start])
    after = re.match(r"\s+([\w’'-]+)", text[end : end + 40])
    if before is None or after is None or not after.group(1)[:1].isupper():
        return False
    previous = before.group(1)
    return (previous[:1].isupper() and previous.lower() not in _BEFORE_A_DAY) or previous.lower() == "the"


# A day named relative to when the text was written: "on Sunday", "last Friday", "yesterday".
_RELATIVE_DAY = re.compile(
    r"\b(?:(?P<next>next|this coming)\s+|(?P<last>last)\s+)?" + _WEEKDAY_ALONE
    + r"|\b(?P<word>yesterday|today|tonight|tomorrow)\b",
    re.I,
)
_OFFSETS = {"yesterday": -1, "today": 0, "tonight": 0, "tomorrow": 1}
# Words that put a bare weekday after them at the edge of a time span ("until Wednesday",
# "starting Monday"), which news gives for what is still to come.
# ("from" is left out: "back from Friday prayers" is past.)
_AHEAD = re.compile(r"\b(?:until|till|til|through|starting|beginning|effective)\s+(?:on\s+)?$", re.I)


def relative_day(text: str, written_on: str, near: tuple[int, int] | None = None) -> str | None:
    """The ISO day that ``text``'s one relative day names, read from the day it was
    written (``written_on``, ISO), or None when it names none or several. With
    ``near`` (offsets in ``text``), only a relative day overlapping it counts ("Friday"
    of "last Friday"); the rest of the text is its context.

    News reports what has happened, so a bare weekday is its latest occurrence on or
    before the day of writing; "last Friday" the latest before it; "next Friday" the
    first one after. A bare weekday that bounds a time still to come ("a curfew until
    Wednesday", "from Monday") names no day that can be told apart from the week before
    or after it, so it names none.

    >>> relative_day("Netanyahu said on Sunday that …", "2024-12-09")  # a Monday
    '2024-12-08'
    """
    found = [
        m for m in _RELATIVE_DAY.finditer(text)
        if not (m["weekday"] and _in_a_name(text, *m.span("weekday")))
        and not (m["weekday"] and not m["next"] and not m["last"] and _AHEAD.search(text[: m.start()]))
        and (near is None or m.start() < near[1] and near[0] < m.end())
    ]
    if len({match.group(0).lower() for match in found}) != 1:
        return None
    match, written = found[0], dt.date.fromisoformat(written_on)
    if match["word"]:
        return (written + dt.timedelta(days=_OFFSETS[match["word"].lower()])).isoformat()
    weekday = _WEEKDAYS.index(match["weekday"].lower())
    if match["next"]:
        return (written + dt.timedelta(days=(weekday - written.weekday() - 1) % 7 + 1)).isoformat()
    back = (written.weekday() - weekday) % 7
    if match["last"] and back == 0:
        back = 7
    return (written - dt.timedelta(days=back)).isoformat()


# A day a question names by its weekday or its number alone ("on Sunday", "on the 7th",
# but not "the 7th Division"): only the documents' own days can say which it is.
_DAY_BY_WEEKDAY = re.compile(_WEEKDAY_ALONE, re.I)
# "the 7th" that no noun follows ("on the 7th in Damascus", "what happened the 7th?"; not
# "the 7th Division").
_DAY_BY_NUMBER = re.compile(
    r"\bthe\s+(?P<day>\d{1,2})(?:st|nd|rd|th)\b"
    r"(?!\s+(?!(?:in|and|at|or|to|of|for|with|when|after|before|about|around|during)\b)[A-Za-z])",
    re.I,
)


def asked_days(text: str, known: "set[str] | frozenset[str]" = frozenset()) -> list[tuple[str, int, int]]:
    """Days a question names, as ``mentioned_dates`` finds them, plus a weekday or a
    day's number alone when exactly one of the documents' days (``known``) fits it:
    over news of one week, "what happened on Sunday?" means that week's Sunday; over
    documents holding several Sundays it names none of them."""
    found = mentioned_dates(text, known)
    for pattern, fits in (
        (_DAY_BY_WEEKDAY, lambda m, day: day.weekday() == _WEEKDAYS.index(m["weekday"].lower())),
        (_DAY_BY_NUMBER, lambda m, day: day.day == int(m["day"])),
    ):
        for match in pattern.finditer(text):
            if any(s < match.end() and match.start() < e for _, s, e in found):
                continue
            if pattern is _DAY_BY_WEEKDAY and _in_a_name(text, match.start(), match.end()):
                continue
            days = [iso for iso in known if fits(match, dt.date.fromisoformat(iso))]
            if len(days) == 1:
                found.append((days[0], match.start(), match.end()))
    return sorted(found, key=lambda item: item[1])
