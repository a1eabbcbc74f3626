"""tools/analysis/benchmark_distill.py --student-bf16: the student-only
step timed a second time with a copy of the student in bf16."""
import json

import pytest
import torch

from tests.conftest import load_tool_module, run_in_process
from tests.test_distill.helpers import CLS_DISTILL

benchmark = load_tool_module('tools/analysis/benchmark_distill.py')


def test_the_bf16_student_is_a_copy_that_runs_in_bf16():
    conv = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3))
    copy, optim = benchmark.bf16_student(
        conv, dict(type='OptimWrapper',
                   optimizer=dict(type='SGD', lr=0.1),
                   constructor='mtkd_mm.DistillerOptimWrapperConstructor'))
    with optim.optim_context(copy):
        out = copy(torch.ones(1, 3, 8, 8))
    assert out.dtype == torch.bfloat16
    assert copy[0].weight.is_contiguous(memory_format=torch.channels_last)
    assert conv[0].weight.is_contiguous()
    assert copy[0].weight is not conv[0].weight
    assert optim.optimizer.param_groups[0]['params'][0] is copy[0].weight
    assert conv(torch.ones(1, 3, 8, 8)).dtype == torch.float32


def test_student_bf16_adds_its_step_and_ratio(teacher_ckpts, workspace,
                                              capsys):
    options = [f'model.teachers.{i}.checkpoint={c}'
               for i, c in enumerate(teacher_ckpts)]
    run_in_process('analysis/benchmark_distill', CLS_DISTILL, '--iters', 2,
                   '--warmup', 1, '--student-bf16', '--cfg-options',
                   'train_dataloader.batch_size=2', *options, cwd=workspace)
    result = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert result['student_step_bf16'] > 0
    assert result['student_step_ratio.bf16/fp32'] == pytest.approx(
        result['student_step_bf16'] / result['student_step'])
    assert result['student_share.AVER'] == pytest.approx(
        result['student_step'] / result['distill_step_with_update.AVER'])
    assert result['student_bf16_saving.AVER'] == pytest.approx(
        (result['student_step'] - result['student_step_bf16']) /
        result['distill_step_with_update.AVER'])
