"""Checks for notebook 09, forecasting: the windows, MASE, and the recursive forecast loop.

Series whose every value names its index (1000 + t), so that a window that reads one value too
many or too few is told by the numbers themselves; against `series.make_windows`,
`forecasting.mase` and the checks' own loop.
"""

import numpy as np

from lstm_course import forecasting, series
from lstm_course.forecasting import mae
from lstm_course.checks.judge import Mistake, array, call, check, in_case, judge, numbers, unpack

# ----------------------------------------------------------------------------- Exercise 1: the windows
# (length of the series, input_length, horizon, first_target, end): training windows, windows of a later part
# whose inputs reach back into the part before, horizon 1, and input_length 1
WINDOW_CASES = ((30, 4, 3, 4, 20), (40, 6, 2, 20, 33), (15, 3, 1, 3, 15), (12, 1, 4, 5, 12))
WINDOW_SIGNATURE = "make_windows(values, input_length, horizon, first_target, end)"
WINDOW_HINT = ("The window of origin t (its first target) reads values[t - input_length:t] and predicts "
               "values[t:t + horizon]; t runs from first_target to end - horizon, both included.")


def windows(values, input_length, horizon, first_target, end, from_start=False, sliced=False, last_shift=0,
            input_shift=0, target_shift=0):
    """``(inputs, targets)`` of every window, with the typical mistakes switched on by the keywords."""
    first = input_length if from_start else first_target + (input_length if sliced else 0)
    origins = np.arange(first, end - horizon + 1 + last_shift)
    values = np.concatenate([values, np.full(horizon + 1, np.nan)])  # a mistake may read past the series' end
    inputs = values[origins[:, None] + np.arange(-input_length, 0) + input_shift]
    targets = values[origins[:, None] + np.arange(horizon) + target_shift]
    return inputs, targets


WINDOW_MISTAKES = (  # (message, keywords of `windows`)
    ("Your last window's targets reach values[end], the first value of the part after: the last origin is "
     "end - horizon (range(first_target, end - horizon + 1)).", dict(last_shift=1)),
    ("One window is missing at the end: the last origin is end - horizon, included (range(first_target, "
     "end - horizon + 1)).", dict(last_shift=-1)),
    ("Your inputs include the value at the origin, the first target: the model would be shown what it must "
     "predict. The inputs are values[t - input_length:t], up to the origin, not including it.", dict(input_shift=1)),
    ("Your targets start one step after the origin: the first target is values[t], right after the last input "
     "values[t - 1].", dict(target_shift=1)),
    ("Your windows start at input_length, not at first_target: a window whose targets lie before first_target "
     "belongs to the part before (the training part), so it would be scored twice.", dict(from_start=True)),
    ("Your first window starts input_length steps after first_target: a window's inputs may reach back before "
     "first_target (a forecast of 1990 reads 1989); only its targets must lie in values[first_target:end].",
     dict(sliced=True)),
)


def _windows_case(length, input_length, horizon, first_target, end):
    """The arguments: a series whose value at t is 1000 + t, so that each value names its index."""
    return (1000.0 + np.arange(length), input_length, horizon, first_target, end)


def _where_window(index):
    return f"in window {index[0]}, column {index[1]}" if len(index) == 2 else f"in window {index[0]}"


@check("The windows, without leakage", refuse=(series.make_windows, windows),
       instead="Build the windows yourself, with a loop or with index arithmetic.")
def check_make_windows(make_windows):
    """``make_windows(values, input_length, horizon, first_target, end) -> (inputs, targets)``, as the package's."""
    for number, case in enumerate(WINDOW_CASES, start=1):
        args = _windows_case(*case)
        length, input_length, horizon, first_target, end = case
        with in_case(f"Case {number} (a series of {length} values 1000, 1001, ...; input_length {input_length}, "
                     f"horizon {horizon}, first_target {first_target}, end {end})"):
            result = call(make_windows, *args, signature=WINDOW_SIGNATURE)
            parts = unpack(result, ("inputs", "targets"), "return inputs, targets")
            got = [numbers(f"`{name}`", array(f"`{name}`", part)) for name, part in zip(("inputs", "targets"), parts)]
            expected = series.make_windows(*args)[:2]
            if [part.shape for part in got] == [part.shape for part in expected[::-1]] != [expected[0].shape] * 2:
                raise Mistake("You returned (targets, inputs): return inputs, targets, in that order.")
            for k, (name, width) in enumerate((("inputs", "input_length"), ("targets", "horizon"))):
                mistakes = [(message, windows(*args, **keywords)[k]) for message, keywords in WINDOW_MISTAKES]
                if got[k].shape == expected[k].shape[::-1] != expected[k].shape:
                    raise Mistake(f"Your `{name}` is transposed, {got[k].shape}: one row per window, (windows, "
                                  f"{width}) = {expected[k].shape}.")
                if got[k].shape != expected[k].shape:
                    known = next((message for message, wrong in mistakes if wrong.shape == got[k].shape), "")
                    raise Mistake(f"`{name}` should have shape (windows, {width}) = {expected[k].shape}, got "
                                  f"{got[k].shape}. {known or WINDOW_HINT}")
                judge(f"`{name}`", got[k], expected[k], mistakes, WINDOW_HINT, _where_window)
    return ("Every window whose targets lie in values[first_target:end], and none more: no target at or after end, "
            "no input at or after its origin.")


# ----------------------------------------------------------------------------- Exercise 2: MASE
MASE_SIGNATURE = "mase(forecast, actual, train, season)"
MASE_HINT = ("MASE = mean(|forecast - actual|) / mean(|train[season:] - train[:-season]|): the error, divided by "
             "the seasonal naive's error on the training part.")


MASE_MISTAKES = (  # (message, what that answer computes from forecast, actual, train, season)
    ("The scale is the seasonal naive's error, one season back: mean(|train[season:] - train[:-season]|), not one "
     "step back.", lambda f, a, t, s: mae(f, a) / mae(t[1:], t[:-1])),
    ("The scale must come from the training part, `train`: the test part's own seasonal-naive error is not known "
     "when you forecast.", lambda f, a, t, s: mae(f, a) / mae(a[s:], a[:-s]) if len(a) > s else np.nan),
    ("Your ratio is upside down: the forecast's MAE divided by the scale.", lambda f, a, t, s: mae(t[s:], t[:-s])
     / mae(f, a)),
    ("Take absolute errors: with signed ones, errors above and below cancel out.",
     lambda f, a, t, s: abs(np.mean(np.asarray(f) - a)) / mae(t[s:], t[:-s])),
    ("That is squared errors (MSE): MASE divides mean absolute errors.",
     lambda f, a, t, s: np.mean((np.asarray(f) - a) ** 2) / np.mean((t[s:] - t[:-s]) ** 2)),
    ("The scale is the mean absolute difference one season apart, not the mean absolute value of train.",
     lambda f, a, t, s: mae(f, a) / np.mean(np.abs(t))),
    ("The scale needs absolute differences: mean(|train[season:] - train[:-season]|).",
     lambda f, a, t, s: mae(f, a) / abs(np.mean(t[s:] - t[:-s]))),
)
MASE_CASES = ((40, 12, 16, 11), (30, 5, 8, 12), (25, 4, 1, 13))  # (length of train, season, forecasts, seed)


def _mase_case(length, season, steps, seed):
    """A seasonal training part with noise and a trend, and a forecast of the steps after it."""
    rng = np.random.default_rng(seed)
    t = np.arange(length + steps)
    values = 10 + 0.3 * t + 3 * np.sin(2 * np.pi * t / season) + rng.normal(size=len(t))
    forecast = values[length:] + rng.normal(scale=1.5, size=steps)
    return forecast, values[length:], values[:length], season


@check("MASE", refuse=(forecasting.mase, forecasting.seasonal_naive_scale, forecasting.mae),
       instead="Compute the two mean absolute errors yourself, with NumPy.")
def check_mase(mase):
    """``mase(forecast, actual, train, season) -> float``, as `forecasting.mase`."""
    for number, case in enumerate(MASE_CASES, start=1):
        forecast, actual, train, season = _mase_case(*case)
        with in_case(f"Case {number} ({len(forecast)} forecasts, a training part of {len(train)} values, season "
                     f"{season})"):
            got = numbers("Your MASE", call(mase, forecast, actual, train, season, signature=MASE_SIGNATURE))
            if got.shape != ():
                raise Mistake(f"MASE is one number, got an array of shape {got.shape}: average the errors (np.mean).")
            mistakes = [(message, wrong(forecast, actual, train, season)) for message, wrong in MASE_MISTAKES]
            judge("Your MASE", got, forecasting.mase(forecast, actual, train, season), mistakes, MASE_HINT)
    return ("The forecast's MAE over the training part's seasonal-naive MAE: below 1, smaller errors than the seasonal "
            "naive forecast made on the training years.")


# ----------------------------------------------------------------------------- Exercise 3: the recursive loop
RECURSIVE_SIGNATURE = "recursive_forecast(one_step, history, input_length, horizon)"
RECURSIVE_CASES = ((10, 4, 5), (6, 6, 3), (9, 1, 4))  # (length of the history, input_length, horizon)


class OneStep:
    """A one-step forecaster for the check: a fixed linear function of the window; it refuses a window of
    another length, and counts its calls."""

    def __init__(self, input_length):
        self.input_length, self.calls = input_length, 0
        self.weights = np.linspace(-0.2, 0.9, input_length)  # the newest value weighs most

    def __call__(self, window):
        window = np.asarray(window, dtype=float)
        if window.shape != (self.input_length,):
            raise ValueError(f"one_step reads a window of input_length = {self.input_length} values, got shape "
                             f"{window.shape}: the window slides, dropping its oldest value as each forecast comes in")
        self.calls += 1
        return float(window @ self.weights + 0.5)


def recursive(one_step, history, input_length, horizon, feed_back=True, include_history=False):
    """The recursive forecast, with the typical mistakes switched on by the keywords."""
    values, written = list(np.asarray(history, dtype=float)), []
    for _ in range(horizon):
        window = values[-input_length:] if feed_back else list(history[-input_length:])
        written.append(one_step(np.array(window)))
        values.append(written[-1])
    return np.array(values if include_history else written)


RECURSIVE_HINT = ("Start from the last input_length values of history; at each of the horizon steps call one_step on "
                  "the window, keep its value, and slide the window on: drop its oldest value, append the new one.")


def _steps_ahead(index):
    return f"{index[0] + 1} step{'s' * (index[0] > 0)} ahead"


@check("The recursive forecast loop", refuse=(forecasting.LSTMForecaster, recursive),
       instead="Write the loop yourself: one call of one_step per step ahead.")
def check_recursive_forecast(recursive_forecast):
    """``recursive_forecast(one_step, history, input_length, horizon) -> (horizon,)``, each value fed back."""
    for number, (length, input_length, horizon) in enumerate(RECURSIVE_CASES, start=1):
        history = 20 + np.sin(np.arange(length))
        one_step = OneStep(input_length)
        with in_case(f"Case {number} (a history of {length} values, input_length {input_length}, horizon "
                     f"{horizon})"):
            result = call(recursive_forecast, one_step, history, input_length, horizon, signature=RECURSIVE_SIGNATURE)
            got = numbers("Your forecast", array("Your forecast", result))
            expected = recursive(OneStep(input_length), history, input_length, horizon)
            if one_step.calls != horizon:
                raise Mistake(f"Your loop called one_step {one_step.calls} times for a horizon of {horizon}: call it "
                              "once per step ahead.")
            mistakes = [("Your forecast returns the history too: return the horizon new values only.",
                         recursive(OneStep(input_length), history, input_length, horizon, include_history=True)),
                        ("Every step read the same window, the end of history: append each forecast to the window "
                         "and drop its oldest value, so that the next step reads it.",
                         recursive(OneStep(input_length), history, input_length, horizon, feed_back=False))]
            judge("Your forecast", got, expected, mistakes, RECURSIVE_HINT, _steps_ahead)
    return ("Each step reads the window that ends with the values forecast before it: the forecast is fed back, as "
            "the recursive LSTM does.")
