"""Notebook 10's encoder-decoder: shapes, the attention mask, decoding, clear errors, training through fit."""

import itertools
import math

import numpy as np
import pytest
import torch

from lstm_course import replay
from lstm_course import seq2seq as s2s
from lstm_course.dates import date_examples, date_pairs, parse_date
from lstm_course.training import fit

TINY = dict(embedding_dim=8, encoder_hidden=12, decoder_hidden=24, train_size=1280, validation_size=64, epochs=3,
            batch_size=32, lr=1e-2)
SOURCES = ["3 May 1979", "Thursday, May 3, 1979", "03/05/79", "一九七九年五月三日", "1979 年 5 月 3 日", "19790503"]


@pytest.fixture(scope="module")
def tiny():
    """A tiny model with attention, a few dozen steps of training: unsure enough for beam search to matter."""
    return s2s.train_translator(attention=True, seed=0, progress=False, **TINY)


@pytest.fixture(scope="module")
def tiny_without_attention():
    return s2s.train_translator(attention=False, seed=0, progress=False, **TINY)


pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


def _vocabularies():
    return s2s.date_vocabularies()


def _model(attention=True, seed=0):
    source_vocab, target_vocab = _vocabularies()
    torch.manual_seed(seed)
    model = s2s.Seq2Seq(len(source_vocab), len(target_vocab), embedding_dim=8, encoder_hidden=6, decoder_hidden=10,
                        attention=attention)
    return model.eval(), source_vocab, target_vocab


# ----------------------------------------------------------------------------- characters and batches


def test_vocabulary_round_trip_and_unseen_characters():
    source_vocab, target_vocab = _vocabularies()
    assert source_vocab.itos[s2s.PAD_ID] == s2s.PAD == target_vocab.itos[s2s.PAD_ID]
    assert source_vocab.decode(source_vocab.encode("3 May 1979")) == "3 May 1979"
    assert target_vocab.itos[3:] == list("-0123456789")
    ids = target_vocab.encode("1979-05-03") + [target_vocab.id(s2s.END)] + target_vocab.encode("99")
    assert target_vocab.decode(ids) == "1979-05-03"  # up to <end>
    with pytest.raises(ValueError, match="'☃' is not a character the model can read"):
        source_vocab.encode("3 May ☃")
    with pytest.raises(ValueError, match="'<' is not a character"):
        target_vocab.encode("<")  # a special symbol's first character is not a character


def test_batches_shift_the_target_for_teacher_forcing():
    source_vocab, target_vocab = _vocabularies()
    batch = s2s.make_batch([("3 May 1979", "1979-05-03"), ("19790503", "1979-05-03")], source_vocab, target_vocab)
    assert batch.source.shape == (2, 10) and batch.lengths.tolist() == [10, 8]
    assert batch.source[1, 8:].tolist() == [s2s.PAD_ID, s2s.PAD_ID]
    assert batch.previous.shape == batch.next.shape == (2, 11)
    assert batch.previous[0, 0] == target_vocab.id(s2s.START) and batch.next[0, -1] == target_vocab.id(s2s.END)
    assert torch.equal(batch.previous[:, 1:], batch.next[:, :-1])  # the input at t + 1 is the answer at t


# ----------------------------------------------------------------------------- the model's parts


def test_encoder_shapes_and_padding_changes_nothing():
    model, source_vocab, _ = _model()
    ids, lengths = s2s.encode_sources(["3 May 1979", "19790503", "1979年5月3日"], source_vocab)
    outputs, (h_n, c_n) = model.encoder(ids, lengths)
    assert outputs.shape == (3, 10, 2 * 6) and h_n.shape == c_n.shape == (2, 3, 6)
    assert torch.all(outputs[1, 8:] == 0) and torch.all(outputs[2, 9:] == 0)  # padded positions are empty
    alone, (h_alone, c_alone) = model.encoder(*s2s.encode_sources(["19790503"], source_vocab))
    torch.testing.assert_close(outputs[1, :8], alone[0], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(h_n[:, 1], h_alone[:, 0], rtol=1e-5, atol=1e-6)  # both directions end where it ends
    torch.testing.assert_close(c_n[:, 1], c_alone[:, 0], rtol=1e-5, atol=1e-6)


def test_the_bridge_makes_the_decoders_initial_state():
    model, source_vocab, _ = _model()
    state, memory = model.encode(*s2s.encode_sources(["3 May 1979", "19790503"], source_vocab))
    h_0, c_0 = state
    assert h_0.shape == c_0.shape == (1, 2, 10)
    assert h_0.abs().max() < 1  # through tanh
    assert memory.values.shape == (2, 10, 12) and memory.keys.shape == (2, 10, 10)
    assert memory.mask.tolist()[1] == [True] * 8 + [False] * 2


def test_attention_gives_padding_exactly_zero_and_rows_sum_to_one():
    torch.manual_seed(0)
    query, keys, values = torch.randn(3, 4, 5) * 10, torch.randn(3, 6, 5), torch.randn(3, 6, 7)
    lengths = torch.tensor([6, 2, 1])
    mask = torch.arange(6) < lengths.unsqueeze(1)
    context, weights = s2s.attend(query, keys, values, mask)
    assert context.shape == (3, 4, 7) and weights.shape == (3, 4, 6)
    torch.testing.assert_close(weights.sum(dim=-1), torch.ones(3, 4))
    assert torch.all(weights[1, :, 2:] == 0) and torch.all(weights[2, :, 1:] == 0)
    assert torch.all(weights[2, :, 0] == 1)  # one real position takes all the weight
    torch.testing.assert_close(context[2], values[2, :1].expand(4, 7))
    changed = values.clone()
    changed[1, 2:] = 1e6  # what stands at padding cannot leak into the context
    torch.testing.assert_close(s2s.attend(query, keys, changed, mask)[0][1], context[1])


def test_decoder_shapes_and_step_by_step_equals_all_at_once():
    model, source_vocab, target_vocab = _model()
    batch = s2s.make_batch([("3 May 1979", "1979-05-03"), ("19790503", "1979-05-03")], source_vocab, target_vocab)
    state, memory = model.encode(batch.source, batch.lengths)
    logits, _, weights = model.decode(batch.previous, state, memory)
    assert logits.shape == (2, 11, len(target_vocab)) and weights.shape == (2, 11, 10)
    torch.testing.assert_close(logits, model(batch.source, batch.lengths, batch.previous))
    steps = []
    for t in range(batch.previous.shape[1]):  # free running's way: one step at a time, the state carried
        step_logits, state, _ = model.decode(batch.previous[:, t : t + 1], state, memory)
        steps.append(step_logits)
    torch.testing.assert_close(torch.cat(steps, dim=1), logits, rtol=1e-5, atol=1e-6)


def test_without_attention_the_decoder_reads_only_the_bridge():
    model, source_vocab, target_vocab = _model(attention=False)
    batch = s2s.make_batch([("3 May 1979", "1979-05-03")], source_vocab, target_vocab)
    state, memory = model.encode(batch.source, batch.lengths)
    logits, _, weights = model.decode(batch.previous, state, memory)
    assert weights is None and memory.keys is None and logits.shape == (1, 11, len(target_vocab))
    scrambled = s2s.Memory(torch.randn_like(memory.values), None, memory.mask)
    torch.testing.assert_close(model.decode(batch.previous, state, scrambled)[0], logits)


# ----------------------------------------------------------------------------- decoding


def test_greedy_decode_writes_the_likeliest_character_each_step():
    model, source_vocab, target_vocab = _model()
    ids, lengths = s2s.encode_sources(["3 May 1979", "19790503"], source_vocab)
    start, end = target_vocab.id(s2s.START), target_vocab.id(s2s.END)
    written, weights = s2s.greedy_decode(model, ids, lengths, start, end, max_length=7)
    assert written.shape[0] == 2 and written.shape[1] <= 7 and weights.shape == (2, written.shape[1], 10)
    previous = torch.cat([torch.full((2, 1), start), written[:, :-1]], dim=1)
    expected = model(ids, lengths, previous).argmax(dim=-1)  # teacher-forced on its own choices
    assert torch.equal(written, expected)


def test_beam_of_one_is_greedy(tiny):
    for source in SOURCES:
        assert tiny.translate(source, beam_size=1) == tiny.target_vocab.decode(tiny.search(source, 1).ids), source
        assert tiny.search(source, 1).ids == tiny.search(source, 1).ids


def _every_sequence_scored(model, source, lengths, symbols, start_id, end_id, max_length):
    """Exhaustive search: the log-probability of every sequence of at most ``max_length`` symbols that ends
    with <end>, and of every one of ``max_length`` symbols without it, as ``{ids: log_prob}``."""
    scored = {}
    for length in range(1, max_length + 1):
        bodies = list(itertools.product(symbols, repeat=length - 1))
        endings = [end_id] + (list(symbols) if length == max_length else [])
        sequences = [body + (last,) for body in bodies for last in endings]
        ids = torch.tensor(sequences)
        previous = torch.cat([torch.full((len(ids), 1), start_id), ids[:, :-1]], dim=1)
        logits = model(source.expand(len(ids), -1), lengths.expand(len(ids)), previous)
        log_probs = torch.log_softmax(logits.double(), dim=-1).gather(2, ids.unsqueeze(2)).sum(dim=(1, 2))
        scored.update(zip(sequences, log_probs.tolist()))
    return scored


def test_a_wide_enough_beam_finds_what_exhaustive_search_finds():
    model, source_vocab, target_vocab = _model(seed=3)  # untrained: nearly uniform, the hardest case for a beam
    start, end = target_vocab.id(s2s.START), target_vocab.id(s2s.END)
    symbols = [target_vocab.id(c) for c in "-0123456789"]
    for source_text in ("3 May 1979", "79年5月3日"):
        source, lengths = s2s.encode_sources([source_text], source_vocab)
        scored = _every_sequence_scored(model, source, lengths, symbols, start, end, max_length=3)
        best = max(scored, key=scored.get)
        found = s2s.beam_search(model, source, lengths, start, end, max_length=3, beam_size=len(symbols) ** 2)
        assert tuple(found.ids) == best and math.isclose(found.log_prob, scored[best], abs_tol=1e-5)
        narrow = s2s.beam_search(model, source, lengths, start, end, max_length=3, beam_size=2)
        assert math.isclose(narrow.log_prob, scored[tuple(narrow.ids)], abs_tol=1e-5)  # its score is the model's
        assert narrow.log_prob <= scored[best] + 1e-9


def test_beam_search_mostly_scores_better_than_greedy(tiny):
    """Not a theorem: a beam can prune the prefix that greedy decoding follows to its end, and then finish
    worse. On a partly trained model it helps on average and rarely loses."""
    sources = SOURCES + [source for source, _ in date_pairs(30, "test", seed=5)]
    greedy = np.array([tiny.search(source, 1).log_prob for source in sources])
    beam = np.array([tiny.search(source, 4).log_prob for source in sources])
    assert beam.mean() > greedy.mean() + 0.1
    assert np.mean(beam >= greedy - 1e-5) >= 0.9  # 1e-5: float32 rounds a beam of 4 rows and one row apart


def test_a_hypothesis_scores_its_log_probability(tiny):
    ended = 0
    for source in SOURCES + [source for source, _ in date_pairs(20, "test", seed=5)]:
        found = tiny.search(source, 3)
        if found.ids[-1] == tiny.target_vocab.id(s2s.END):  # log_prob scores a translation and its <end>
            ended += 1
            translation = tiny.target_vocab.decode(found.ids)
            assert math.isclose(tiny.log_prob(source, translation), found.log_prob, rel_tol=1e-5, abs_tol=1e-5)
    assert ended >= 5
    assert tiny.log_prob("3 May 1979", "1979-05-03") < 0


def test_attention_weights_of_a_translation(tiny):
    for source in SOURCES:
        weights = tiny.attention_weights(source)
        assert isinstance(weights, np.ndarray) and weights.shape == (len(tiny.translate(source)), len(source))
        np.testing.assert_allclose(weights.sum(axis=1), 1.0, rtol=1e-5)
        assert (weights >= 0).all()


# ----------------------------------------------------------------------------- clear answers to bad inputs


def test_bad_sources_get_clear_errors(tiny):
    with pytest.raises(ValueError, match="source should be a str such as '3 May 1979', got int"):
        tiny.translate(19790503)
    with pytest.raises(ValueError, match="source is an empty string"):
        tiny.translate("")
    with pytest.raises(ValueError, match="'Q☃' is not a character the model can read"):
        tiny.translate("Q 3 May ☃")
    with pytest.raises(ValueError, match="source should be a str"):
        tiny.attention_weights(None)
    with pytest.raises(ValueError, match="beam_size should be an int >= 1"):
        tiny.translate("3 May 1979", beam_size=0)
    with pytest.raises(ValueError, match="source should be a str"):
        tiny.translate_many(["3 May 1979", b"3 May 1979"])


def test_a_model_without_attention_says_it_has_none(tiny_without_attention):
    assert tiny_without_attention.translate("3 May 1979", beam_size=2)  # decodes all the same
    with pytest.raises(ValueError, match="this model has no attention"):
        tiny_without_attention.attention_weights("3 May 1979")


def test_exact_match_of_a_function_and_of_a_model(tiny):
    pairs = date_pairs(200, "test", seed=1)
    assert s2s.exact_match(parse_date, pairs) == 1.0
    assert s2s.exact_match(lambda source: "1979-05-03", pairs) < 0.05
    score = s2s.exact_match(tiny, pairs)
    assert score == np.mean([tiny.translate(source) == target for source, target in pairs])
    by_family = s2s.exact_match_by(parse_date, date_examples(90, "test"), key=lambda example: example.family)
    assert set(by_family) == {"English", "numeric", "Chinese"} and sum(n for _, n in by_family.values()) == 90
    assert all(accuracy == 1.0 for accuracy, _ in by_family.values())
    by_length = s2s.exact_match_by(tiny, pairs, key=lambda pair: len(pair[0]) > 12)
    assert sum(a * n for a, n in by_length.values()) == pytest.approx(score * len(pairs))
    with pytest.raises(ValueError, match="pairs is empty"):
        s2s.exact_match(parse_date, [])
    with pytest.raises(ValueError, match="should be a Translator or a function"):
        s2s.exact_match("1979-05-03", pairs)


# ----------------------------------------------------------------------------- training


def test_training_through_fit_lowers_the_loss(tiny):
    validation = date_pairs(TINY["validation_size"], "validation")
    torch.manual_seed(0)  # the same initial weights as the tiny run
    untrained = s2s.Seq2Seq(len(tiny.source_vocab), len(tiny.target_vocab), attention=True, **tiny.options)
    before = s2s.Translator(untrained, tiny.source_vocab, tiny.target_vocab, tiny.max_length).teacher_forced(validation)
    after = tiny.teacher_forced(validation)
    assert before[0] > math.log(len(tiny.target_vocab)) - 0.5  # about uniform at first
    assert after[0] < 0.7 * before[0] and after[1] > before[1] + 0.2
    history = tiny.history
    assert len(history.train_loss) == 3 and history.train_loss[2] < history.train_loss[0]
    assert len(history.step_loss) == 3 * math.ceil(TINY["train_size"] / TINY["batch_size"])
    assert history.validation_accuracy[history.best_epoch - 1] == max(history.validation_accuracy)


def test_training_is_deterministic_and_options_are_checked(tiny):
    again = s2s.train_translator(attention=True, seed=0, progress=False, **TINY)
    assert again.history.step_loss == tiny.history.step_loss
    with pytest.raises(ValueError, match=r"unknown options \['hidden_size'\]"):
        s2s.train_translator(hidden_size=3)


def test_a_training_run_is_recorded_and_replayed(tmp_path, monkeypatch):
    monkeypatch.setattr(replay, "RUNS", tmp_path)
    monkeypatch.setenv(replay.RECORD, "10_test")
    small = dict(TINY, train_size=96, validation_size=16, epochs=1)
    recorded = s2s.train_translator(attention=True, seed=0, progress=False, **small)
    assert len(list(tmp_path.glob("10_test-*.pt"))) == 1, "the run's identity can be computed (the task hashes)"
    monkeypatch.delenv(replay.RECORD)
    monkeypatch.setenv(replay.REPLAY, "strict")  # no record: an error; so this run is the recorded one
    replayed = s2s.train_translator(attention=True, seed=0, progress=False, **small)
    assert replayed.history.step_loss == recorded.history.step_loss
    for name, value in recorded.model.state_dict().items():
        assert torch.equal(replayed.model.state_dict()[name], value), name


def test_the_task_runs_in_fit_on_its_own():
    model, source_vocab, target_vocab = _model()
    task = s2s.DateTranslation(source_vocab, target_vocab, max_length=12)
    train, validation = date_pairs(64, "train"), date_pairs(16, "validation")
    assert task.steps(train, 10) == 7 == len(list(task.batches(train, 10, torch.Generator().manual_seed(0))))
    history = fit(model, task, train, validation, epochs=1, batch_size=10, progress=False)
    assert len(history.step_loss) == 7 and 0 <= history.validation_accuracy[0] <= 1


def test_save_and_load_give_the_same_translations(tiny, tmp_path):
    tiny.save(tmp_path / "translator")
    loaded = s2s.Translator.load(tmp_path / "translator", device="cpu")
    assert loaded.translate_many(SOURCES) == tiny.translate_many(SOURCES)
    assert loaded.history.step_loss == tiny.history.step_loss and "attention" in repr(loaded)
