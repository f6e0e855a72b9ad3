"""Train, and SIGKILL this process half-way through writing the training state of iteration ``KILL_AT``.

    python tests/helpers/kill_during_save.py ROOT OPT KILL_AT [force_yml entries...]

Simulates a crash (power loss, OOM killer, preemption) in the middle of a checkpoint write: half of
the state's bytes reach the disk, then the process dies without any clean-up.
"""
import io
import os
import signal
import sys

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir, os.pardir)))

import torch  # noqa: E402

from tests.helpers.runs import train_in_process  # noqa: E402

_real_save = torch.save


def _dying_save(obj, f, *args, **kwargs):
    if isinstance(obj, dict) and obj.get('iter') == KILL_AT and 'optimizers' in obj:
        buffer = io.BytesIO()
        _real_save(obj, buffer, *args, **kwargs)
        data = buffer.getvalue()
        f.write(data[:len(data) // 2])
        f.flush()
        os.kill(os.getpid(), signal.SIGKILL)
    return _real_save(obj, f, *args, **kwargs)


if __name__ == '__main__':
    root, opt_file, KILL_AT, force = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
    torch.save = _dying_save
    train_in_process(root, opt_file, force)
