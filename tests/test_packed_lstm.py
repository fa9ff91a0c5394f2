"""HandLSTM and FastHandLSTM on a PackedSequence against torch.nn.LSTM on the same one."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence, pack_sequence

from lstm_course import HandLSTM, fast_lstm
from lstm_course.fast_lstm import FastHandLSTM
from tests.test_fast_lstm import _onednn_from
from tests.test_hand_lstm import TOLERANCE, _assert_all_close, _pair, configs

MODULES = {"HandLSTM": HandLSTM, "FastHandLSTM": FastHandLSTM}


def _padded_inputs(config, lengths, with_hx, dtype):
    """A padded batch and hx or None, every tensor requiring grad."""
    batch, seq = len(lengths), max(lengths)
    shape = (batch, seq) if config["batch_first"] else (seq, batch)
    padded = torch.randn(*shape, config["input_size"], dtype=dtype, requires_grad=True)
    if not with_hx:
        return padded, None
    layers = config["num_layers"] * (2 if config["bidirectional"] else 1)
    h_0 = torch.randn(layers, batch, config["proj_size"] or config["hidden_size"], dtype=dtype, requires_grad=True)
    c_0 = torch.randn(layers, batch, config["hidden_size"], dtype=dtype, requires_grad=True)
    return padded, (h_0, c_0)


def _packed_results(module, padded, pack, hx):
    """The output's data, h_n, c_n, and the gradients of a loss of all three; ``pack(padded)`` packs the input."""
    packed = pack(padded)  # packed anew for each module: each backward frees its graph
    output, (h_n, c_n) = module(packed, hx)
    assert isinstance(output, PackedSequence)
    assert torch.equal(output.batch_sizes, packed.batch_sizes)
    weights = torch.linspace(0.5, 1.5, output.data.numel()).reshape(output.data.shape).to(output.data)
    loss = (output.data.sin() * weights).sum() + h_n.cos().sum() + (c_n**2).sum()
    leaves = [padded, *(hx or ())] + list(module.parameters())
    return [output.data, h_n, c_n, *torch.autograd.grad(loss, leaves)]


@settings(max_examples=120, deadline=None, derandomize=True)
@given(
    config=configs,
    lengths=st.lists(st.integers(1, 6), min_size=1, max_size=5),
    enforce_sorted=st.booleans(),
    with_hx=st.booleans(),
    dtype=st.sampled_from([torch.float64, torch.float32]),
    module=st.sampled_from(list(MODULES)),
    onednn_everywhere=st.booleans(),  # FastHandLSTM's packed-weight path at these small sizes
    seed=st.integers(0, 2**16),
)
def test_packed_sequence_equals_nn_lstm(config, lengths, enforce_sorted, with_hx, dtype, module, onednn_everywhere, seed):
    if config["proj_size"]:
        config["proj_size"] = config["hidden_size"] - 1
    if enforce_sorted:
        lengths = sorted(lengths, reverse=True)
    reference, hand = _pair(config, dtype, seed, MODULES[module])
    padded, hx = _padded_inputs(config, lengths, with_hx, dtype)

    def pack(padded):
        return pack_padded_sequence(padded, torch.tensor(lengths), batch_first=config["batch_first"], enforce_sorted=enforce_sorted)

    expected = _packed_results(reference, padded, pack, hx)
    with _onednn_from(0 if onednn_everywhere else fast_lstm._ONEDNN_MIN_WORK):
        got = _packed_results(hand, padded, pack, hx)
    _assert_all_close(got, expected, TOLERANCE[dtype], f"{module} {config} lengths={lengths} sorted={enforce_sorted} hx={with_hx}")


@pytest.mark.parametrize("module", list(MODULES))
def test_a_packed_batch_gives_each_sequence_what_it_gives_alone(module):
    """The meaning of packing: h_n of each sequence, in the caller's order, is that of the sequence run on its own."""
    torch.manual_seed(0)
    lstm = MODULES[module](3, 4, bidirectional=True)
    sequences = [torch.randn(n, 3) for n in (2, 5, 3)]  # not sorted
    output, (h_n, c_n) = lstm(pack_sequence(sequences, enforce_sorted=False))
    padded, lengths = pad_packed_sequence(output)
    assert lengths.tolist() == [2, 5, 3]
    for k, sequence in enumerate(sequences):
        alone, (h_alone, c_alone) = lstm(sequence)  # unbatched
        torch.testing.assert_close(padded[: len(sequence), k], alone)
        torch.testing.assert_close(h_n[:, k], h_alone)
        torch.testing.assert_close(c_n[:, k], c_alone)
        assert padded[len(sequence) :, k].abs().sum() == 0  # padding stays zero


@pytest.mark.parametrize("module", list(MODULES))
def test_dropout_on_packed_data_draws_nn_lstms_masks(module):
    config = dict(input_size=3, hidden_size=4, num_layers=2, dropout=0.5, bidirectional=True)
    reference, hand = _pair(config, torch.float64, 0, MODULES[module])
    packed = pack_sequence([torch.randn(n, 3, dtype=torch.float64) for n in (4, 2, 1)])
    torch.manual_seed(3)
    expected, _ = reference(packed)
    torch.manual_seed(3)
    got, _ = hand(packed)
    torch.testing.assert_close(got.data, expected.data, rtol=1e-10, atol=1e-10)
