"""The course's progress bar sends few messages, so a client that reads them after the cell sees the cell end.

nbval reads a cell's messages only once the kernel has replied; meanwhile they wait in the
kernel's socket, which drops what it cannot hold, the cell's closing "idle" message with them.
"""

from queue import Empty

import pytest
from jupyter_client.manager import start_new_kernel

from lstm_course.training import progress_bar

CELL = """\
from lstm_course.training import progress_bar
bar = progress_bar(6000, "a long run")
for _ in range(6000):
    bar.update()
bar.close()
"""


def test_the_bar_redraws_at_most_once_a_second_and_after_a_hundredth_of_the_work():
    bar = progress_bar(12345, "x")
    bar.close()
    assert bar.miniters == 123 and bar.mininterval == 1.0


@pytest.fixture
def kernel():
    manager, client = start_new_kernel(kernel_name="python3")
    yield client
    client.stop_channels()
    manager.shutdown_kernel(now=True)


def test_a_cell_with_a_long_bar_ends_for_a_client_that_reads_late(kernel):
    msg_id = kernel.execute(CELL)
    while kernel.get_shell_msg(timeout=120)["parent_header"].get("msg_id") != msg_id:
        pass
    messages = []
    while not messages or messages[-1]["msg_type"] != "status" or messages[-1]["content"]["execution_state"] != "idle":
        try:
            message = kernel.get_iopub_msg(timeout=5)
        except Empty:
            pytest.fail(f"the cell's 'idle' message never came; {len(messages)} messages came before it")
        if message["parent_header"].get("msg_id") == msg_id:
            messages.append(message)
    errors = [m["content"] for m in messages if m["msg_type"] == "error"]
    assert not errors, errors
    assert len(messages) < 200, f"{len(messages)} messages for one bar"
