"""Checks for the course's exercises: each returns a CheckResult, "passed", "not attempted yet" or what is wrong.

Each check module declares its cases, its contract and its known mistakes; the one judge (`judge.py`) does the
rest alike for all, and `reference.py` is the checks' one LSTM.
"""

from lstm_course.checks.judge import CheckResult

# One line a notebook, in course order.
from lstm_course.checks.start_here import check_cell_states, check_cell_update, check_gate_mix
from lstm_course.checks.gate_equations import check_lstm_num_parameters, check_lstm_step, check_to_pytorch_order
from lstm_course.checks.hand_counter import check_count_to_seven, check_counter_weights
from lstm_course.checks.forward import check_lstm_forward, check_lstm_forward_reverse, check_two_layer_forward
from lstm_course.checks.shapes import check_backward_final_state, check_final_states, check_initial_states
from lstm_course.checks.text import check_classifier_forward, check_last_real_states, check_masked_max, check_tokenize
from lstm_course.checks.training_loop import check_training_loop
from lstm_course.checks.backprop import check_clip_by_norm, check_lstm_backward, check_lstm_step_backward
from lstm_course.checks.language_model import check_loss_in_bits, check_sample_next, check_stream_loss
from lstm_course.checks.tokens import check_bmes, check_masked_loss_and_accuracy, check_viterbi, check_words_from_bmes
from lstm_course.checks.time_series import check_make_windows, check_mase, check_recursive_forecast
from lstm_course.checks.translation import check_attend, check_greedy_decode

__all__ = ["CheckResult"] + sorted(name for name in dir() if name.startswith("check_"))
