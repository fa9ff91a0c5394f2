"""Notebook 05's sentiment classifiers: training one on the review sentences, and judging it.

    classifier = train_classifier(model="lstm", seed=0)
    classifier.predict_proba(["A gem.", "A mess."])  # probability of fresh, one per sentence
    classifier.accuracy("test")

The data, tokens and batches are in `lstm_course.reviews`, the models in `lstm_course.text_models`.
"""

import numpy as np
import torch
from torch import nn

from lstm_course.reviews import ORDER_PAIRS, Review, Vocabulary, batches, encode_reviews, course_splits, tokenize
from lstm_course.text_models import build_model
from lstm_course.training import History, default_device, fit, load_checkpoint, save_checkpoint

# ----------------------------------------------------------------------------- training


@torch.no_grad()
def predict_logits(model, data, batch_size=512):
    """Logits (n, 2) of an EncodedSplit, in its order, with the model in eval mode."""
    model.eval()
    device = next(model.parameters()).device
    out = [model(ids.to(device), lengths).cpu() for ids, lengths, _ in batches(data, batch_size)]
    return torch.cat(out)


def evaluate(model, data, batch_size=512):
    """(mean cross-entropy, accuracy) of a model on an EncodedSplit."""
    logits = predict_logits(model, data, batch_size)
    loss = nn.functional.cross_entropy(logits, data.labels).item()
    return loss, (logits.argmax(dim=1) == data.labels).float().mean().item()


class Classification:
    """The task `training.fit` runs for a classifier: shuffled padded batches of sentences (bucketed by
    length, see `batches`), cross-entropy on the labels, the epoch of best validation accuracy kept."""

    keep_best = "accuracy"

    def __init__(self, bucket=0):
        self.bucket = bucket

    def steps(self, train, batch_size):
        return (len(train) + batch_size - 1) // batch_size

    def batches(self, train, batch_size, generator):
        return batches(train, batch_size, shuffle=True, generator=generator, bucket=self.bucket)

    def loss(self, model, batch, device):
        ids, lengths, labels = batch
        return nn.functional.cross_entropy(model(ids.to(device), lengths), labels.to(device)), len(labels)

    def evaluate(self, model, validation):
        return evaluate(model, validation)


# ----------------------------------------------------------------------------- one call for the whole recipe

MIN_COUNT = 2  # a token seen once in training becomes <unk>, so the model learns what <unk> means
BUCKET = 20  # see `batches`
# name -> how it is trained; the models themselves are in text_models.MODELS
TRAINING = {
    "bow": dict(epochs=10, lr=0.003, batch_size=64),  # the best of three recipes on the validation split
    "lstm": dict(epochs=10, lr=0.003, batch_size=64),
    "two-layer": dict(epochs=10, lr=0.003, batch_size=64),
    "lstm+bow": dict(epochs=10, lr=0.003, batch_size=64),
}


class TextClassifier:
    """A trained model with its vocabulary: ``predict_proba``, ``accuracy``, ``save`` and ``load``."""

    def __init__(self, name, model, vocab, options, history=None):
        self.name, self.model, self.vocab, self.options, self.history = name, model, vocab, options, history

    def __repr__(self):
        size = sum(p.numel() for p in self.model.parameters())
        return f"TextClassifier({self.name!r}, {len(self.vocab)} tokens, {size:,} parameters)"

    @property
    def device(self):
        return next(self.model.parameters()).device

    def encode(self, sentences):
        return encode_reviews([Review(text, 0) for text in sentences], self.vocab)

    def predict_proba(self, sentences):
        """Probability of ``fresh`` for each sentence: a NumPy array (n,)."""
        if isinstance(sentences, str):
            raise TypeError("predict_proba takes a list of sentences; for one sentence, pass [sentence]")
        logits = predict_logits(self.model, self.encode(sentences))
        return torch.softmax(logits, dim=1)[:, 1].numpy()

    def predict(self, sentences):
        return (self.predict_proba(sentences) > 0.5).astype(int)

    def accuracy(self, split="test"):
        """Accuracy on one split of the course's data, or on a list of Review."""
        reviews = course_splits()[split] if isinstance(split, str) else split
        labels = np.array([review.label for review in reviews])
        return float((self.predict([review.text for review in reviews]) == labels).mean())

    def save(self, path):
        """A folder with ``weights.pt`` (the state_dict: tensors only) and ``classifier.json`` (plain data)."""
        about = {"name": self.name, "options": self.options, "vocabulary": self.vocab.to_json()}
        if self.history is not None:
            about["history"] = self.history.__dict__
        return save_checkpoint(path, self.model, about, "classifier.json")

    @classmethod
    def load(cls, path, device=None):
        """Rebuild the model from ``classifier.json``, then load the weights with ``weights_only=True``."""
        def build(about):
            return build_model(about["name"], len(Vocabulary.from_json(about["vocabulary"])), **about["options"])

        model, about = load_checkpoint(path, "classifier.json", build, device or default_device())
        history = History(**about["history"]) if "history" in about else None
        return cls(about["name"], model.eval(), Vocabulary.from_json(about["vocabulary"]), about["options"], history)


class Averaged:
    """Several trained classifiers as one: the mean of their probabilities of fresh."""

    def __init__(self, *classifiers):
        self.classifiers = classifiers

    def __repr__(self):
        return f"Averaged({', '.join(map(repr, self.classifiers))})"

    def predict_proba(self, sentences):
        return np.mean([classifier.predict_proba(sentences) for classifier in self.classifiers], axis=0)

    predict = TextClassifier.predict
    accuracy = TextClassifier.accuracy


def train_classifier(model="lstm", seed=0, progress=True, limit=None, epochs=None, lr=None, batch_size=None,
                     device=None, **options):
    """Train one of ``text_models.MODELS`` on the course's training split, the best epoch chosen on validation.

    ``options`` change the model (``hidden_size=32``, ``packed=False``, ...); ``epochs``, ``lr`` and
    ``batch_size`` change its TRAINING recipe; ``limit`` trains on only the first ``limit``
    training sentences (for quick tests). Returns a TextClassifier.
    """
    splits = course_splits()
    train = list(splits["train"][:limit])
    vocab = Vocabulary.build((tokenize(review.text) for review in train), MIN_COUNT)
    torch.manual_seed(seed)  # the initial weights and dropout
    net = build_model(model, len(vocab), **options).to(device or default_device())
    changes = {"epochs": epochs, "lr": lr, "batch_size": batch_size}
    recipe = {**TRAINING[model], **{key: value for key, value in changes.items() if value is not None}}
    history = fit(net, Classification(BUCKET), encode_reviews(train, vocab), encode_reviews(splits["validation"], vocab),
                  seed=seed, progress=progress, description=f"{model}, seed {seed}", **recipe)
    return TextClassifier(model, net.eval(), vocab, options, history)


TIE = 1e-6  # closer than this, two probabilities count as equal: a sum in another order rounds differently


def order_pair_scores(classifier):
    """How a classifier does on ORDER_PAIRS.

    ``accuracy``: over the 48 sentences, at the threshold 0.5; ``pairs_both_right``: pairs with
    both sentences right; ``pairs_ranked``: pairs whose fresh sentence gets the higher P(fresh)
    (a tie, as a bag of words gives, is not ranked); ``probabilities``: (pairs, 2), fresh first.
    """
    p = classifier.predict_proba([text for pair in ORDER_PAIRS for text in pair]).reshape(-1, 2)
    right = np.stack([p[:, 0] > 0.5, p[:, 1] < 0.5], axis=1)  # (pairs, 2)
    return {"accuracy": float(right.mean()), "pairs_both_right": int(right.all(axis=1).sum()),
            "pairs_ranked": int((p[:, 0] - p[:, 1] > TIE).sum()), "pairs": len(ORDER_PAIRS), "probabilities": p}


def confusion_matrix(labels, predicted, num_classes=2):
    """Counts (true label, predicted label): row = the truth, column = the prediction."""
    matrix = np.zeros((num_classes, num_classes), dtype=int)
    np.add.at(matrix, (np.asarray(labels), np.asarray(predicted)), 1)
    return matrix
