"""Notebook 04, bidirectional and stacked LSTMs: answers to its three exercises."""

import torch

from lstm_course import hand_lstm, shapes
from lstm_course.checks import check_backward_final_state, check_final_states, check_initial_states
from tests.check_answers import Answers
from tests.notebooks import notebook_definitions

backward_final_state, final_states, initial_states = notebook_definitions(  # the notebook's solutions
    "04_bidirectional_and_stacked", "backward_final_state", "final_states", "initial_states"
)

# ----------------------------------------------------------------------------- Exercise 1: the backward final state, from output


def zeroes_then_slices(output, hidden_size):
    answer = output[:, 0, hidden_size:].clone()
    output[:, -1] = 0
    return answer


def via_the_course(output, hidden_size):
    h_n = torch.zeros(2, output.shape[0], hidden_size)  # only its shape is read
    return shapes.final_states(output, h_n, 1, True, True)[0][:, hidden_size:]


def via_the_check(output, hidden_size):
    from lstm_course.checks.shapes import _mistakes as theirs  # the right answer, and the known mistakes

    h_n = torch.zeros(2, output.shape[0], hidden_size)
    return theirs(output, h_n, 1, True, True)[0][0][:, hidden_size:]


# ----------------------------------------------------------------------------- Exercise 2: the last layer's final states


def by_view(output, h_n, num_layers, bidirectional, batch_first):
    """A view of h_n, movedim, halves by chunk."""
    D = 2 if bidirectional else 1
    steps = output if batch_first else output.movedim(0, 1)
    halves = steps.chunk(D, dim=-1)
    from_output = torch.cat([halves[0][:, -1]] + [half[:, 0] for half in halves[1:]], dim=-1)
    last = h_n.view(num_layers, D, h_n.shape[1], h_n.shape[2])[-1]  # (D, batch, H)
    return from_output, last.permute(1, 0, 2).reshape(h_n.shape[1], -1)


def steps(output, batch_first):
    return output if batch_first else output.transpose(0, 1)


def half(output):
    return output.shape[-1] // 2


def wrong_output(wrong):
    """Right about h_n; from_output is ``wrong(output, h_n, num_layers, bidirectional, batch_first)``."""
    return lambda o, h, L, bi, bf: (wrong(o, h, L, bi, bf), final_states(o, h, L, bi, bf)[1])


def wrong_h_n(wrong):
    """Right about output; from_h_n is ``wrong(output, h_n, num_layers, bidirectional, batch_first)``."""
    return lambda o, h, L, bi, bf: (final_states(o, h, L, bi, bf)[0], wrong(o, h, L, bi, bf))


def wrong_two_directions(wrong):
    """Right about output, and about h_n with one direction; with two, from_h_n is ``wrong(h_n, num_layers)``."""
    return wrong_h_n(lambda o, h, L, bi, bf: wrong(h, L) if bi else h[-1])


def asserts_agreement(output, h_n, num_layers, bidirectional, batch_first):
    from_output, from_h_n = final_states(output, h_n, num_layers, bidirectional, batch_first)
    torch.testing.assert_close(from_output, from_h_n)
    return from_output, from_h_n


def zeroes_h_n(output, h_n, num_layers, bidirectional, batch_first):
    answer = final_states(output, h_n.clone(), num_layers, bidirectional, batch_first)
    h_n.zero_()
    return answer


def from_the_classifier(output, h_n, num_layers, bidirectional, batch_first):
    from lstm_course.text_models import LSTMClassifier

    head = type("Head", (), {"bidirectional": bidirectional})()
    return final_states(output, h_n, num_layers, bidirectional, batch_first)[0], LSTMClassifier._final_states(head, h_n)


def both_via_the_check(output, h_n, num_layers, bidirectional, batch_first):
    from lstm_course.checks.shapes import _mistakes as theirs  # the right answer, and the known mistakes

    return theirs(output, h_n, num_layers, bidirectional, batch_first)[0]


# ----------------------------------------------------------------------------- Exercise 3: initial states of the right shape


def from_the_weights(lstm, batch):
    """Sizes read from the parameters; new_zeros keeps their dtype."""
    first = lstm.weight_hh_l0  # (4 * hidden_size, width of h)
    layers = len([name for name, _ in lstm.named_parameters() if name.startswith("weight_hh")])  # one per layer and direction
    return first.new_zeros(layers, batch, first.shape[1]), first.new_zeros(layers, batch, first.shape[0] // 4)


def zeros(h_shape, c_shape):
    return torch.zeros(h_shape), torch.zeros(c_shape)


def layers(lstm):
    return lstm.num_layers * (2 if lstm.bidirectional else 1)


def drops_the_projection(lstm, batch):
    lstm.proj_size = 0  # now hidden_size wide states "fit" this module
    return initial_states(lstm, batch)


def fewer_layers(lstm, batch):
    lstm.num_layers = 1
    return initial_states(lstm, batch)


ANSWERS = [
    Answers(
        check=check_backward_final_state,
        solution=backward_final_state,
        others=[lambda output, H: output.chunk(2, dim=-1)[1][:, :1].squeeze(1), lambda output, H: output.narrow(2, H, H).select(1, 0)],
        wrong=[
            (lambda output, H: output[:, -1, H:], "You took output[:, -1, H:], the backward direction's FIRST step"),
            (lambda output, H: output[:, -1, :H], "FORWARD direction's final state (h_n[-2])"),
            (lambda output, H: output[:, 0, :H], "You took output[:, 0, :H], the forward direction's first step"),
            (lambda output, H: output[:, 0], "both directions at t = 0"),
            (lambda output, H: output[:, -1], "both directions at the last step"),
            (lambda output, H: output[:, :, H:], "the backward direction at every step"),
            (lambda output, H: output[0, :, H:], "output[0] is sample 0"),
            (lambda output, H: output[-1, :, H:], "output[-1] is the last sample"),
            (lambda output, H: 2 * output[:, 0, H:], "at sample 0, unit 0: expected 0.33613, got 0.672261"),
            (lambda output, H: output[:, 0, H:][:, :1], "should have shape (3, 3), got (3, 1)"),
            (lambda output, H: output.detach()[:, 0, H:], "carries no gradient"),
            (lambda output, H: output.detach().numpy()[:, 0, H:], "should be a torch tensor, got a NumPy array"),
            (lambda output, H: output[:, 0, H:] * float("nan"), "holds NaN at sample 0, unit 0"),
            (lambda output, H: output[:, 99], "raised IndexError"),
            (zeroes_then_slices, "used in an in-place operation"),
            (lambda output, H: None, "returned None"),
            (lambda output, H: output[:, :, H:].mean(dim=1), "You averaged the backward direction over the steps"),
        ],
        course=[via_the_course, via_the_check],
    ),
    Answers(
        check=check_final_states,
        solution=final_states,
        others=[by_view],
        wrong=[
            (wrong_two_directions(lambda h, L: h[-1]), "You returned h_n[-1] alone, the last layer's BACKWARD direction"),
            (wrong_two_directions(lambda h, L: h[-2]), "You returned h_n[-2] alone, the last layer's forward direction"),
            (wrong_two_directions(lambda h, L: torch.cat([h[-1], h[-2]], 1)), "You put the backward state first"),
            (wrong_two_directions(lambda h, L: h[-2:].reshape(h.shape[1], -1)), "mixes samples: dim 0 of h_n[-2:] is the direction"),
            (wrong_two_directions(lambda h, L: h[-2:]), "You returned the last layer's states stacked, (2, batch, H)"),
            (wrong_two_directions(lambda h, L: torch.cat([h[0], h[1]], 1)), "You took h_n[0] and h_n[1], layer 0"),
            (wrong_two_directions(lambda h, L: torch.cat(list(h.view(2, L, h.shape[1], -1)[-1]), 1)), "You viewed h_n as (num_directions, num_layers, batch, H)"),
            (wrong_two_directions(lambda h, L: torch.cat(list(h.view(2, L, h.shape[1], -1)[:, -1]), 1)), "You viewed h_n as (num_directions, num_layers, batch, H)"),
            (wrong_h_n(lambda o, h, L, bi, bf: torch.cat([h[:, -2], h[:, -1]], 1)), "You indexed h_n as if batch_first applied"),
            (wrong_h_n(lambda o, h, L, bi, bf: torch.cat(list((h.transpose(0, 1) if bf else h).reshape(L, 2 if bi else 1, h.shape[1], -1)[-1]), 1)),
             "You read h_n as if batch_first applied"),
            (wrong_output(lambda o, h, L, bi, bf: steps(o, bf)[:, -1]), "You took output[:, -1], both halves at the last step"),
            (wrong_output(lambda o, h, L, bi, bf: torch.cat([steps(o, bf)[:, 0, half(o):], steps(o, bf)[:, -1, :half(o)]], 1)),
             "You put the backward state first"),
            (wrong_output(lambda o, h, L, bi, bf: steps(o, bf)[:, -1, :h.shape[-1]]), "only the forward direction's final state, output[:, -1, :H]"),
            (wrong_output(lambda o, h, L, bi, bf: steps(o, bf)[:, 0]), "You took output[:, 0], both halves at t = 0"),
            (lambda o, h, L, bi, bf: final_states(o, h, L, bi, True), "You read output as if batch_first were True: with batch_first=False, output is (seq, batch, D * H)"),
            (wrong_output(lambda o, h, L, bi, bf: final_states(o, h, L, bi, False)[0]), "You read output as if batch_first were False: with batch_first=True, output is (batch, seq, D * H)"),
            (wrong_h_n(lambda o, h, L, bi, bf: final_states(o, h, L, bi, bf)[1] if bi else torch.cat([h[-2], h[-1]], 1)),
             "This LSTM has one direction: its final state is h_n[-1] alone"),
            (wrong_h_n(lambda o, h, L, bi, bf: final_states(o, h, L, bi, bf)[1] if bi else h[0]), "You returned h_n[0], layer 0's forward state"),
            (wrong_output(lambda o, h, L, bi, bf: final_states(o, h, L, bi, bf)[0] if bi else torch.cat(
                [steps(o, bf)[:, -1, :half(o)], steps(o, bf)[:, 0, half(o):]], 1)), "all forward, no backward half"),
            (wrong_output(lambda o, h, L, bi, bf: final_states(o, h, L, bi, bf)[0] if bi else steps(o, bf)[:, 0]),
             "You took output[:, 0], the first step"),
            (lambda o, h, L, bi, bf: (final_states(o, h, L, bi, bf)[1],) * 2, "This is what h_n holds, not output"),
            (lambda o, h, L, bi, bf: (final_states(o, h, L, bi, bf)[0],) * 2, "This is what output holds, not h_n"),
            (lambda o, h, L, bi, bf: final_states(o, h, L, bi, bf)[0], "Return 2 things, from_output, from_h_n"),
            (lambda o, h, L, bi: (o, h), "Keep the signature `final_states(output, h_n, num_layers, bidirectional, batch_first)`"),
            (lambda o, h, L, bi, bf: by_view(o, h, L, True, bf), "h_n is (num_layers * D, batch, H) either way"),
            (wrong_h_n(lambda o, h, L, bi, bf: 2 * final_states(o, h, L, bi, bf)[1]), "`from_h_n` at sample 0, unit 0: expected -0.0522198, got -0.10444"),
            (asserts_agreement, "of two different inputs: they need not agree here"),
            (zeroes_h_n, "used in an in-place operation"),
            (wrong_h_n(lambda o, h, L, bi, bf: final_states(o, h, L, bi, bf)[1].detach()), "`from_h_n` carries no gradient"),
            (lambda o, h, L, bi, bf: tuple(t.detach().numpy() for t in final_states(o, h, L, bi, bf)), "should be a torch tensor, got a NumPy array"),
            (lambda o, h, L, bi, bf: None, "returned None"),
        ],
        course=[shapes.final_states, from_the_classifier, both_via_the_check],
    ),
    Answers(
        check=check_initial_states,
        solution=initial_states,
        others=[from_the_weights],
        wrong=[
            (lambda lstm, b: zeros((b, lstm.hidden_size), (b, lstm.hidden_size)), "`h_0` is (batch, 3), without the layers dim (unsqueeze(0) adds it)"),
            (lambda lstm, b: zeros((layers(lstm), lstm.hidden_size), (layers(lstm), lstm.hidden_size)), "has no batch dim"),
            (lambda lstm, b: zeros((b, layers(lstm), lstm.hidden_size), (b, layers(lstm), lstm.hidden_size)) if lstm.batch_first else initial_states(lstm, b),
             "`h_0` is (3, 2, 5), batch first. batch_first=True changes input and output only"),
            (lambda lstm, b: zeros((lstm.num_layers, b, lstm.proj_size or lstm.hidden_size), (lstm.num_layers, b, lstm.hidden_size)),
             "has one per layer AND direction: (num_layers * num_directions, batch, hidden_size) = (6, 5, 3)"),
            (lambda lstm, b: zeros((layers(lstm), b, lstm.hidden_size), (layers(lstm), b, lstm.hidden_size)), "h is proj_size wide and c hidden_size wide: `h_0` should be (4, 2, 3)"),
            (lambda lstm, b: zeros(*[(layers(lstm), b, lstm.proj_size or lstm.hidden_size)] * 2), "h is proj_size wide and c hidden_size wide: `c_0` should be (4, 2, 5)"),
            (lambda lstm, b: tuple(torch.ones_like(s) for s in initial_states(lstm, b)), "not all zeros"),
            (lambda lstm, b: initial_states(lstm, b)[0], "Return 2 things, h_0, c_0"),
            (drops_the_projection, "h is proj_size wide and c hidden_size wide: `h_0` should be (4, 2, 3)"),
            (fewer_layers, "`h_0` should have shape (num_layers * num_directions, batch, hidden_size) = (2, 3, 5), got (1, 3, 5)"),
            (lambda lstm, b: tuple(s.numpy() for s in initial_states(lstm, b)), "`h_0` should be a torch tensor, got a NumPy array"),
            (lambda lstm, b: tuple(s.double() for s in initial_states(lstm, b)), "`h_0` is torch.float64 on cpu, but lstm's weights are torch.float32 on cpu"),
            (lambda lstm, batch: tuple(torch.full_like(state, float("nan")) for state in from_the_weights(lstm, batch)), "not all zeros"),
            (lambda lstm, batch: tuple(torch.zeros(state.shape, device="meta") for state in from_the_weights(lstm, batch)), "`h_0` is torch.float32 on meta"),
        ],
        course=[lambda lstm, batch: tuple(torch.zeros(shape) for shape in shapes.state_shapes(lstm, batch)),
                lambda lstm, batch: hand_lstm.HandLSTM._zero_states(lstm, batch, torch.zeros(1))],
    ),
]
