"""Bad input to the tools ends in one clear line naming what is wrong.

One case runs the real script in a subprocess (the whole path, imports
included); the others call the same ``main`` in-process with its
``sys.argv``, which exits the same way.
"""
import sys

import pytest
import torch

from tests.conftest import REPO, load_tool_module, run

TRAIN = REPO / 'tools' / 'train.py'
CLS_CONFIG = REPO / 'configs' / 'shapes' / 'resnet18_narrow_shapes.py'


def assert_one_line_error(output, *expected):
    lines = output.strip().splitlines()
    errors = [line for line in lines if 'error:' in line]
    assert errors == lines[-1:], output
    assert 'Traceback' not in output
    for text in expected:
        assert str(text) in errors[0]


@pytest.fixture
def tool(monkeypatch, capsys):
    """``tool('train', *args)``: exit code and stderr of tools/<name>.py."""

    def call(name, *args):
        module = load_tool_module(f'tools/{name}.py')
        monkeypatch.setattr(sys, 'argv', [f'{name}.py', *map(str, args)])
        with pytest.raises(SystemExit) as exit_info:
            module.run_tool(module.main)
        return exit_info.value.code, capsys.readouterr().err

    return call


def test_missing_config_in_a_real_process(tmp_path):
    proc = run(['python', TRAIN, tmp_path / 'nope.py'], cwd=tmp_path,
               check=False)
    assert proc.returncode == 2
    assert_one_line_error(proc.stdout, 'nope.py', 'does not exist')


@pytest.mark.parametrize('option', ['model.backbone.depth', 'x=[1,2'])
def test_unparsable_cfg_options(tool, option):
    code, err = tool('train', CLS_CONFIG, '--cfg-options', option)
    assert code == 2
    assert_one_line_error(err, '--cfg-options', option)


def test_cfg_options_that_do_not_fit_the_config(tool):
    code, err = tool('train', CLS_CONFIG, '--cfg-options',
                     'model.backbone.depth.x=1')
    assert code == 2
    assert_one_line_error(err, '--cfg-options', 'model.backbone.depth.x')


def test_missing_checkpoint(tool, tmp_path):
    code, err = tool('test', CLS_CONFIG, tmp_path / 'none.pth')
    assert code == 2
    assert_one_line_error(err, 'none.pth', 'does not exist')


def test_missing_resume_checkpoint(tool, tmp_path):
    code, err = tool('train', CLS_CONFIG, '--resume', tmp_path / 'gone.pth')
    assert code == 2
    assert_one_line_error(err, '--resume', 'gone.pth', 'does not exist')


@pytest.mark.parametrize('damage', ['truncated', 'garbage'])
def test_corrupt_checkpoint(tool, tmp_path, damage):
    path = tmp_path / 'model.pth'
    torch.save({'state_dict': {'w': torch.ones(1000)}, 'meta': {}}, path)
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2] if damage == 'truncated' else
                     b'not a checkpoint' * 100)
    code, err = tool('test', CLS_CONFIG, path)
    assert code == 2
    assert_one_line_error(err, 'model.pth', 'cannot be loaded')
