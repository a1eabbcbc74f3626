"""tools/train.py on the AVER, MMKD and RLKD shapes configs with
shapes-trained teachers: it trains, logs the distillation losses and
teacher weights (MMKD's meta steps, RLKD's temperatures), and the exported
student, evaluated with the plain student config, scores what the
distiller's own evaluation scored. The teachers' own scores
(``TeacherEvalHook``) equal what their training runs measured."""
import pytest

from tests.conftest import (REPO, last_scalars, load_tool_module, run,
                            run_in_process)

TASKS = [
    ('faster-rcnn_r18_fpn_narrow_shapes', 'coco/bbox_mAP',
     ('frcnn_a', 'frcnn_b')),
    ('fcos_r18_fpn_narrow_shapes', 'coco/bbox_mAP', ('fcos_a', 'fcos_b')),
    ('deeplabv3_r18-d8_narrow_shapes', 'mIoU', ('deeplab_a', 'deeplab_b')),
    ('resnet18_narrow_shapes', 'accuracy/top1', ('resnet_a', 'resnet_b')),
]
ITERS = 20
# Two evaluations of the same weights agree up to the order of float sums:
# exactly on the CPU; on CUDA, cuDNN may pick other convolution kernels per
# run, which moved mIoU (rounded to 0.01) by 0.01 on an H100 and can move
# a box score, hence a few rounding units of mIoU and mAP (printed to 0.001).
# A top-1 decision flips only on a near tie: none is allowed.
TOLERANCE = {'coco/bbox_mAP': 0.003, 'mIoU': 0.05, 'accuracy/top1': 0}


@pytest.mark.slow
@pytest.mark.parametrize('name,metric,teachers', TASKS)
def test_aver_distillation_and_student_export(workspace, base_runs, name,
                                              metric, teachers):
    base = base_runs(name)
    work_dir = workspace / 'distill'
    config = workspace / 'aver_with_teacher_scores.py'
    config.write_text(
        f"_base_ = '{REPO / 'configs' / 'baselines' / 'aver' / name}.py'\n"
        "custom_hooks = [dict(type='mtkd_mm.TeacherEvalHook')]\n")
    # Teachers of different strength: the base run at 200 and 100 iters.
    run(['python', REPO / 'tools' / 'train.py', config,
         '--work-dir', work_dir, '--cfg-options',
         f'model.teachers.0.checkpoint={base / "iter_200.pth"}',
         f'model.teachers.1.checkpoint={base / "iter_100.pth"}',
         f'train_cfg.max_iters={ITERS}', f'train_cfg.val_interval={ITERS}',
         f'default_hooks.checkpoint.interval={ITERS}',
         'default_hooks.logger.interval=10'], cwd=workspace)

    logged = last_scalars(work_dir, 'distill.loss_logit')
    for key in ('distill.loss_logit', 'distill.loss_feature', 'loss'):
        assert logged[key] > 0, key
    for teacher in teachers:
        for kind in ('logit', 'feature'):
            assert logged[f'distill.w_{kind}.{teacher}'] == pytest.approx(
                0.5), 'AVER gives each of two teachers 1/2'
    distilled = last_scalars(work_dir, metric)[metric]
    teacher_key = f'teacher/{teachers[0]}/{metric}'
    assert last_scalars(work_dir, teacher_key)[teacher_key] == \
        pytest.approx(last_scalars(base, metric)[metric],
                      abs=TOLERANCE[metric]), \
        'the pool evaluation of the 200-iteration teacher'

    assert_export_scores_the_same(workspace, work_dir / f'iter_{ITERS}.pth',
                                  name, metric, distilled)


def assert_export_scores_the_same(workspace, checkpoint, name, metric,
                                  distilled):
    """The student exported from ``checkpoint`` and tested with the plain
    student config scores ``distilled``."""
    student_ckpt = workspace / 'student.pth'
    exporter = load_tool_module('tools/model_converters/export_student.py')
    exporter.export_student(checkpoint, student_ckpt)
    test_dir = workspace / 'test_student'
    run_in_process('test', REPO / 'configs' / 'shapes' / f'{name}.py',
                   student_ckpt, '--work-dir', test_dir, cwd=workspace)
    assert last_scalars(test_dir, metric)[metric] == pytest.approx(
        distilled, abs=TOLERANCE[metric])


def train_briefly(workspace, config, work_dir, iters, *options):
    """``tools/train.py config`` for ``iters`` iterations, evaluated and
    saved at the end, logged every 5, with ``options``."""
    run(['python', REPO / 'tools' / 'train.py', config, '--work-dir',
         work_dir, '--cfg-options', *options, f'train_cfg.max_iters={iters}',
         f'train_cfg.val_interval={iters}',
         f'default_hooks.checkpoint.interval={iters}',
         'default_hooks.logger.interval=5'], cwd=workspace)


@pytest.mark.slow
@pytest.mark.parametrize('name,metric,teachers', TASKS)
def test_mmkd_distillation_and_student_export(workspace, base_runs, name,
                                              metric, teachers):
    """configs/mmkd/ for every task: two meta steps in 10 iterations, the
    networks' weights logged, the export tested."""
    base = base_runs(name)
    work_dir = workspace / 'distill'
    iters = 10
    train_briefly(workspace, REPO / 'configs' / 'mmkd' / f'{name}.py',
                  work_dir, iters,
                  f'model.teachers.0.checkpoint={base / "iter_200.pth"}',
                  f'model.teachers.1.checkpoint={base / "iter_100.pth"}',
                  'custom_hooks.0.log_interval=1')
    log = next(work_dir.glob('*/*.log')).read_text()
    assert 'weighting (MMKD) update 2: replayed 1 batches at iter 10' in log
    logged = last_scalars(work_dir, 'weighting.update_loss')
    assert logged['weighting.update_loss'] > 0
    for kind in ('logit', 'feature'):
        weights = [logged[f'distill.w_{kind}.{t}'] for t in teachers]
        assert sum(weights) == pytest.approx(1, abs=1e-3), kind
    distilled = last_scalars(work_dir, metric)[metric]
    assert_export_scores_the_same(workspace, work_dir / f'iter_{iters}.pth',
                                  name, metric, distilled)


@pytest.mark.slow
@pytest.mark.parametrize('name,metric,teachers', TASKS)
def test_rlkd_distillation_and_student_export(workspace, base_runs, name,
                                              metric, teachers):
    """configs/rlkd/ (single teacher) for every task: the agent acts after a
    warm-up of 4 iterations, a PPO update after every batch from then on,
    the temperatures' mean and spread logged, the export tested."""
    base = base_runs(name)
    work_dir = workspace / 'distill'
    iters = 10
    train_briefly(workspace, REPO / 'configs' / 'rlkd' / f'{name}_kd.py',
                  work_dir, iters,
                  f'model.teachers.0.checkpoint={base / "iter_200.pth"}',
                  'model.temperature.warmup=5',
                  'custom_hooks.0.log_interval=1')
    log = next(work_dir.glob('*/*.log')).read_text()
    assert 'temperature (RLKDTemperature) update 6: replayed 1 batches at ' \
        'iter 10' in log
    logged = last_scalars(work_dir, 'distill.temperature_mean')
    assert 0 < logged['distill.temperature_mean'] < 10
    assert logged['distill.temperature_std'] > 0
    assert logged[f'distill.w_logit.{teachers[0]}'] == 1
    distilled = last_scalars(work_dir, metric)[metric]
    assert_export_scores_the_same(workspace, work_dir / f'iter_{iters}.pth',
                                  name, metric, distilled)


@pytest.mark.slow
@pytest.mark.parametrize('name,metric,teachers,policy_input', [
    (*task, 'state') for task in TASKS if task[0].startswith('faster')
] + [(*task, 'embeddings') for task in TASKS if task[0].startswith('deeplab')])
def test_look_ahead_trust_distillation(workspace, base_runs, name, metric,
                                       teachers, policy_input):
    """configs/look_ahead_trust/ (ours) on detection (the policy reads the
    teachers' state) and segmentation (their embeddings); the classifier
    runs in test_learner_update_hook.py, on two ranks and resumed: the
    policy learns every 5 iterations, and its weights move away from
    uniform."""
    base = base_runs(name)
    work_dir = workspace / 'distill'
    train_briefly(workspace,
                  REPO / 'configs' / 'look_ahead_trust' / f'{name}.py',
                  work_dir, 10,
                  f'model.teachers.0.checkpoint={base / "iter_200.pth"}',
                  f'model.teachers.1.checkpoint={base / "iter_100.pth"}',
                  'model.weighting.update_interval=5',
                  f'model.weighting.policy_input={policy_input}',
                  'custom_hooks.0.log_interval=1')
    log = next(work_dir.glob('*/*.log')).read_text()
    assert ('weighting (LookAheadTrust) update 2: replayed 5 batches at '
            'iter 10') in log
    logged = last_scalars(work_dir, 'weighting.update_loss')
    assert abs(logged['weighting.update_loss']) < 100
    for kind in ('logit', 'feature'):
        weights = [logged[f'distill.w_{kind}.{t}'] for t in teachers]
        assert sum(weights) == pytest.approx(1, abs=1e-3), kind
        assert abs(weights[0] - 0.5) > 1e-3, 'the policy learnt nothing'
