"""Recall the first symbol after a long gap: the task that shows why the LSTM exists.

Each sequence starts with one of ``NUM_SYMBOLS`` symbols; then come ``gap`` steps of noise
(random distractor symbols); after the last step the model must say which symbol came first.
Inputs are one-hot, ``(batch, 1 + gap, INPUT_SIZE)``; the target is the first symbol ``(batch,)``.
Chance is ``1 / NUM_SYMBOLS``.

Notebook 06 trains a plain ``nn.RNN``, an ``nn.LSTM`` and an ``nn.GRU`` on it and measures how
the gradient of the loss reaches back to each time step's input.
"""

import copy

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

from lstm_course.training import fit

NUM_SYMBOLS = 4  # the symbols to recall: one-hot positions 0..3
NUM_NOISE = 4  # the distractors in the gap: one-hot positions 4..7
INPUT_SIZE = NUM_SYMBOLS + NUM_NOISE
GAP = 50  # the gap the models are tested on
CHANCE = 1 / NUM_SYMBOLS
LETTERS = "ABCD" + "wxyz"  # how a sequence is printed: the symbols to recall, then the noise


def make_batch(batch_size, gap=GAP, generator=None):
    """``x`` ``(batch, 1 + gap, INPUT_SIZE)`` one-hot, ``target`` ``(batch,)``: the first symbol."""
    target = torch.randint(NUM_SYMBOLS, (batch_size,), generator=generator)
    noise = NUM_SYMBOLS + torch.randint(NUM_NOISE, (batch_size, gap), generator=generator)
    symbols = torch.cat([target[:, None], noise], dim=1)  # (batch, 1 + gap)
    return nn.functional.one_hot(symbols, INPUT_SIZE).float(), target


def format_sequence(x):
    """One sequence ``(seq, INPUT_SIZE)`` as letters: ``"C x z w ..."``."""
    return " ".join(LETTERS[k] for k in x.argmax(dim=-1).tolist())


def test_batch(batch_size=512, gap=GAP, seed=1234):
    """A fixed batch to measure on, drawn from its own generator so training does not change it."""
    return make_batch(batch_size, gap, torch.Generator().manual_seed(seed))


class RecallModel(nn.Module):
    """A recurrent layer (``nn.RNN``, ``nn.LSTM`` or ``nn.GRU``) and a linear read-out of its last output."""

    def __init__(self, kind="lstm", hidden_size=32):
        super().__init__()
        layers = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
        if kind not in layers:
            raise ValueError(f"kind should be 'rnn', 'lstm' or 'gru', got {kind!r}")
        self.kind = kind
        self.recurrent = layers[kind](INPUT_SIZE, hidden_size, batch_first=True)
        self.readout = nn.Linear(hidden_size, NUM_SYMBOLS)

    def forward(self, x):  # x: (batch, seq, INPUT_SIZE)
        output, _ = self.recurrent(x)  # (batch, seq, hidden_size)
        return self.readout(output[:, -1])  # (batch, NUM_SYMBOLS): scores after the last step


def set_forget_bias(lstm, value=1.0):
    """Make the forget gate's bias ``b_ih + b_hh`` equal ``value`` in every unit (rows H:2H, order i, f, g, o)."""
    hidden = lstm.hidden_size
    with torch.no_grad():
        lstm.bias_ih_l0[hidden : 2 * hidden] = value
        lstm.bias_hh_l0[hidden : 2 * hidden] = 0.0


def make_model(kind, hidden_size=32, forget_bias=None, seed=0):
    """A freshly initialised RecallModel; ``forget_bias`` (LSTM only) overrides PyTorch's random one."""
    torch.manual_seed(seed)
    model = RecallModel(kind, hidden_size)
    if forget_bias is not None:
        if kind != "lstm":
            raise ValueError("only an LSTM has a forget gate")
        set_forget_bias(model.recurrent, forget_bias)
    return model


def input_gradient_norms(model, x, target):
    """``||dL/dx_t||`` for every time step t, as an array ``(seq,)``; L is the mean cross-entropy.

    Measured on a float64 copy of the model: float32 would round the smallest norms to zero.
    """
    model = copy.deepcopy(model).double()
    x = x.double().requires_grad_(True)
    loss = nn.functional.cross_entropy(model(x), target)
    (grad,) = torch.autograd.grad(loss, x)  # (batch, seq, INPUT_SIZE); the model's .grad untouched
    return grad.norm(dim=(0, 2)).numpy()  # norm over batch and features, one per time step


def scaled_recurrence(model, factor):
    """A copy of ``model`` whose recurrent weight matrix ``weight_hh_l0`` is multiplied by ``factor``."""
    model = copy.deepcopy(model)
    with torch.no_grad():
        model.recurrent.weight_hh_l0.mul_(factor)
    return model


def spectral_radius(model):
    """The largest absolute eigenvalue of an ``nn.RNN``'s recurrent matrix: above 1, its state can grow."""
    return torch.linalg.eigvals(model.recurrent.weight_hh_l0.detach()).abs().max().item()


def accuracy(model, x, target):
    """The fraction of sequences whose first symbol the model names."""
    with torch.no_grad():
        return (model(x).argmax(dim=1) == target).float().mean().item()


class Recall:
    """The task `training.fit` runs for the recall task. There is no fixed training set: each
    "epoch" is ``eval_every`` fresh batches, each with its own gap drawn from ``min_gap..max_gap``;
    the validation data is a fixed batch, ``test_batch()``. The last epoch's weights are kept."""

    keep_best = None

    def __init__(self, max_gap=GAP, min_gap=1, eval_every=25):
        self.max_gap, self.min_gap, self.eval_every = max_gap, min_gap, eval_every

    def steps(self, train, batch_size):
        return self.eval_every

    def batches(self, train, batch_size, generator):
        for _ in range(self.eval_every):
            gap = int(torch.randint(self.min_gap, self.max_gap + 1, (1,), generator=generator))
            yield make_batch(batch_size, gap, generator)

    def loss(self, model, batch, device):
        x, target = batch
        return nn.functional.cross_entropy(model(x.to(device)), target.to(device)), len(target)

    def evaluate(self, model, test):
        x, target = test
        logits = model(x)
        return nn.functional.cross_entropy(logits, target).item(), (logits.argmax(dim=1) == target).float().mean().item()


def train(model, steps=400, max_gap=GAP, min_gap=1, batch_size=64, lr=1e-2, clip=1.0, seed=0, eval_every=25, stop_at=None,
          progress=False):
    """Adam on batches whose gap is drawn from min_gap..max_gap (one gap per batch), gradients clipped.

    Short gaps give an early learning signal; the test is always at gap ``GAP``. Every
    ``eval_every`` steps records the mean training loss since the last record and the accuracy
    on ``test_batch()``; ``stop_at`` stops as soon as that accuracy reaches it. ``clip``: the
    largest total norm of the gradient (``None``: no clipping). Returns the history, a dict of
    lists; ``grad_norm`` holds the gradient's total norm at every step, before clipping. The loop
    is the course's one, `training.fit`, given the task `Recall`.
    """
    if steps % eval_every:
        raise ValueError(f"steps should be a multiple of eval_every ({eval_every}), got {steps}")
    history = fit(model, Recall(max_gap, min_gap, eval_every), None, test_batch(), epochs=steps // eval_every, lr=lr,
                  batch_size=batch_size, seed=seed, clip=clip, stop_at=stop_at, progress=progress,
                  description=f"recall, {steps} steps")
    return {"step": [eval_every * epoch for epoch in range(1, len(history.validation_accuracy) + 1)],
            "loss": history.train_loss, "accuracy": history.validation_accuracy, "grad_norm": history.grad_norm}


def steps_to_reach(history, bar):
    """The first recorded step whose test accuracy is at least ``bar``, or None."""
    return next((step for step, acc in zip(history["step"], history["accuracy"]) if acc >= bar), None)


def answers_by_symbol(model, x, target):
    """``counts[s, a]``: how often the model answers ``a`` when the first symbol was ``s``, ``(NUM_SYMBOLS, NUM_SYMBOLS)``."""
    with torch.no_grad():
        answers = model(x).argmax(dim=1)
    return np.bincount((target * NUM_SYMBOLS + answers).numpy(), minlength=NUM_SYMBOLS**2).reshape(NUM_SYMBOLS, NUM_SYMBOLS)


def accuracy_by_gap(model, gaps, batch_size=512, seed=99):
    """The model's accuracy at each gap length, as an array ``(len(gaps),)``."""
    return np.array([accuracy(model, *test_batch(batch_size, gap, seed)) for gap in gaps])


# ----------------------------------------------------------------------------- plots


def plot_gradient_norms(panels, title=None):
    """One panel per entry of ``panels`` (title -> {label: norms (seq,)}), log scale, shared y-axis."""
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 3.8), sharey=True, squeeze=False)
    for ax, (panel_title, curves) in zip(axes[0], panels.items()):
        for label, norms in curves.items():
            ax.semilogy(np.arange(len(norms)), norms, label=label, lw=2, **_style(label))
        ax.set_title(panel_title)
        ax.set_xlabel("time step t (0 = the symbol to recall)")
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(loc="lower right")
    axes[0, 0].set_ylabel("‖dL/dx_t‖  (log scale)")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_training(histories, title="Accuracy at gap 50 while training"):
    """Test accuracy against training step, one line per model (label -> history)."""
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    for label, history in histories.items():
        ax.plot(history["step"], history["accuracy"], label=label, lw=2, **_style(label))
    ax.axhline(CHANCE, color="grey", ls=":", lw=1, label=f"chance ({CHANCE:.0%})")
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("training step")
    ax.set_ylabel("test accuracy")
    ax.set_title(title)
    ax.legend(loc="center right")
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    return fig


def plot_gradient_norm_in_training(histories, clip=1.0, title="The gradient's norm at every training step"):
    """The total gradient norm before clipping against training step, log scale, one line per model."""
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    for label, history in histories.items():
        steps = np.arange(1, len(history["grad_norm"]) + 1)
        ax.semilogy(steps, history["grad_norm"], label=label, lw=1, **_style(label))
    ax.axhline(clip, color="black", ls=":", lw=1, label=f"clipped to {clip:g}")
    ax.set_xlabel("training step")
    ax.set_ylabel("‖gradient‖ before clipping")
    ax.set_title(title)
    ax.legend(loc="upper right", fontsize="small")
    ax.grid(True, which="major", alpha=0.3)
    fig.tight_layout()
    return fig


def _style(label):
    """The same look for the same model in every plot: RNN red (orange at learning rate 0.001), LSTM blue, LSTM with forget bias 1 green dashed, GRU purple."""
    label = label.lower()
    if "rnn" in label:
        return {"color": "tab:orange" if "0.001" in label else "tab:red"}  # orange: a smaller learning rate
    if "gru" in label:
        return {"color": "tab:purple"}
    if "bias" in label:
        return {"color": "tab:green", "ls": "--"}  # dashed: visible where it lies on the LSTM's line
    if "lstm" in label:
        return {"color": "tab:blue"}
    return {}  # anything else: matplotlib's colour cycle
