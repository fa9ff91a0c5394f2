# %% [markdown]
# # 09 · Forecasting a real time series, honestly
#
# Forecasting is the most common thing people try with an LSTM, and the most often taught
# wrongly: the data are scaled with numbers that come from the future, the forecast is compared
# with nothing, or only the next step is scored while weeks ahead are promised. Here we forecast
# two real series, the carbon dioxide in the air over Mauna Loa and the daily highest
# temperature in Seattle, and we measure an LSTM against the simple forecasts a careful
# engineer tries first. They are hard to beat.
#
# By the end of this notebook you will be able to:
#
# - split a series in time, cut it into windows, and scale it with numbers from the training
#   part only;
# - score a forecast with MAE and MASE, step by step ahead, against persistence, the seasonal
#   naive forecast and a linear model;
# - train an LSTM forecaster, and spot the "lagged copy" that makes a bad forecast look good;
# - forecast many steps ahead directly or recursively, and say which errors each makes.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np

import lstm_course
from lstm_course import forecasting, series
from lstm_course.checks import check_make_windows, check_mase, check_recursive_forecast

lstm_course.setup_notebook()  # seeds Python, NumPy and PyTorch; one thread; 4-digit printing
notebook_start = time.perf_counter()

# %% [markdown]
# ## 1. Two series
#
# **Carbon dioxide at Mauna Loa**, Hawaii: the weekly mean from March 1958 to December 2001, in
# parts per million (ppm), measured by the Scripps Institution of Oceanography (Keeling and
# Whorf). **Seattle's weather**, 2012 to 2015: one row a day from NOAA's records; we forecast the
# day's highest temperature, `temp_max`, in °C. Both come inside Python packages that the set-up
# installs (`statsmodels` and `vega_datasets`); we read their files and import neither.

# %%
co2 = series.load_co2()
weather = series.load_seattle_weather()
print(f"CO2: {len(co2.ppm):,} weeks, {co2.dates[0]} to {co2.dates[-1]}; {co2.filled.sum()} weeks filled in")
print(f"Seattle: {len(weather.temp_max):,} days, {weather.dates[0]} to {weather.dates[-1]}")
gaps = series.gap_lengths(co2.filled)
print(f"CO2's gaps: {len(gaps)}, the longest {max(gaps)} weeks")

# %% [markdown]
# 59 weeks of CO2 have no measurement. We fill each gap with a straight line between the weeks
# on either side; all of them fall before 1986, so they touch only the data we train on.

# %%
fig, axes = plt.subplots(2, 2, figsize=(12, 6))
axes[0, 0].plot(co2.dates, co2.ppm, lw=0.8)
axes[0, 0].set_title("CO2 at Mauna Loa, weekly (ppm)")
year = (co2.dates >= np.datetime64("1990-01-01")) & (co2.dates < np.datetime64("1992-01-01"))
axes[0, 1].plot(co2.dates[year], co2.ppm[year], marker=".", lw=0.8)
axes[0, 1].set_title("CO2, 1990 and 1991: a yearly cycle on a rising trend")
axes[1, 0].plot(weather.dates, weather.temp_max, lw=0.5)
axes[1, 0].set_title("Seattle, highest temperature of the day (°C)")
spring = (weather.dates >= np.datetime64("2015-03-01")) & (weather.dates < np.datetime64("2015-05-01"))
axes[1, 1].plot(weather.dates[spring], weather.temp_max[spring], marker=".", lw=0.8)
axes[1, 1].set_title("Seattle, March and April 2015: day-to-day noise")
for ax in axes.flat:
    ax.tick_params(axis="x", labelrotation=30)
fig.tight_layout()

# %% [markdown]
# CO2 is smooth: a trend that rises every year and a cycle that peaks in May, as the plants of
# the northern hemisphere grow and take it in. Seattle's temperature has a yearly cycle too, but
# from one day to the next it often jumps by several degrees.
#
# ## 2. Splits in time, and windows
#
# A forecast is made from the past for the future. So the splits go **in time order**, never at
# random: CO2 trains on 1958-1989, is validated on 1990-1995 and tested on 1996-2001; Seattle
# trains on 2012-2013, is validated on 2014 and tested on 2015. A random split would put days of
# 2015 into training, and the model would be scored on days whose neighbours it has seen.

# %%
co2_train_end, co2_validation_end = series.split_indices(co2.dates, *series.CO2_SPLITS)
seattle_train_end, seattle_validation_end = series.split_indices(weather.dates, *series.SEATTLE_SPLITS)
print("CO2:     train [0, %d), validation [%d, %d), test [%d, %d)" % (
    co2_train_end, co2_train_end, co2_validation_end, co2_validation_end, len(co2.ppm)))
print("Seattle: train [0, %d), validation [%d, %d), test [%d, %d)" % (
    seattle_train_end, seattle_train_end, seattle_validation_end, seattle_validation_end, len(weather.temp_max)))

# %% [markdown]
# A model learns from **windows**: `input_length` values in a row, and the `horizon` values that
# follow them as the targets. The window whose first target is at index $t$ (its **origin**) reads
# `values[t - input_length:t]` and must predict `values[t:t + horizon]`. A part of the series,
# `values[first_target:end]`, gets every window whose targets all lie inside it; its inputs may
# reach back before `first_target` (a forecast of 1990 may read 1989), but no target may reach
# `end`: that value belongs to the next part.
#
# ### Exercise 1 · The windows, without leakage (core)
#
# *Write `make_windows(values, input_length, horizon, first_target, end)`: `values` is a 1-D NumPy
# array. Return `(inputs, targets)`, NumPy arrays of shape `(windows, input_length)` and
# `(windows, horizon)`, one row per origin `t` from `first_target` to `end - horizon`, both
# included, in order.*

# %% nbgrader={"grade": false, "grade_id": "nb09_make_windows", "locked": false, "schema_version": 3, "solution": true, "task": false}
def make_windows(values, input_length, horizon, first_target, end):
    ### BEGIN SOLUTION
    origins = range(first_target, end - horizon + 1)
    inputs = np.array([values[t - input_length:t] for t in origins])
    targets = np.array([values[t:t + horizon] for t in origins])
    return inputs, targets
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "nb09_make_windows_check", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
check_make_windows(make_windows)

# %% [markdown]
# From here on we use the course's `series.make_windows`, the same windows (it also returns the
# origins). On a series of the numbers 0 to 9, with 3 inputs, 2 targets and the part `[5, 9)`:

# %%
inputs, targets, origins = series.make_windows(np.arange(10), input_length=3, horizon=2, first_target=5, end=9)
for row in range(len(origins)):
    print(f"origin {origins[row]}: inputs {inputs[row]} -> targets {targets[row]}")

# %% [markdown]
# ## 3. The forecasts to beat, and how to score them
#
# Before any network, the forecasts a careful engineer tries first:
#
# - **persistence**: every future value is the last one seen;
# - **seasonal naive**: the value one season earlier (52 weeks for CO2, 365 days for Seattle);
# - **a linear model** on the same **lags** the LSTM will read (the last `input_length` values of
#   the window), one least-squares fit per step ahead, on the training windows only. Like the
#   LSTM below, it is fitted to the change from the window's last value (section 4 says why).
#
# Each is scored from every origin of the test part: its mean absolute error (**MAE**), in ppm
# or °C, at each step ahead. To compare series and steps, **MASE** (mean absolute scaled error)
# divides the MAE by the seasonal naive forecast's MAE on the training part: below 1 means
# smaller errors than "the same time last season" made on the years the model learned from.
#
# ### Exercise 2 · MASE (core)
#
# *Write `mase(forecast, actual, train, season)`: `forecast` and `actual` are 1-D arrays of the
# same length, `train` the training part of the series, `season` an int. Return the MAE of the
# forecast divided by `mean(|train[t] - train[t - season]|)` over the training part: one float.*

# %% nbgrader={"grade": false, "grade_id": "nb09_mase", "locked": false, "schema_version": 3, "solution": true, "task": false}
def mase(forecast, actual, train, season):
    ### BEGIN SOLUTION
    error = np.mean(np.abs(forecast - actual))
    scale = np.mean(np.abs(train[season:] - train[:-season]))
    return float(error / scale)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "nb09_mase_check", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
check_mase(mase)

# %% [markdown]
# From here on we use `forecasting.mase`, and `forecasting.score_by_step`, which scores a
# forecaster at every step ahead from every origin of the test part. One model per series serves
# every step we score: CO2 forecasts 52 weeks from the last 104, Seattle 7 days from the last 56.

# %%
co2_recipe, seattle_recipe = forecasting.RECIPES["co2"], forecasting.RECIPES["seattle"]
SERIES = {  # name: (values, train_end, validation_end, season, recipe, the steps ahead we report, unit, step)
    "CO2": (co2.ppm, co2_train_end, co2_validation_end, series.CO2_SEASON, co2_recipe, (1, 4, 52), "ppm", "weeks"),
    "Seattle": (weather.temp_max, seattle_train_end, seattle_validation_end, series.SEATTLE_SEASON, seattle_recipe,
                (1, 3, 7), "°C", "days"),
}


def baselines(name):
    """The three forecasts to beat on one series, by name."""
    values, train_end, _, season, recipe, *_ = SERIES[name]
    horizon, input_length = recipe["horizon"], recipe["input_length"]
    linear = forecasting.fit_linear(values, train_end=train_end, input_length=input_length, horizon=horizon)
    return {"persistence": forecasting.Persistence(horizon),
            "seasonal naive": forecasting.SeasonalNaive(season, horizon), "linear": linear}


def score(name, forecaster):
    """StepScores of ``forecaster`` on the test part of one series."""
    values, train_end, validation_end, season, *_ = SERIES[name]
    return forecasting.score_by_step(forecaster, values, train_end=train_end, season=season, start=validation_end)


def table(name, forecasters):
    """Print MAE and MASE at the reported steps ahead; return the scores."""
    steps, unit, step_unit = SERIES[name][5:]
    scores = {label: score(name, forecaster) for label, forecaster in forecasters.items()}
    print(f"{name}, test part, {next(iter(scores.values())).origins} origins: MAE ({unit}) / MASE at "
          + ", ".join(map(str, steps)) + f" {step_unit} ahead")
    for label, result in scores.items():
        print(f"   {label:28s}" + "".join(f"{result.mae[step - 1]:9.3f} /{result.mase[step - 1]:6.3f}"
                                        for step in steps))
    return scores


baseline_scores = {name: table(name, baselines(name)) for name in SERIES}

# %% [markdown]
# The test part of CO2 holds 313 weeks; a forecast of 52 weeks fits from 313 - 52 + 1 = 262
# origins. The linear model is far ahead: the series is smooth, and a weighted sum of the last
# two years' values follows both the trend and the cycle. Persistence is good one week ahead and
# worst half a year ahead, when the cycle is at its other end; 52 weeks ahead it is the same
# forecast as the seasonal naive one. The seasonal naive forecast misses by the year's rise at
# every step, and its MASE is above 1 since CO2 rose faster in the test years than in the
# training years. On Seattle nothing is good: the best forecast of tomorrow misses by about 2 °C,
# and the linear model leads persistence by about 0.7 °C from four days ahead on.
#
# ## 4. Scaling, with numbers from the training part only
#
# A network learns best from inputs of about unit size. **Scaling** is part of the model, so its
# numbers (a mean, a standard deviation) must come from the training part only: fitted on the
# whole series, the scaler would carry information from the test years into training. That is a
# **leak**, and it is easy to make: `scaler.fit(all_values)` is one line.
#
# CO2 shows a second trap: its test years lie **outside** the range it was trained on.

# %%
train_part = co2.ppm[:co2_train_end]
level = series.Scaler.fit(train_part, relative=False)
test_part = co2.ppm[co2_validation_end:]
print(f"training part: {train_part.min():.1f} to {train_part.max():.1f} ppm; test part: {test_part.min():.1f} "
      f"to {test_part.max():.1f} ppm")
print(f"in training standard deviations from the training mean: training up to "
      f"{(train_part.max() - level.center) / level.scale:.1f}, test {(test_part.min() - level.center) / level.scale:.1f}"
      f" to {(test_part.max() - level.center) / level.scale:.1f}")

# %% [markdown]
# Every test value is higher than every value the network would have trained on: scaled as
# levels, its inputs would all lie where it has never been. So the course's forecasters measure
# each window from its **last value**: the inputs become the changes from the last value (in
# training standard deviations), and so do the targets. A window of 1998 then looks like a window
# of 1978, a little steeper. Here is what each choice does to the LSTM on CO2 (an LSTM that reads
# the window and writes all 52 weeks at once; section 5 shows it), and what the leak does:

# %%
# NBVAL_IGNORE_OUTPUT
start = time.perf_counter()
co2_fit = dict(train_end=co2_train_end, validation_end=co2_validation_end, **co2_recipe)
scalings = {
    "relative, fitted on training": forecasting.fit_forecaster(co2.ppm, progress=False, **co2_fit),
    "levels, fitted on training": forecasting.fit_forecaster(co2.ppm, scaling="level", progress=False, **co2_fit),
    "levels, fitted on everything": forecasting.fit_forecaster(
        co2.ppm, scaler=series.Scaler.fit(co2.ppm, relative=False), progress=False, **co2_fit),
}
print(f"3 LSTMs trained in {time.perf_counter() - start:.0f} s")

# %%
scaling_scores = table("CO2", scalings)

# %% [markdown]
# Scaled as levels, the LSTM misses by several ppm at every step: its inputs lie outside the range
# it was trained on, and it has not learned to write values above the training years'. The leak
# does not rescue it: fitted on everything, the scaler has seen the test years, which helps a
# little here and still leaves errors of 6 to 7.5 ppm. A leak rarely
# shows as a dramatic number, so it is not found by looking at scores. The rule is what protects
# you: fit every number of the pipeline (the scaler, the model, the choice of epoch) on data from
# before the test part.
#
# ## 5. The LSTM against the forecasts to beat
#
# The network, `forecasting.ForecastLSTM`: an `nn.LSTM` with one input per step (the scaled
# value) reads the window, and a linear layer reads its last hidden state and writes all the
# `horizon` values at once (**direct** forecasting). It is trained with the mean squared error by
# the course's one loop, `training.fit`; the epoch kept is the one with the lowest validation
# loss. Nothing at or after `validation_end` reaches it.

# %%
# NBVAL_IGNORE_OUTPUT
start = time.perf_counter()
seattle_fit = dict(train_end=seattle_train_end, validation_end=seattle_validation_end, **seattle_recipe)
lstms = {"CO2": scalings["relative, fitted on training"],
         "Seattle": forecasting.fit_forecaster(weather.temp_max, progress=False, **seattle_fit)}
print(f"Seattle's LSTM trained in {time.perf_counter() - start:.1f} s;", lstms["Seattle"])

# %%
all_scores = {name: table(name, {**baselines(name), "LSTM": lstms[name]}) for name in SERIES}

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 4))
for ax, (name, scores) in zip(axes, all_scores.items()):
    for label, result in scores.items():
        ax.plot(np.arange(1, len(result.mae) + 1), result.mae, label=label, marker="." if name == "Seattle" else None)
    ax.set_xlabel(f"{SERIES[name][7]} ahead")
    ax.set_ylabel(f"MAE ({SERIES[name][6]})")
    ax.legend()
axes[0].set_yscale("log")  # persistence's half-year error would squeeze the others into a thin band
axes[0].minorticks_off()
axes[0].set_yticks([0.3, 0.5, 1, 2, 4], ["0.3", "0.5", "1", "2", "4"])
axes[0].set_title("CO2: test error by step ahead (log scale)")
axes[1].set_ylim(0, None)
axes[1].set_title("Seattle: test error by step ahead")
fig.tight_layout()

# %% [markdown]
# The LSTM beats persistence and the seasonal naive forecast on both series, and it does **not**
# beat the linear model: on CO2 the two are close at every step (the linear model ahead a week
# and a month ahead, the LSTM by 0.01 ppm a year ahead), on Seattle the linear model is a little
# better beyond the first day. A linear model on the same lags, fitted in a fraction of a
# second, is what an LSTM forecaster must beat before it earns its place.
#
# ## 6. The lagged copy
#
# A plot of one-step forecasts against the truth is the picture most forecasting tutorials end
# with. Here is Seattle's, for March and April 2015:

# %%
values, _, validation_end, *_ = SERIES["Seattle"]
forecasts, actual, origins = forecasting.rolling_forecasts(lstms["Seattle"], values, validation_end)
shown = (weather.dates[origins] >= np.datetime64("2015-03-01")) & (weather.dates[origins] < np.datetime64("2015-05-01"))
fig, ax = plt.subplots(figsize=(10, 3.5))
ax.plot(weather.dates[origins][shown], actual[shown, 0], label="the day's highest temperature", marker=".")
ax.plot(weather.dates[origins][shown], forecasts[shown, 0], label="the LSTM's forecast, made the day before",
        marker=".")
ax.set_ylabel("°C")
ax.set_title("Seattle, spring 2015: the LSTM's one-day forecasts")
ax.legend()
fig.tight_layout()

# %%
lags = forecasting.lag_errors(lstms["Seattle"], values, validation_end)
print(f"the one-day forecast is {lags[0]:.2f} °C from the truth on average, "
      f"{lags[1]:.2f} °C from the day before's temperature")

# %% [markdown]
# The curves look close, but look again: the forecast is mostly **yesterday's curve, shifted one
# day**. It sits much closer to the day before's temperature than to the day it forecasts. A
# forecast that copies the last value always looks good on such a plot, since the series moves
# little from one day to the next; only the comparison with persistence, which *is* the copy, says
# what the model adds: here, about 0.1 °C one day ahead.
#
# ## 7. Many steps ahead: direct or recursive
#
# The LSTM above writes all `horizon` values at once. The other way is to train a model for the
# **next** value only, and to feed its forecast back as the newest input, `horizon` times: the
# **recursive** forecast. It needs one model for any horizon, but each step reads the errors of
# the steps before.
#
# ### Exercise 3 · The recursive forecast loop (core)
#
# *Write `recursive_forecast(one_step, history, input_length, horizon)`: `one_step(window)` takes
# a 1-D array of `input_length` values and returns the next value, a float; `history` is a 1-D
# array of at least `input_length` values. Return the next `horizon` values, a 1-D NumPy array.
# Each step calls `one_step` on the last `input_length` values of the history and the forecasts
# so far, laid end to end: the window slides, and always holds `input_length` values.*

# %% nbgrader={"grade": false, "grade_id": "nb09_recursive_forecast", "locked": false, "schema_version": 3, "solution": true, "task": false}
def recursive_forecast(one_step, history, input_length, horizon):
    ### BEGIN SOLUTION
    window = list(history[-input_length:])
    forecast = []
    for _ in range(horizon):
        value = one_step(np.array(window))
        forecast.append(value)
        window = window[1:] + [value]  # the oldest value out, the forecast in
    return np.array(forecast)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "nb09_recursive_forecast_check", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
check_recursive_forecast(recursive_forecast)

# %% [markdown]
# `fit_forecaster(..., strategy="recursive")` trains the LSTM for one step ahead and runs the same
# loop to forecast:

# %%
# NBVAL_IGNORE_OUTPUT
start = time.perf_counter()
recursive = {"CO2": forecasting.fit_forecaster(co2.ppm, strategy="recursive", progress=False, **co2_fit),
             "Seattle": forecasting.fit_forecaster(weather.temp_max, strategy="recursive", progress=False,
                                                   **seattle_fit)}
print(f"2 recursive LSTMs trained in {time.perf_counter() - start:.0f} s")

# %%
strategy_scores = {name: table(name, {"LSTM, direct": lstms[name], "LSTM, recursive": recursive[name]})
                   for name in SERIES}

# %% [markdown]
# One step ahead the two are alike: they are the same kind of model, asked the same question.
# Further ahead the recursive forecast of CO2 drifts away: each step reads its own small errors
# and adds its own, and a year ahead it is far worse than the direct forecast. On Seattle the two
# stay within a few hundredths of a degree of each other for the whole week.
#
# ## 8. More history?
#
# An LSTM can read long windows. Does it gain from them here? Half the history, for each series:

# %%
# NBVAL_IGNORE_OUTPUT
start = time.perf_counter()
shorter = {"CO2": forecasting.fit_forecaster(co2.ppm, progress=False, **{**co2_fit, "input_length": 52}),
           "Seattle": forecasting.fit_forecaster(weather.temp_max, progress=False,
                                                 **{**seattle_fit, "input_length": 28})}
print(f"2 LSTMs trained in {time.perf_counter() - start:.0f} s")

# %%
history_scores = {name: table(name, {f"LSTM, {lstms[name].input_length} inputs": lstms[name],
                                     f"LSTM, {shorter[name].input_length} inputs": shorter[name]})
                  for name in SERIES}

# %% [markdown]
# Half the history costs almost nothing: a year of weekly CO2 or four weeks of Seattle's days
# carry about what the model uses. The LSTM's memory is not what limits these forecasts: for
# Seattle it is the day-to-day noise of the weather, which no past values foretell.
#
# ## 9. When is an LSTM worth it here?
#
# On these two series, no. A linear model on the same lags is as accurate, trains in a fraction
# of a second, and its weights can be read. The LSTM becomes worth trying when the series are
# many and share patterns (one network for thousands of shops or sensors), when other inputs
# matter in a nonlinear way (the temperature forecast from wind, rain and the weather of other
# cities), or when the patterns are long and irregular. Whatever the model, the method of this
# notebook stays: splits in time, every number fitted on the training part only, every forecast
# scored at every step ahead against persistence, the seasonal naive forecast and a linear model.
#
# ## Summary
#
# - Split a series in time; make the windows of each part so that no target crosses its end.
# - Fit the scaler on the training part only. A series that leaves its training range needs a
#   relative scale (here, the change from the last value).
# - Score with MAE and MASE at every step ahead, against persistence, the seasonal naive forecast
#   and a linear model on the same lags: here the LSTM beats the first two, not the third.
# - A one-step forecast that looks good on a plot may be the last value shifted: compare it with
#   persistence.
# - Forecasting many steps ahead, a recursive forecast feeds itself its own errors: on CO2 a year
#   ahead it was far worse than the direct one; on Seattle's week the two were alike.

# %%
# NBVAL_IGNORE_OUTPUT
print(f"notebook ran in {time.perf_counter() - notebook_start:.0f} s")
