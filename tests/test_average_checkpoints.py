"""scripts/average_checkpoints.py: a weighted mean of weights, loadable by inference; mismatches refused."""

import pytest
import torch

from scripts.average_checkpoints import average_state_dicts, main
from trico_basicsr.utils.inference import load_checkpoint_network

NET = {'type': 'SRVGGNetCompact', 'num_in_ch': 3, 'num_out_ch': 3, 'num_feat': 4, 'num_conv': 1, 'upscale': 2}


def _checkpoint(path, seed, key='params_ema', network_g=NET):
    from basicsr.archs import build_network
    torch.manual_seed(seed)
    net = build_network(dict(network_g))
    torch.save({key: net.state_dict(), 'network_g': dict(network_g), 'scale': 2}, path)
    return net.state_dict()


def test_weighted_mean_of_floats_first_of_integers():
    a = {'w': torch.tensor([1.0, 2.0]), 'n': torch.tensor(3)}
    b = {'w': torch.tensor([4.0, 8.0]), 'n': torch.tensor(7)}
    out = average_state_dicts([a, b], weights=[2, 1])
    assert torch.allclose(out['w'], torch.tensor([2.0, 4.0]))
    assert out['n'].item() == 3 and out['n'].dtype == torch.int64
    assert torch.allclose(average_state_dicts([a, b])['w'], torch.tensor([2.5, 5.0]))


def test_averaged_file_loads_and_is_the_mean(tmp_path):
    sa = _checkpoint(tmp_path / 'a.pth', 0)
    sb = _checkpoint(tmp_path / 'b.pth', 1, key='params')  # a run without EMA: its params are used
    main(['--model', str(tmp_path / 'a.pth'), '--model', str(tmp_path / 'b.pth'), '--out', str(tmp_path / 's.pth')])
    net, scale = load_checkpoint_network(str(tmp_path / 's.pth'))
    assert scale == 2
    for name, tensor in net.state_dict().items():
        assert torch.allclose(tensor, (sa[name] + sb[name]) / 2, atol=1e-6), name


def test_refuses_mismatches_and_overwriting_an_input(tmp_path):
    _checkpoint(tmp_path / 'a.pth', 0)
    _checkpoint(tmp_path / 'wide.pth', 0, network_g={**NET, 'num_feat': 8})
    out = tmp_path / 'out.pth'
    with pytest.raises(SystemExit, match='wide.pth: network options differ'):
        main(['--model', str(tmp_path / 'a.pth'), '--model', str(tmp_path / 'wide.pth'), '--out', str(out)])
    # relaxing the options check still refuses different shapes, naming the file and the tensor
    with pytest.raises(SystemExit, match=r'wide.pth: .* has shape'):
        main(['--allow-different-options', '--model', str(tmp_path / 'a.pth'), '--model', str(tmp_path / 'wide.pth'),
              '--out', str(out)])
    with pytest.raises(SystemExit, match='weights'):
        main(['--model', str(tmp_path / 'a.pth'), '--model', str(tmp_path / 'a.pth'), '--weights', '1',
              '--out', str(out)])
    assert not out.exists()
    before = (tmp_path / 'a.pth').read_bytes()
    with pytest.raises(SystemExit):
        main(['--model', str(tmp_path / 'a.pth'), '--out', str(tmp_path / 'a.pth')])
    assert (tmp_path / 'a.pth').read_bytes() == before
