"""Bad input to the tools ends in one clear line naming what is wrong.

One case runs the real script in a subprocess (the whole path, imports
included); the others call the same ``main`` in-process with its
``sys.argv``, which exits the same way.
"""
import os
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
        try:
            with pytest.raises(SystemExit) as exit_info:
                module.run_tool(module.main)
        finally:
            forget_runner_loggers()
        return exit_info.value.code, capsys.readouterr().err

    return call


def forget_runner_loggers():
    """Drop the loggers of the runners built in this process: the next
    runner, started within the same second, would get the same name and
    write to this test's closed capture stream."""
    from mmengine.logging import MMLogger
    for name in [n for n in MMLogger._instance_dict if n != 'mmengine']:
        for handler in MMLogger._instance_dict.pop(name).handlers:
            handler.close()


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


# Build-time errors of the distiller, through tools/train.py: one line, exit 2.
CLS_DISTILL = REPO / 'configs' / 'baselines' / 'aver' / \
    'resnet18_narrow_shapes.py'
DET_STUDENT = REPO / 'configs' / 'shapes' / \
    'faster-rcnn_r18_fpn_narrow_shapes.py'


class MaliciousPickle:

    def __reduce__(self):
        return print, ('this code must never run',)


class ShellPickle:
    """Runs a shell command when unpickled unsafely (os.system)."""

    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return os.system, (self.command,)


@pytest.fixture(scope='module')
def teachers(tmp_path_factory):
    """Checkpoints of random shapes models: two classifiers, a detector."""
    from tests.test_distill.helpers import save_random_teacher
    root = tmp_path_factory.mktemp('teachers')
    return dict(
        cls=save_random_teacher(CLS_CONFIG, root / 'cls.pth'),
        cls7=save_random_teacher(CLS_CONFIG, root / 'cls7.pth',
                                 **{'model.head.num_classes': 7}),
        det=save_random_teacher(DET_STUDENT, root / 'det.pth'))


def damaged_checkpoint(path, damage):
    if damage == 'malicious':
        torch.save({'state_dict': {'x': MaliciousPickle()}}, path)
    elif damage == 'shell':
        marker = path.with_suffix('.ran')
        torch.save({'state_dict': {'x': ShellPickle(f'touch {marker}')}}, path)
    elif damage == 'truncated':
        torch.save({'state_dict': {'w': torch.ones(1000)}}, path)
        path.write_bytes(path.read_bytes()[:1000])
    else:
        path.write_bytes(b'')
    return path


def train_distiller(tool, tmp_path, teachers, *options):
    """tools/train.py on the AVER classification config with working
    teacher checkpoints unless ``options`` override them."""
    return tool('train', CLS_DISTILL, '--work-dir', tmp_path / 'work',
                '--cfg-options', f'model.teachers.0.checkpoint={teachers}',
                f'model.teachers.1.checkpoint={teachers}', *options)


@pytest.mark.parametrize('value', ['0', '-2', 'abc', 'inf'])
def test_temperature_must_be_positive_and_finite(tool, tmp_path, teachers,
                                                 value):
    code, err = train_distiller(tool, tmp_path, teachers['cls'],
                                f'model.temperature={value}')
    assert code == 2
    assert_one_line_error(err, 'model.temperature', 'positive, finite')


@pytest.mark.parametrize('option,expected', [
    ('model.teachers=5', ('model.teachers', 'a list', 'got 5')),
    ('model.teachers=[]', ('model.teachers', 'at least one')),
    ('model.teachers.1.name=resnet_a',
     ('model.teachers[1].name', 'unique', 'resnet_a')),
    ('model.teachers.0.config=configs/nope.py',
     ("teacher 'resnet_a'", 'model.teachers[0].config', 'nope.py',
      'cannot be read')),
    ('model.teachers.0.config=mmpretrain::resnet/nope.py',
     ("teacher 'resnet_a'", 'mmpretrain::resnet/nope.py', 'cannot be read')),
    ('model.weighting.type=FOO',
     ('model.weighting.type', "'FOO' is not a registered", 'AVER, CAMKD')),
    ('model.feature_loss.type=MSE',
     ('model.feature_loss.type', "'MSE'", 'FeatureMSE')),
    ('model.teacher_precision=fp8',
     ('model.teacher_precision must be one of', "'fp8'")),
])
def test_bad_distiller_config(tool, tmp_path, teachers, option, expected):
    code, err = train_distiller(tool, tmp_path, teachers['cls'], option)
    assert code == 2
    assert_one_line_error(err, *expected)


def test_directory_given_as_teacher_checkpoint(tool, tmp_path, teachers):
    code, err = train_distiller(tool, tmp_path, tmp_path)
    assert code == 2
    assert_one_line_error(err, "teacher 'resnet_a'", 'is a directory')


def test_teacher_checkpoint_of_another_class_count(tool, tmp_path, teachers):
    code, err = train_distiller(tool, tmp_path, teachers['cls7'])
    assert code == 2
    assert_one_line_error(err, "teacher 'resnet_a'", 'cls7.pth',
                          'does not fit its config', 'other shapes')


def test_detector_teacher_of_a_classifier(tool, tmp_path, teachers):
    code, err = train_distiller(
        tool, tmp_path, teachers['cls'],
        f'model.teachers.0.config={DET_STUDENT}',
        f"model.teachers.0.checkpoint={teachers['det']}")
    assert code == 2
    assert_one_line_error(err, "teacher 'resnet_a'", 'FasterRCNN',
                          'not a ImageClassifier like the student')


def test_detector_checkpoint_for_a_classifier_teacher(tool, tmp_path,
                                                      teachers):
    code, err = train_distiller(
        tool, tmp_path, teachers['cls'],
        f"model.teachers.0.checkpoint={teachers['det']}")
    assert code == 2
    assert_one_line_error(err, "teacher 'resnet_a'", 'det.pth',
                          'does not fit its config (ImageClassifier, which '
                          'has no neck, roi_head, rpn_head')


@pytest.mark.parametrize('damage,reason', [
    ('malicious', 'it asks for print, which the safe loader refuses'),
    ('shell', f'it asks for {os.name}.system, which the safe loader refuses'),
    ('truncated', 'PytorchStreamReader failed'),
    ('empty', 'the file is empty')])
def test_damaged_teacher_checkpoint(tool, tmp_path, teachers, capsys, damage,
                                    reason):
    path = damaged_checkpoint(tmp_path / f'{damage}.pth', damage)
    code, err = train_distiller(tool, tmp_path, path)
    assert code == 2
    assert_one_line_error(err, "teacher 'resnet_a'",
                          'model.teachers[0].checkpoint', 'cannot be loaded',
                          reason)
    assert 'weights_only' not in err, 'no advice to switch the loader off'
    assert 'must never run' not in capsys.readouterr().out
    assert not path.with_suffix('.ran').exists()


def test_debug_flag_shows_the_traceback(tool, tmp_path, teachers):
    from mtkd_mm.errors import BuildError
    with pytest.raises(BuildError, match='model.temperature'):
        train_distiller(tool, tmp_path, teachers['cls'],
                        'model.temperature=0', '--debug')


def test_malicious_checkpoint_to_export_student(tool, tmp_path, capsys):
    path = damaged_checkpoint(tmp_path / 'bad.pth', 'malicious')
    code, err = tool('model_converters/export_student', path,
                     tmp_path / 'out.pth')
    assert code == 2
    assert_one_line_error(err, 'bad.pth', 'cannot be loaded',
                          'the safe loader refuses')
    assert 'must never run' not in capsys.readouterr().out
    assert not (tmp_path / 'out.pth').exists()


def test_missing_dataset_file_named_with_its_root(tool, tmp_path,
                                                  shapes_root):
    import shutil
    root = tmp_path / 'shapes'
    shutil.copytree(shapes_root, root)
    for image in (root / 'images' / 'train').iterdir():
        image.unlink()
    code, err = tool('train', CLS_CONFIG, '--work-dir', tmp_path / 'work',
                     '--cfg-options',
                     f'train_dataloader.dataset.data_root={root}',
                     f'val_dataloader.dataset.data_root={root}',
                     'train_dataloader.num_workers=0')
    assert code == 2
    assert_one_line_error(err, 'a data file is missing', str(root),
                          'train_dataloader.dataset.data_root')


def test_learned_weighting_without_its_hook(tool, tmp_path, teachers):
    config = REPO / 'configs' / 'mtkd_rl' / 'resnet18_narrow_shapes.py'
    code, err = tool('train', config, '--work-dir', tmp_path / 'work',
                     '--cfg-options', 'custom_hooks=[]',
                     f"model.teachers.0.checkpoint={teachers['cls']}",
                     f"model.teachers.1.checkpoint={teachers['cls']}")
    assert code == 2
    assert_one_line_error(err, 'model.weighting (MTKDRL) learns only through '
                          'LearnerUpdateHook, which the config lacks')


@pytest.mark.parametrize('override,expected', [
    # the training set not wrapped
    ("train_dataloader = dict(dataset=dict(\n"
     "    _delete_=True, type='CustomDataset', data_root='data/shapes/',\n"
     "    ann_file='cls_labels/train.txt', data_prefix='images/train',\n"
     "    pipeline=[dict(type='LoadImageFromFile'),"
     " dict(type='PackInputs')]))\n",
     'train_dataloader.dataset must be '
     "dict(type='mtkd_mm.EntropyRankedMixupDataset', dataset=...), got "
     'CustomDataset'),
    # no logit distillation (and a fixed T: a learnt one is refused first)
    ("model = dict(logit_loss=None, temperature=4.0)\n"
     "custom_hooks = [dict(type='mtkd_mm.EntropyRankedMixupHook')]\n",
     'nothing is distilled through logits'),
])
def test_exploration_needs_its_dataset_and_logits(tool, workspace, teachers,
                                                  monkeypatch, override,
                                                  expected):
    # the hook checks once the dataset is built: from data/shapes here
    monkeypatch.chdir(workspace)
    base = REPO / 'configs' / 'rlkd' / 'resnet18_narrow_shapes_kd_explore.py'
    config = workspace / 'explore.py'
    config.write_text(f"_base_ = '{base}'\n{override}")
    code, err = tool('train', config, '--work-dir', workspace / 'work',
                     '--cfg-options',
                     f"model.teachers.0.checkpoint={teachers['cls']}")
    assert code == 2
    assert_one_line_error(err, 'EntropyRankedMixupHook', expected)


def test_mmkd_batch_size_and_roi_layer(tool, workspace, teachers,
                                       monkeypatch):
    """MMKD's feature network is as wide as the batch; its look-ahead needs
    a second derivative of the student's RoI layer, which RoIPool lacks."""
    monkeypatch.chdir(workspace)
    config = REPO / 'configs' / 'mmkd' / 'resnet18_narrow_shapes.py'
    code, err = tool('train', config, '--work-dir', workspace / 'cls',
                     '--cfg-options', 'train_dataloader.batch_size=8',
                     f"model.teachers.0.checkpoint={teachers['cls']}",
                     f"model.teachers.1.checkpoint={teachers['cls']}")
    assert code == 2
    assert_one_line_error(err, 'model.weighting.batch_size is 16 but '
                          'train_dataloader.batch_size is 8')
    code, err = tool('train', config, '--work-dir', workspace / 'quiz',
                     '--cfg-options', 'model.weighting.quiz=hardest',
                     f"model.teachers.0.checkpoint={teachers['cls']}",
                     f"model.teachers.1.checkpoint={teachers['cls']}")
    assert code == 2
    assert_one_line_error(err, "model.weighting: MMKD.quiz must be 'latest' "
                          "or 'hard', got 'hardest'")
    detector = workspace / 'mmkd_faster_rcnn.py'
    detector.write_text(
        f"_base_ = '{REPO / 'configs/baselines/aver'}"
        "/faster-rcnn_r18_fpn_narrow_shapes.py'\n"
        "model = dict(weighting=dict(type='MMKD', batch_size=4),\n"
        "    student=dict(roi_head=dict(bbox_roi_extractor=dict(\n"
        "        roi_layer=dict(\n"
        "            _delete_=True, type='RoIPool', output_size=7)))))\n"
        "custom_hooks = [dict(type='mtkd_mm.LearnerUpdateHook')]\n")
    code, err = tool('train', detector, '--work-dir', workspace / 'det',
                     '--cfg-options',
                     f"model.teachers.0.checkpoint={teachers['det']}",
                     f"model.teachers.1.checkpoint={teachers['det']}")
    assert code == 2
    assert_one_line_error(err, 'model.weighting MMKD: the student RoI '
                          'extractor: RoIPool has no twice-differentiable '
                          'form here')


# Hostile and careless input: no code from a checkpoint runs, whatever the
# environment says; nothing the user did not name as an output is lost.
UNSAFE_ENV = 'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD'


@pytest.fixture(params=['default env', f'{UNSAFE_ENV}=1'])
def any_env(request, monkeypatch, tmp_path):
    """Both environments; torch.hub downloads into ``tmp_path``."""
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    if request.param != 'default env':
        monkeypatch.setenv(UNSAFE_ENV, '1')
    return request.param


@pytest.fixture
def evil(tmp_path):
    """A checkpoint that touches ``.marker`` when unpickled unsafely, and
    the marker (which must stay absent)."""
    marker = tmp_path / 'code_ran.marker'
    path = tmp_path / 'served' / 'evil.pth'
    path.parent.mkdir()
    torch.save({'state_dict': {'x': ShellPickle(f'touch {marker}')}}, path)
    return path, marker


@pytest.fixture
def served(evil):
    """``evil.pth`` served over http from 127.0.0.1: its URL."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    class Quiet(SimpleHTTPRequestHandler):

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(
        Quiet, directory=str(evil[0].parent)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f'http://127.0.0.1:{server.server_address[1]}/evil.pth'
    server.shutdown()


@pytest.mark.parametrize('case', ['teacher', 'resume', 'student_init'])
def test_checkpoint_url_runs_no_code(tool, workspace, teachers, monkeypatch,
                                     any_env, evil, served, case):
    monkeypatch.chdir(workspace)
    options = {
        'teacher': [f'model.teachers.0.checkpoint={served}'],
        'resume': ['resume=True', f'load_from={served}'],
        'student_init': ['model.student.init_cfg.type=Pretrained',
                         f'model.student.init_cfg.checkpoint={served}'],
    }[case]
    code, err = train_distiller(tool, workspace, teachers['cls'], *options)
    assert code == 2
    assert_one_line_error(err, served, 'cannot be loaded',
                          f'{os.name}.system, which the safe loader refuses')
    assert not evil[1].exists()


@pytest.mark.parametrize('case', ['teacher', 'resume_auto', 'resume_cfg',
                                  'student_init', 'test'])
def test_local_checkpoint_runs_no_code(tool, workspace, teachers,
                                       monkeypatch, any_env, evil, case):
    monkeypatch.chdir(workspace)
    path, work = evil[0], workspace / 'work'
    work.mkdir()
    (work / 'last_checkpoint').write_text(str(path))
    options = [f"model.teachers.0.checkpoint={teachers['cls']}",
               f"model.teachers.1.checkpoint={teachers['cls']}"]
    if case == 'test':
        code, err = tool('test', CLS_DISTILL, path, '--cfg-options',
                         *options)
    elif case == 'resume_auto':
        code, err = tool('train', CLS_DISTILL, '--work-dir', work,
                         '--resume', '--cfg-options', *options)
    else:
        options += {
            'teacher': [f'model.teachers.0.checkpoint={path}'],
            'resume_cfg': ['resume=True', f'load_from={path}'],
            'student_init': ['model.student.init_cfg.type=Pretrained',
                             f'model.student.init_cfg.checkpoint={path}'],
        }[case]
        code, err = tool('train', CLS_DISTILL, '--work-dir', work,
                         '--cfg-options', *options)
    assert code == 2
    assert_one_line_error(err, 'evil.pth', 'cannot be loaded',
                          f'{os.name}.system, which the safe loader refuses')
    assert not evil[1].exists()


@pytest.fixture
def distiller_checkpoint(tmp_path, teachers):
    """A checkpoint of the AVER classification distiller (its initial
    weights, as a runner saves them), and its bytes."""
    from tests.test_distill.helpers import build_model, with_teacher_checkpoints
    model = build_model(with_teacher_checkpoints(
        CLS_DISTILL, [teachers['cls'], teachers['cls']]))
    path = tmp_path / 'distilled.pth'
    torch.save({'state_dict': model.state_dict(), 'meta': {'iter': 1}}, path)
    return path


def test_export_never_overwrites_its_source(tool, distiller_checkpoint):
    before = distiller_checkpoint.read_bytes()
    for extra in [], ['--force']:
        code, err = tool('model_converters/export_student',
                         distiller_checkpoint, distiller_checkpoint, *extra)
        assert code == 2
        assert_one_line_error(err, 'is the source checkpoint')
        assert distiller_checkpoint.read_bytes() == before


def test_export_replaces_a_file_only_when_forced(tool, tmp_path,
                                                 distiller_checkpoint):
    out = tmp_path / 'config.py'
    out.write_text('keep me')
    code, err = tool('model_converters/export_student', distiller_checkpoint,
                     out)
    assert code == 2
    assert_one_line_error(err, 'config.py', 'exists; --force replaces it')
    assert out.read_text() == 'keep me'
    export = load_tool_module('tools/model_converters/export_student.py')
    export.export_student(str(distiller_checkpoint), str(out), force=True)
    assert set(torch.load(out)) == {'state_dict', 'meta'}
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith('.')] \
        == [], 'no temporary file is left'


@pytest.mark.parametrize('out,expected', [
    ('.', 'is a directory'),
    ('missing/out.pth', 'its directory does not exist')])
def test_export_to_a_bad_output(tool, tmp_path, distiller_checkpoint, out,
                                expected):
    code, err = tool('model_converters/export_student', distiller_checkpoint,
                     tmp_path / out)
    assert code == 2
    assert_one_line_error(err, expected)


@pytest.mark.parametrize('content,expected', [
    ([1, 2], 'it holds a list, not a state dict'),
    (torch.ones(2), 'it holds a Tensor, not a state dict')])
def test_export_of_something_else(tool, tmp_path, content, expected):
    path = tmp_path / 'other.pth'
    torch.save(content, path)
    code, err = tool('model_converters/export_student', path,
                     tmp_path / 'out.pth')
    assert code == 2
    assert_one_line_error(err, 'other.pth', expected)


def test_atomic_write_keeps_the_old_file_when_interrupted(tmp_path):
    from mtkd_mm.engine.atomic_files import AtomicLocalBackend
    path = tmp_path / 'iter_2.pth'
    path.write_bytes(b'complete checkpoint')

    class Interrupted:
        """Stands for a kill in the middle of the write."""

    with pytest.raises(TypeError):
        AtomicLocalBackend().put(Interrupted(), path)
    assert path.read_bytes() == b'complete checkpoint'
    assert [p.name for p in tmp_path.iterdir()] == ['iter_2.pth']
    AtomicLocalBackend().put(b'new', path)
    assert path.read_bytes() == b'new'


def test_train_writes_checkpoints_atomically():
    from mtkd_mm.engine.atomic_files import AtomicLocalBackend
    from mmengine.fileio import get_file_backend
    train = load_tool_module('tools/train.py')
    from mmengine.config import Config
    cfg = Config(dict(default_hooks=dict(checkpoint=dict(interval=1))))
    train.use_atomic_checkpoint_writes(cfg)
    backend_args = cfg.default_hooks.checkpoint.backend_args
    assert isinstance(get_file_backend('x.pth', backend_args=backend_args),
                      AtomicLocalBackend)


@pytest.mark.parametrize('case', ['distiller_for_student', 'not_weights',
                                  'classifier_for_detector'])
def test_test_refuses_a_checkpoint_of_another_model(
        tool, tmp_path, teachers, distiller_checkpoint, case):
    config, path, expected = {
        'distiller_for_student': (CLS_CONFIG, distiller_checkpoint,
                                  'does not fit its config (ImageClassifier'),
        'not_weights': (CLS_CONFIG, tmp_path / 'a.pth',
                        "'a' is a int"),
        'classifier_for_detector': (DET_STUDENT, teachers['cls'],
                                    'does not fit its config (FasterRCNN'),
    }[case]
    if case == 'not_weights':
        torch.save({'a': 1}, path)
    code, err = tool('test', config, path, '--work-dir', tmp_path / 'work')
    assert code == 2
    assert_one_line_error(err, 'checkpoint', path.name, expected)


def test_resume_refuses_a_checkpoint_of_another_model(tool, tmp_path,
                                                      teachers):
    code, err = tool('train', DET_STUDENT, '--work-dir', tmp_path / 'work',
                     '--resume', teachers['cls'])
    assert code == 2
    assert_one_line_error(err, '--resume', 'cls.pth',
                          'does not fit its config (FasterRCNN')


def test_legacy_checkpoint_is_accepted(tool, tmp_path, distiller_checkpoint):
    legacy = tmp_path / 'legacy.pth'
    torch.save(torch.load(distiller_checkpoint), legacy,
               _use_new_zipfile_serialization=False)
    export = load_tool_module('tools/model_converters/export_student.py')
    assert export.export_student(legacy, tmp_path / 'out.pth') > 0  # Paths
    from mtkd_mm.engine.launch import check_checkpoint
    assert 'state_dict' in check_checkpoint(str(legacy), 'checkpoint')


def test_nan_teacher_under_aekd_is_named(tool, workspace, teachers,
                                         monkeypatch, tmp_path):
    """The finite check runs before the weighting: AEKD's least squares
    never sees a NaN."""
    monkeypatch.chdir(workspace)
    checkpoint = torch.load(teachers['cls'])
    for weights in checkpoint['state_dict'].values():
        if weights.is_floating_point():
            weights.fill_(float('nan'))
    nan_teacher = tmp_path / 'nan_teacher.pth'
    torch.save(checkpoint, nan_teacher)
    code, err = train_distiller(
        tool, workspace, teachers['cls'], 'model.weighting.type=AEKD',
        f'model.teachers.1.checkpoint={nan_teacher}',
        'train_cfg.max_iters=1', 'train_dataloader.num_workers=0')
    assert code == 2
    assert_one_line_error(err, 'non-finite distillation loss',
                          "teacher 'resnet_b'")


@pytest.mark.parametrize('key', ['logit_loss_weight', 'feature_loss_weight'])
@pytest.mark.parametrize('value', ['abc', '-1', 'nan', 'True'])
def test_loss_weights_are_finite_non_negative_numbers(tool, tmp_path,
                                                      teachers, key, value):
    code, err = train_distiller(tool, tmp_path, teachers['cls'],
                                f'model.{key}={value}')
    assert code == 2
    assert_one_line_error(err, f'model.{key} must be a finite number >= 0')


@pytest.mark.parametrize('record,expected', [
    ('', 'is empty'), ('{work}/iter_8.pth', 'which does not exist')])
def test_resume_from_a_bad_last_checkpoint(tool, tmp_path, record, expected):
    work = tmp_path / 'work'
    work.mkdir()
    (work / 'last_checkpoint').write_text(record.format(work=work))
    code, err = tool('train', CLS_CONFIG, '--work-dir', work, '--resume')
    assert code == 2
    assert_one_line_error(err, '--resume', 'last_checkpoint', expected)


def test_a_second_run_on_a_work_dir_is_refused(tool, tmp_path):
    from mtkd_mm.engine.launch import work_dir_lock
    work = tmp_path / 'work'
    with work_dir_lock(str(work)):
        code, err = tool('train', CLS_CONFIG, '--work-dir', work)
    assert code == 2
    assert_one_line_error(err, str(work), 'is in use by another run',
                          f'pid {os.getpid()}')
    assert not list(work.glob('2*')), 'the second run wrote nothing'
    with work_dir_lock(str(work)):
        pass  # released: a lock file left behind does not block


@pytest.mark.parametrize('option,expected', [
    ('model.teachers.0.name=a.b', ("model.teachers[0].name", "'a.b'")),
    ('model.teachers.0.name=5', ("model.teachers[0].name", 'got 5')),
    ('model.teachers.0.checkpoint=5',
     ("model.teachers[0].checkpoint", 'must be a path or URL, got 5')),
    ('model.student.type=NoSuchClassifier',
     ('student: model.student', 'NoSuchClassifier', 'registry')),
    ('model.teachers.0.config={tmp_path}/unknown.py',
     ("teacher 'resnet_a': model.teachers[0].config", 'NoSuchClassifier')),
])
def test_bad_model_specs(tool, tmp_path, teachers, option, expected):
    (tmp_path / 'unknown.py').write_text(
        "default_scope = 'mmpretrain'\nmodel = dict(type='NoSuchClassifier')")
    option = option.format(tmp_path=tmp_path)
    code, err = train_distiller(tool, tmp_path, teachers['cls'], option)
    assert code == 2
    assert_one_line_error(err, *expected)


@pytest.mark.parametrize('content,expected', [
    ({'state_dict': [1, 2]}, "its 'state_dict' is a list"),
    ('ints', 'weights are not tensors')])
def test_teacher_checkpoint_that_holds_no_weights(tool, tmp_path, teachers,
                                                  content, expected):
    if content == 'ints':
        state = torch.load(teachers['cls'])['state_dict']
        content = {'state_dict': {k: 1 for k in state}}
    path = tmp_path / 'odd.pth'
    torch.save(content, path)
    code, err = train_distiller(tool, tmp_path, path)
    assert code == 2
    assert_one_line_error(err, "teacher 'resnet_a'", 'odd.pth', expected)


def test_work_dir_that_is_a_file(tool, tmp_path):
    work = tmp_path / 'work'
    work.write_text('')
    code, err = tool('train', CLS_CONFIG, '--work-dir', work)
    assert code == 2
    assert_one_line_error(err, str(work), 'is a file, not a directory')


def test_test_out_that_is_a_directory(tool, tmp_path, teachers):
    out = tmp_path / 'preds.pkl'
    out.mkdir()
    code, err = tool('test', CLS_CONFIG, teachers['cls'], '--out', out)
    assert code == 2
    assert_one_line_error(err, '--out', 'is a directory')


@pytest.mark.parametrize('procs', ['abc', '0'])
def test_dist_train_with_a_bad_process_count(tmp_path, procs):
    proc = run(['bash', REPO / 'tools' / 'dist_train.sh', CLS_CONFIG, procs],
               cwd=tmp_path, check=False)
    assert proc.returncode == 2
    assert_one_line_error(proc.stdout, 'NUM_PROCS must be a positive '
                          f"integer, got '{procs}'")
