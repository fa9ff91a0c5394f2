"""Notebook 09: forecasting a real series honestly, an LSTM against the baselines that usually win.

    co2 = load_co2()
    train_end, validation_end = split_indices(co2.dates, *CO2_SPLITS)            # 1658, 1971
    lstm = fit_forecaster(co2.ppm, train_end=train_end, validation_end=validation_end, **RECIPES["co2"])
    lstm.forecast(co2.ppm[:validation_end])        # (52,): the 52 weeks after 1995, from the last 104
    linear = fit_linear(co2.ppm, train_end=train_end, input_length=104, horizon=52)
    naive = SeasonalNaive(season=52, horizon=52)
    score_by_step(lstm, co2.ppm, train_end=train_end, season=52, start=validation_end)   # StepScores: MAE, MASE by step

Every forecaster has ``input_length`` (how many past values it reads), ``horizon`` (how many it
writes) and ``forecast(history) -> (horizon,)``, from the last ``input_length`` values of a 1-D
history; ``forecast_batch(inputs)`` does the same for the rows of an (n, input_length) array.

- ``Persistence``: every future value is the last one.
- ``SeasonalNaive``: the value one season earlier (CO2: 52 weeks; Seattle: 365 days).
- ``LinearForecaster`` (``fit_linear``): least squares on the same lags the LSTM reads, one output
  per step ahead, fitted on the training windows only; by default to the change from the last
  value, as the LSTM is (fitted to the levels, it cannot follow CO2 above its training range).
- ``LSTMForecaster`` (``fit_forecaster``): an ``nn.LSTM`` reads the scaled window one value a step;
  a linear layer reads its last ``h`` and writes every step ahead at once (``strategy="direct"``)
  or the next value only, fed back as an input ``horizon`` times (``strategy="recursive"``). It is
  trained by the course's one loop, ``training.fit``, with the task ``WindowRegression``.

Nothing at or after ``validation_end`` reaches ``fit_forecaster``'s model: the series is cut there
before anything else; the scaler is fitted on ``series[:train_end]``, the training windows' targets
lie before ``train_end``, the validation windows' (which choose the best epoch) before ``validation_end``.

Scores are taken from every forecast origin of the test part whose ``horizon`` targets all lie in
it, step by step (``score_by_step``): MAE in the series' units, and MASE, the MAE divided by the
seasonal-naive forecast's in-sample MAE on the training part (``seasonal_naive_scale``): MASE < 1
means smaller errors than "the same week last year" made on the training years. The scale is the
same at every step ahead, so MASE grows with the step as MAE does.
"""

import math
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from lstm_course.series import (CO2_SEASON, CO2_SPLITS, SEATTLE_SEASON, SEATTLE_SPLITS, Scaler, load_co2,
                                load_seattle_weather, make_windows, split_indices)
from lstm_course.training import default_device, fit

__all__ = ["CO2_SEASON", "CO2_SPLITS", "SEATTLE_SEASON", "SEATTLE_SPLITS", "load_co2", "load_seattle_weather",
           "split_indices", "Persistence", "SeasonalNaive", "LinearForecaster", "fit_linear", "ForecastLSTM",
           "LSTMForecaster", "WindowRegression", "fit_forecaster", "RECIPES", "mae", "mase", "seasonal_naive_scale",
           "rolling_forecasts", "score_by_step", "StepScores", "lag_errors", "check_history"]

STRATEGIES = ("direct", "recursive")
SCALINGS = ("relative", "level")

# ----------------------------------------------------------------------------- checking what comes in


def _values(series, name):
    """``series`` as a float64 array, or a ValueError that says what was expected and what came."""
    if isinstance(series, (str, bytes, dict, set)) or series is None:
        raise ValueError(f"{name} should be a 1-D sequence of numbers (a NumPy array or a list), "
                         f"got {type(series).__name__}")
    raw = np.asarray(series)
    if raw.dtype == bool or raw.dtype.kind not in "iuf":
        raise ValueError(f"{name} should hold numbers, got an array of {raw.dtype} ({type(series).__name__})")
    values = raw.astype(float)
    if values.ndim != 1:
        raise ValueError(f"{name} should be 1-D (the values in time order, oldest first), got shape {values.shape}")
    return values


def check_history(history, input_length):
    """The last ``input_length`` values of ``history`` as a float64 array; a ValueError if there are too few,
    or any of them is NaN or infinite, or ``history`` is not a 1-D sequence of numbers."""
    values = _values(history, "history")
    if len(values) < input_length:
        raise ValueError(f"history has {len(values)} values, and this forecaster reads the last {input_length}: "
                         f"give at least {input_length}")
    window = values[len(values) - input_length:]
    if not np.isfinite(window).all():
        where = np.flatnonzero(~np.isfinite(window)) - input_length
        raise ValueError(f"history's last {input_length} values should be finite; NaN or inf at positions "
                         f"{where[:5].tolist()} from the end: fill the gaps first (series.fill_gaps)")
    return window


def _check_series(series, input_length, horizon, train_end, validation_end=None):
    """The series as a float64 array, once the window and the splits fit it (``validation_end``: optional)."""
    values = _values(series, "series")
    numbers = {"input_length": input_length, "horizon": horizon, "train_end": train_end}
    if validation_end is not None:
        numbers["validation_end"] = validation_end
    for name, number in numbers.items():
        if isinstance(number, bool) or not isinstance(number, (int, np.integer)) or number < 1:
            raise ValueError(f"{name} should be a positive int, got {number!r}")
    last = len(values) if validation_end is None else validation_end
    if not input_length + horizon <= train_end <= last <= len(values) or train_end == validation_end:
        raise ValueError(f"the window and the splits should satisfy input_length + horizon <= train_end < "
                         f"validation_end <= len(series), got {input_length} + {horizon}, {train_end}, "
                         f"{validation_end}, {len(values)}")
    read = train_end if validation_end is None else validation_end  # what the fit reads
    if not np.isfinite(values[:read]).all():
        raise ValueError(f"the series holds NaN or inf before index {read}: fill the gaps first (series.fill_gaps)")
    return values


# ----------------------------------------------------------------------------- the baselines


class Forecaster:
    """``forecast(history) -> (horizon,)`` from the last ``input_length`` values; ``forecast_batch`` for many."""

    input_length: int
    horizon: int

    def forecast(self, history):
        """The next ``horizon`` values after ``history`` (1-D, oldest first), a float64 array."""
        return self.forecast_batch(check_history(history, self.input_length)[None])[0]

    def forecast_batch(self, inputs):
        """(n, input_length) windows -> (n, horizon) forecasts."""
        raise NotImplementedError


class Persistence(Forecaster):
    """Every future value is the last value seen."""

    def __init__(self, horizon):
        self.input_length, self.horizon = 1, horizon

    def __repr__(self):
        return f"Persistence(horizon={self.horizon})"

    def forecast_batch(self, inputs):
        return np.repeat(np.asarray(inputs, dtype=float)[:, -1:], self.horizon, axis=1)


class SeasonalNaive(Forecaster):
    """The value one season earlier: step h (1, 2, ...) repeats the value ``season`` steps before it,
    or a whole number of seasons before it when ``h > season``."""

    def __init__(self, season, horizon):
        self.input_length, self.season, self.horizon = season, season, horizon

    def __repr__(self):
        return f"SeasonalNaive(season={self.season}, horizon={self.horizon})"

    def forecast_batch(self, inputs):
        steps = np.arange(self.horizon) % self.season  # the window starts one season before the first target
        return np.asarray(inputs, dtype=float)[:, steps]


class LinearForecaster(Forecaster):
    """One linear function of the last ``input_length`` values per step ahead, and a bias.

    ``relative=False``: ``[window, 1] @ weights`` gives the values. ``relative=True``: the same of the
    window minus its last value gives the change from the last value, as the LSTM's scaler sees it;
    the lags' coefficients then sum to 1, so the forecast moves with the level of the series.
    """

    def __init__(self, weights, relative):
        self.weights, self.relative = weights, relative  # weights (input_length + 1, horizon): the lags', the bias
        self.input_length, self.horizon = weights.shape[0] - 1, weights.shape[1]

    def __repr__(self):
        kind = "relative" if self.relative else "level"
        return f"LinearForecaster({kind}, input_length={self.input_length}, horizon={self.horizon})"

    def forecast_batch(self, inputs):
        inputs = np.asarray(inputs, dtype=float)
        anchor = inputs[:, -1:] if self.relative else 0.0
        return _with_bias(inputs - anchor) @ self.weights + anchor


def _with_bias(inputs):
    return np.hstack([inputs, np.ones((len(inputs), 1))])  # (n, input_length + 1)


def fit_linear(series, *, train_end, input_length, horizon, relative=True):
    """Least squares on the training windows (every target before ``train_end``): a LinearForecaster.
    ``relative``: fitted to the change from each window's last value (see LinearForecaster)."""
    values = _check_series(series, input_length, horizon, train_end)
    inputs, targets, _ = make_windows(values[:train_end], input_length, horizon, input_length, train_end)
    anchor = inputs[:, -1:] if relative else 0.0
    weights, *_ = np.linalg.lstsq(_with_bias(inputs - anchor), targets - anchor, rcond=None)
    return LinearForecaster(weights, relative)


# ----------------------------------------------------------------------------- the LSTM


class ForecastLSTM(nn.Module):
    """(batch, input_length) scaled values -> (batch, outputs): an LSTM reads one value a step, a linear
    layer reads its last ``h``."""

    def __init__(self, hidden_size=32, num_layers=1, outputs=1):
        super().__init__()
        self.lstm = nn.LSTM(1, hidden_size, num_layers, batch_first=True)
        self.head = nn.Linear(hidden_size, outputs)

    def forward(self, inputs):
        _, (h_n, _) = self.lstm(inputs.unsqueeze(-1))  # h_n (num_layers, batch, hidden_size)
        return self.head(h_n[-1])  # (batch, outputs)


class LSTMForecaster(Forecaster):
    """A trained ForecastLSTM and its scaler: direct (all ``horizon`` values at once) or recursive (the next
    value, fed back as the newest input, ``horizon`` times)."""

    def __init__(self, model, scaler, input_length, horizon, strategy, history=None):
        self.model, self.scaler, self.history = model, scaler, history
        self.input_length, self.horizon, self.strategy = input_length, horizon, strategy

    def __repr__(self):
        size = sum(p.numel() for p in self.model.parameters())
        return (f"LSTMForecaster({self.strategy}, input_length={self.input_length}, horizon={self.horizon}, "
                f"{size:,} parameters)")

    @torch.no_grad()
    def _predict(self, inputs):
        """(n, input_length) in the series' units -> (n, outputs) in the series' units."""
        self.model.eval()
        device = next(self.model.parameters()).device
        scaled = torch.as_tensor(self.scaler.transform(inputs), dtype=torch.float32, device=device)
        return self.scaler.inverse(inputs, self.model(scaled).double().cpu().numpy())

    def forecast_batch(self, inputs):
        inputs = np.asarray(inputs, dtype=float)
        if self.strategy == "direct":
            return self._predict(inputs)
        written = []
        for _ in range(self.horizon):
            written.append(self._predict(inputs))  # (n, 1): the next value
            inputs = np.hstack([inputs[:, 1:], written[-1]])  # the window slides on, onto the model's own value
        return np.hstack(written)


class WindowRegression:
    """The task `training.fit` runs on ``(inputs, targets)``, scaled float32 arrays (n, input_length) and
    (n, outputs): shuffled batches, mean squared error. ``evaluate`` returns the validation loss and, as
    its "accuracy", the skill against persistence: 1 - MAE / persistence's MAE (0: no better than
    the last value; 1: perfect). The best epoch is the one with the lowest validation loss."""

    keep_best = "loss"

    def steps(self, train, batch_size):
        return math.ceil(len(train[0]) / batch_size)

    def batches(self, train, batch_size, generator):
        inputs, targets = train
        order = torch.randperm(len(inputs), generator=generator).numpy()
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            yield torch.from_numpy(inputs[rows]), torch.from_numpy(targets[rows])

    def loss(self, model, batch, device):
        inputs, targets = (part.to(device) for part in batch)
        return nn.functional.mse_loss(model(inputs), targets), len(inputs)

    def evaluate(self, model, validation):
        device = next(model.parameters()).device
        inputs, targets = (torch.from_numpy(part).to(device) for part in validation)
        predicted = model(inputs)
        persistence = inputs[:, -1:].expand_as(targets)  # the last value, scaled as the targets are
        skill = 1 - (predicted - targets).abs().mean() / (persistence - targets).abs().mean()
        return nn.functional.mse_loss(predicted, targets).item(), skill.item()


def scaled_windows(values, scaler, input_length, horizon, first_target, end):
    """``(inputs, targets)`` as float32 arrays, scaled: the data `training.fit` is given (plain arrays)."""
    inputs, targets, _ = make_windows(values, input_length, horizon, first_target, end)
    scaled = scaler.transform(inputs), scaler.transform(inputs, targets)
    return tuple(part.astype(np.float32) for part in scaled)


# The notebook's two models: one each, serving every step it is scored on (CO2: 1, 4, 52 weeks; Seattle: 1, 3, 7 days).
RECIPES = {
    "co2": dict(input_length=104, horizon=52, hidden_size=32, epochs=20, lr=3e-3, batch_size=32),
    "seattle": dict(input_length=56, horizon=7, hidden_size=32, epochs=20, lr=3e-3, batch_size=32),
}


def fit_forecaster(series, *, train_end, validation_end, input_length=56, horizon=7, strategy="direct",
                   scaling="relative", scaler=None, hidden_size=32, num_layers=1, epochs=20, lr=3e-3, batch_size=32,
                   clip=1.0, seed=0, progress=True, device=None):
    """Train a ForecastLSTM on ``series[:train_end]``, the epoch kept chosen on ``series[train_end:validation_end]``.

    ``strategy``: "direct" (the network writes all ``horizon`` values) or "recursive" (it is trained
    to write the next value, and fed its own values back). ``scaling``: "relative" (each window
    measured from its last value, in training standard deviations) or "level" (the training mean
    subtracted); ``scaler``: a Scaler to use instead, fitted by the caller (e.g. on the whole series,
    to show the leak). ``seed``: the initial weights and the batch order. Returns an LSTMForecaster;
    nothing at or after ``validation_end`` is read.

    Measured on CO2 (``RECIPES["co2"]``, 3 seeds): recursive is as good as direct one week ahead
    (0.32 ppm) and far worse 52 weeks ahead (7.2 ppm against 0.73): its own errors come back as inputs.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy should be one of {STRATEGIES}, got {strategy!r}")
    if scaling not in SCALINGS:
        raise ValueError(f"scaling should be one of {SCALINGS}, got {scaling!r}")
    if scaler is not None and not isinstance(scaler, Scaler):
        raise ValueError(f"scaler should be a series.Scaler (or None: fitted on the training part), "
                         f"got {type(scaler).__name__}")
    values = _check_series(series, input_length, horizon, train_end, validation_end)[:validation_end]
    scaler = scaler or Scaler.fit(values[:train_end], relative=scaling == "relative")
    outputs = horizon if strategy == "direct" else 1
    train = scaled_windows(values, scaler, input_length, outputs, input_length, train_end)
    validation = scaled_windows(values, scaler, input_length, outputs, train_end, validation_end)
    torch.manual_seed(seed)  # the initial weights
    model = ForecastLSTM(hidden_size, num_layers, outputs).to(device or default_device())
    history = fit(model, WindowRegression(), train, validation, epochs=epochs, lr=lr, batch_size=batch_size,
                  seed=seed, clip=clip, progress=progress, description=f"{strategy}, seed {seed}")
    return LSTMForecaster(model.eval(), scaler, input_length, horizon, strategy, history)


# ----------------------------------------------------------------------------- scores


def mae(forecast, actual):
    """Mean absolute error, in the series' units."""
    return float(np.mean(np.abs(np.asarray(forecast, dtype=float) - np.asarray(actual, dtype=float))))


def seasonal_naive_scale(train, season):
    """The in-sample MAE of the seasonal-naive forecast on the training part: mean |y[t] - y[t - season]|."""
    train = _values(train, "train")
    if not 0 < season < len(train):
        raise ValueError(f"season should be between 1 and the training part's {len(train) - 1}, got {season}")
    return mae(train[season:], train[:-season])


def mase(forecast, actual, train, season):
    """MAE divided by ``seasonal_naive_scale(train, season)``: below 1 beats the seasonal naive's training error."""
    scale = seasonal_naive_scale(train, season)
    if scale == 0:
        raise ValueError("the training part repeats itself exactly every season: its seasonal-naive MAE is 0, "
                         "so MASE is undefined")
    return mae(forecast, actual) / scale


def rolling_forecasts(forecaster, series, start, end=None):
    """A forecast from every origin ``t`` in ``[start, end - horizon]``, each from ``series[:t]``:
    ``(forecasts, actual, origins)``, (n, horizon), (n, horizon) and (n,).

    A forecaster with ``forecast_batch`` is given the windows all at once; anything else with
    ``forecast(history)`` and ``horizon`` (your own function object) is called once per origin."""
    values = _values(series, "series")
    end = len(values) if end is None else end
    if hasattr(forecaster, "forecast_batch"):
        inputs, actual, origins = make_windows(values, forecaster.input_length, forecaster.horizon, start, end)
        forecasts = forecaster.forecast_batch(inputs)
    else:
        _, actual, origins = make_windows(values, 1, forecaster.horizon, max(start, 1), end)
        forecasts = np.stack([np.asarray(forecaster.forecast(values[:origin]), dtype=float) for origin in origins])
    if forecasts.shape != actual.shape:
        raise ValueError(f"the forecasts should have shape {actual.shape} (origins, horizon), got {forecasts.shape}")
    return forecasts, actual, origins


class StepScores(NamedTuple):
    mae: np.ndarray  # (horizon,): entry h - 1 is the MAE h steps ahead
    mase: np.ndarray  # (horizon,): the same, divided by the training part's seasonal-naive MAE
    origins: int  # how many forecasts each entry averages


def score_by_step(forecaster, series, *, train_end, season, start, end=None):
    """MAE and MASE h = 1, 2, ..., horizon steps ahead, over every origin in ``[start, end - horizon]``
    (the test part: ``start=validation_end``), MASE scaled by ``series[:train_end]``'s seasonal naive
    (NaN where that is exact, so its error 0)."""
    forecasts, actual, origins = rolling_forecasts(forecaster, series, start, end)
    errors = np.abs(forecasts - actual).mean(axis=0)  # (horizon,)
    scale = seasonal_naive_scale(np.asarray(series)[:train_end], season)
    scaled = errors / scale if scale > 0 else np.full_like(errors, np.nan)  # NaN: an exactly seasonal training part
    return StepScores(errors, scaled, len(origins))


def lag_errors(forecaster, series, start, end=None, max_lag=3):
    """MAE between the one-step-ahead forecasts and the series ``k`` steps before the target, k = 0..max_lag.

    Entry 0 is the forecast's error. When entry 1 is the smallest, the forecast is closer to the last
    value seen than to the truth: a plot of it looks good, but it is the series shifted one step (the
    "lagged copy")."""
    forecasts, _, origins = rolling_forecasts(forecaster, series, start, end)
    values = np.asarray(series, dtype=float)
    return np.array([mae(forecasts[:, 0], values[origins - lag]) for lag in range(max_lag + 1)])
