import datetime as dt

import pytest

from rag.dates import (
    asked_days, first_full_date, human_date, is_date_header, leading_date, parse_date, relative_day,
)


@pytest.mark.parametrize(
    "line, expected",
    [
        ("09 December 2024", "2024-12-09"),
        ("7 Dec, 2024 20:07 / Updated 2 days ago", "2024-12-07"),
        ("December 9, 2024", "2024-12-09"),
        ("Monday, 9 December 2024", "2024-12-09"),
        ("2024-12-08", "2024-12-08"),
        ("9 December 2024 was a Monday", None),  # a sentence, not a dateline
        ("31 February 2024", None),  # no such day: never invent one
        ("In June 2012 he defected.", None),
        # Datelines as other news pages print them.
        ("Sun 8 Dec 2024 14.05 GMT", "2024-12-08"),
        ("December 9, 2024 at 3:05 p.m. ET", "2024-12-09"),
        ("9 Dec 2024 • 14:05", "2024-12-09"),
        ("2024-12-09T14:05:00Z", "2024-12-09"),
        ("9 December 2024 12.5 percent higher", None),
        ("9 December 2024 12.50 euros was the price", None),  # a dotted time needs a zone or an end
        ("Sun 8 Dec 2024 14.05", "2024-12-08"),
        ("Sunday 8 December", None),  # no year, and no date of the page to take it from
    ],
)
def test_leading_date(line, expected):
    assert leading_date(line) == expected


@pytest.mark.parametrize(
    "line, near, expected",
    [
        ("Sunday 8 December", "2024-12-07", "2024-12-08"),
        ("December 8", "2024-12-07", "2024-12-08"),
        ("8 December 14:05", "2024-12-07", "2024-12-08"),
        ("Tuesday 31 December", "2025-01-02", "2024-12-31"),  # the nearest, across New Year
        ("2 January", "2024-12-30", "2025-01-02"),
        ("May 12, he said", "2024-05-01", None),  # a sentence, not a date of its own
        ("8 December was calm", "2024-12-07", None),
    ],
)
def test_a_date_without_its_year_takes_the_nearest_to_the_pages_date(line, near, expected):
    assert leading_date(line, near) == expected


def test_the_pages_first_full_date_includes_its_stamp():
    assert first_full_date("Election night\n\nUpdated 3 Nov 2026 23:50\n\nWednesday 4 November\n") == "2026-11-03"
    assert first_full_date("Wednesday 4 November\n\nNo year anywhere.") is None


def test_header_is_a_date_alone_on_its_line():
    assert is_date_header("08 December 2024")
    assert not is_date_header("7 Dec, 2024 20:07 / Updated 2 days ago")


def test_parse_date_accepts_iso_words_and_dates():
    assert parse_date("2024-12-08") == "2024-12-08"
    assert parse_date("8 December 2024") == "2024-12-08"
    assert parse_date(dt.date(2024, 12, 8)) == "2024-12-08"
    assert parse_date(None) is None


@pytest.mark.parametrize("bad", ["yesterday", "2024-13-01", "12/08/2024x"])
def test_parse_date_rejects_with_a_hint(bad):
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        parse_date(bad)


def test_human_date():
    assert human_date("2024-12-08") == "8 December 2024"


@pytest.mark.parametrize(
    "text, day",
    [
        ("said on Sunday", "2024-12-08"),  # written on Monday 9 December 2024
        ("on Monday", "2024-12-09"),
        ("on Tuesday", "2024-12-03"),  # news reports the past: the Tuesday before
        ("talks resume next Monday", "2024-12-16"),
        ("arrived yesterday", "2024-12-08"),
        ("said today", "2024-12-09"),
        ("on Sunday and again on Monday", None),  # two days: no one answer
        ("last week", None),
        ("last Monday", "2024-12-02"),  # the Monday before, not the day of writing
        ("due back tomorrow", "2024-12-10"),
        ("The Sunday Times reported", None),  # a name, not a day
        ("On Sunday Netanyahu said", "2024-12-08"),
        ("Israel struck Syria Sunday, officials said.", "2024-12-08"),  # a capital on one side only
        ("a curfew until Wednesday", None),  # the edge of a time to come: not last Wednesday
        ("schools stay shut starting Friday", None),
        ("On Sunday they announced a curfew until Wednesday", "2024-12-08"),  # the one past day
        ("staff stayed until yesterday", "2024-12-08"),  # named days are what they say
        ("back from Friday prayers", "2024-12-06"),  # "from" also looks back
    ],
)
def test_relative_day_is_read_from_the_day_of_writing(text, day):
    assert relative_day(text, "2024-12-09") == day


ONE_WEEKEND = {"2024-12-07", "2024-12-08", "2024-12-09"}  # Saturday to Monday


@pytest.mark.parametrize(
    "question, known, days",
    [
        ("what happened on Sunday?", ONE_WEEKEND, ["2024-12-08"]),
        ("what was the news on the 7th?", ONE_WEEKEND, ["2024-12-07"]),
        ("what happened on Friday?", ONE_WEEKEND, []),  # none of the documents' days
        ("what happened on Sunday?", ONE_WEEKEND | {"2024-12-15"}, []),  # two Sundays: which?
        ("what did the 7th Division do?", ONE_WEEKEND, []),  # a name, not a day
        ("what happened on Sunday 8 December?", ONE_WEEKEND, ["2024-12-08"]),  # one day, once
        ("what did the Sunday Times report?", ONE_WEEKEND, []),
        ("what happened on the 7th in Damascus?", ONE_WEEKEND, ["2024-12-07"]),
        ("what happened the 7th?", ONE_WEEKEND, ["2024-12-07"]),
        ("what happened in Aleppo Sunday?", ONE_WEEKEND, ["2024-12-08"]),
        ("what was on the 7th floor?", ONE_WEEKEND, []),
    ],
)
def test_a_weekday_or_a_number_alone_names_a_day_only_when_one_document_day_fits(question, known, days):
    assert [iso for iso, _, _ in asked_days(question, known)] == days
