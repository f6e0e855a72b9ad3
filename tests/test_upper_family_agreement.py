"""Which upper family ranks the fixed-weight grid as the never-trained families do."""
import sys
from os import path as osp

import pytest

from tests.helpers.runs import ROOT

sys.path.insert(0, osp.join(ROOT, 'scripts'))
import upper_family_agreement as ufa  # noqa: E402


def _entry(*psnr):
    return {'test': {f'family {i} / set': {'PSNR': p} for i, p in enumerate(psnr)}}


def test_recipe_entries_keep_only_seeds_with_the_whole_grid():
    summary = {'config': {'grid': [0.0, 1.0]}, 'methods': {
        'fixed_s0': {'seeds': {'0': _entry(15, 17), '1': _entry(14, 14)}},
        'fixed_s1': {'seeds': {'0': _entry(16, 16)}}, 'pgr': {'seeds': {'0': _entry(30, 30)}}}}
    assert ufa.recipe_entries(summary) == {'0': {'fixed_s0': 16.0, 'fixed_s1': 16.0}}
    summary['methods']['fixed_s0']['seeds']['0']['test']['family 1 / other'] = {'PSNR': 0.0}
    assert ufa.recipe_entries(summary, ['set']) == {'0': {'fixed_s0': 16.0, 'fixed_s1': 16.0}}


def test_recipes_rank_the_mixture_corners_or_named_methods():
    summary = {'config': {'grid': [0.0, 1.0]}, 'methods': {
        'fixed_s0': {'seeds': {'0': _entry(15, 17)}}, 'fixed_s1': {'seeds': {'0': _entry(16, 16)}},
        'corner_dark': {'seeds': {'0': _entry(13, 13), '1': _entry(12, 12)}},
        'corner_ultra_dark': {'seeds': {'0': _entry(17, 19)}}, 'pgr': {'seeds': {'0': _entry(30, 30)}}}}
    assert ufa.recipe_entries(summary, recipes=['corners']) == {'0': {'corner_dark': 13.0, 'corner_ultra_dark': 18.0}}
    assert ufa.recipe_names(summary, ['corners', 'fixed_s1']) == ['corner_dark', 'corner_ultra_dark', 'fixed_s1']
    with pytest.raises(SystemExit):  # one recipe cannot be ranked
        ufa.recipe_names(summary, ['pgr'])


def test_agreement_reports_rank_correlation_pick_and_regret():
    tests = {'fixed_s0': 16.0, 'fixed_s0.5': 16.2, 'fixed_s1': 15.9, 'fixed_s2': 15.5}
    agreeing = ufa.agreement({'fixed_s0': 14.1, 'fixed_s0.5': 14.3, 'fixed_s1': 14.0, 'fixed_s2': 13.0}, tests)
    assert agreeing['spearman'] == pytest.approx(1.0) and agreeing['pick'] == 'fixed_s0.5'
    assert agreeing['regret_dB'] == 0.0
    reversed_ = ufa.agreement({'fixed_s0': 14.1, 'fixed_s0.5': 14.0, 'fixed_s1': 14.2, 'fixed_s2': 14.5}, tests)
    assert reversed_['spearman'] == pytest.approx(-1.0) and reversed_['pick'] == 'fixed_s2'
    assert reversed_['regret_dB'] == pytest.approx(0.7)
    table = {'command': 'c', 'date': 'd', 'seeds': ['0'], 'families': {'f': {'0': reversed_}}}
    assert 'fixed_s2, 0.70' in ufa.markdown({'bench': 'b', 'grid_config': 'g', 'tables': {'k': table}})


def test_images_may_not_be_a_compared_test_set():
    with pytest.raises(SystemExit):
        ufa.parse_args(['--train-hr', 't', '--bench', 'b', '--work', 'w', '--families', 'camera_mix',
                        '--images', 'datasets/Set5/', '--test-sets', 'Set5'])
