"""The upper level's data can differ in kind from the training data: another degradation family."""
import pytest
from basicsr.data import build_dataset

from tests.helpers.families import assert_refused_for_training
from tests.helpers.models import build_tiny_model
from tests.helpers.runs import ROOT
from trico_basicsr.data.coupled_degradation import HELDOUT_FAMILIES, UPPER_FAMILIES, get_preset
from trico_basicsr.pgr.config import load_pgr_config
from trico_basicsr.utils.options import read_options


def _components(preset):
    return {('tone', c) for c in preset.tone_curves} | {('resampler', d) for d in preset.downsamplers}


def test_upper_families_are_apart_from_the_training_mix_and_the_reporting_families():
    """Each has a component the training mix never uses, and none that sets a reporting family apart."""
    mix = _components(get_preset('camera_mix'))
    for family in UPPER_FAMILIES:
        upper = get_preset(family, training=True, role='upper')
        assert _components(upper) - mix, family
        assert upper.row_noise == (0.0, 0.0) and upper.jpeg_prob == 0.0
        for reported in HELDOUT_FAMILIES:
            assert not _components(upper) & (_components(get_preset(reported)) - mix), (family, reported)


@pytest.mark.parametrize('family', UPPER_FAMILIES)
def test_upper_families_are_refused_for_the_lower_levels_training_data(family):
    opt = assert_refused_for_training(family, 'upper-level family')
    assert build_dataset(dict(opt, role='upper'))[0]['lq'].shape == (3, 8, 8)
    with pytest.raises(ValueError, match='held-out family'):  # the upper level is never tuned on a reported family
        get_preset(HELDOUT_FAMILIES[0], training=True, role='upper')


def test_the_upper_stream_degrades_the_held_out_images_with_the_upper_family(root):
    model = build_tiny_model(root, **{'train:pgr:upper_data:preset': 'upper_reinhard_skip'})
    batch = model.upper_stream.next_batch()
    degradation = batch['degradation']
    assert set(degradation['tone_curve']) == {'reinhard'} and set(degradation['downsampler']) == {'nearest'}
    training = model.opt['datasets']['train']
    assert training['preset'] != 'upper_reinhard_skip'  # the lower levels' data keep their family


def test_upper_preset_options_are_checked(root):
    with pytest.raises(ValueError, match='upper_data.preset applies to source split'):
        load_pgr_config({'upper_data': {'source': 'dataset', 'preset': 'upper_reinhard_skip',
                                        'dataset': {'type': 'CoupledPairedDataset'}}})
    with pytest.raises(ValueError, match='not one of|unknown'):
        build_tiny_model(root, **{'train:pgr:upper_data:preset': 'no_such_family'})


def test_the_demo_options_tune_lambda_on_another_family_and_the_shipped_ones_record_how_they_were_trained():
    demo = read_options(f'{ROOT}/options/train/trico_demo_x4.yml')
    assert demo['train']['pgr']['upper_data']['preset'] in UPPER_FAMILIES
    for shipped in ('trico_light_x4_stage1.yml', 'trico_light_x2_stage1.yml'):
        assert read_options(f'{ROOT}/options/train/{shipped}')['train']['pgr']['upper_data']['preset'] is None
