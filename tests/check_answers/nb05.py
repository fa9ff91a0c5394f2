"""Notebook 05, the text classifier: tokenize, last_real_states, masked_max, the classifier's forward, the training loop."""

import copy
import functools
import re

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from lstm_course import reviews, sentiment, text_models, training
from lstm_course.checks import check_classifier_forward, check_last_real_states, check_masked_max, check_tokenize, check_training_loop
from lstm_course.checks import text as text_checks
from lstm_course.checks import training_loop as training_checks
from lstm_course.reviews import tokenize as my_tokenize
from tests.check_answers import Answers
from tests.notebooks import notebook_definitions

tokenize, last_real_states, masked_max, SentenceClassifier, train = notebook_definitions(  # the notebook's solutions
    "05_text_classifier", "my_tokenize", "last_real_states", "masked_max", "SentenceClassifier", "train"
)

# ----------------------------------------------------------------------------- exercise 1: a tokenizer


def word_by_word(text):
    tokens = []
    for word in text.lower().split():
        tokens += re.findall(r"[^\W_]+(?=n't$)|n't$|'(?:s|re|ve|ll|d|m)\b|[^\W_]+|\S", word)
    return tokens


def regex(pattern, lower=True):
    return lambda text: re.findall(pattern, text.lower() if lower else text)


TOKENIZE = Answers(
    check=check_tokenize,
    solution=tokenize,
    others=[regex(r"[a-z0-9]+(?=n't)|n't|'(?:s|re|ve|ll|d|m)\b|[a-z0-9]+|[^\s]"), word_by_word],
    wrong=[
        (regex(r"[^\W_]+(?=n't\b)|n't\b|'(?:s|re|ve|ll|d|m)\b|[^\W_]+|\S", lower=False), "Lowercase the text first"),
        (lambda text: text.lower().split(), "Splitting on spaces leaves punctuation glued"),
        (regex(r"[\w']+|[^\w\s]"), "n't is a token of its own"),
        (regex(r"\w+|[^\w\s]"), "Split before the n"),
        (regex(r"\w+(?=n't)|n't|\w+|[^\w\s]"), "\"'s\" is a token of its own, apostrophe included"),
        (regex(r"[^\W_]+(?=n't\b)|n't\b|'(?:s|d)\b|[^\W_]+|\S"), "\"'re\", \"'ve\", \"'ll\", \"'m\" are tokens of their own"),  # the clitics of case 5 left out
        (regex(r"[^\W_]+(?=n't\b)|n't\b|'(?:s|re|ve|ll|d)\b|[^\W_]+|\S"), "\"'m\" is a token of its own"),
        (regex(r"[^\W_]+(?=n't\b)|n't\b|'(?:s|re|ve|ll|d|m)\b|[^\W_]+|[^\w\s]+"), "\"...\" is three tokens"),
        (lambda text: text, "Expected a list of strings, got str"),
        (lambda text: 1 / 0, "raised ZeroDivisionError"),
        (lambda text: None, "returned None"),
        (regex(r"[^\W_]+(?=n't\b)|n't\b|'[^\W_]+|[^\W_]+|\S"), "Only 's, 're, 've, 'll, 'd and 'm are tokens with their apostrophe"),
        (regex(r"[^\W_]+(?=n't\b)|n't\b|'(?:s|re|ve|ll|d|m)|[^\W_]+|\S"), "A clitic is a whole ending, up to the end of the word"),
        (regex(r"\w+(?=n't\b)|n't\b|'(?:s|re|ve|ll|d|m)\b|\w+|\S"), "an underscore is a mark, a token by itself"),
    ],
    course=[my_tokenize, functools.partial(reviews.tokenize), text_checks.rules()],
)

# ----------------------------------------------------------------------------- exercises 2 and 3: one vector per sentence


def gathered(output, lengths):
    steps = (lengths - 1).view(-1, 1, 1).expand(-1, 1, output.shape[2])  # (batch, 1, features)
    return output.gather(1, steps).squeeze(1)


def changes_lengths_in_place(output, lengths):
    lengths -= 1
    return output[torch.arange(output.shape[0]), lengths]


def one_value_off(output, lengths):
    states = last_real_states(output, lengths).clone()
    states[2, 1] += 1.0
    return states


def masks_in_place(output, lengths):
    for k, n in enumerate(lengths.tolist()):
        output[k, n:] = float("-inf")
    return output.max(dim=1).values


def mask_from_the_longest(output, lengths):
    padded = torch.arange(int(lengths.max()))[None, :] >= lengths[:, None]  # (batch, longest): too short where output has more steps
    return output.masked_fill(padded[:, :, None], float("-inf")).max(dim=1).values


LAST_REAL_STATES = Answers(
    check=check_last_real_states,
    solution=last_real_states,
    others=[gathered, lambda output, lengths: torch.stack([output[k, n - 1] for k, n in enumerate(lengths.tolist())])],
    wrong=[
        (lambda output, lengths: output[:, -1], "That is output[:, -1], the last padded step: for sentences 1, 2, 3"),
        (lambda output, lengths: output[:, 0], "That is output[:, 0]"),
        (lambda output, lengths: output[torch.arange(len(lengths)), (lengths - 2).clamp(min=0)], "one step too early"),
        (lambda output, lengths: output[torch.arange(len(lengths)), lengths], "index 6 is out of bounds for dimension 1 with size 6."),
        (lambda output, lengths: output[:, lengths - 1], "every sentence was taken at every sentence's length"),
        (lambda output, lengths: output, "reduce the time dimension, dim 1"),
        (lambda output, lengths: output[torch.arange(4), torch.tensor([5, 2, 0, 3])], "Case 2 (lengths [2, 5, 1, 5, 3]"),  # the first case only
        (changes_lengths_in_place, "changed its argument `lengths` in place"),
        (one_value_off, "for sentence 2 (length 1), feature 1: expected"),
        (lambda output, lengths: output[torch.arange(len(lengths)), lengths - 1 - lengths.max()], "This is case 1 plus 2 steps of pads"),
        (lambda output, lengths: last_real_states(output, lengths).numpy(), "should be a torch tensor, got a NumPy array"),
        (lambda output, lengths: last_real_states(output, lengths) * float("nan"), "holds NaN"),
        (lambda output, lengths: output.gather(0, (lengths - 1).view(-1, 1, 1).expand(-1, 1, output.shape[2])).squeeze(1),
         "index 5 is out of bounds for dimension 0 with size 4"),
        (lambda output, lengths: output[torch.arange(len(lengths)), lengths.clamp(max=output.shape[1] - 1)], "That is output[:, -1], the last padded step: for sentences 1, 2, 3"),
        (lambda output, lengths: output[:, lengths - 1].diagonal(), "that is transposed: one row per sentence"),
    ],
    course=[reviews.last_real_states, lambda output, lengths: reviews.last_real_states(output, lengths),
            functools.partial(reviews.last_real_states)],
)

MASKED_MAX = Answers(
    check=check_masked_max,
    solution=masked_max,
    others=[
        lambda output, lengths: torch.stack([output[k, :n].max(dim=0).values for k, n in enumerate(lengths.tolist())]),
        lambda output, lengths: torch.where(torch.arange(output.shape[1])[None, :, None] < lengths[:, None, None], output, -torch.inf).amax(1),
    ],
    wrong=[
        (lambda output, lengths: output.max(dim=1).values, "The pads (zeros here) count in the max"),
        (lambda output, lengths: masked_max(output, (lengths + 1).clamp(max=output.shape[1])), "The pads (zeros here) count in the max"),  # `>`
        (lambda output, lengths: output.mean(dim=1), "mean over time"),
        (lambda output, lengths: output.max(dim=1), "(values, indices) pair"),
        (lambda output, lengths: output.max(dim=2).values, "that reduces dim 2, the features"),
        (masks_in_place, "changed its argument `output` in place"),
        (mask_from_the_longest, "This is case 1 plus 2 steps of pads"),
    ],
    course=[text_checks.real_max, lambda output, lengths: text_checks.real_max(output, lengths)],
)

# ----------------------------------------------------------------------------- exercise 4: the classifier's forward


def answer(forward):
    """SentenceClassifier with another forward."""
    return type("Answer", (SentenceClassifier,), {"forward": forward})


def packed_output(self, ids, lengths, enforce_sorted=False, padding_value=0.0):
    packed, (h_n, _) = self.lstm(pack_padded_sequence(self.embedding(ids), lengths.cpu(), batch_first=True, enforce_sorted=enforce_sorted))
    return pad_packed_sequence(packed, batch_first=True, padding_value=padding_value)[0], h_n


def one_at_a_time(self, ids, lengths):
    vectors = [self.lstm(self.embedding(ids[k : k + 1, :n]))[0][0].max(dim=0).values for k, n in enumerate(lengths.tolist())]
    return self.fc(torch.stack(vectors))


def sorted_and_put_back(self, ids, lengths):
    order = lengths.argsort(descending=True)
    output, _ = packed_output(self, ids[order], lengths[order], enforce_sorted=True, padding_value=-1e9)
    return self.fc(output.max(dim=1).values)[order.argsort()]


def sorted_not_put_back(self, ids, lengths):
    order = lengths.argsort(descending=True, stable=True)
    return self.fc(packed_output(self, ids[order], lengths[order], enforce_sorted=True, padding_value=-1e9)[0].max(dim=1).values)


def lengths_on_the_gpu(self, ids, lengths):
    """What pack_padded_sequence raises for lengths on a GPU (this machine may have none)."""
    raise RuntimeError("'lengths' argument should be a 1D CPU int64 tensor, but got 1D cuda:0 Long tensor")


def doubles_its_embedding(self, ids, lengths):
    with torch.no_grad():
        self.embedding.weight.mul_(2.0)
    return SentenceClassifier.forward(self, ids, lengths)


def writes_into_lengths(self, ids, lengths):
    lengths -= 1  # each sentence's last step
    return SentenceClassifier.forward(self, ids, lengths + 1)


def under_no_grad(self, ids, lengths):
    with torch.no_grad():
        return SentenceClassifier.forward(self, ids, lengths)


class Renamed(SentenceClassifier):
    def __init__(self, vocab_size, embedding_dim=128, hidden_size=64):
        super().__init__(vocab_size, embedding_dim, hidden_size)
        self.linear = self.fc
        del self.fc


class PackageClassifier(text_models.LSTMClassifier):
    def __init__(self, vocab_size, embedding_dim=128, hidden_size=64):
        super().__init__(vocab_size, embedding_dim, hidden_size, num_layers=1, pooling="max")


def with_the_package_model(self, ids, lengths):
    model = text_models.LSTMClassifier(self.embedding.num_embeddings, self.embedding.embedding_dim, self.lstm.hidden_size, num_layers=1, pooling="max")
    model.load_state_dict(self.state_dict())
    return model(ids, lengths)


def unpacked_time_first(self, ids, lengths):
    """pad_packed_sequence without batch_first: (seq, batch, 2 * hidden), then a max over dim 1."""
    packed, _ = self.lstm(pack_padded_sequence(self.embedding(ids), lengths.cpu(), batch_first=True, enforce_sorted=False))
    return self.fc(pad_packed_sequence(packed, padding_value=float("-inf"))[0].max(dim=1).values)


CLASSIFIER_FORWARD = Answers(
    check=check_classifier_forward,
    solution=SentenceClassifier,
    others=[answer(one_at_a_time), answer(sorted_and_put_back)],
    wrong=[
        (answer(lambda self, ids, lengths: self.fc(self.lstm(self.embedding(ids))[0].max(dim=1).values)), "the batch was not packed"),
        (answer(lambda self, ids, lengths: self.fc(self.lstm(self.embedding(ids))[0][:, -1])), "That is output[:, -1] of a batch not packed"),
        (answer(lambda self, ids, lengths: self.fc(packed_output(self, ids, lengths)[0].max(dim=1).values)), "The max sees the pads"),
        (answer(lambda self, ids, lengths: self.fc(packed_output(self, ids, lengths, enforce_sorted=True)[0].max(dim=1).values)),
         "pass enforce_sorted=False"),
        (answer(sorted_not_put_back), "order of the sorted lengths"),
        (answer(lengths_on_the_gpu), "pass lengths.cpu()"),
        (answer(lambda self, ids, lengths: self.fc(packed_output(self, ids, lengths, padding_value=-1e9)[0][..., : self.lstm.hidden_size].max(dim=1).values)),
         "it got one direction's"),
        (answer(lambda self, ids, lengths: self.fc(packed_output(self, ids, lengths, padding_value=-1e9)[0].max(dim=2).values)),
         "max-pool output (batch, seq, 2 * hidden_size) over time, dim 1"),
        (answer(lambda self, ids, lengths: self.fc(packed_output(self, ids, lengths, padding_value=-1e9)[0].max(dim=0).values)),
         "the max went over the sentences, not over time"),
        (answer(lambda self, ids, lengths: self.fc(torch.cat([*packed_output(self, ids, lengths)[1]], dim=1))), "logits of the final states h_n"),
        (answer(lambda self, ids, lengths: torch.softmax(SentenceClassifier.forward(self, ids, lengths), dim=1)), "probabilities (a softmax)"),
        (answer(lambda self, ids, lengths: self.fc(packed_output(self, ids, lengths)[0])), "One pair per step"),
        (answer(doubles_its_embedding), "changed the model's weights in place"),
        (answer(writes_into_lengths), "changed its argument `lengths` in place"),
        (answer(under_no_grad), "carries no gradient"),
        (answer(lambda self, ids, lengths: self.fc(packed_output(self, ids, lengths, padding_value=-1e9)[0].max(dim=1).values.detach())),
         "does not depend on 9 of the 11 weight tensors"),
        (answer(lambda self, ids, lengths: SentenceClassifier.forward(self, ids, lengths).detach().numpy()), "got a NumPy array"),
        (SentenceClassifier(10), "Pass the class itself, without ()"),
        (Renamed, "Keep the notebook's __init__"),
        (answer(lambda self, ids: self.fc(self.lstm(self.embedding(ids))[0].max(dim=1).values)), "Keep the signature `forward(self, ids, lengths)`"),
        (answer(unpacked_time_first), "the max went over the sentences, not over time"),
    ],
    course=[functools.partial(text_models.LSTMClassifier, num_layers=1, pooling="max"), PackageClassifier, answer(with_the_package_model)],
)

# ----------------------------------------------------------------------------- exercise 5: the training loop


def with_slip(slip=None):
    """A training loop written as a learner would, with one ``slip`` (None: none)."""

    def train(model, optimizer, train_batches, validation_batches, epochs, clip):
        accuracies, best = [], None
        for epoch in range(epochs):
            if slip != "no train()":
                model.train()
            for ids, lengths, labels in train_batches:
                loss = nn.functional.cross_entropy(model(ids, lengths), labels, reduction="sum" if slip == "summed loss" else "mean")
                if slip == "step before backward":
                    optimizer.zero_grad()
                    optimizer.step()
                    loss.backward()
                    continue
                if slip not in ("no zero_grad", "zero_grad once per epoch", "zero_grad after backward", "zero_grad once"):
                    optimizer.zero_grad()
                if slip == "zero_grad once" and epoch == 0 and ids is train_batches[0][0]:
                    optimizer.zero_grad()
                if slip == "zero_grad once per epoch" and ids is train_batches[0][0]:
                    optimizer.zero_grad()
                loss.backward()
                if slip == "two backwards":
                    nn.functional.cross_entropy(model(ids, lengths), labels).backward()
                if slip == "zero_grad after backward":
                    optimizer.zero_grad()
                if slip not in ("clip after step", "no clipping"):
                    torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
                optimizer.step()
                if slip == "clip after step":
                    torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
            if slip != "no eval()":
                model.eval()
            right, total, batch_accuracies = 0, 0, []
            with torch.set_grad_enabled(slip == "graphs in evaluation"):
                for ids, lengths, labels in train_batches if slip == "evaluated on train" else validation_batches:
                    correct = int((model(ids, lengths).argmax(dim=1) == labels).sum())
                    right, total = right + correct, total + len(labels)
                    batch_accuracies.append(correct / len(labels))
            accuracies.append(sum(batch_accuracies) / len(batch_accuracies) if slip == "mean of batches" else right / total)
            if slip == "last epoch kept":
                best = copy.deepcopy(model.state_dict())
            elif accuracies[-1] > max(accuracies[:-1], default=-1.0) or (slip == "last of the best" and accuracies[-1] == max(accuracies)):
                best = copy.deepcopy(model.state_dict())
        model.load_state_dict(best)
        return [float("nan")] * epochs if slip == "NaN" else accuracies

    return train


def another_right_way(model, optimizer, train_batches, validation_batches, epochs, clip):
    """A loss module, clipping by hand with PyTorch's formula, model.zero_grad() after the step, the best epoch found at the end."""
    loss_fn = nn.CrossEntropyLoss()
    snapshots, accuracies = [], []
    for _ in range(epochs):
        model.train()
        for ids, lengths, labels in train_batches:
            loss_fn(model(ids, lengths), labels).backward()
            norm = torch.sqrt(sum((p.grad ** 2).sum() for p in model.parameters()))
            if norm > clip:
                for p in model.parameters():
                    p.grad.mul_(clip / (norm + 1e-6))
            optimizer.step()
            model.zero_grad()
        model.eval()
        with torch.no_grad():
            predictions = torch.cat([model(ids, lengths).argmax(1) for ids, lengths, _ in validation_batches])
            labels = torch.cat([labels for _, _, labels in validation_batches])
        accuracies.append((predictions == labels).float().mean())  # one-element tensors: numbers all the same
        snapshots.append({name: value.clone() for name, value in model.state_dict().items()})
    model.load_state_dict(snapshots[int(np.argmax([float(a) for a in accuracies]))])
    return accuracies


def own_optimizer(model, optimizer, train_batches, validation_batches, epochs, clip):
    return train(model, torch.optim.Adam(model.parameters(), lr=0.1), train_batches, validation_batches, epochs, clip)


class GivenBatches(sentiment.Classification):
    """The course's task for a classifier, on the batches as given."""

    def steps(self, train, batch_size):
        return len(train)

    def batches(self, train, batch_size, generator):
        return train


def with_the_course_s_fit(model, optimizer, train_batches, validation_batches, epochs, clip):
    history = training.fit(model, GivenBatches(), train_batches, validation_batches, epochs=epochs, lr=0.1, batch_size=None, clip=clip,
                           progress=False)
    return history.validation_accuracy


TRAINING_LOOP = Answers(
    check=check_training_loop,
    solution=train,
    others=[with_slip(), another_right_way],
    wrong=[
        (with_slip("no zero_grad"), "No `optimizer.zero_grad()`"),
        (with_slip("zero_grad once"), "`optimizer.zero_grad()` only before the first batch"),
        (with_slip("evaluated on train"), "never ran the validation batches (it was evaluated on the training batches)"),
        (with_slip("zero_grad once per epoch"), "was not called before step 2's backward"),
        (with_slip("zero_grad after backward"), "erased the gradients just computed"),
        (with_slip("step before backward"), "`optimizer.step()` came before `loss.backward()`"),
        (with_slip("two backwards"), "More than one `backward()` between two steps"),
        (with_slip("clip after step"), "clipped only after the step"),
        (with_slip("no clipping"), "clip it with `torch.nn.utils.clip_grad_norm_"),
        (with_slip("summed loss"), "the loss was summed over the batch"),
        (with_slip("no train()"), "with dropout off (in eval mode): call `model.train()`"),
        (with_slip("no eval()"), "with dropout on: call `model.eval()`"),
        (with_slip("graphs in evaluation"), "evaluate under `with torch.no_grad():`"),
        (with_slip("mean of batches"), "means of the batches' accuracies"),
        (with_slip("last epoch kept"), "ends with the last epoch's weights"),
        (with_slip("last of the best"), "keep the first epoch with the highest accuracy"),
        (with_slip("NaN"), "holds NaN after epoch 1"),
        (own_optimizer, "never through the `optimizer` that `train` was given"),
        (lambda model, *args: [0.5] * 6, "`optimizer.step()` was never called"),
        (lambda *args: None, "returned None"),
        (lambda model, optimizer, train, validation, epochs, clip: [0.5], "should return the list of the 6 validation accuracies"),
    ],
    course=[with_the_course_s_fit, lambda *args: training_checks.reference_run()[1].validation_accuracy,
            lambda model, optimizer, train_batches, validation_batches, epochs, clip: training.loop(
                model, train_batches, validation_batches, False, "", epochs, 0.1, None, 0.0, 0, clip, None, GivenBatches()).validation_accuracy],
)

ANSWERS = [TOKENIZE, LAST_REAL_STATES, MASKED_MAX, CLASSIFIER_FORWARD, TRAINING_LOOP]
