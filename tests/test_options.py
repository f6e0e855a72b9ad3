"""The one option loader: _base_ inheritance (mmengine), the same options as before, BasicSR's commands."""
import glob
import os
import shutil
import sys
from os import path as osp

import pytest
import yaml

from tests.helpers.runs import ROOT, TINY, run, train_in_process
from trico_basicsr.pgr.config import load_pgr_config, to_dict
from trico_basicsr.utils import compat
from trico_basicsr.utils.options import read_command_line_options, read_options

BEFORE = osp.join(ROOT, 'tests', 'data', 'options_before_inheritance')
TRAINING_FILES = sorted(osp.basename(p) for p in glob.glob(osp.join(BEFORE, '*.yml')))
RECIPES = sorted(osp.relpath(p, osp.join(ROOT, 'options'))
                 for p in glob.glob(osp.join(ROOT, 'options', '*', '*.yml')))


def effective(opt):
    """Options with train.pgr completed by pgr/config.py's defaults (what TriLevelModel actually runs)."""
    opt = dict(opt)
    train = dict(opt['train'])
    has_middle = opt['network_g']['type'] in ('TriCoNet', 'TwoLevelCascade')
    train['pgr'] = to_dict(load_pgr_config(train.get('pgr'), has_middle=has_middle))
    opt['train'] = train
    return opt


@pytest.mark.parametrize('name', TRAINING_FILES)
def test_option_files_resolve_to_the_options_they_had_before_inheritance(name):
    """trico_x2 (from trico_x4), the shipped-weight x2 (from x4) and files that restated PGR defaults."""
    with open(osp.join(BEFORE, name)) as f:
        before = yaml.safe_load(f)
    assert effective(read_options(osp.join(ROOT, 'options', 'train', name))) == effective(before)


def test_x2_files_inherit_from_their_x4_twins():
    for x2 in ('trico_x2.yml', 'trico_light_x2_stage1.yml', 'trico_light_x2.yml'):
        with open(osp.join(ROOT, 'options', 'train', x2)) as f:
            assert yaml.safe_load(f)['_base_'] == x2.replace('_x2', '_x4')


def base_depth(path):
    """How many levels of ``_base_`` stand behind the option file ``path`` (0: none)."""
    with open(path) as f:
        base = yaml.safe_load(f).get('_base_')
    return 0 if base is None else 1 + base_depth(osp.join(osp.dirname(path), base))


@pytest.mark.parametrize('recipe', RECIPES)
def test_recipes_are_at_most_two_bases_deep_and_start_from_files_the_recipes_make(recipe):
    """Every shipped weight is reproducible from the files alone: a starting checkpoint is one that another
    recipe of options/train writes (experiments/<its name>/...) or a shipped weight file, never a local path."""
    path = osp.join(ROOT, 'options', recipe)
    assert base_depth(path) <= 2
    start = read_options(path)['path'].get('pretrain_network_g')
    if start is None:
        return
    assert not osp.isabs(start)
    names = {read_options(osp.join(ROOT, 'options', r))['name'] for r in RECIPES if r.startswith('train')}
    made_by_a_recipe = start.startswith('experiments/') and start.split('/')[1] in names
    if recipe == 'test/test_trico_x4.yml':  # the user's own run of options/train/trico_x4.yml
        assert made_by_a_recipe
    else:
        assert made_by_a_recipe or (start.startswith('weights/') and osp.isfile(osp.join(ROOT, start)))


@pytest.mark.parametrize('test_file, training_file', [('test/test_trico_x4.yml', 'train/trico_x4.yml'),
                                                      ('test/test_trico_light_x4.yml', 'train/trico_light_x4.yml')])
def test_test_options_take_the_network_of_their_training_options(test_file, training_file):
    test_opt = read_options(osp.join(ROOT, 'options', test_file))
    train_opt = read_options(osp.join(ROOT, 'options', training_file))
    # the backbone comes with the weights, and the exposure anchor is chosen at inference
    inference_only = {'semantic_weights': None, 'exposure': None}
    assert {**test_opt['network_g'], **inference_only} == {**train_opt['network_g'], **inference_only}
    assert all(key.startswith('test') for key in test_opt['datasets'])  # no training set leaks into testing


def test_basicsr_parse_options_resolves_trico_x2(monkeypatch):
    monkeypatch.setattr(sys, 'argv', ['train.py', '-opt', osp.join(ROOT, 'options', 'train', 'trico_x2.yml'),
                                      '--force_yml', 'train:total_iter=7'])
    opt, args = compat.parse_options(ROOT, is_train=True)
    assert opt['scale'] == 2 and opt['network_g']['upscale'] == 2 and opt['network_g']['num_feat'] == 64
    assert opt['train']['total_iter'] == 7 and opt['datasets']['train']['gt_size'] == 128
    assert osp.basename(args.opt) == 'trico_x2.yml' and '_base_' not in read_options(args.opt)
    assert sys.argv[2].endswith(osp.join('options', 'train', 'trico_x2.yml'))  # the caller's argv is left as it was


def test_dist_params_honour_force_yml():
    argv = ['-opt', osp.join(ROOT, 'options', 'train', 'trico_demo_x4.yml'), '--force_yml', 'dist_params:backend=gloo',
            'train:total_iter=3']
    assert read_command_line_options(argv)['dist_params'] == {'backend': 'gloo', 'port': 29500}


@pytest.fixture
def child_options(tmp_path):
    """A _base_ child of the tiny test options: x2 instead of x4."""
    path = tmp_path / 'tiny_x2.yml'
    path.write_text(f'_base_: {TINY}\nname: tiny_child_x2\nscale: 2\nnetwork_g:\n  upscale: 2\n')
    return str(path)


def test_basicsr_train_command_runs_an_inheriting_file_and_keeps_the_flat_options(child_options):
    run([sys.executable, 'basicsr/train.py', '-opt', child_options, '--force_yml', 'train:total_iter=2'])
    experiments = osp.join(ROOT, 'experiments', 'tiny_child_x2')
    try:
        assert osp.isfile(osp.join(experiments, 'models', 'net_g_latest.pth'))
        copied = read_options(osp.join(experiments, 'tiny_x2.yml'))
        assert '_base_' not in copied and copied['network_g']['illum_feat'] == 8 and copied['scale'] == 2
    finally:
        for folder in ('experiments', 'tb_logger'):
            shutil.rmtree(osp.join(ROOT, folder, 'tiny_child_x2'), ignore_errors=True)


def test_inherited_keys_are_lost_without_the_inheritance_fix(child_options, root):
    compat.undo('options_inheritance')
    try:
        with pytest.raises(KeyError):
            train_in_process(root, child_options, ['train:total_iter=1'])
    finally:
        compat.redo('options_inheritance')
    assert os.path.isdir(root)


@pytest.mark.parametrize('stage2', ['trico_light_x4_stage2.yml', 'trico_light_x2_stage2.yml'])
def test_stage2_drops_the_middle_levels_no_reference_terms(stage2):
    """Stage 2 trains the illumination net on paired targets only; stage 1 still has the Zero-DCE-style terms."""
    stage1 = effective(read_options(osp.join(ROOT, 'options', 'train', stage2.replace('stage2', 'stage1'))))
    stage2 = effective(read_options(osp.join(ROOT, 'options', 'train', stage2)))
    assert sorted(stage2['train']['pgr']['illum_terms']) == ['coupling', 'pixel', 'smooth']
    assert len(stage1['train']['pgr']['illum_terms']) > 3
    for term in ('coupling', 'pixel'):
        assert stage2['train']['pgr']['illum_terms'][term] == stage1['train']['pgr']['illum_terms'][term]


def test_the_learned_darkening_regimes_differ_only_in_the_lower_levels_data():
    """The synthetic-lower-levels study is the learned-darkening recipe with the real sources removed: the
    same darkening start, the same PGR and upper data (base depth forces it to restate the parameters)."""
    pair = [read_options(osp.join(ROOT, 'options', 'train', f'trico_light_x4_learned_darkening{s}.yml'))
            for s in ('', '_synthetic')]
    assert pair[0]['train'] == pair[1]['train']
    assert sorted(pair[0]['datasets']['train']['sources']) == ['exposed', 'real', 'synthetic']
    assert list(pair[1]['datasets']['train']['sources']) == ['synthetic']
    assert pair[1]['datasets']['train']['sources']['synthetic'] == {
        **pair[0]['datasets']['train']['sources']['synthetic'], 'probability': 1.0}
