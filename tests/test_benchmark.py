"""lstm_course.benchmark and benchmarks/lstm_speed.py: the shape of what they report, never a speed."""

import importlib.util
import pathlib

import pytest
import torch

from lstm_course import benchmark

SCRIPT = pathlib.Path(__file__).resolve().parent.parent / "benchmarks" / "lstm_speed.py"


def test_time_ratios_reports_a_positive_ratio_per_implementation_and_mode():
    threads = torch.get_num_threads()
    names = ("tiled", "HandLSTM", "FastHandLSTM", "numpy")
    results = benchmark.time_ratios(("tutorial",), names, repeats=2, threads=1, min_seconds=0.001)
    assert torch.get_num_threads() == threads, "the thread count should be restored"
    assert list(results) == ["tutorial"]
    result = results["tutorial"]
    assert result["shape"] == benchmark.SIZES["tutorial"]
    assert set(result["nn.LSTM seconds"]) == set(benchmark.MODES)
    assert all(seconds > 0 for seconds in result["nn.LSTM seconds"].values())
    assert list(result["ratios"]) == list(names)
    for name in names:
        modes = ("forward",) if name == "numpy" else benchmark.MODES  # NumPy has no backward
        assert set(result["ratios"][name]) == set(modes), name
        for mode in modes:
            assert len(result["samples"][name][mode]) == 2, (name, mode)
            assert all(ratio > 0 for ratio in result["samples"][name][mode]), (name, mode)
            assert min(result["samples"][name][mode]) <= result["ratios"][name][mode] <= max(result["samples"][name][mode])


def test_a_form_slower_than_max_seconds_is_timed_once():
    results = benchmark.time_ratios(("tutorial",), ("HandLSTM",), repeats=3, modes=("forward",), min_seconds=0.001, max_seconds=0)
    assert len(results["tutorial"]["samples"]["HandLSTM"]["forward"]) == 1


def test_unknown_names_are_refused_with_the_known_ones():
    with pytest.raises(ValueError, match="unknown sizes or implementations .*'huge'.*tutorial"):
        benchmark.time_ratios(("huge",))
    with pytest.raises(ValueError, match="'cuDNN'.*FastHandLSTM"):
        benchmark.time_ratios(("tutorial",), ("cuDNN",))
    with pytest.raises(ValueError, match="repeats should be a whole number of at least 1, got 0"):
        benchmark.time_ratios(("tutorial",), repeats=0)


def test_weight_bytes_counts_one_copy_per_batch_row_when_tiled():
    once, tiled = benchmark.weight_bytes((64, 100, 128, 256))
    assert once == 4 * 256 * (128 + 256) * 4  # float32: 4 bytes a number
    assert tiled == 64 * once


def test_memory_report_sees_the_tiled_copies():
    report = benchmark.memory_report(("tutorial",), ("tiled", "HandLSTM"))
    entry = report["tutorial"]
    assert set(entry["peak"]) == {"nn.LSTM", "tiled", "HandLSTM"}
    assert all(peak > 0 for peak in entry["peak"].values())
    assert entry["peak"]["tiled"] >= entry["tiled weights"] > entry["peak"]["HandLSTM"]


def test_numpy_blas_names_a_library():
    assert isinstance(benchmark.numpy_blas(), str) and benchmark.numpy_blas()


def test_packed_forms_are_timed_against_nn_lstm_on_the_same_packed_batch():
    results = benchmark.time_ratios(("tutorial",), ("FastHandLSTM packed",), repeats=2, min_seconds=0.001)
    samples = results["tutorial"]["samples"]["FastHandLSTM packed"]
    assert set(samples) == set(benchmark.MODES) and all(len(ratios) == 2 for ratios in samples.values())
    assert benchmark.REFERENCES["FastHandLSTM packed"] == "nn.LSTM packed"


def test_peak_bytes_leaves_no_profiler_lines_on_stderr(capfd):
    benchmark.memory_report(("tutorial",), ("HandLSTM",))
    assert "profiler_start" not in capfd.readouterr().err


def test_the_script_prints_every_section(monkeypatch, capsys):
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")  # the script sets it only where it is unset
    spec = importlib.util.spec_from_file_location("lstm_speed", SCRIPT)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    threads = torch.get_num_threads()
    try:
        script.main(["--sizes", "tutorial", "--repeats", "1", "--threads", "1,2"])
    finally:
        torch.set_num_threads(threads)
    printed = capsys.readouterr().out
    for expected in ("torch threads: 1", "torch threads: 2", "FastHandLSTM, packed", "same PackedSequence", "NumPy's BLAS:", "OPENBLAS_CORETYPE", "tutorial: batch 32, seq 10", "FastHandLSTM", "NumPy float32", "32 copies", "peak bytes"):
        assert expected in printed, expected
