"""Notebook 10's data: dates written the ways people write them, each paired with its ISO form.

    date_pairs(3, "train", seed=0)   # [('Thu 3 May 1979', '1979-05-03'), ('1979年5月3日', ...), ...]
    parse_date("May 3rd, 1979")      # '1979-05-03': the rule-based parser, the ceiling a model is compared with

The world of the task, decided once:

- **Dates** from 1 January 1950 to 31 December 2049 (``FIRST``, ``LAST``), 36,525 of them.
- **Two-digit years** are read in that window: 50-99 are 1950-1999, 00-49 are 2000-2049
  ("79" is 1979, "03" is 2003). Python's ``strptime("%y")`` uses another window (69-99, 00-68).
- **Numbers alone are day first.** "03/05/79" is 3 May 1979, as in most of the world; the
  American month-first order is not among the formats, since the two cannot be told apart
  ("03/05/79" is 5 March in the United States). A year written first is always year, month, day.
- **Three families** of formats (``FORMATS``): English (month or weekday written in words),
  numeric (digits and separators only) and Chinese (年, 月, 日).
- **Splits by date.** Each calendar date belongs to one split, chosen by a hash of its ISO form
  (``split_of``): 80 % train, 10 % validation, 10 % test. A test date is never seen in training,
  in any format.

Everything here uses Python's standard library only.
"""

import datetime
import hashlib
import random
import re
from functools import lru_cache
from typing import Callable, NamedTuple

FIRST = datetime.date(1950, 1, 1)
LAST = datetime.date(2049, 12, 31)
CENTURY_PIVOT = 50  # two-digit years below it are 20xx, the others 19xx
SPLITS = ("train", "validation", "test")
FAMILIES = ("English", "numeric", "Chinese")

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]  # date.weekday() order
CHINESE_DIGITS = "〇一二三四五六七八九"
CHINESE_WEEKDAYS = "一二三四五六日"  # 星期一 (Monday) ... 星期日 (Sunday)


# ----------------------------------------------------------------------------- writing a date


def ordinal(day):
    """1 -> '1st', 2 -> '2nd', 3 -> '3rd', 11 -> '11th', 22 -> '22nd'."""
    if day % 100 in (11, 12, 13):
        return f"{day}th"
    return f"{day}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(day % 10, 'th')}"


def chinese_year(year):
    """1979 -> '一九七九', 2003 -> '二〇〇三': digit by digit."""
    return "".join(CHINESE_DIGITS[int(digit)] for digit in str(year))


def chinese_number(number):
    """1 to 31 as Chinese numerals: 3 -> '三', 10 -> '十', 12 -> '十二', 20 -> '二十', 31 -> '三十一'."""
    tens, units = divmod(number, 10)
    written_tens = "" if tens == 0 else ("十" if tens == 1 else CHINESE_DIGITS[tens] + "十")
    return written_tens + (CHINESE_DIGITS[units] if units else "")


def iso(date):
    """The target: '1979-05-03'."""
    return date.isoformat()


class DateFormat(NamedTuple):
    """One way of writing a date: its ``name`` (how it writes 3 May 1979; 'Sep 3, 1979' for the abbreviated
    month, which writes May as 'May'), its family, and ``write(date) -> str``."""

    name: str
    family: str
    write: Callable[[datetime.date], str]

    def __call__(self, date):
        return self.write(date)


def month(date):
    """'May': the English name, the same on every machine (``calendar`` follows the locale)."""
    return MONTHS[date.month - 1]


def weekday(date):
    return WEEKDAYS[date.weekday()]


FORMATS = [
    DateFormat("3 May 1979", "English", lambda d: f"{d.day} {month(d)} {d.year}"),
    DateFormat("May 3, 1979", "English", lambda d: f"{month(d)} {d.day}, {d.year}"),
    DateFormat("May 3rd, 1979", "English", lambda d: f"{month(d)} {ordinal(d.day)}, {d.year}"),
    DateFormat("Thursday, May 3, 1979", "English", lambda d: f"{weekday(d)}, {month(d)} {d.day}, {d.year}"),
    DateFormat("the 3rd of May 1979", "English", lambda d: f"the {ordinal(d.day)} of {month(d)} {d.year}"),
    DateFormat("Thu 3 May 1979", "English", lambda d: f"{weekday(d)[:3]} {d.day} {month(d)} {d.year}"),
    DateFormat("Sep 3, 1979", "English", lambda d: f"{month(d)[:3]} {d.day}, {d.year}"),
    DateFormat("03-May-79", "English", lambda d: f"{d.day:02d}-{month(d)[:3]}-{d.year % 100:02d}"),
    DateFormat("03/05/79", "numeric", lambda d: f"{d.day:02d}/{d.month:02d}/{d.year % 100:02d}"),
    DateFormat("3/5/1979", "numeric", lambda d: f"{d.day}/{d.month}/{d.year}"),
    DateFormat("03.05.1979", "numeric", lambda d: f"{d.day:02d}.{d.month:02d}.{d.year}"),
    DateFormat("03-05-1979", "numeric", lambda d: f"{d.day:02d}-{d.month:02d}-{d.year}"),
    DateFormat("1979-05-03", "numeric", iso),
    DateFormat("1979/5/3", "numeric", lambda d: f"{d.year}/{d.month}/{d.day}"),
    DateFormat("19790503", "numeric", lambda d: f"{d.year}{d.month:02d}{d.day:02d}"),
    DateFormat("1979年5月3日", "Chinese", lambda d: f"{d.year}年{d.month}月{d.day}日"),
    DateFormat("1979年05月03日", "Chinese", lambda d: f"{d.year}年{d.month:02d}月{d.day:02d}日"),
    DateFormat("1979 年 5 月 3 日", "Chinese", lambda d: f"{d.year} 年 {d.month} 月 {d.day} 日"),
    DateFormat("79年5月3日", "Chinese", lambda d: f"{d.year % 100:02d}年{d.month}月{d.day}日"),
    DateFormat("1979年5月3号", "Chinese", lambda d: f"{d.year}年{d.month}月{d.day}号"),
    DateFormat("1979年5月3日星期四", "Chinese",
               lambda d: f"{d.year}年{d.month}月{d.day}日星期{CHINESE_WEEKDAYS[d.weekday()]}"),
    DateFormat("一九七九年五月三日", "Chinese",
               lambda d: f"{chinese_year(d.year)}年{chinese_number(d.month)}月{chinese_number(d.day)}日"),
]
FORMAT_NAMES = [f.name for f in FORMATS]


def find_format(name):
    """The DateFormat called ``name`` (e.g. '3 May 1979'); a ValueError lists the names."""
    for date_format in FORMATS:
        if date_format.name == name:
            return date_format
    raise ValueError(f"no date format called {name!r}: choose from {FORMAT_NAMES}")


def formats_of(family):
    """The names of the formats of one family: 'English', 'numeric' or 'Chinese'."""
    if family not in FAMILIES:
        raise ValueError(f"family should be one of {FAMILIES}, got {family!r}")
    return [f.name for f in FORMATS if f.family == family]


@lru_cache(maxsize=None)
def source_characters():
    """Every character a format can write, sorted: each format applied to every day of 2000 (all months,
    weekdays and days, and 〇) and to 1 January of every year."""
    year_2000 = [datetime.date(2000, 1, 1) + datetime.timedelta(days=k) for k in range(366)]
    new_years = [datetime.date(year, 1, 1) for year in range(FIRST.year, LAST.year + 1)]
    return "".join(sorted({c for day in year_2000 + new_years for f in FORMATS for c in f(day)}))


TARGET_CHARACTERS = "-0123456789"  # what an ISO date is written with


# ----------------------------------------------------------------------------- splits and examples


def split_of(date):
    """'train', 'validation' or 'test': decided by the first byte of the SHA-256 of the ISO date (80/10/10)."""
    bucket = hashlib.sha256(iso(date).encode()).digest()[0] * 10 // 256  # 0..9, about evenly
    return "train" if bucket < 8 else ("validation" if bucket == 8 else "test")


@lru_cache(maxsize=None)
def dates_of(split):
    """Every date of one split, in calendar order (a tuple)."""
    if split not in SPLITS:
        raise ValueError(f"split should be one of {SPLITS}, got {split!r}")
    days = (FIRST + datetime.timedelta(days=k) for k in range((LAST - FIRST).days + 1))
    return tuple(day for day in days if split_of(day) == split)


class DateExample(NamedTuple):
    source: str
    target: str
    format: str  # the format's name
    family: str


def date_examples(n, split="train", seed=0, formats=None):
    """``n`` DateExamples: dates drawn (with replacement) from the split, each written in a format drawn from
    ``formats`` (names; None: all of ``FORMATS``). The same arguments give the same list."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"n should be an int >= 0, got {n!r}")
    chosen = FORMATS if formats is None else [find_format(name) for name in formats]
    if not chosen:
        raise ValueError("formats should name at least one format")
    rng = random.Random(seed)
    dates = dates_of(split)
    examples = []
    for _ in range(n):
        date, date_format = rng.choice(dates), rng.choice(chosen)
        examples.append(DateExample(date_format(date), iso(date), date_format.name, date_format.family))
    return examples


def date_pairs(n, split="train", seed=0, formats=None):
    """``n`` pairs ``(source, target)`` such as ``('3 May 1979', '1979-05-03')``; see ``date_examples``."""
    return [(example.source, example.target) for example in date_examples(n, split, seed, formats)]


# ----------------------------------------------------------------------------- the rule-based parser


def full_year(digits):
    """'79' -> 1979, '03' -> 2003 (the 1950-2049 window); four digits are read as they are."""
    year = int(digits)
    if len(digits) == 2:
        year += 2000 if year < CENTURY_PIVOT else 1900
    return year


def _iso_or_none(year, month, day):
    try:
        return datetime.date(year, month, day).isoformat()
    except ValueError:  # 30 February, month 13, ...
        return None


_MONTH_WORDS = {name.lower(): k + 1 for k, name in enumerate(MONTHS)} | {
    name[:3].lower(): k + 1 for k, name in enumerate(MONTHS)} | {"sept": 9}
_WEEKDAY_WORDS = {name.lower() for name in WEEKDAYS} | {name[:3].lower() for name in WEEKDAYS}


def _parse_english(source):
    words = re.findall(r"[a-z]+|\d+", source.lower())
    months = [_MONTH_WORDS[w] for w in words if w in _MONTH_WORDS]
    numbers = [w for w in words if w.isdigit()]
    others = [w for w in words if not w.isdigit() and w not in _MONTH_WORDS and w not in _WEEKDAY_WORDS]
    if len(months) != 1 or len(numbers) != 2 or set(others) - {"the", "of", "st", "nd", "rd", "th"}:
        return None
    day, year = (numbers[1], numbers[0]) if len(numbers[0]) == 4 else numbers  # "1979 May 3" or "3 May 1979"
    return _iso_or_none(full_year(year), months[0], int(day))


_NUMERIC = re.compile(r"(\d{1,4})([/.\-])(\d{1,2})\2(\d{1,4})")


def _parse_numeric(source):
    if re.fullmatch(r"\d{8}", source):
        return _iso_or_none(int(source[:4]), int(source[4:6]), int(source[6:]))
    match = _NUMERIC.fullmatch(source)
    if not match:
        return None
    first, _, month, last = match.groups()
    if len(first) == 4:
        return _iso_or_none(int(first), int(month), int(last))  # year first: year, month, day
    if len(last) in (2, 4):
        return _iso_or_none(full_year(last), int(month), int(first))  # year last: day first
    return None


def _chinese_value(text):
    """'1979' or '一九七九' (digit by digit) -> '1979'; '十二' -> '12', '三十一' -> '31'; None if neither."""
    if text.isascii() and text.isdigit():
        return text
    if text and all(c in CHINESE_DIGITS or c == "零" for c in text):
        return "".join(str(CHINESE_DIGITS.index("〇" if c == "零" else c)) for c in text)
    match = re.fullmatch(r"([一二三四五六七八九]?)十([一二三四五六七八九]?)", text)
    if match:
        tens, units = (CHINESE_DIGITS.index(c) if c else None for c in match.groups())
        return str(10 * (1 if tens is None else tens) + (units or 0))
    return None


def _parse_chinese(source):
    match = re.fullmatch(r"(.+?)年(.+?)月(.+?)[日号](?:[(（]?(?:星期|周)[一二三四五六日天][)）]?)?", source.replace(" ", ""))
    if not match:
        return None
    values = [_chinese_value(part) for part in match.groups()]
    if None in values or len(values[0]) not in (2, 4):
        return None
    return _iso_or_none(full_year(values[0]), int(values[1]), int(values[2]))


def parse_date(source):
    """The ISO date ``source`` names (``'1979-05-03'``), read by hand-written rules, or None if it names none.

    Reads every format of ``FORMATS`` and a few more (any capitalisation, 'Sept', '零' for 〇,
    '周四' for 星期四); weekdays are skipped, not checked. The rules of this module's docstring:
    day first, two-digit years in 1950-2049. A non-string is a ValueError.
    """
    if not isinstance(source, str):
        raise ValueError(f"source should be a str such as '3 May 1979', got {type(source).__name__}")
    source = source.strip()
    if "年" in source:
        return _parse_chinese(source)
    if re.search(r"[A-Za-z]", source):
        return _parse_english(source)
    return _parse_numeric(source)
