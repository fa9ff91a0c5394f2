"""Notebook 09, forecasting: answers to the windows, MASE and the recursive forecast loop."""

import numpy as np

from lstm_course import forecasting, series
from lstm_course.checks import check_make_windows, check_mase, check_recursive_forecast
from tests.check_answers import Answers
from tests.notebooks import notebook_definitions

make_windows, mase, recursive_forecast = notebook_definitions(
    "09_forecasting", "make_windows", "mase", "recursive_forecast"
)

# ----------------------------------------------------------------------------- Exercise 1: make_windows


def windows_loop(values, input_length, horizon, first_target, end, first=None, stop=0, input_shift=0, target_shift=0):
    """A learner's loop, with one typical mistake switched on by the keywords."""
    inputs, targets = [], []
    for t in range(first_target if first is None else first, end - horizon + 1 + stop):
        inputs.append(values[t - input_length + input_shift:t + input_shift])
        targets.append(values[t + target_shift:t + target_shift + horizon])
    return np.array(inputs), np.array(targets)


def strided(values, input_length, horizon, first_target, end):
    """Written another way: sliding_window_view over the part the windows cover."""
    views = np.lib.stride_tricks.sliding_window_view(values[first_target - input_length:end], input_length + horizon)
    return views[:, :input_length].copy(), views[:, input_length:].copy()


MAKE_WINDOWS = Answers(
    check_make_windows,
    solution=make_windows,
    others=[strided, lambda *args: tuple(np.asarray(part, dtype=np.float32) for part in windows_loop(*args))],
    wrong=[
        (lambda *args: windows_loop(*args, stop=1), "Your last window's targets reach values[end]"),
        (lambda *args: windows_loop(*args, stop=-1), "One window is missing at the end"),
        (lambda *args: windows_loop(*args, input_shift=1), "Your inputs include the value at the origin"),
        (lambda *args: windows_loop(*args, target_shift=1), "Your targets start one step after the origin"),
        (lambda values, input_length, *rest: windows_loop(values, input_length, *rest, first=input_length),
         "Your windows start at input_length"),
        (lambda values, input_length, horizon, first_target, end: windows_loop(
            values, input_length, horizon, first_target, end, first=first_target + input_length),
         "Your first window starts input_length steps after first_target"),
        (lambda *args: windows_loop(*args)[::-1], "return inputs, targets, in that order"),
        (lambda *args: tuple(part.T for part in windows_loop(*args)), "is transposed"),
    ],
    course=[lambda *args: series.make_windows(*args)[:2]],
)

# ----------------------------------------------------------------------------- Exercise 2: mase


def mase_by_loops(forecast, actual, train, season):
    """Written another way: plain loops."""
    error = sum(abs(f - a) for f, a in zip(forecast, actual)) / len(forecast)
    differences = [abs(train[t] - train[t - season]) for t in range(season, len(train))]
    return error / (sum(differences) / len(differences))


def scale_of(train, season, step=None):
    step = season if step is None else step
    return np.mean(np.abs(train[step:] - train[:-step]))


MASE = Answers(
    check_mase,
    solution=mase,
    others=[mase_by_loops, lambda f, a, t, s: np.float32(np.mean(np.abs(f - a)) / scale_of(t, s))],
    wrong=[
        (lambda f, a, t, s: np.mean(np.abs(f - a)) / scale_of(t, s, step=1), "not one step back"),
        (lambda f, a, t, s: np.mean(np.abs(f - a)) / scale_of(a, s), "must come from the training part"),
        (lambda f, a, t, s: scale_of(t, s) / np.mean(np.abs(f - a)), "upside down"),
        (lambda f, a, t, s: abs(np.mean(f - a)) / scale_of(t, s), "Take absolute errors"),
        (lambda f, a, t, s: np.mean((f - a) ** 2) / np.mean((t[s:] - t[:-s]) ** 2), "squared errors"),
        (lambda f, a, t, s: np.mean(np.abs(f - a)) / np.mean(np.abs(t)), "not the mean absolute value of train"),
        (lambda f, a, t, s: np.mean(np.abs(f - a)) / abs(np.mean(t[s:] - t[:-s])), "needs absolute differences"),
        (lambda f, a, t, s: np.abs(f - a) / scale_of(t, s), "MASE is one number"),
        (lambda f, a, t, s: np.mean(np.abs(f - a)), "MASE = mean(|forecast - actual|)"),
    ],
    course=[forecasting.mase, lambda f, a, t, s: forecasting.mae(f, a) / forecasting.seasonal_naive_scale(t, s)],
)

# ----------------------------------------------------------------------------- Exercise 3: recursive_forecast


def with_numpy_roll(one_step, history, input_length, horizon):
    """Written another way: a fixed-size array rolled left."""
    window, forecast = np.array(history[-input_length:], dtype=float), np.empty(horizon)
    for step in range(horizon):
        forecast[step] = one_step(window.copy())
        window = np.roll(window, -1)
        window[-1] = forecast[step]
    return forecast


def same_window(one_step, history, input_length, horizon):
    return np.array([one_step(history[-input_length:]) for _ in range(horizon)])


def growing_window(one_step, history, input_length, horizon):
    values = list(history)
    for _ in range(horizon):
        values.append(one_step(np.array(values[-input_length - 1:])))
    return np.array(values[-horizon:])


def through_the_course(one_step, history, input_length, horizon):
    """The course's recursive loop, LSTMForecaster.forecast_batch, with one_step in place of its network."""
    forecaster = forecasting.LSTMForecaster(None, None, input_length, horizon, "recursive")
    forecaster._predict = lambda inputs: np.array([[one_step(row)] for row in inputs])
    return forecaster.forecast_batch(np.asarray(history, dtype=float)[None, -input_length:])[0]


def with_history(one_step, history, input_length, horizon):
    return np.concatenate([history, recursive_forecast(one_step, history, input_length, horizon)])


RECURSIVE_FORECAST = Answers(
    check_recursive_forecast,
    solution=recursive_forecast,
    others=[with_numpy_roll, lambda *args: list(recursive_forecast(*args))],
    wrong=[
        (same_window, "Every step read the same window"),
        (growing_window, "one_step reads a window of input_length"),
        (with_history, "returns the history too"),
        (lambda one_step, history, input_length, horizon: recursive_forecast(one_step, history, input_length,
                                                                            horizon - 1), "called one_step"),
    ],
    course=[through_the_course],
)

ANSWERS = [MAKE_WINDOWS, MASE, RECURSIVE_FORECAST]
