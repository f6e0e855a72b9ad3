"""scripts/export_checkpoints.py reads validation PSNRs from BasicSR training logs."""

import pytest

from scripts.export_checkpoints import validation_psnr, validation_psnr_by_set

LOG = """\
INFO: [run..][epoch:  0, iter:     500, lr:(4.0e-04,)] l_sr: 1.0
INFO: Validation Set5_a
\t # psnr: 18.0000\tBest: 18.0000 @ 500 iter
\t # ssim: 0.5000\tBest: 0.5000 @ 500 iter
INFO: Validation Set5_b
\t # psnr: 16.0000\tBest: 16.0000 @ 500 iter
INFO: [run..][epoch:  0, iter:   1,000, lr:(3.0e-04,)] l_sr: 0.9
INFO: Validation Set5_a
\t # psnr: 17.5000\tBest: 18.0000 @ 500 iter
INFO: Validation Set5_b
\t # psnr: 17.0000\tBest: 17.0000 @ 1000 iter
INFO: [run..][epoch:  0, iter:   1,500, lr:(2.0e-04,)] l_sr: 0.8
INFO: Validation Set5_a
\t # psnr: 30.0000\tBest: 30.0000 @ 1500 iter
"""


def test_mean_over_validation_sets_and_partial_validations_left_out(tmp_path):
    log = tmp_path / 'train.log'
    log.write_text(LOG)
    assert validation_psnr_by_set(str(log)) == {500: {'Set5_a': 18.0, 'Set5_b': 16.0},
                                                 1000: {'Set5_a': 17.5, 'Set5_b': 17.0},
                                                 1500: {'Set5_a': 30.0}}
    # 1,000 wins on the mean (17.25 > 17.0) though 500 has the better first set; 1,500 stopped mid-validation
    assert validation_psnr(str(log)) == pytest.approx({500: 17.0, 1000: 17.25})


def test_a_log_with_one_unnamed_validation_set(tmp_path):
    log = tmp_path / 'train.log'
    log.write_text('iter: 10, lr\n\t # psnr: 12.5\tBest\n')
    assert validation_psnr(str(log)) == {10: 12.5}
