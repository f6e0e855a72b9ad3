"""Entry point for multi-process tests: train, then save this rank's weights and lambda.

    torchrun --nproc_per_node=2 tests/helpers/train_and_dump.py ROOT OPT [force_yml entries...]

writes ``ROOT/rank<r>.pth`` with ``{'net': state_dict, 'hyper': state_dict}``.
"""
import os
import sys

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir, os.pardir)))

import torch  # noqa: E402

from tests.helpers.runs import train_in_process  # noqa: E402

if __name__ == '__main__':
    root, opt_file, force = sys.argv[1], sys.argv[2], sys.argv[3:]
    launcher = 'pytorch' if 'LOCAL_RANK' in os.environ else 'none'
    model = train_in_process(root, opt_file, force, launcher=launcher)
    rank = int(os.environ.get('RANK', 0))
    state = {'net': model.net_g.state_dict()}
    if hasattr(model, 'hyper'):
        state['hyper'] = model.hyper.state_dict()
    torch.save(state, os.path.join(root, f'rank{rank}.pth'))
