"""Bad input to the tools ends in one clear line naming what is wrong."""
import pytest

from tests.conftest import REPO, run

TRAIN = REPO / 'tools' / 'train.py'
TEST = REPO / 'tools' / 'test.py'
CLS_CONFIG = REPO / 'configs' / 'shapes' / 'resnet18_narrow_shapes.py'


def assert_one_line_error(proc, *expected):
    assert proc.returncode == 2, proc.stdout
    lines = proc.stdout.strip().splitlines()
    errors = [line for line in lines if 'error:' in line]
    assert errors == lines[-1:], proc.stdout
    assert 'Traceback' not in proc.stdout
    for text in expected:
        assert str(text) in errors[0]


def test_missing_config(tmp_path):
    proc = run(['python', TRAIN, tmp_path / 'nope.py'], cwd=tmp_path,
               check=False)
    assert_one_line_error(proc, 'nope.py', 'does not exist')


@pytest.mark.parametrize('option', ['model.backbone.depth', 'x=[1,2'])
def test_unparsable_cfg_options(tmp_path, option):
    proc = run(['python', TRAIN, CLS_CONFIG, '--cfg-options', option],
               cwd=tmp_path, check=False)
    assert_one_line_error(proc, '--cfg-options', option)


def test_cfg_options_that_do_not_fit_the_config(tmp_path):
    proc = run(['python', TRAIN, CLS_CONFIG, '--cfg-options',
                'model.backbone.depth.x=1'], cwd=tmp_path, check=False)
    assert_one_line_error(proc, '--cfg-options', 'model.backbone.depth.x')


def test_missing_checkpoint(tmp_path):
    proc = run(['python', TEST, CLS_CONFIG, tmp_path / 'none.pth'],
               cwd=tmp_path, check=False)
    assert_one_line_error(proc, 'none.pth', 'does not exist')


def test_missing_resume_checkpoint(tmp_path):
    proc = run(['python', TRAIN, CLS_CONFIG, '--resume',
                tmp_path / 'gone.pth'], cwd=tmp_path, check=False)
    assert_one_line_error(proc, '--resume', 'gone.pth', 'does not exist')


@pytest.mark.parametrize('damage', ['truncated', 'garbage'])
def test_corrupt_checkpoint(tmp_path, damage):
    import torch
    path = tmp_path / 'model.pth'
    torch.save({'state_dict': {'w': torch.ones(1000)}, 'meta': {}}, path)
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2] if damage == 'truncated' else
                     b'not a checkpoint' * 100)
    proc = run(['python', TEST, CLS_CONFIG, path], cwd=tmp_path, check=False)
    assert_one_line_error(proc, 'model.pth', 'cannot be loaded')
