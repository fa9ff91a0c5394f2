import re

import torch

from lstm_course import text
from lstm_course.checks import check_last_real_states, check_masked_max, check_tokenize
from lstm_course.checks.text import padded_output


def stub(*args):
    raise NotImplementedError()


# ----------------------------------------------------------------------------- tokenize


def test_tokenize_stub_is_not_attempted():
    result = check_tokenize(stub)
    assert result.status == "not attempted yet" and not result


def test_tokenize_solution_passes():
    assert check_tokenize(text.tokenize)


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


def test_last_real_states_solution_and_the_package_pass():
    assert check_last_real_states(last_real_states)
    assert check_last_real_states(text.last_real_states)


def test_output_minus_one_is_named():
    result = check_last_real_states(lambda output, lengths: output[:, -1])
    assert not result and "that is output[:, -1]" in result.message and "sentences 1, 2, 3" in result.message


def test_first_step_and_one_too_early_are_named():
    assert "output[:, 0]" in check_last_real_states(lambda output, lengths: output[:, 0]).message
    early = check_last_real_states(lambda output, lengths: output[torch.arange(4), (lengths - 2).clamp(min=0)])
    assert "one step too early" in early.message


def test_one_step_too_late_is_told_off_by_one():
    result = check_last_real_states(lambda output, lengths: output[torch.arange(4), lengths])
    assert not result and "raised IndexError" in result.message and "Off by one?" in result.message


def test_every_sentence_at_every_length_is_named():
    result = check_last_real_states(lambda output, lengths: output[:, lengths - 1])
    assert not result and "shape (4, 4, 3)" in result.message and "Pair row k with lengths[k]" in result.message


def test_no_reduction_over_time_is_named():
    result = check_last_real_states(lambda output, lengths: output)
    assert not result and "reduce the time dimension" in result.message


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


def test_masked_max_solution_passes():
    assert check_masked_max(masked_max)


def test_max_with_the_pads_is_named():
    result = check_masked_max(lambda output, lengths: output.max(dim=1).values)
    assert not result and "output.max(dim=1)" in result.message and "-inf" in result.message


def test_mean_is_named():
    result = check_masked_max(lambda output, lengths: output.mean(dim=1))
    assert not result and "mean over time" in result.message


def test_padded_output_has_zeros_at_the_pads():
    output, lengths = padded_output()
    assert output.shape == (4, 6, 3) and lengths.tolist() == [6, 3, 1, 4]
    assert (output[1, 3:] == 0).all() and (output[1, :3] != 0).all()
