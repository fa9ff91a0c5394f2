import functools
import re

import nbformat
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from lstm_course import reviews, text_models
from lstm_course.checks import check_classifier_forward, check_last_real_states, check_masked_max, check_tokenize
from lstm_course.checks import text as text_checks
from lstm_course.checks.text import padded_output
from tests.notebooks import NOTEBOOKS_DIR


def stub(*args):
    raise NotImplementedError()


# ----------------------------------------------------------------------------- tokenize


def test_tokenize_stub_is_not_attempted():
    result = check_tokenize(stub)
    assert result.status == "not attempted yet" and not result


def test_tokenize_solution_and_another_regular_expression_pass():
    assert check_tokenize(reviews.tokenize)
    assert check_tokenize(lambda s: re.findall(r"[a-z0-9]+(?=n't)|n't|'(?:s|re|ve|ll|d|m)\b|[a-z0-9]+|[^\s]", s.lower()))


def test_tokenize_without_lowercasing_is_told_to_lowercase():
    result = check_tokenize(lambda s: re.findall(r"[^\W_]+(?=n't)|n't|'(?:s|re|ve|ll|d|m)\b|[^\W_]+|\S", s))
    assert not result and "'Good' has capitals" in result.message and "lowercase" in result.message


def test_split_on_spaces_is_told_about_punctuation():
    result = check_tokenize(lambda s: s.lower().split())
    assert not result and "'good.' mixes a word and punctuation" in result.message


def test_whole_negation_is_told_to_split_nt():
    result = check_tokenize(lambda s: re.findall(r"[\w']+|[^\w\s]", s.lower()))
    assert not result and "\"isn't\" should be two tokens, 'is' and \"n't\"" in result.message


def test_splitting_at_the_apostrophe_is_told_to_split_before_the_n():
    result = check_tokenize(lambda s: re.findall(r"\w+|[^\w\s]", s.lower()))
    assert not result and "Split before the n" in result.message


def test_clitic_s_kept_apart_from_its_apostrophe_is_named():
    result = check_tokenize(lambda s: re.findall(r"\w+(?=n't)|n't|\w+|[^\w\s]", s.lower()))
    assert not result and "apostrophe included" in result.message and "\"it's\"" in result.message


def test_grouped_punctuation_is_named():
    result = check_tokenize(lambda s: re.findall(r"[^\W_]+(?=n't)|n't|'(?:s|re|ve|ll|d|m)\b|[^\W_]+|[^\w\s]+", s.lower()))
    assert not result and "'...' mixes a word and punctuation, or several marks" in result.message


def test_tokenize_returning_a_string_or_raising_is_diagnosed():
    assert "expected a list of strings, got str" in check_tokenize(lambda s: s).message
    assert "raised ZeroDivisionError" in check_tokenize(lambda s: 1 / 0).message
    assert "returned None" in check_tokenize(lambda s: None).message


# ----------------------------------------------------------------------------- last real states


def last_real_states(output, lengths):
    return output[torch.arange(output.shape[0]), lengths - 1]


def test_last_real_states_stub_is_not_attempted():
    assert check_last_real_states(stub).status == "not attempted yet"


def test_last_real_states_solution_the_package_and_gather_pass():
    assert check_last_real_states(last_real_states)
    assert check_last_real_states(reviews.last_real_states)
    steps = lambda output, lengths: (lengths - 1).view(-1, 1, 1).expand(-1, 1, output.shape[2])  # noqa: E731
    assert check_last_real_states(lambda output, lengths: output.gather(1, steps(output, lengths)).squeeze(1))


def test_output_minus_one_is_named():
    result = check_last_real_states(lambda output, lengths: output[:, -1])
    assert not result and "that is output[:, -1]" in result.message and "sentences 1, 2, 3" in result.message


def test_first_step_and_one_too_early_are_named():
    assert "output[:, 0]" in check_last_real_states(lambda output, lengths: output[:, 0]).message
    early = check_last_real_states(lambda output, lengths: output[torch.arange(len(lengths)), (lengths - 2).clamp(min=0)])
    assert "one step too early" in early.message


def test_one_step_too_late_is_told_off_by_one():
    result = check_last_real_states(lambda output, lengths: output[torch.arange(len(lengths)), lengths])
    assert not result and "raised IndexError" in result.message and "Off by one?" in result.message


def test_every_sentence_at_every_length_is_named():
    result = check_last_real_states(lambda output, lengths: output[:, lengths - 1])
    assert not result and "shape (4, 4, 3)" in result.message and "Pair row k with lengths[k]" in result.message


def test_no_reduction_over_time_is_named():
    result = check_last_real_states(lambda output, lengths: output)
    assert not result and "reduce the time dimension" in result.message


def test_an_answer_written_for_the_first_batch_only_fails_on_the_second():
    result = check_last_real_states(lambda output, lengths: output[torch.arange(4), torch.tensor([5, 2, 0, 3])])
    assert not result and "raised IndexError" in result.message


def test_last_real_states_written_in_place_is_named():
    def in_place(output, lengths):
        lengths -= 1
        return output[torch.arange(output.shape[0]), lengths]

    result = check_last_real_states(in_place)
    assert not result and "changed its argument `lengths` in place" in result.message


def test_a_wrong_value_names_the_sentence():
    def off(output, lengths):
        states = last_real_states(output, lengths).clone()
        states[2, 1] += 1.0
        return states

    result = check_last_real_states(off)
    assert not result and "for sentence 2 (length 1), feature 1" in result.message


# ----------------------------------------------------------------------------- masked max


def masked_max(output, lengths):
    steps = torch.arange(output.shape[1])[None, :]  # (1, seq)
    padded = steps >= lengths[:, None]  # (batch, seq)
    return output.masked_fill(padded[:, :, None], float("-inf")).max(dim=1).values


def test_masked_max_stub_is_not_attempted():
    assert check_masked_max(stub).status == "not attempted yet"


def test_masked_max_solution_and_a_loop_pass():
    assert check_masked_max(masked_max)
    assert check_masked_max(lambda output, lengths: torch.stack([output[k, :n].max(dim=0).values for k, n in enumerate(lengths.tolist())]))


def test_max_with_the_pads_is_named():
    result = check_masked_max(lambda output, lengths: output.max(dim=1).values)
    assert not result and "output.max(dim=1)" in result.message and "-inf" in result.message


def test_mean_is_named():
    result = check_masked_max(lambda output, lengths: output.mean(dim=1))
    assert not result and "mean over time" in result.message


def test_max_values_and_indices_are_named():
    result = check_masked_max(lambda output, lengths: output.max(dim=1))
    assert not result and "(values, indices) pair" in result.message and "`.values`" in result.message


def test_max_over_the_wrong_dimension_is_named():
    result = check_masked_max(lambda output, lengths: output.max(dim=2).values)
    assert not result and "reduces dim 2, the features" in result.message and "Time is dim 1" in result.message


def test_masking_written_into_the_output_is_named():
    def in_place(output, lengths):
        for k, n in enumerate(lengths.tolist()):
            output[k, n:] = float("-inf")
        return output.max(dim=1).values

    result = check_masked_max(in_place)
    assert not result and "changed its argument `output` in place" in result.message


def test_padded_output_has_zeros_at_the_pads():
    output, lengths = padded_output()
    assert output.shape == (4, 6, 3) and lengths.tolist() == [6, 3, 1, 4] == list(text_checks.CASES[0])
    assert (output[1, 3:] == 0).all() and (output[1, :3] != 0).all()


# ----------------------------------------------------------------------------- the classifier's forward


def _notebook_class(name):
    """A class the notebook defines, run from its own cell."""
    namespace = {"nn": nn, "torch": torch, "pack_padded_sequence": pack_padded_sequence, "pad_packed_sequence": pad_packed_sequence}
    for cell in nbformat.read(NOTEBOOKS_DIR / "05_text_classifier.ipynb", as_version=4).cells:
        if cell.cell_type == "code" and cell.source.startswith(f"class {name}("):
            exec(cell.source, namespace)
    return namespace[name]


SentenceClassifier = _notebook_class("SentenceClassifier")  # the notebook's layers and its solution's forward


def answer(forward):
    """SentenceClassifier with another forward."""
    return type("Answer", (SentenceClassifier,), {"forward": forward})


def _packed_output(model, ids, lengths, enforce_sorted=False):
    packed = pack_padded_sequence(model.embedding(ids), lengths, batch_first=True, enforce_sorted=enforce_sorted)
    return model.lstm(packed)


def _stub(self, ids, lengths):
    raise NotImplementedError()


def test_forward_stub_is_not_attempted():
    result = check_classifier_forward(answer(_stub))
    assert result.status == "not attempted yet" and not result


def test_forward_solution_and_the_package_classifier_pass():
    assert check_classifier_forward(SentenceClassifier)
    assert check_classifier_forward(functools.partial(text_models.LSTMClassifier, num_layers=1, pooling="max"))


def test_forward_one_sentence_at_a_time_with_a_mask_passes():
    def one_at_a_time(self, ids, lengths):
        vectors = []
        for k, length in enumerate(lengths.tolist()):
            output, _ = self.lstm(self.embedding(ids[k : k + 1, :length]))  # (1, length, 2 * hidden)
            vectors.append(output[0].max(dim=0).values)
        return self.fc(torch.stack(vectors))

    assert check_classifier_forward(answer(one_at_a_time))


def test_forward_without_packing_is_named_by_the_pads_leaking_in():
    def not_packed(self, ids, lengths):
        output, _ = self.lstm(self.embedding(ids))
        return self.fc(output.max(dim=1).values)

    result = check_classifier_forward(answer(not_packed))
    assert not result and "the pads leak in" in result.message and "was not packed" in result.message


def test_forward_with_output_minus_one_is_named():
    def last_padded_step(self, ids, lengths):
        output, _ = self.lstm(self.embedding(ids))
        return self.fc(output[:, -1])

    result = check_classifier_forward(answer(last_padded_step))
    assert not result and "the pads leak in" in result.message and "That is output[:, -1]" in result.message


def test_forward_pooling_over_the_zero_pads_is_named():
    def zeros_in_the_max(self, ids, lengths):
        output, _ = pad_packed_sequence(_packed_output(self, ids, lengths)[0], batch_first=True)
        return self.fc(output.max(dim=1).values)

    result = check_classifier_forward(answer(zeros_in_the_max))
    assert not result and "The max sees the pads" in result.message and "exercise 3" in result.message


def test_forward_with_enforce_sorted_is_told_to_pass_false():
    def sorted_lengths(self, ids, lengths):
        output, _ = pad_packed_sequence(_packed_output(self, ids, lengths, enforce_sorted=True)[0], batch_first=True, padding_value=-1e9)
        return self.fc(output.max(dim=1).values)

    result = check_classifier_forward(answer(sorted_lengths))
    assert not result and "must be sorted in decreasing order" in result.message
    assert "pass enforce_sorted=False" in result.message and "It happened in the line" in result.message


def test_forward_sorting_itself_without_putting_back_is_named():
    def sorted_order(self, ids, lengths):
        order = lengths.argsort(descending=True, stable=True)
        packed_output, _ = _packed_output(self, ids[order], lengths[order], enforce_sorted=True)
        output, _ = pad_packed_sequence(packed_output, batch_first=True, padding_value=-1e9)
        return self.fc(output.max(dim=1).values)

    result = check_classifier_forward(answer(sorted_order))
    assert not result and "order of the sorted lengths" in result.message


def _lengths_on_the_gpu(self, ids, lengths):
    """What pack_padded_sequence raises for lengths on a GPU (this machine may have none)."""
    raise RuntimeError("'lengths' argument should be a 1D CPU int64 tensor, but got 1D cuda:0 Long tensor")


def test_forward_with_lengths_on_the_gpu_is_told_to_use_the_cpu():
    result = check_classifier_forward(answer(_lengths_on_the_gpu))
    assert not result and "on the CPU, as int64" in result.message and "lengths.cpu()" in result.message


def test_forward_with_one_direction_is_named():
    def forward_only(self, ids, lengths):
        output, _ = pad_packed_sequence(_packed_output(self, ids, lengths)[0], batch_first=True, padding_value=-1e9)
        return self.fc(output[..., : self.lstm.hidden_size].max(dim=1).values)

    result = check_classifier_forward(answer(forward_only))
    assert not result and "self.fc takes 8 features" in result.message and "only one direction" in result.message


def test_forward_with_final_states_or_probabilities_is_named():
    def final_states(self, ids, lengths):
        _, (h_n, _) = _packed_output(self, ids, lengths)
        return self.fc(torch.cat([h_n[-2], h_n[-1]], dim=1))

    def probabilities(self, ids, lengths):
        return torch.softmax(SentenceClassifier.forward(self, ids, lengths), dim=1)

    assert "logits of the final states h_n" in check_classifier_forward(answer(final_states)).message
    assert "Those are probabilities" in check_classifier_forward(answer(probabilities)).message


def test_forward_with_logits_per_step_is_told_to_pool_first():
    def per_step(self, ids, lengths):
        output, _ = pad_packed_sequence(_packed_output(self, ids, lengths)[0], batch_first=True)
        return self.fc(output)

    result = check_classifier_forward(answer(per_step))
    assert not result and "should have shape (batch, 2)" in result.message and "pool over time" in result.message


def test_forward_that_edits_its_weights_in_place_fails_and_the_reference_stays_intact():
    reference = text_checks.forward_reference(**text_checks.FORWARD_SIZES)

    def zero_the_pad_row(self, ids, lengths):
        with torch.no_grad():
            self.embedding.weight.mul_(2.0)
        return SentenceClassifier.forward(self, ids, lengths)

    result = check_classifier_forward(answer(zero_the_pad_row))
    assert not result and "changed the model's weights in place" in result.message
    again = text_checks.forward_reference(**text_checks.FORWARD_SIZES)
    for (name, value), other in zip(reference.state_dict().items(), again.state_dict().values()):
        assert torch.equal(value, other), name
    assert check_classifier_forward(SentenceClassifier)


def test_forward_that_writes_into_lengths_is_named():
    def in_place(self, ids, lengths):
        lengths -= 1  # each sentence's last step
        return SentenceClassifier.forward(self, ids, lengths + 1)

    result = check_classifier_forward(answer(in_place))
    assert not result and "changed its argument `lengths` in place" in result.message


def test_forward_check_wants_the_class_and_its_layers():
    assert "pass the class itself" in check_classifier_forward(SentenceClassifier(10)).message

    class Renamed(SentenceClassifier):
        def __init__(self, vocab_size, embedding_dim=128, hidden_size=64):
            super().__init__(vocab_size, embedding_dim, hidden_size)
            self.linear = self.fc
            del self.fc

    assert "Keep the notebook's __init__" in check_classifier_forward(Renamed).message


def test_forward_with_another_signature_is_told_to_keep_it():
    result = check_classifier_forward(answer(lambda self, ids: self.fc(self.lstm(self.embedding(ids))[0].max(dim=1).values)))
    assert not result and "positional argument" in result.message and "Keep the signature `forward(self, ids, lengths)`" in result.message


def test_forward_check_leaves_the_global_random_state_alone():
    torch.manual_seed(123)
    state = torch.get_rng_state()
    check_classifier_forward(SentenceClassifier)
    assert torch.equal(torch.get_rng_state(), state)


def test_forward_check_runs_a_case_with_the_lengths_on_the_model_device(monkeypatch):
    monkeypatch.setattr(text_checks, "_gpu", lambda: torch.device("cpu"))  # the GPU case, run on the CPU
    assert check_classifier_forward(SentenceClassifier)
    assert "lengths.cpu()" in check_classifier_forward(answer(_lengths_on_the_gpu)).message
