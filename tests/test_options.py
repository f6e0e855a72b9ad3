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
from trico_basicsr.utils.options import read_options

BEFORE = osp.join(ROOT, 'tests', 'data', 'options_before_inheritance')
TRAINING_FILES = sorted(osp.basename(p) for p in glob.glob(osp.join(BEFORE, '*.yml'))
                        if not osp.basename(p).startswith('test_'))


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
    assert effective(read_options(osp.join(ROOT, 'options', name))) == effective(before)


def test_x2_files_inherit_from_their_x4_twins():
    for x2 in ('trico_x2.yml', 'trico_demo_bsd100_x2.yml'):
        with open(osp.join(ROOT, 'options', x2)) as f:
            assert yaml.safe_load(f)['_base_'].endswith('_x4.yml')


@pytest.mark.parametrize('test_file, training_file', [('test_trico_x4.yml', 'trico_x4.yml'),
                                                      ('test_trico_demo_x4.yml', 'trico_demo_bsd100_x4.yml')])
def test_test_options_take_the_network_of_their_training_options(test_file, training_file):
    test_opt = read_options(osp.join(ROOT, 'options', test_file))
    train_opt = read_options(osp.join(ROOT, 'options', training_file))
    assert {**test_opt['network_g'], 'semantic_weights': None} == {**train_opt['network_g'], 'semantic_weights': None}
    assert all(key.startswith('test') for key in test_opt['datasets'])  # no training set leaks into testing


def test_basicsr_parse_options_resolves_trico_x2(monkeypatch):
    monkeypatch.setattr(sys, 'argv', ['train.py', '-opt', osp.join(ROOT, 'options', 'trico_x2.yml'),
                                      '--force_yml', 'train:total_iter=7'])
    opt, args = compat.parse_options(ROOT, is_train=True)
    assert opt['scale'] == 2 and opt['network_g']['upscale'] == 2 and opt['network_g']['num_feat'] == 64
    assert opt['train']['total_iter'] == 7 and opt['datasets']['train']['gt_size'] == 128
    assert osp.basename(args.opt) == 'trico_x2.yml' and '_base_' not in read_options(args.opt)
    assert sys.argv[2].endswith(osp.join('options', 'trico_x2.yml'))  # the caller's argv is left as it was


def test_dist_params_honour_force_yml():
    argv = ['-opt', osp.join(ROOT, 'options', 'trico_demo_x4.yml'), '--force_yml', 'dist_params:backend=gloo',
            'train:total_iter=3']
    assert compat._peek_dist_params(argv) == {'backend': 'gloo', 'port': 29500}


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


@pytest.mark.parametrize('name, control_name, level, terms', [
    ('trico_demo_bsd100_x4_finetune_linear_b_supervised_illum.yml', 'trico_demo_bsd100_x4_finetune_linear_b.yml',
     'illum_terms', ['coupling', 'pixel', 'smooth']),
    ('trico_demo_bsd100_x2_finetune_linear_supervised_illum.yml', 'trico_demo_bsd100_x2_finetune_linear.yml',
     'illum_terms', ['coupling', 'pixel', 'smooth'])])
def test_loss_term_variants_differ_from_their_control_in_those_terms_alone(name, control_name, level, terms):
    """The shipped fine-tunes without the middle level's no-reference terms change those terms only."""
    variant = effective(read_options(osp.join(ROOT, 'options', name)))
    control = effective(read_options(osp.join(ROOT, 'options', control_name)))
    assert sorted(variant['train']['pgr'][level]) == terms
    for term in terms:
        assert variant['train']['pgr'][level][term] == control['train']['pgr'][level][term]
    variant['train']['pgr'][level] = control['train']['pgr'][level]
    assert {**variant, 'name': None} == {**control, 'name': None}
