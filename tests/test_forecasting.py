"""Notebook 09's data and forecasters: the loaders, splits and windows, the scaler, no leak, the baselines, training."""

import numpy as np
import pytest
import torch

from lstm_course import forecasting as fc
from lstm_course import replay, series
from lstm_course.training import fit

TINY = dict(input_length=14, horizon=3, hidden_size=8, epochs=3, lr=1e-2, batch_size=32)


pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


@pytest.fixture(scope="module")
def seattle():
    weather = series.load_seattle_weather()
    return weather.temp_max, *series.split_indices(weather.dates, *series.SEATTLE_SPLITS)


@pytest.fixture(scope="module")
def tiny(seattle):
    """A tiny direct LSTM on Seattle's highest temperatures, three short epochs."""
    values, train_end, validation_end = seattle
    return fc.fit_forecaster(values, train_end=train_end, validation_end=validation_end, progress=False, **TINY)


def _seasonal(season=12, repeats=10, seed=0):
    pattern = np.random.default_rng(seed).normal(size=season)
    return np.tile(pattern, repeats)


# ----------------------------------------------------------------------------- the data


def test_co2_has_every_week_and_its_gaps_filled_by_straight_lines():
    co2 = series.load_co2()
    assert len(co2.dates) == len(co2.ppm) == len(co2.filled) == 2284
    assert co2.dates.dtype == np.dtype("datetime64[D]") and str(co2.dates[0]) == "1958-03-29"
    assert (np.diff(co2.dates) == np.timedelta64(7, "D")).all()  # every week, in order
    assert np.isfinite(co2.ppm).all() and 313 <= co2.ppm.min() and co2.ppm.max() <= 374
    assert co2.filled.sum() == 59 and series.gap_lengths(co2.filled).tolist().count(18) == 1
    assert len(series.gap_lengths(co2.filled)) == 22 and series.gap_lengths(co2.filled).max() == 18
    starts = np.flatnonzero(np.diff(np.r_[0, co2.filled.astype(int)]) == 1)  # where each gap begins
    longest = starts[np.argmax(series.gap_lengths(co2.filled))]
    assert str(co2.dates[longest]) == "1964-01-25"
    line = co2.ppm[longest - 1 : longest + 19]  # the gap and its two measured neighbours
    np.testing.assert_allclose(np.diff(line, 2), 0, atol=1e-9)  # a straight line across it
    assert co2.dates[co2.filled].max() < np.datetime64("1990-01-01")  # every gap in the training years


def test_seattle_weather_has_every_day_and_every_column():
    weather = series.load_seattle_weather()
    assert all(len(column) == 1461 for column in weather)
    assert (np.diff(weather.dates) == np.timedelta64(1, "D")).all() and str(weather.dates[-1]) == "2015-12-31"
    assert (weather.temp_max >= weather.temp_min).all() and weather.temp_max.max() == 35.6
    assert set(weather.weather) == {"drizzle", "fog", "rain", "snow", "sun"}
    weather.temp_max[:] = 0  # a copy: the next load is untouched
    assert series.load_seattle_weather().temp_max[0] == 12.8


def test_a_missing_data_wheel_says_what_to_install():
    with pytest.raises(FileNotFoundError, match=r"pip install --no-deps statsmodels==0\.15\.0 vega_datasets==0\.9\.0"):
        series.data_path("no_such_data_package", "1.0", "no_such_data_package/data.csv")


def test_fill_gaps_and_gap_lengths():
    filled, missing = series.fill_gaps([1.0, np.nan, np.nan, 4.0, np.nan, 8.0])
    assert filled.tolist() == [1.0, 2.0, 3.0, 4.0, 6.0, 8.0] and missing.tolist() == [0, 1, 1, 0, 1, 0]
    assert series.gap_lengths(missing).tolist() == [2, 1] and series.gap_lengths([False, False]).tolist() == []
    with pytest.raises(ValueError, match="starts or ends with a gap"):
        series.fill_gaps([np.nan, 1.0])


# ----------------------------------------------------------------------------- splits, windows, scaling


def test_splits_are_in_time_order():
    co2, weather = series.load_co2(), series.load_seattle_weather()
    train_end, validation_end = series.split_indices(co2.dates, *series.CO2_SPLITS)
    assert (train_end, validation_end) == (1658, 1971)
    assert co2.dates[train_end - 1] < np.datetime64("1990-01-01") <= co2.dates[train_end]
    assert co2.dates[validation_end - 1] < np.datetime64("1996-01-01") <= co2.dates[validation_end]
    assert series.split_indices(weather.dates, *series.SEATTLE_SPLITS) == (731, 1096)  # 2012-13, 2014, 2015
    with pytest.raises(ValueError, match="dates should increase strictly"):
        series.split_indices(co2.dates[::-1], *series.CO2_SPLITS)
    with pytest.raises(ValueError, match="should leave each part some dates"):
        series.split_indices(co2.dates, "2001-01-01", "2030-01-01")


def test_windows_read_only_the_past_of_their_targets():
    values = np.arange(100.0)  # each value is its own index
    inputs, targets, origins = series.make_windows(values, input_length=10, horizon=4, first_target=30, end=60)
    assert inputs.shape == (27, 10) and targets.shape == (27, 4) and origins.tolist() == list(range(30, 57))
    assert (inputs.max(axis=1) < origins).all() and (targets.min(axis=1) == origins).all()  # no target in an input
    assert (inputs[:, -1] == origins - 1).all() and targets.max() == 59  # the last value before; nothing at 60
    with pytest.raises(ValueError, match="no room for 10 inputs"):
        series.make_windows(values, 10, 4, first_target=5, end=60)
    with pytest.raises(ValueError, match="no window fits"):
        series.make_windows(values, 10, 4, first_target=58, end=60)
    with pytest.raises(ValueError, match="past the series"):
        series.make_windows(values, 10, 4, first_target=10, end=101)


def test_the_scaler_is_fitted_on_the_training_part_only(seattle, tiny):
    values, train_end, _ = seattle
    scaler = series.Scaler.fit(values[:train_end], relative=False)
    assert scaler.center == pytest.approx(values[:train_end].mean()) != pytest.approx(values.mean())
    assert scaler.scale == pytest.approx(values[:train_end].std())
    assert tiny.scaler == series.Scaler.fit(values[:train_end], relative=True)
    inputs, targets, _ = series.make_windows(values, 14, 3, 14, train_end)
    for relative in (False, True):
        scaler = series.Scaler.fit(values[:train_end], relative)
        scaled = scaler.transform(inputs, targets)
        np.testing.assert_allclose(scaler.inverse(inputs, scaled), targets)
    assert (series.Scaler.fit(values[:train_end], relative=True).transform(inputs)[:, -1] == 0).all()
    with pytest.raises(ValueError, match="constant"):
        series.Scaler.fit(np.ones(10))


def test_co2_test_years_lie_above_every_training_value():
    """Why the LSTM is given each window relative to its last value: scaled by the training mean and
    deviation, every test week of CO2 reads as a value the network never saw."""
    co2 = series.load_co2()
    train_end, validation_end = series.split_indices(co2.dates, *series.CO2_SPLITS)
    level = series.Scaler.fit(co2.ppm[:train_end], relative=False)
    scaled_train = (co2.ppm[:train_end] - level.center) / level.scale
    scaled_test = (co2.ppm[validation_end:] - level.center) / level.scale
    assert scaled_test.min() > scaled_train.max() and scaled_test.max() > 3.5


# ----------------------------------------------------------------------------- no leak


def test_nothing_from_validation_end_on_reaches_the_model(seattle):
    values, train_end, validation_end = seattle
    options = dict(train_end=train_end, validation_end=validation_end, progress=False, **TINY)
    changed = values.copy()
    changed[validation_end:] = np.nan  # the test part gone altogether (and NaN would poison any use of it)
    first, second = fc.fit_forecaster(values, **options), fc.fit_forecaster(changed, **options)
    for name, weight in first.model.state_dict().items():
        assert torch.equal(second.model.state_dict()[name], weight), name
    assert second.history.step_loss == first.history.step_loss and second.scaler == first.scaler
    history = values[: validation_end + 100]
    np.testing.assert_array_equal(first.forecast(history), second.forecast(history))
    earlier = values.copy()
    earlier[train_end - 20] += 5.0  # a training value does reach it: the test above can fail
    third = fc.fit_forecaster(earlier, **options)
    assert not torch.equal(third.model.head.weight, first.model.head.weight)


def test_the_linear_baseline_reads_only_the_training_part(seattle):
    values, train_end, _ = seattle
    changed = values.copy()
    changed[train_end:] = np.nan
    for relative in (True, False):
        first = fc.fit_linear(values, train_end=train_end, input_length=14, horizon=3, relative=relative)
        second = fc.fit_linear(changed, train_end=train_end, input_length=14, horizon=3, relative=relative)
        np.testing.assert_array_equal(first.weights, second.weights)


# ----------------------------------------------------------------------------- baselines and scores


def test_seasonal_naive_is_exact_on_a_purely_seasonal_series():
    values = _seasonal(season=12)
    for horizon in (1, 5, 30):  # 30: more than two seasons ahead
        scores = fc.score_by_step(fc.SeasonalNaive(12, horizon), values, train_end=60, season=12, start=60)
        assert scores.mae.shape == (horizon,) and (scores.mae == 0).all() and scores.origins == 61 - horizon
        assert np.isnan(scores.mase).all()  # the training part's seasonal naive is exact too: nothing to scale by
    assert fc.Persistence(3).forecast(values).tolist() == [values[-1]] * 3
    assert fc.score_by_step(fc.Persistence(3), values, train_end=60, season=12, start=60).mae.min() > 0.1


def test_the_linear_model_is_exact_on_a_line():
    line = 3.0 + 0.5 * np.arange(300)
    for relative in (True, False):
        linear = fc.fit_linear(line, train_end=200, input_length=10, horizon=4, relative=relative)
        np.testing.assert_allclose(linear.forecast(line[:250]), line[250:254], rtol=1e-9)
        scores = fc.score_by_step(linear, line, train_end=200, season=12, start=200)
        assert scores.mae.max() < 1e-8


def test_mase_of_the_seasonal_naive_on_its_own_training_part_is_one():
    values = _seasonal(season=12) + np.random.default_rng(1).normal(scale=0.3, size=120) + 0.05 * np.arange(120)
    scores = fc.score_by_step(fc.SeasonalNaive(12, 1), values, train_end=90, season=12, start=12, end=90)
    assert scores.mase[0] == pytest.approx(1.0, rel=1e-12) and scores.origins == 78
    assert fc.seasonal_naive_scale(values[:90], 12) == pytest.approx(np.abs(values[12:90] - values[:78]).mean())
    assert fc.mae([1, 2, 3], [2, 2, 5]) == 1.0
    assert fc.mase([1, 2, 3], [2, 2, 5], train=[0.0, 1, 2, 3], season=2) == 0.5  # the seasonal scale is 2
    with pytest.raises(ValueError, match="MASE is undefined"):
        fc.mase([1, 2], [2, 2], train=[0.0, 1, 0, 1], season=2)


def test_scores_by_step_use_the_same_origins_for_every_forecaster():
    values = _seasonal(season=12) + 0.1 * np.arange(120)
    linear = fc.fit_linear(values, train_end=80, input_length=24, horizon=4)
    kinds = [fc.Persistence(4), fc.SeasonalNaive(12, 4), linear]
    for forecaster in kinds:
        forecasts, actual, origins = fc.rolling_forecasts(forecaster, values, start=90)
        assert forecasts.shape == actual.shape == (27, 4) and origins.tolist() == list(range(90, 117))
        np.testing.assert_array_equal(forecasts[5], forecaster.forecast(values[:95]))


def test_a_forecaster_of_your_own_is_called_once_per_origin():
    class LastTwoMean:  # anything with forecast(history) and horizon
        horizon = 2

        def forecast(self, history):
            return np.full(2, np.mean(history[-2:]))

    values = np.arange(50.0)
    forecasts, actual, origins = fc.rolling_forecasts(LastTwoMean(), values, start=40)
    assert forecasts.shape == (9, 2) and (forecasts[:, 0] == origins - 1.5).all()
    assert fc.score_by_step(LastTwoMean(), values, train_end=30, season=1, start=40).mae.tolist() == [1.5, 2.5]


def test_lag_errors_unmask_a_lagged_copy():
    values = np.cumsum(np.random.default_rng(0).normal(size=300))  # a random walk: persistence is all one can do
    persistence = fc.lag_errors(fc.Persistence(1), values, start=200)
    assert persistence[1] == 0 and persistence[0] > 0.5  # it is the series one step back, exactly


def test_relative_forecasters_move_with_the_level(tiny, seattle):
    values, _, validation_end = seattle
    history = values[:validation_end]
    np.testing.assert_allclose(tiny.forecast(history + 100.0), tiny.forecast(history) + 100.0, atol=1e-4)
    linear = fc.fit_linear(values, train_end=731, input_length=14, horizon=3)
    np.testing.assert_allclose(linear.forecast(history + 100.0), linear.forecast(history) + 100.0, atol=1e-9)
    level = fc.fit_linear(values, train_end=731, input_length=14, horizon=3, relative=False)
    assert np.abs(level.forecast(history + 100.0) - level.forecast(history) - 100.0).max() > 1.0


# ----------------------------------------------------------------------------- clear answers to bad inputs


@pytest.mark.parametrize("history, message", [
    (np.arange(5.0), "history has 5 values, and this forecaster reads the last 14: give at least 14"),
    (np.r_[np.arange(20.0), np.nan], r"should be finite; NaN or inf at positions \[-1\]"),
    (np.ones((2, 20)), r"should be 1-D \(the values in time order, oldest first\), got shape \(2, 20\)"),
    ("12.8, 10.6", "history should be a 1-D sequence of numbers .*, got str"),
    (["12.8"] * 20, "history should hold numbers, got an array of <U4"),
    ({"temp_max": 12.8}, "got dict"),
    (None, "got NoneType"),
    (np.ones(20, dtype=bool), "should hold numbers, got an array of bool"),
])
def test_bad_histories_get_clear_errors(tiny, history, message):
    with pytest.raises(ValueError, match=message):
        tiny.forecast(history)


def test_a_history_is_read_from_lists_and_only_its_tail():
    history = [np.nan] + list(np.arange(20.0))  # a gap long before the window does not matter
    assert fc.Persistence(2).forecast(history).tolist() == [19.0, 19.0]
    assert fc.SeasonalNaive(4, 2).forecast(history).tolist() == [16.0, 17.0]


def test_bad_fits_get_clear_errors(seattle):
    values, train_end, validation_end = seattle
    splits = dict(train_end=train_end, validation_end=validation_end, progress=False)
    with pytest.raises(ValueError, match=r"strategy should be one of \('direct', 'recursive'\), got 'both'"):
        fc.fit_forecaster(values, strategy="both", **splits)
    with pytest.raises(ValueError, match="scaling should be one of"):
        fc.fit_forecaster(values, scaling="minmax", **splits)
    with pytest.raises(ValueError, match="scaler should be a series.Scaler"):
        fc.fit_forecaster(values, scaler=(0.0, 1.0), **splits)
    with pytest.raises(ValueError, match="input_length \\+ horizon <= train_end < validation_end <= len"):
        fc.fit_forecaster(values, train_end=validation_end, validation_end=train_end, progress=False)
    with pytest.raises(ValueError, match="horizon should be a positive int, got 0"):
        fc.fit_forecaster(values, horizon=0, **splits)
    with pytest.raises(ValueError, match="NaN or inf before index 1096: fill the gaps first"):
        fc.fit_forecaster(np.r_[values[:100], np.nan, values[101:]], **splits)
    with pytest.raises(ValueError, match="series should be 1-D"):
        fc.fit_linear(np.ones((100, 2)), train_end=50, input_length=5, horizon=1)


# ----------------------------------------------------------------------------- the LSTM and its training


def test_training_through_fit_lowers_the_loss():
    steps = np.arange(600)
    wave = np.sin(2 * np.pi * steps / 12) + 0.05 * np.random.default_rng(0).normal(size=600)  # much to learn
    lstm = fc.fit_forecaster(wave, train_end=400, validation_end=500, progress=False, **dict(TINY, input_length=24))
    history = lstm.history
    assert len(history.train_loss) == 3 and history.train_loss[-1] < 0.6 * history.train_loss[0]
    assert len(history.step_loss) == 3 * int(np.ceil((400 - 24 - 3 + 1) / 32))
    assert history.validation_loss[history.best_epoch - 1] == min(history.validation_loss) < 0.5
    assert history.validation_accuracy[-1] > 0.4  # its skill against persistence on the validation part
    untrained = fc.LSTMForecaster(fc.ForecastLSTM(8, 1, 3), lstm.scaler, 24, 3, "direct")
    trained_mae = fc.score_by_step(lstm, wave, train_end=400, season=12, start=500).mae
    untrained_mae = fc.score_by_step(untrained, wave, train_end=400, season=12, start=500).mae
    persistence_mae = fc.score_by_step(fc.Persistence(3), wave, train_end=400, season=12, start=500).mae
    assert (trained_mae < 0.5 * untrained_mae).all() and (trained_mae < 0.6 * persistence_mae).all()


def test_training_is_deterministic(tiny, seattle):
    values, train_end, validation_end = seattle
    again = fc.fit_forecaster(values, train_end=train_end, validation_end=validation_end, progress=False, **TINY)
    assert again.history.step_loss == tiny.history.step_loss
    assert again.forecast(values).tolist() == tiny.forecast(values).tolist()


def test_recursive_feeds_its_own_values_back(seattle):
    values, train_end, validation_end = seattle
    recursive = fc.fit_forecaster(values, train_end=train_end, validation_end=validation_end, strategy="recursive",
                                  progress=False, **dict(TINY, epochs=1))
    assert recursive.model.head.out_features == 1 and "recursive" in repr(recursive)
    history = values[:validation_end]
    forecast = recursive.forecast(history)
    one_step = fc.LSTMForecaster(recursive.model, recursive.scaler, 14, 1, "direct")
    assert forecast.shape == (3,) and forecast[0] == pytest.approx(one_step.forecast(history)[0], abs=1e-9)
    slid = np.r_[history, forecast[:2]]  # the window after two steps holds the model's own two values
    assert forecast[2] == pytest.approx(one_step.forecast(slid)[0], abs=1e-9)


def test_the_task_runs_in_fit_on_its_own():
    rng = np.random.default_rng(0)
    train = (rng.normal(size=(50, 6)).astype(np.float32), rng.normal(size=(50, 2)).astype(np.float32))
    validation = (train[0][:10], train[1][:10])
    task = fc.WindowRegression()
    assert task.steps(train, 16) == 4 == len(list(task.batches(train, 16, torch.Generator().manual_seed(0))))
    torch.manual_seed(0)
    history = fit(fc.ForecastLSTM(4, 1, 2), task, train, validation, epochs=2, batch_size=16, progress=False)
    assert len(history.step_loss) == 8 and len(history.validation_accuracy) == 2


def test_a_training_run_is_recorded_and_replayed(tmp_path, monkeypatch, seattle):
    values, train_end, validation_end = seattle
    options = dict(train_end=train_end, validation_end=validation_end, progress=False, **dict(TINY, epochs=1))
    monkeypatch.setattr(replay, "RUNS", tmp_path)
    monkeypatch.setenv(replay.RECORD, "09_test")
    recorded = fc.fit_forecaster(values, **options)
    assert len(list(tmp_path.glob("09_test-*.pt"))) == 1, "the run's identity can be computed (the task hashes)"
    monkeypatch.delenv(replay.RECORD)
    monkeypatch.setenv(replay.REPLAY, "strict")  # no record: an error; so this run is the recorded one
    replayed = fc.fit_forecaster(values, **options)
    assert replayed.history.step_loss == recorded.history.step_loss
    for name, value in recorded.model.state_dict().items():
        assert torch.equal(replayed.model.state_dict()[name], value), name
    with pytest.raises(replay.MissingRun):
        fc.fit_forecaster(values, **dict(options, seed=1))
