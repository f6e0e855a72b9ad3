"""Per-group sample weights (degradation mixture, exposure bins) as upper-level hyper-variables."""
import pytest
import torch
from basicsr.archs import build_network

from tests.helpers.models import build_tiny_model, tiny_batch
from trico_basicsr.pgr import load_pgr_config
from trico_basicsr.pgr.levels import UPPER
from trico_basicsr.pgr.objectives import LevelNets, LevelTerms, evaluate, make_objectives
from trico_basicsr.pgr.sample_groups import SAMPLES, SampleGroups, split_batch

NET = {'type': 'TriCoNet', 'upscale': 2, 'illum_feat': 8, 'illum_block': 1, 'num_feat': 8, 'num_block': 2,
       'ihem_every': 1, 'semantic': 'none'}
MIX = ['camera_mix', 'camera_mix', 'dark', 'ultra_dark']


def test_preset_groups_are_the_distinct_presets_of_the_mix_in_order():
    groups = SampleGroups.from_config({'by': 'preset'}, MIX)
    assert groups.names == ('camera_mix', 'dark', 'ultra_dark')
    ids = groups.ids({'preset': ['dark', 'camera_mix', 'ultra_dark', 'dark']})
    assert ids.tolist() == [1, 0, 2, 1]
    with pytest.raises(KeyError, match='extreme'):
        groups.ids({'preset': ['extreme']})
    with pytest.raises(KeyError, match='CoupledOnlineDataset'):
        groups.ids({'lq': torch.zeros(1)})


def test_exposure_bins_are_half_open_and_named_by_their_edges():
    groups = SampleGroups.from_config({'by': 'exposure', 'exposure_bins': [0.03, 0.1]}, MIX)
    assert groups.names == ('exposure_0-0.03', 'exposure_0.03-0.1', 'exposure_0.1-inf')
    ids = groups.ids({'degradation': {'exposure': torch.tensor([0.01, 0.03, 0.099, 0.1, 0.3], dtype=torch.float64)}})
    assert ids.tolist() == [0, 1, 1, 2, 2]


@pytest.mark.parametrize('cfg, presets, message', [
    ({'by': 'preset'}, 'ultra_dark', 'at least two'),
    ({'by': 'preset'}, ['dark', 'dark'], 'at least two'),
    ({'by': 'exposure', 'exposure_bins': [0.1, 0.03]}, MIX, 'ascending'),
    ({'by': 'exposure', 'exposure_bins': [0.0, 0.1]}, MIX, 'positive'),
    ({'by': 'difficulty'}, MIX, 'preset, exposure'),
])
def test_bad_group_options_are_refused_naming_the_option(cfg, presets, message):
    with pytest.raises(ValueError, match=message):
        SampleGroups.from_config(cfg, presets)


def test_config_refuses_an_unknown_grouping():
    with pytest.raises(ValueError, match='sample_weights.by'):
        load_pgr_config({'sample_weights': {'by': 'difficulty'}})
    with pytest.raises(KeyError, match='exposure_bins'):
        load_pgr_config({'sample_weights': {'by': 'exposure', 'bins': [0.1]}})
    assert SampleGroups.from_config(load_pgr_config({}).sample_weights, MIX) is None  # off by default


@pytest.fixture
def grouped():
    """Nets, terms with three preset groups, variables and a batch of five samples in groups 0, 2, 0, 1, 2."""
    torch.manual_seed(0)
    nets = LevelNets.of(build_network(dict(NET)))
    groups = SampleGroups.from_config({'by': 'preset'}, MIX)
    terms = LevelTerms.from_config(load_pgr_config({}), nets.has_middle, 'cpu', groups)
    variables = {**{k: [p.detach().clone() for p in v] for k, v in nets.parameters().items()},
                 UPPER: [t.detach().clone() for t in terms.hyper.logit_list()]}
    batch = {'lq': torch.rand(5, 3, 16, 16) * 0.2, 'gt': torch.rand(5, 3, 32, 32), 'gt_lr': torch.rand(5, 3, 16, 16),
             'group_ids': torch.tensor([0, 2, 0, 1, 2])}
    return nets, terms, variables, batch


def _values(nets, terms, variables, batch):
    """evaluate() on the batch as make_objectives prepares it (the groups split once)."""
    prepared = make_objectives(nets, terms, batch).lower.args[2]
    return evaluate(nets, terms, variables, prepared)


def test_equal_sample_weights_give_the_ordinary_batch_loss(grouped):
    """Every default loss term is a per-sample mean, so the group-weighted sum at w = 1 is the batch mean."""
    nets, terms, variables, batch = grouped
    assert terms.hyper.terms[SAMPLES] == ['camera_mix', 'dark', 'ultra_dark']
    plain = evaluate(nets, terms, variables, {k: v for k, v in batch.items() if k != 'group_ids'})
    weighted = _values(nets, terms, variables, batch)
    assert torch.allclose(weighted['sr_values'], plain['sr_values'], rtol=1e-4, atol=1e-6)
    assert torch.allclose(weighted['illum_values'], plain['illum_values'], rtol=1e-4, atol=1e-6)


def test_sample_weights_weigh_each_group_by_its_share_of_the_batch(grouped):
    nets, terms, variables, batch = grouped
    logits = variables[UPPER][-1]
    logits.copy_(torch.tensor([0.5, -1.0, 0.2]))
    w = 3 * torch.softmax(logits, 0)
    weighted = _values(nets, terms, variables, batch)['sr_values']
    want = 0
    for g, index in enumerate([torch.tensor([0, 2]), torch.tensor([3]), torch.tensor([1, 4])]):
        part = {'lq': batch['lq'][index], 'gt': batch['gt'][index], 'gt_lr': batch['gt_lr'][index]}
        want = want + len(index) / 5 * w[g] * evaluate(nets, terms, variables, part)['sr_values']
    assert torch.allclose(weighted, want, rtol=1e-4, atol=1e-6)


def test_split_batch_lists_only_the_groups_present():
    groups = split_batch(torch.tensor([2, 2, 0]), 3)
    assert [(g, index.tolist(), fraction) for g, index, fraction in groups] == [(0, [2], 1 / 3), (2, [0, 1], 2 / 3)]


def test_model_learns_and_logs_the_degradation_mixture(root):
    model = build_tiny_model(root, **{'datasets:train:preset': ['dark', 'ultra_dark', 'extreme'],
                                      'train:pgr:sample_weights': {'by': 'preset'}})
    batch = tiny_batch(model, batch=4)
    assert sorted(set(batch['preset'])) <= ['dark', 'extreme', 'ultra_dark']  # the dataset names each sample's preset
    model.feed_data(batch)
    for it in range(1, 7):
        model.optimize_parameters(it)
    log = model.log_dict
    weights = [log[f'lambda_samples_{name}'] for name in ('dark', 'ultra_dark', 'extreme')]
    assert sum(weights) / 3 == pytest.approx(1.0, abs=1e-5)
    assert any(abs(w - 1) > 1e-4 for w in weights)  # the hypergradient moved the mixture
    assert model.skipped_updates['hyper'] == 0


def test_validation_batches_need_no_group(root):
    """Validation data may come from a family outside the mix: only training steps read the groups."""
    model = build_tiny_model(root, **{'datasets:train:preset': ['dark', 'ultra_dark'],
                                      'train:pgr:sample_weights': {'by': 'preset'}})
    batch = tiny_batch(model, batch=2)
    batch['preset'] = ['heldout_aces_lanczos'] * 2
    model.feed_data(batch)
    model.test()  # no KeyError
    with pytest.raises(KeyError, match='heldout_aces_lanczos'):
        model.optimize_parameters(1)
