"""Notebook 08's data and taggers: the treebanks, B/M/E/S, Viterbi, baselines, scores, training through fit."""

import itertools
import math
import random

import numpy as np
import pytest
import torch

from lstm_course import replay
from lstm_course import tagging as tg
from lstm_course.training import fit
from lstm_course.treebanks import UPOS, load_pos, load_segmentation

TINY_POS = dict(embedding_dims=(16, 4, 8), hidden_size=16, train_size=400, epochs=2, batch_size=16, lr=1e-2)
TINY_SEGMENT = dict(embedding_dims=(16, 4, 8), hidden_size=16, train_size=120, epochs=3, batch_size=8, lr=1e-2)


pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


@pytest.fixture(scope="module")
def tiny_pos():
    return tg.train_tagger("pos", seed=0, progress=False, **TINY_POS)


@pytest.fixture(scope="module")
def tiny_segmenter():
    return tg.train_tagger("segment", seed=0, progress=False, **TINY_SEGMENT)


# ----------------------------------------------------------------------------- the data


@pytest.mark.parametrize("split, sentences, words", [("train", 12544, 204577), ("validation", 2001, 25147),
                                                     ("test", 2077, 25094)])
def test_english_splits_have_the_treebanks_counts_and_only_upos_tags(split, sentences, words):
    data = load_pos(split)
    assert len(data) == sentences and sum(len(w) for w, _ in data) == words  # UD English-EWT's stats.xml
    assert all(len(w) == len(t) > 0 for w, t in data)
    assert {tag for _, tags in data for tag in tags} == set(UPOS)
    assert all(isinstance(word, str) and word and "\t" not in word for words, _ in data for word in words)


def test_english_words_are_syntactic_words_not_multiword_tokens():
    words = [word for sentence, _ in load_pos("train") for word in sentence]
    assert "n't" in words and "don't" not in words  # "don't" is the token, "do" + "n't" its words


@pytest.mark.parametrize("split, sentences, words", [("train", 500, 12663), ("validation", 250, 5853),
                                                     ("test", 250, 6159)])
def test_chinese_splits(split, sentences, words):
    data = load_segmentation(split)
    assert len(data) == sentences and sum(map(len, data)) == words
    assert all(word and isinstance(word, str) for sentence in data for word in sentence)


def test_chinese_splits_do_not_share_sentences():
    texts = {split: {"".join(words) for words in load_segmentation(split)} for split in ("train", "validation", "test")}
    assert not texts["train"] & texts["test"] and not texts["validation"] & texts["test"]


def test_loaders_give_fresh_lists_and_check_the_split():
    load_pos("test")[0][0].append("changed")
    assert load_pos("test")[0][0][-1] != "changed"
    with pytest.raises(ValueError, match=r"split should be one of .*'validation'.*got 'dev'"):
        load_segmentation("dev")


# ----------------------------------------------------------------------------- B/M/E/S


def test_bmes_of_words():
    assert tg.bmes(["同样", "的", "加速度"]) == ["B", "E", "S", "B", "M", "E"]
    assert tg.bmes([]) == []


def test_bmes_round_trip_on_random_segmentations():
    rng = random.Random(0)
    for _ in range(300):
        words = ["".join(rng.choice("的是加速度abc1，") for _ in range(rng.randint(1, 5))) for _ in range(rng.randint(1, 9))]
        tags = tg.bmes(words)
        assert len(tags) == len("".join(words)) and tg.is_valid_bmes(tags)
        assert tg.words_from_bmes("".join(words), tags) == words


def test_invalid_sequences_are_read_by_the_documented_rule():
    assert tg.words_from_bmes("abcd", list("SMME")) == ["a", "bcd"]  # an M after an S begins a word
    assert tg.words_from_bmes("abc", list("BBE")) == ["a", "bc"]  # a B after a B ends the word before it
    assert tg.words_from_bmes("abc", list("MES")) == ["ab", "c"]  # an M first begins a word
    assert tg.words_from_bmes("abc", list("BMM")) == ["abc"]  # a word left open ends with the text
    rng = random.Random(1)
    for _ in range(300):
        text = "".join(rng.choice("xyz") for _ in range(rng.randint(0, 8)))
        tags = [rng.choice(tg.BMES) for _ in text]
        assert "".join(tg.words_from_bmes(text, tags)) == text


@pytest.mark.parametrize("tags, valid", [("", True), ("S", True), ("BE", True), ("BMME", True), ("SBES", True),
                                         ("B", False), ("M", False), ("E", False), ("SM", False), ("BS", False),
                                         ("BEE", False), ("BMS", False)])
def test_is_valid_bmes(tags, valid):
    assert tg.is_valid_bmes(list(tags)) is valid


def test_bad_bmes_inputs_get_clear_errors():
    with pytest.raises(ValueError, match="a list of str.*got str.*split it into words"):
        tg.bmes("同样的")
    with pytest.raises(ValueError, match="non-empty str, got ''"):
        tg.bmes(["同样", ""])
    with pytest.raises(ValueError, match="text has 3 characters, tags has 2"):
        tg.words_from_bmes("abc", ["B", "E"])
    with pytest.raises(ValueError, match="B, M, E or S, got 'X' at 1"):
        tg.words_from_bmes("ab", ["B", "X"])


# ----------------------------------------------------------------------------- Viterbi


def _brute_force(log_probs):
    """The best valid sequence, by trying every sequence of tags."""
    valid = (path for path in itertools.product(range(4), repeat=len(log_probs))
             if tg.is_valid_bmes([tg.BMES[k] for k in path]))
    return list(max(valid, key=lambda path: sum(log_probs[t, k] for t, k in enumerate(path))))


def test_viterbi_equals_brute_force_on_tiny_cases_and_is_always_valid():
    rng = np.random.default_rng(0)
    for steps in range(1, 6):
        for _ in range(40):
            log_probs = np.log(rng.dirichlet(np.ones(4), size=steps))
            path = tg.viterbi(log_probs)
            assert tg.is_valid_bmes([tg.BMES[k] for k in path])
            assert path == _brute_force(log_probs)


def test_viterbi_keeps_a_valid_argmax_and_fixes_an_invalid_one():
    probs = np.array([[0.7, 0.1, 0.1, 0.1], [0.1, 0.1, 0.7, 0.1]])  # B E: valid
    assert tg.viterbi(np.log(probs)) == [0, 2]
    invalid = np.array([[0.1, 0.1, 0.1, 0.7], [0.1, 0.55, 0.3, 0.05]])  # argmax S M: invalid
    path = tg.viterbi(np.log(invalid))
    assert path != list(invalid.argmax(axis=1)) and tg.is_valid_bmes([tg.BMES[k] for k in path])
    assert tg.viterbi(np.zeros((0, 4))) == []


def test_viterbi_with_no_allowed_sequence_says_so():
    with pytest.raises(ValueError, match="no allowed sequence"):
        tg.viterbi(np.zeros((1, 4)), starts=np.array([False, True, False, False]))  # only M may begin, and M cannot end
    with pytest.raises(ValueError, match=r"\(steps, tags\)"):
        tg.viterbi(np.zeros(4))


# ----------------------------------------------------------------------------- baselines and scores


def test_most_frequent_tag_on_hand_made_data():
    train = [(["the", "duck", "runs"], ["DET", "NOUN", "VERB"]), (["I", "duck"], ["PRON", "VERB"]),
             (["a", "duck"], ["DET", "NOUN"]), (["geese"], ["NOUN"])]  # NOUN 3 times, DET and VERB twice
    baseline = tg.MostFrequentTag(train)
    assert baseline.tag(["the", "duck", "zebra"]) == ["DET", "NOUN", "NOUN"]  # unseen: the commonest tag, NOUN
    scores = tg.pos_scores(baseline, [(["duck", "zebra"], ["VERB", "ADJ"])], {"duck"})
    assert scores == {"accuracy": 0.0, "unseen_accuracy": 0.0, "unseen_share": 0.5}
    assert tg.pos_scores(baseline.tag, [(["a", "zebra"], ["DET", "NOUN"])], {"a"})["unseen_accuracy"] == 1.0


def test_forward_maximum_matching_takes_the_longest_word():
    vocabulary = {"研究", "研究生", "生命", "起源"}
    assert tg.forward_max_match("研究生命起源", vocabulary) == ["研究生", "命", "起源"]  # greedy: its known mistake
    assert tg.forward_max_match("", vocabulary) == []
    assert tg.forward_max_match("新词", vocabulary) == ["新", "词"]


def test_segmentation_scores_count_words_by_span():
    gold = [["研究", "生命", "起源"]]
    scores = tg.segmentation_scores(lambda text: ["研究生", "命", "起源"], gold, training_words={"研究", "生命"})
    assert scores["precision"] == pytest.approx(1 / 3) and scores["recall"] == pytest.approx(1 / 3)
    assert scores["f1"] == pytest.approx(1 / 3) and scores["unseen_recall"] == 1.0  # 起源 is the unseen word, found
    assert tg.segmentation_scores(lambda text: ["研究", "生命", "起源"], gold)["f1"] == 1.0


# ----------------------------------------------------------------------------- the model and training


def test_the_model_ignores_padding():
    torch.manual_seed(0)
    model = tg.BiLSTMTagger([10, 5], [6, 2], hidden_size=4, num_tags=3).eval()
    sentence = ([[2, 1], [3, 2], [4, 1]], [0, 1, 2])
    ids, lengths, labels = tg.make_batch([sentence, ([[5, 3]] * 6, [1] * 6)])
    assert ids.shape == (2, 6, 2) and labels[0, 3:].eq(tg.IGNORE).all()
    alone = model(*tg.make_batch([sentence])[:2])
    with torch.no_grad():
        assert torch.allclose(model(ids, lengths)[0, :3], alone[0], atol=1e-6)


def test_training_through_fit_lowers_the_loss(tiny_pos, tiny_segmenter):
    for tagger in (tiny_pos, tiny_segmenter):
        history = tagger.history
        assert history.step_loss[-1] < 0.6 * history.step_loss[0]
        assert history.validation_accuracy[history.best_epoch - 1] == max(history.validation_accuracy)
    assert len(tiny_pos.history.step_loss) == 2 * math.ceil(400 / 16)
    assert tiny_pos.history.best_validation_accuracy > 0.6  # the commonest tag alone scores about 0.17


def test_training_is_deterministic_and_options_are_checked(tiny_segmenter):
    again = tg.train_tagger("segment", seed=0, progress=False, **TINY_SEGMENT)
    assert again.history.step_loss == tiny_segmenter.history.step_loss
    with pytest.raises(ValueError, match=r"unknown options \['hidden'\]"):
        tg.train_tagger("pos", hidden=3)
    with pytest.raises(ValueError, match="task should be 'pos'.*or 'segment'.*got 'ner'"):
        tg.train_tagger("ner")


def test_the_tagger_tags_every_word(tiny_pos):
    words = ["I", "saw", "Zaphodian", "ducks", "in", "2031", "."]
    tags = tiny_pos.tag(words)
    assert len(tags) == len(words) and set(tags) <= set(UPOS)
    assert tiny_pos.tag([]) == [] and tiny_pos.tag_many([words, []]) == [tags, []]


def test_the_segmenter_keeps_every_character(tiny_segmenter):
    for text in ["同样的结果也不一样。", "Zaphod 在 2031 年来到了鼋鼍", "。", "x"]:
        for decode in ("viterbi", "argmax"):
            assert "".join(tiny_segmenter.segment(text, decode=decode)) == text
        assert tg.is_valid_bmes(tiny_segmenter.bmes_tags(text))
    assert tiny_segmenter.segment("") == []


def test_viterbi_decoding_is_never_invalid_where_argmax_can_be(tiny_segmenter):
    texts = ["".join(words) for words in load_segmentation("validation")[:60]]
    assert tg.invalid_share(tiny_segmenter, texts, "viterbi") == 0.0
    assert tg.invalid_share(tiny_segmenter, texts, "argmax") > 0.0  # a half-trained model breaks the rules


def test_bad_inputs_get_clear_errors(tiny_pos, tiny_segmenter):
    with pytest.raises(ValueError, match="words should be a list of str.*got str.*split it into words"):
        tiny_pos.tag("I saw her")
    with pytest.raises(ValueError, match="every word should be a non-empty str, got 3"):
        tiny_pos.tag(["I", 3])
    with pytest.raises(ValueError, match="text should be a str.*got list"):
        tiny_segmenter.segment(["同样", "的"])
    with pytest.raises(ValueError, match="text should be a str.*got int"):
        tiny_segmenter.segment(7)
    with pytest.raises(ValueError, match="decode should be 'viterbi'.*got 'beam'"):
        tiny_segmenter.segment("同样", decode="beam")


def test_one_direction_has_half_the_lstm():
    one = tg.train_tagger("segment", progress=False, **dict(TINY_SEGMENT, epochs=1, bidirectional=False))
    assert not one.model.lstm.bidirectional and one.model.out.in_features == TINY_SEGMENT["hidden_size"]
    assert "one direction" in repr(one)


def test_a_training_run_is_recorded_and_replayed(tmp_path, monkeypatch):
    monkeypatch.setattr(replay, "RUNS", tmp_path)
    monkeypatch.setenv(replay.RECORD, "08_test")
    small = dict(TINY_SEGMENT, train_size=32, epochs=1)
    recorded = tg.train_tagger("segment", seed=0, progress=False, **small)
    assert len(list(tmp_path.glob("08_test-*.pt"))) == 1, "the run's identity can be computed (the task hashes)"
    monkeypatch.delenv(replay.RECORD)
    monkeypatch.setenv(replay.REPLAY, "strict")  # no record: an error; so this run is the recorded one
    replayed = tg.train_tagger("segment", seed=0, progress=False, **small)
    assert replayed.history.step_loss == recorded.history.step_loss
    for name, value in recorded.model.state_dict().items():
        assert torch.equal(replayed.model.state_dict()[name], value), name


def test_the_task_runs_in_fit_on_its_own():
    task = tg.TokenTagging()
    train = [([[2], [3]], [0, 1]), ([[4]], [1]), ([[2], [2], [3]], [0, 0, 1])] * 4
    assert task.steps(train, 5) == 3 == len(list(task.batches(train, 5, torch.Generator().manual_seed(0))))
    torch.manual_seed(0)
    model = tg.BiLSTMTagger([5], [4], hidden_size=4, num_tags=2)
    history = fit(model, task, train, train[:3], epochs=2, batch_size=5, lr=0.05, progress=False)
    assert len(history.step_loss) == 6 and 0 <= history.validation_accuracy[-1] <= 1
