"""Notebook 09's figures: the LSTM against persistence, seasonal naive and a linear model, on one thread.

    python benchmarks/forecasting_measure.py                     # both series, seeds 0 1 2
    python benchmarks/forecasting_measure.py --series co2 --seeds 0

For each series (Mauna Loa CO2, weekly; Seattle's daily highest temperature) every forecaster is
scored on every forecast origin of the test part (`forecasting.score_by_step`): MAE in the series'
units and MASE (scaled by the training part's seasonal-naive MAE, season 52 weeks / 365 days) at
three steps ahead. The LSTMs are the notebook's recipes (`forecasting.RECIPES`), trained with
seeds 0, 1, 2 (mean and range), then changed one thing at a time: recursive instead of direct,
the levels scaled instead of the change from the last value, a scaler fitted on the whole series
(the leak), another input length. Training time is `History.seconds[-1]` (evaluation excluded),
wall-clock, so it grows when other programs share the CPU. Peak memory is the process's maximum
resident set size once everything has run.

Measured (2-core CPU shared with other programs, one thread, seeds 0 1 2, 113 s in all, peak 349 MiB).
MAE on the test part; LSTM: mean [min, max] over seeds.

    CO2 (ppm; MASE scale 1.238)      1 week   4 weeks   52 weeks   training
    persistence                      0.394    1.081     1.651
    seasonal naive (52)              1.705    1.693     1.651
    linear, relative, 104 lags       0.298    0.412     0.754
    linear, levels, 104 lags         0.304    0.431     1.194
    LSTM direct (recipe)             0.318    0.435     0.734 [0.709, 0.751]   4.6 s/model
    LSTM recursive                   0.317    0.593     7.238 [3.443, 9.916]   4.6 s/model
    LSTM, levels scaled              7.376    9.779     7.185                  4.4 s/model
    LSTM, levels scaled, LEAK        7.466    8.471     6.872
    LSTM, relative, LEAK             0.322    0.432     0.728
    LSTM, input_length 52            0.321    0.448     0.733                  2.9 s/model

    Seattle temp_max (°C; scale 3.908) 1 day  3 days    7 days
    persistence                      2.263    3.511     3.731
    seasonal naive (365)             3.795    3.794     3.773
    linear, relative, 56 lags        2.162    2.895     2.998
    linear, levels, 56 lags          2.162    2.852     2.970
    LSTM direct (recipe)             2.159    2.917     3.086 [3.074, 3.105]   1.3 s/model
    LSTM recursive                   2.148    2.949     3.198
    LSTM, levels scaled              2.273    2.955     3.080
    LSTM, levels scaled, LEAK        2.268    2.956     3.079
    LSTM, input_length 28            2.161    2.927     3.093                  1.5 s/model

The LSTM does not beat the linear model fitted the same way (relative): within 0.03 ppm and 0.1 °C,
ahead at some steps and behind at others. One step ahead its forecasts lie closer to the last value
than to the truth (Seattle: 0.73 °C from yesterday's value, 2.16 °C from today's).
"""

import argparse
import resource
import time

import numpy as np
import torch

from lstm_course import forecasting as fc
from lstm_course import setup_notebook
from lstm_course.series import Scaler

SERIES = {
    "co2": dict(title="Mauna Loa CO2 (ppm), weekly; test 1996-2001", steps=(1, 4, 52), season=fc.CO2_SEASON,
                other_input=52),
    "seattle": dict(title="Seattle's daily highest temperature (°C); test 2015", steps=(1, 3, 7),
                    season=fc.SEATTLE_SEASON, other_input=28),
}


def load(name):
    """``(values, train_end, validation_end)``."""
    if name == "co2":
        data = fc.load_co2()
        return data.ppm, *fc.split_indices(data.dates, *fc.CO2_SPLITS)
    data = fc.load_seattle_weather()
    return data.temp_max, *fc.split_indices(data.dates, *fc.SEATTLE_SPLITS)


def scores(forecaster, values, train_end, validation_end, setting):
    """One row: the MAEs at the setting's steps, then the MASEs."""
    found = fc.score_by_step(forecaster, values, train_end=train_end, season=setting["season"], start=validation_end)
    at = [step - 1 for step in setting["steps"]]
    return np.r_[found.mae[at], found.mase[at]]


def lstm_rows(values, train_end, validation_end, setting, recipe, seeds, **changes):
    """``(rows (seeds, 2 * steps), training seconds per model, the seed-0 forecaster)``."""
    rows, seconds, first = [], [], None
    for seed in seeds:
        setup_notebook(seed=seed, threads=1)
        lstm = fc.fit_forecaster(values, train_end=train_end, validation_end=validation_end, seed=seed,
                                 progress=False, **{**recipe, **changes})
        rows.append(scores(lstm, values, train_end, validation_end, setting))
        seconds.append(lstm.history.seconds[-1])
        first = lstm if first is None else first
    return np.array(rows), seconds, first


def show(label, rows, steps, seconds=None):
    """A table row: one forecaster's MAE and MASE at each step, as mean [min, max] over seeds."""
    rows = np.atleast_2d(rows)
    cells = []
    for column in range(rows.shape[1]):
        values = rows[:, column]
        cell = f"{values.mean():.3f}"
        if len(values) > 1:
            cell += f" [{values.min():.3f}, {values.max():.3f}]"
        cells.append(f"{cell:>22}")
    timing = "" if seconds is None else f"   {np.mean(seconds):.1f} s/model"
    print(f"{label:34}" + "".join(cells[: len(steps)]) + " |" + "".join(cells[len(steps):]) + timing)


def measure(name, seeds):
    setting = SERIES[name]
    values, train_end, validation_end = load(name)
    recipe = fc.RECIPES[name]
    horizon, input_length, steps = recipe["horizon"], recipe["input_length"], setting["steps"]
    heading = "".join(f"{f'MAE {s} ahead':>22}" for s in steps) + " |" + "".join(f"{f'MASE {s}':>22}" for s in steps)
    print(f"\n{setting['title']}: train {train_end}, validation {validation_end - train_end}, "
          f"test {len(values) - validation_end} values; horizon {horizon}, input_length {input_length}; "
          f"MASE scale {fc.seasonal_naive_scale(values[:train_end], setting['season']):.3f}")
    print(f"{'':34}{heading}")
    baselines = {
        "persistence": fc.Persistence(horizon),
        f"seasonal naive ({setting['season']})": fc.SeasonalNaive(setting["season"], horizon),
        f"linear, relative ({input_length} lags)": fc.fit_linear(values, train_end=train_end,
                                                                  input_length=input_length, horizon=horizon),
        f"linear, levels ({input_length} lags)": fc.fit_linear(values, train_end=train_end, input_length=input_length,
                                                                horizon=horizon, relative=False),
    }
    for label, forecaster in baselines.items():
        show(label, scores(forecaster, values, train_end, validation_end, setting), steps)
    direct, seconds, lstm = lstm_rows(values, train_end, validation_end, setting, recipe, seeds)
    show("LSTM direct (the recipe)", direct, steps, seconds)
    variants = {
        "LSTM recursive": dict(strategy="recursive"),
        "LSTM, levels scaled (train)": dict(scaling="level"),
        "LSTM, levels scaled (LEAK: all)": dict(scaler=Scaler.fit(values, relative=False)),
        "LSTM, relative (LEAK: all)": dict(scaler=Scaler.fit(values, relative=True)),
        f"LSTM, input_length {setting['other_input']}": dict(input_length=setting["other_input"]),
    }
    for label, changes in variants.items():
        rows, seconds, _ = lstm_rows(values, train_end, validation_end, setting, recipe, seeds, **changes)
        show(label, rows, steps, seconds)
    linear = baselines[f"linear, relative ({input_length} lags)"]
    for label, forecaster in [("LSTM (seed 0)", lstm), ("linear, relative", linear),
                              ("persistence", fc.Persistence(horizon))]:
        lags = fc.lag_errors(forecaster, values, start=validation_end)
        print(f"one step ahead, MAE against the series k steps back (k = 0..3), {label}: {np.round(lags, 3).tolist()}")
    return direct, scores(linear, values, train_end, validation_end, setting)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--series", nargs="+", choices=sorted(SERIES), default=["co2", "seattle"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    arguments = parser.parse_args()
    start = time.perf_counter()
    for name in arguments.series:
        direct, linear = measure(name, arguments.seeds)
        steps = SERIES[name]["steps"]
        verdicts = [f"{step} ahead: LSTM {m:.3f} vs linear {l:.3f} ({'LSTM' if m < l else 'linear'} better)"
                    for step, m, l in zip(steps, direct.mean(axis=0), linear)]
        print(f"{name}: does the LSTM (mean over seeds) beat the linear model? " + "; ".join(verdicts))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(f"\ntorch {torch.__version__}, {torch.get_num_threads()} thread; peak memory {peak:.0f} MiB; "
          f"{time.perf_counter() - start:.0f} s in all")


if __name__ == "__main__":
    main()
