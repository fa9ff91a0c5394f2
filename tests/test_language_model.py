import math

import numpy as np
import pytest
import torch
from torch import nn

from lstm_course import FastHandLSTM, cell_traces, ngrams, widgets
from lstm_course import language_model as lm
from lstm_course.training import History


@pytest.fixture(scope="module")
def tiny():
    return lm.train_char_lm("lstm", seed=0, progress=False, limit=120, epochs=1, hidden_size=16, embedding_dim=8,
                            batch_size=8, seq_len=20)


# ----------------------------------------------------------------------------- characters and data


def test_vocabulary_is_the_newline_and_printable_ascii():
    vocab = lm.CharVocabulary()
    assert len(vocab) == 96 and vocab.itos[0] == "\n" == vocab.start and vocab.start_id == 0
    assert vocab.decode(vocab.encode("A gem!")) == "A gem!"
    with pytest.raises(ValueError, match="'é' is not in the vocabulary"):
        vocab.encode("café")


def test_plain_straightens_quotes_drops_accents_and_newlines():
    assert lm.plain("It\u2019s a caf\u00e9\u2026 \u201cfun\u201d \u2013 really\n  good") == 'It\'s a cafe... "fun" - really good'


def test_every_sentence_of_every_split_encodes():
    vocab = lm.CharVocabulary()
    for split in ("train", "validation", "test"):
        sentences = lm.load_sentences(split)
        assert all(sentences) and all(lm.START not in s for s in sentences)
        vocab.encode("".join(sentences))  # raises on any character outside the vocabulary
    with pytest.raises(ValueError, match="split should be one of"):
        lm.load_sentences("dev")


def test_splits_share_no_sentence():
    splits = {name: set(lm.load_sentences(name)) for name in ("train", "validation", "test")}
    assert not splits["train"] & splits["test"] and not splits["train"] & splits["validation"]


# ----------------------------------------------------------------------------- stream batches


def test_stream_batches_are_contiguous_rows_and_y_is_x_shifted():
    ids = torch.arange(103)
    chunks = list(lm.stream_batches(ids, batch_size=4, seq_len=7))
    assert len(chunks) == lm.number_of_batches(len(ids), 4, 7) == 4  # 25 steps a row: 7 + 7 + 7 + 4
    x = torch.cat([x for x, _ in chunks], dim=1)  # (4, 25): each row continues across chunks
    y = torch.cat([y for _, y in chunks], dim=1)
    torch.testing.assert_close(x, torch.arange(100).view(4, 25))
    torch.testing.assert_close(y, x + 1)
    assert [tuple(x.shape) for x, _ in chunks] == [(4, 7), (4, 7), (4, 7), (4, 4)]


def test_stream_batches_of_a_too_short_stream_say_so():
    with pytest.raises(ValueError, match="too short"):
        next(lm.stream_batches(torch.arange(3), batch_size=4, seq_len=2))


def test_training_batches_hold_only_training_sentences():
    vocab = lm.CharVocabulary()
    train = lm.encode_sentences(lm.load_sentences("train")[:50], vocab)
    task = lm.NextCharacter(vocab, seq_len=30)
    batches = list(task.batches(train, 4, torch.Generator().manual_seed(0)))
    assert len(batches) == task.steps(train, 4)
    rows = vocab.decode(torch.cat([x for x, _ in batches], dim=1).reshape(-1))
    train_text = set(lm.load_sentences("train")[:50])
    pieces = [p for p in rows.split(lm.START)[1:-1] if p]  # whole sentences between start symbols
    assert pieces and all(p in train_text for p in pieces)


def test_evaluation_predicts_every_symbol_after_the_first_once():
    vocab = lm.CharVocabulary()
    ids = lm.stream(lm.encode_sentences(lm.load_sentences("validation")[:40], vocab), vocab)
    x, y = lm.stream_pieces(ids, vocab.start_id, 8)
    real = y != -100
    assert int(real.sum()) == len(ids) - 1
    assert sorted(y[real].tolist()) == sorted(ids[1:].tolist())
    assert (x[:, 0] == vocab.start_id).all()  # every piece starts at a sentence's beginning


def test_evaluation_a_chunk_of_steps_at_a_time_equals_one_pass(tiny):
    vocab = lm.CharVocabulary()
    ids = lm.stream(lm.encode_sentences(lm.load_sentences("validation")[:40], vocab), vocab)
    x, y = lm.stream_pieces(ids, vocab.start_id, lm.EVALUATION_ROWS)
    with torch.no_grad():
        logits, _ = tiny.model(x)  # every step at once
    logits, y = logits.reshape(-1, logits.shape[-1]), y.reshape(-1)
    real = y != -100
    loss = nn.functional.cross_entropy(logits, y, ignore_index=-100).item()
    accuracy = (logits.argmax(dim=1)[real] == y[real]).float().mean().item()
    for steps in (7, 64, 10_000):
        assert lm.evaluate_stream(tiny.model, ids, steps=steps) == pytest.approx((loss, accuracy), rel=1e-5)


# ----------------------------------------------------------------------------- the model and its training


def test_model_shapes_and_state_for_both_cells():
    for cell in ("lstm", "gru"):
        model = lm.CharLM(96, cell, embedding_dim=4, hidden_size=6)
        logits, state = model(torch.zeros(2, 5, dtype=torch.long))
        assert logits.shape == (2, 5, 96)
        assert isinstance(state, tuple) == (cell == "lstm")
    with pytest.raises(ValueError, match="cell should be one of"):
        lm.CharLM(96, "rnn")


def test_stream_loss_detaches_the_state_and_keeps_the_loss_graph():
    model = lm.CharLM(96, embedding_dim=4, hidden_size=6)
    x = torch.randint(96, (2, 5))
    loss, state = lm.stream_loss(model, x, x, None)
    assert loss.grad_fn is not None and all(s.grad_fn is None for s in state)


def test_training_keeps_its_best_epoch_and_records_each_step(tiny):
    history = tiny.history
    assert isinstance(history, History) and history.best_epoch == 1
    assert len(history.step_loss) == len(history.grad_norm) > 0
    assert history.step_loss[-1] < history.step_loss[0]
    assert 0 < tiny.bits_per_char("validation") < math.log2(96) + 0.1


def test_training_is_deterministic():
    kwargs = dict(seed=1, progress=False, limit=30, epochs=1, hidden_size=8, embedding_dim=4, batch_size=4, seq_len=16)
    a, b = lm.train_char_lm(**kwargs), lm.train_char_lm(**kwargs)
    assert a.history.step_loss == b.history.step_loss


def test_unknown_training_options_are_named():
    with pytest.raises(ValueError, match="unknown options"):
        lm.train_char_lm(progress=False, hidden=8)


def test_fast_hand_lstm_trains_to_the_same_losses():
    kwargs = dict(seed=0, progress=False, limit=20, epochs=1, hidden_size=8, embedding_dim=4, batch_size=4, seq_len=16)
    torch_lm, hand_lm = lm.train_char_lm(**kwargs), lm.train_char_lm(lstm_class=FastHandLSTM, **kwargs)
    assert type(hand_lm.model.rnn) is FastHandLSTM
    np.testing.assert_allclose(hand_lm.history.step_loss, torch_lm.history.step_loss, rtol=1e-4)


def test_gru_trains():
    gru = lm.train_char_lm("gru", seed=0, progress=False, limit=20, epochs=1, hidden_size=8, embedding_dim=4,
                           batch_size=4, seq_len=16)
    assert isinstance(gru.model.rnn, nn.GRU) and gru.sample("A", 5) .startswith("A")


# ----------------------------------------------------------------------------- sampling


def test_sample_returns_the_prompt_and_length_new_characters_the_same_for_a_seed(tiny):
    text = tiny.sample("The film", length=40, temperature=1.0, seed=3)
    assert text.startswith("The film") and len(text) == len("The film") + 40
    assert tiny.sample("The film", 40, 1.0, seed=3) == text
    assert tiny.sample("The film", 40, 1.0, seed=4) != text
    assert len(tiny.sample("", 10)) == 10 and tiny.sample("Hi", 0) == "Hi"


def test_a_temperature_near_zero_is_greedy(tiny):
    ids = [tiny.vocab.start_id] + tiny.vocab.encode("A")
    greedy = []
    with torch.no_grad():
        for _ in range(15):
            logits, _ = tiny.model(torch.tensor([ids]))
            ids.append(int(logits[0, -1].argmax()))
            greedy.append(ids[-1])
    assert tiny.sample("A", 15, temperature=1e-6, seed=0) == "A" + tiny.vocab.decode(greedy)
    assert tiny.sample("A", 15, temperature=1e-6, seed=9) == tiny.sample("A", 15, temperature=1e-6, seed=0)


@pytest.mark.parametrize(
    "arguments, message",
    [
        (dict(prompt="café"), "'é' is not in the vocabulary"),
        (dict(temperature=0), "temperature should be a number > 0"),
        (dict(temperature=-1.0), "temperature should be a number > 0"),
        (dict(temperature=float("nan")), "temperature should be a number > 0"),
        (dict(length=-1), "length should be an int >= 0"),
        (dict(length=2.5), "length should be an int >= 0"),
        (dict(prompt=None), "prompt should be a str"),
    ],
)
def test_bad_sampling_arguments_get_a_value_error(tiny, arguments, message):
    with pytest.raises(ValueError, match=message):
        tiny.sample(**{"prompt": "A", "length": 5, **arguments})


def test_an_empty_prompt_without_a_start_symbol_gets_a_value_error(tiny):
    no_start = lm.LanguageModel(tiny.model, lm.CharVocabulary(lm.ALPHABET, start=None), tiny.options)
    with pytest.raises(ValueError, match="empty prompt needs a start symbol"):
        no_start.sample("", 5)
    assert no_start.sample("A", 5).startswith("A")


def test_sample_next_at_temperature_one_draws_from_the_softmax():
    logits = torch.tensor([0.0, 1.0, 2.0])
    generator = torch.Generator().manual_seed(0)
    draws = np.bincount([lm.sample_next(logits, 1.0, generator) for _ in range(4000)], minlength=3) / 4000
    np.testing.assert_allclose(draws, torch.softmax(logits, 0).numpy(), atol=0.03)


# ----------------------------------------------------------------------------- saving


def test_save_and_load_give_equal_outputs(tiny, tmp_path):
    folder = tiny.save(tmp_path / "lm")
    assert sorted(p.name for p in folder.iterdir()) == ["language_model.json", "weights.pt"]
    loaded = lm.LanguageModel.load(folder, device="cpu")
    ids = torch.randint(96, (2, 30), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        torch.testing.assert_close(loaded.model(ids)[0], tiny.model(ids)[0], rtol=0, atol=0)
    assert loaded.sample("The", 30, seed=2) == tiny.sample("The", 30, seed=2)
    assert loaded.history.step_loss == tiny.history.step_loss


# ----------------------------------------------------------------------------- n-grams


@pytest.mark.parametrize("order", [1, 2, 3, 5])
def test_ngram_probabilities_sum_to_one_after_any_context(order):
    model = ngrams.ngram_model(order)
    vocab = lm.CharVocabulary()
    for context in ("", "The fil", "zzzz", "\n", "qqx7"):
        p = model.probabilities(vocab.encode(context))
        assert p.shape == (96,) and (p > 0).all()
        assert p.sum() == pytest.approx(1.0, abs=1e-9)


def test_ngram_bits_fall_with_the_order_and_match_a_direct_computation():
    bits = [ngrams.ngram_bits_per_char(n, "validation") for n in (1, 2, 3)]
    assert bits[0] > bits[1] > bits[2]
    model, ids = ngrams.ngram_model(2), ngrams._split_stream("validation")[:200]
    direct = -np.mean([np.log2(model.probabilities([ids[t - 1]])[ids[t]]) for t in range(1, len(ids))])
    assert model.bits_per_char(ids) == pytest.approx(direct, rel=1e-12)


def kneser_ney_by_dicts(order, ids, vocab_size, start_id):
    """P(w | context) of interpolated Kneser-Ney, written plainly: dicts of tuples of symbols."""
    padded = [start_id] * (order - 1) + list(ids)
    ends = range(order - 1, len(padded))  # the positions of the n-grams that are counted
    counts = {}
    for m in range(1, order + 1):
        if m == order:
            grams = [tuple(padded[p - m + 1 : p + 1]) for p in ends]
        else:  # continuation count: the distinct (m+1)-grams that end with the m-gram
            grams = [g[1:] for g in {tuple(padded[p - m : p + 1]) for p in ends}]
        counts[m] = {}
        for g in grams:
            counts[m][g] = counts[m].get(g, 0) + 1

    def probability(context, w):
        p = 1 / vocab_size
        for m in range(1, order + 1):
            table = counts[m]
            n1, n2 = sum(c == 1 for c in table.values()), sum(c == 2 for c in table.values())
            d = n1 / (n1 + 2 * n2) if n1 + n2 else 0.5
            h = tuple(context[len(context) - m + 1 :]) if m > 1 else ()
            following = {g[-1]: c for g, c in table.items() if g[:-1] == h}
            total = sum(following.values())
            if total:
                p = max(following.get(w, 0) - d, 0) / total + d * len(following) / total * p
        return p

    return probability


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_kneser_ney_matches_a_plain_dict_implementation(order):
    vocab = lm.CharVocabulary()
    train = lm.stream(lm.encode_sentences(lm.load_sentences("train")[:30], vocab), vocab).numpy()
    test = lm.stream(lm.encode_sentences(lm.load_sentences("test")[:3], vocab), vocab).numpy()
    model = ngrams.KneserNey(order, train, len(vocab), vocab.start_id)
    reference = kneser_ney_by_dicts(order, train.tolist(), len(vocab), vocab.start_id)
    padded = [vocab.start_id] * (order - 1) + test.tolist()
    direct = -np.mean([math.log2(reference(padded[t : t + order - 1], padded[t + order - 1])) for t in range(1, len(test))])
    assert model.bits_per_char(test) == pytest.approx(direct, rel=1e-12)
    context = vocab.encode("The fi")
    expected = [reference(context, w) for w in range(len(vocab))]  # the last order - 1 symbols count
    np.testing.assert_allclose(model.probabilities(context), expected, rtol=1e-12)


def test_kneser_ney_on_a_tiny_stream_by_hand():
    # symbols 0 1 2, the stream 0 1 0 1 0 2 with one start symbol (0) before it: the bigrams
    # 00 once, 01 twice, 10 twice, 02 once, so D2 = n1 / (n1 + 2 n2) = 2 / 6
    model = ngrams.KneserNey(2, [0, 1, 0, 1, 0, 2], vocab_size=3, start_id=0)
    # continuation counts: 0 follows two different symbols, 1 and 2 one each; D1 = 2 / (2 + 2 * 1)
    lower = np.maximum(np.array([2, 1, 1]) - 0.5, 0) / 4 + 0.5 * 3 / 4 * np.full(3, 1 / 3)
    d = 1 / 3  # after 0: 0 once, 1 twice, 2 once; 3 types
    expected = np.maximum(np.array([1, 2, 1]) - d, 0) / 4 + d * 3 / 4 * lower
    np.testing.assert_allclose(model.probabilities([0]), expected, rtol=1e-12)
    np.testing.assert_allclose(model.probabilities([2]), lower, rtol=1e-12)  # after 2, never seen: the lower order
    with pytest.raises(ValueError, match="order should be an int >= 1"):
        ngrams.KneserNey(0, [0, 1], 3)


# ----------------------------------------------------------------------------- looking inside


def test_lstm_states_give_the_cell_state_nn_lstm_ends_with(tiny):
    ids = torch.randint(96, (3, 150), generator=torch.Generator().manual_seed(0))  # more than one chunk of steps
    h, c = cell_traces.lstm_states(tiny.model, ids)
    with torch.no_grad():
        output, (h_n, c_n) = tiny.model.rnn(tiny.model.embedding(ids))
    torch.testing.assert_close(h, output)
    torch.testing.assert_close(c[:, -1], c_n[0])


def test_character_features_and_correlations():
    features = cell_traces.character_features("\nAn ox.\n")
    assert features["position in the word"].tolist() == [0, 1, 2, 0, 1, 2, 0, 0]
    assert features["position in the sentence"].tolist() == [0, 1, 2, 3, 4, 5, 6, 0]
    assert features["a vowel"].tolist() == [0, 1, 0, 0, 1, 0, 0, 0]
    values = np.stack([features["a letter"], -features["a letter"], features["a vowel"]], axis=1)
    r = cell_traces.correlations(values, features)["a letter"]
    np.testing.assert_allclose(r[:2], [1.0, -1.0], atol=1e-9)
    values = np.random.default_rng(0).normal(size=(500, 40)).astype(np.float32)  # more units than one block
    feature = values[:, 3] + np.random.default_rng(1).normal(size=500)
    expected = [np.corrcoef(values[:, unit], feature)[0, 1] for unit in range(40)]
    np.testing.assert_allclose(cell_traces.correlations(values, {"f": feature})["f"], expected, atol=1e-9)


def test_cell_values_cover_every_predicted_character(tiny):
    sentences = lm.load_sentences("validation")[:10]
    values, characters = cell_traces.cell_values_of(tiny, sentences)
    assert values.shape == (len(characters), 16)
    assert sorted(characters) == sorted(lm.START + lm.START.join(sentences))
    x, y = lm.stream_pieces(lm.stream(lm.encode_sentences(sentences, tiny.vocab), tiny.vocab), tiny.vocab.start_id, lm.EVALUATION_ROWS)
    _, c = cell_traces.lstm_states(tiny.model, x)
    np.testing.assert_array_equal(values, c[y != -100].numpy())  # the same values, in the same order


# ----------------------------------------------------------------------------- the sampling widget


def test_sample_explorer_state_gives_the_text_or_the_error(tiny):
    state = widgets.sample_explorer_state(tiny, "The", 0.8, 20, 0)
    assert state["error"] is None and state["text"] == tiny.sample("The", 20, 0.8, seed=0)
    assert "not in the vocabulary" in widgets.sample_explorer_state(tiny, "é", 0.8, 20, 0)["error"]


def test_sample_explorer_answers_each_control(tiny):
    explorer = widgets.SampleExplorer(tiny, prompt="The", temperature=0.8, length=30, seed=0)
    first = explorer.readout.value
    assert "<b>The</b>" in first
    explorer.prompt.value = ""
    assert explorer.readout.value != first and explorer.state["text"] == tiny.sample("", 30, 0.8, seed=0)
    explorer.seed.value = 1
    assert explorer.state["text"] == tiny.sample("", 30, 0.8, seed=1)
    explorer.prompt.value = "é"
    assert "not in the vocabulary" in explorer.readout.value
    assert repr(explorer) == "SampleExplorer(prompt='é', temperature=0.80, length=30, seed=1)"
