"""Notebook 10's data: formats, splits by date, the two-digit-year window and the rule-based parser."""

import datetime
import random

import pytest

from lstm_course import dates

MAY_3_1979 = datetime.date(1979, 5, 3)  # a Thursday


def _some_dates(count=150, seed=0):
    """Dates from every split, and the awkward ones: the window's ends, leap days, 1st/2nd/3rd/11th-13th/31st."""
    rng = random.Random(seed)
    drawn = [rng.choice(dates.dates_of(split)) for split in dates.SPLITS for _ in range(count // 3)]
    awkward = [dates.FIRST, dates.LAST, datetime.date(2000, 2, 29), datetime.date(1999, 12, 31),
               datetime.date(2003, 1, 1), datetime.date(1950, 10, 10), datetime.date(2049, 12, 20)]
    awkward += [datetime.date(2011, 1, day) for day in (1, 2, 3, 11, 12, 13, 20, 21, 22, 23, 30, 31)]
    return drawn + awkward


def test_formats_have_unique_names_and_three_families():
    assert len(set(dates.FORMAT_NAMES)) == len(dates.FORMATS)
    assert {f.family for f in dates.FORMATS} == set(dates.FAMILIES)
    assert all(len(dates.formats_of(family)) >= 6 for family in dates.FAMILIES)
    with pytest.raises(ValueError, match="family should be one of"):
        dates.formats_of("french")


def test_each_format_writes_3_may_1979_as_its_name():
    for date_format in dates.FORMATS:
        expected = "May 3, 1979" if date_format.name == "Sep 3, 1979" else date_format.name  # May is 'May' abbreviated
        assert date_format(MAY_3_1979) == expected
    assert dates.find_format("Sep 3, 1979")(datetime.date(1979, 9, 3)) == "Sep 3, 1979"


def test_words_and_numerals():
    assert [dates.ordinal(d) for d in (1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 31)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "23rd", "31st"]
    assert [dates.chinese_number(n) for n in (1, 9, 10, 11, 12, 19, 20, 21, 30, 31)] == [
        "一", "九", "十", "十一", "十二", "十九", "二十", "二十一", "三十", "三十一"]
    assert dates.chinese_year(1979) == "一九七九" and dates.chinese_year(2003) == "二〇〇三"
    assert dates.find_format("1979年5月3日星期四")(datetime.date(2024, 6, 9)) == "2024年6月9日星期日"  # a Sunday


def test_splits_partition_the_dates_and_never_share_one():
    by_split = {split: set(dates.dates_of(split)) for split in dates.SPLITS}
    assert not by_split["train"] & by_split["validation"]
    assert not by_split["train"] & by_split["test"]
    assert not by_split["validation"] & by_split["test"]
    everything = set().union(*by_split.values())
    assert len(everything) == (dates.LAST - dates.FIRST).days + 1 == 36525
    shares = {split: len(days) / len(everything) for split, days in by_split.items()}
    assert 0.78 < shares["train"] < 0.82 and 0.08 < shares["validation"] < 0.12 and 0.08 < shares["test"] < 0.12


def test_examples_come_from_their_split_and_are_deterministic():
    for split in dates.SPLITS:
        examples = dates.date_examples(300, split, seed=3)
        assert all(dates.split_of(datetime.date.fromisoformat(e.target)) == split for e in examples)
        assert examples == dates.date_examples(300, split, seed=3)
        assert dates.date_pairs(300, split, seed=3) == [(e.source, e.target) for e in examples]
    assert dates.date_pairs(50, "train", seed=0) != dates.date_pairs(50, "train", seed=1)
    drawn_formats = {e.format for e in dates.date_examples(2000, "train")}
    assert drawn_formats == set(dates.FORMAT_NAMES)


def test_examples_of_chosen_formats_only():
    examples = dates.date_examples(100, "test", formats=["79年5月3日", "03/05/79"])
    assert {e.format for e in examples} == {"79年5月3日", "03/05/79"}
    assert {e.family for e in examples} == {"Chinese", "numeric"}
    with pytest.raises(ValueError, match="no date format called 'May 3'"):
        dates.date_examples(5, formats=["May 3"])
    with pytest.raises(ValueError, match="split should be one of"):
        dates.date_pairs(5, "dev")
    with pytest.raises(ValueError, match="n should be an int"):
        dates.date_pairs(-1)


def test_every_format_parses_back_to_its_date():
    for date in _some_dates():
        for date_format in dates.FORMATS:
            assert dates.parse_date(date_format(date)) == date.isoformat(), (date_format.name, date_format(date))


def test_two_digit_years_are_read_in_1950_to_2049():
    assert dates.parse_date("03/05/79") == "1979-05-03"  # day first
    assert dates.parse_date("01/01/50") == "1950-01-01"
    assert dates.parse_date("31/12/49") == "2049-12-31"
    assert dates.parse_date("03年5月3日") == "2003-05-03"
    assert dates.parse_date("03-May-00") == "2000-05-03"


def test_the_parser_reads_variants_and_refuses_what_is_not_a_date():
    assert dates.parse_date("  SEPT 3rd, 1979 ") == "1979-09-03"
    assert dates.parse_date("二零零三年十二月三十一日") == "2003-12-31"
    assert dates.parse_date("1979年5月3日（周四）") == "1979-05-03"
    for not_a_date in ("", "hello", "31/02/1979", "1979-13-01", "May 1979", "3 May", "3 Mai 1979", "5月3日", "12345"):
        assert dates.parse_date(not_a_date) is None, not_a_date
    with pytest.raises(ValueError, match="source should be a str such as '3 May 1979', got int"):
        dates.parse_date(19790503)
