"""``import mtkd_mm`` imports no task package, and training a detector does
not need the classification package: here mmpretrain is made to fail as it
does beside transformers 5 (``TypeError`` in its BLIP module)."""
import pytest

from tests.conftest import REPO, run
from tests.test_tools.test_bad_input import assert_one_line_error

TRAIN = REPO / 'tools' / 'train.py'


@pytest.fixture
def broken_mmpretrain(tmp_path):
    """A PYTHONPATH entry whose ``mmpretrain`` fails to import."""
    package = tmp_path / 'broken' / 'mmpretrain'
    package.mkdir(parents=True)
    (package / '__init__.py').write_text(
        "raise TypeError('NoneType takes no arguments')\n")
    return {'PYTHONPATH': str(tmp_path / 'broken')}


def test_import_mtkd_mm_imports_no_task_package(tmp_path):
    proc = run(['python', '-c',
                'import sys, mtkd_mm; print(sorted(m for m in ("mmdet", '
                '"mmseg", "mmpretrain") if m in sys.modules))'], cwd=tmp_path)
    assert proc.stdout.strip().splitlines()[-1] == '[]'


@pytest.mark.slow
def test_detector_trains_while_mmpretrain_fails(workspace,
                                                broken_mmpretrain):
    config = REPO / 'configs' / 'shapes' / \
        'faster-rcnn_r18_fpn_narrow_shapes.py'
    proc = run(['python', TRAIN, config, '--work-dir', workspace / 'work',
                '--cfg-options', 'train_cfg.max_iters=2',
                'train_cfg.val_interval=2',
                'default_hooks.checkpoint.interval=2'],
               cwd=workspace, env=broken_mmpretrain)
    assert (workspace / 'work' / 'iter_2.pth').is_file()
    assert 'coco/bbox_mAP' in proc.stdout
    assert 'mmpretrain fails to import (TypeError' in proc.stdout


def test_classifier_names_the_broken_package(tmp_path, broken_mmpretrain):
    config = REPO / 'configs' / 'shapes' / 'resnet18_narrow_shapes.py'
    proc = run(['python', TRAIN, config, '--work-dir', tmp_path / 'work'],
               cwd=tmp_path, env=broken_mmpretrain, check=False)
    assert proc.returncode == 2
    assert_one_line_error(proc.stdout, 'default_scope', 'mmpretrain',
                          'TypeError: NoneType takes no arguments',
                          "pip install 'transformers<5'")
