"""Teachers in bf16: autocast on their forward only, records back in fp32;
the default fp32 path is the one without autocast, bit for bit."""
from unittest import mock

import numpy as np
import pytest
import torch

from mtkd_mm.distillers.teacher_precision import to_fp32
from tests.conftest import REPO
from tests.test_distill.helpers import build_model, load_cfg
from tests.test_distill.test_paper_scale_configs import tiny_batch

AVER = REPO / 'configs' / 'baselines' / 'aver'
NO_CHECKPOINTS = {f'model.teachers.{i}.checkpoint': None for i in range(2)}


def distiller(config, precision):
    torch.manual_seed(0)
    return build_model(load_cfg(AVER / config, **NO_CHECKPOINTS,
                                **{'model.teacher_precision': precision}))


def records_and_losses(model, batch_name, monkeypatch):
    """The teachers' records and the (B, K) logit losses of one loss step,
    as the logit loss received them."""
    np.random.seed(0)  # the same random batch every call
    torch.manual_seed(0)
    if batch_name == 'coco':  # a random batch with boxes of 4 classes
        from mmdet.testing import demo_mm_inputs
        batch = demo_mm_inputs(2, (3, 128, 128), num_items=[3, 2],
                               num_classes=4)
    else:
        batch = tiny_batch('in1k')
        for sample, label in zip(batch['data_samples'], (1, 3)):
            sample.set_gt_label(label)
    seen, loss = [], model.logit_loss
    monkeypatch.setattr(model, 'logit_loss', lambda s, t, *a: (
        seen.append(t), loss(s, t, *a))[1])
    model.train()
    torch.manual_seed(1)
    data = model.data_preprocessor(batch, True)
    losses = model(**data, mode='loss')
    return seen, losses


@pytest.mark.parametrize('config,batch', [
    ('resnet18_narrow_shapes.py', 'in1k'),
    ('faster-rcnn_r18_fpn_narrow_shapes.py', 'coco')])
def test_bf16_teachers_reach_the_loss_in_fp32(config, batch, monkeypatch):
    exact = distiller(config, 'fp32')
    low = distiller(config, 'bf16')
    low.load_state_dict(exact.state_dict())
    fp32_logits, _ = records_and_losses(exact, batch, monkeypatch)
    bf16_logits, losses = records_and_losses(low, batch, monkeypatch)
    for a, b in zip(fp32_logits, bf16_logits):
        assert b.dtype == torch.float32
        assert not torch.equal(a, b), 'the teacher ran in bf16'
        assert torch.allclose(a, b, atol=0.05 * a.abs().max().item())
    total, _ = low.parse_losses(losses)
    assert torch.isfinite(total)
    total.backward()
    assert all(p.grad is None for p in low.teachers.parameters())


def test_bf16_teachers_align_rois_in_bf16_from_exact_coordinates():
    """mmcv's RoIAlign (fp32 only) becomes the separable one in a bf16
    teacher, fed fp32 so that mmdet's extractor keeps the RoIs in fp32; its
    products run in bf16. An fp32 teacher keeps mmcv's."""
    from mmcv.ops import RoIAlign

    from mtkd_mm.ops import SeparableRoIAlign
    extractors = {
        precision: distiller('faster-rcnn_r18_fpn_narrow_shapes.py',
                             precision).teachers.teachers['frcnn_a']
        .roi_head.bbox_roi_extractor
        for precision in ('fp32', 'bf16')}
    assert all(type(m) is RoIAlign for m in extractors['fp32'].roi_layers)
    extractor = extractors['bf16']
    assert all(type(m) is SeparableRoIAlign for m in extractor.roi_layers)
    seen = []
    extractor.roi_layers[0].register_forward_hook(
        lambda m, args, out: seen.append((args, out)))
    features = [torch.randn(1, 64, 32 // 2**i, 32 // 2**i).to(
        torch.bfloat16, memory_format=torch.channels_last) for i in range(4)]
    rois = torch.tensor([[0, 3.3, 5.1, 40.7, 30.9]])  # not bf16-exact
    with torch.autocast('cpu', dtype=torch.bfloat16), \
            mock.patch('torch.bmm', wraps=torch.bmm) as bmm:
        extractor(features, rois)
    (features_in, rois_in), out = seen[0]
    assert torch.equal(rois_in, rois)
    assert features_in.dtype == out.dtype == torch.float32
    assert bmm.call_args.args[0].dtype == torch.bfloat16


def test_fp32_records_are_the_teachers_own():
    """The default runs each teacher as before: no autocast, no layout
    change, the view's record as it is."""
    model = distiller('resnet18_narrow_shapes.py', 'fp32')
    teacher = model.teachers.teachers['resnet_a']
    assert all(p.is_contiguous() for p in teacher.parameters())
    inputs = torch.randn(2, 3, 64, 64)
    points = model.view.student_loss(model.student, inputs, [
        s.set_gt_label(0) for s in tiny_batch('in1k')['data_samples']])[2]
    got = model.teachers.record('resnet_a', model.view, inputs, points, None)
    with torch.no_grad():
        expected = model.view.teacher_record(
            teacher, model.teachers.inputs_for('resnet_a', inputs), points,
            None)
    assert torch.equal(got.logits, expected.logits)
    assert all(torch.equal(a, b)
               for a, b in zip(got.features, expected.features))


def test_to_fp32_casts_nested_records():
    from mtkd_mm.structures import ModelRecord
    record = ModelRecord(
        features=[torch.ones(1, 2, 2, 2, dtype=torch.bfloat16)],
        embedding=torch.ones(1, 3, dtype=torch.float16),
        logits=torch.ones(4, 5, dtype=torch.bfloat16),
        context=dict(rois=(torch.ones(2, dtype=torch.bfloat16),
                           torch.arange(3))))
    cast = to_fp32(record)
    assert cast.features[0].dtype == cast.embedding.dtype == \
        cast.logits.dtype == cast.context['rois'][0].dtype == torch.float32
    assert cast.context['rois'][1].dtype == torch.int64


def test_teachers_keep_their_precision_under_the_students_autocast():
    """The student's ``--amp`` (an autocast around the whole loss) does not
    reach fp32 teachers; bf16 teachers stay bf16."""
    from mtkd_mm.distillers.teacher_precision import autocast_inputs
    weight = torch.randn(4, 3, 1, 1)
    inputs = torch.randn(1, 3, 4, 4)
    for dtype, expected in (None, torch.float32), (torch.bfloat16,
                                                   torch.bfloat16):
        with torch.autocast('cpu', dtype=torch.float16):
            context, teacher_inputs = autocast_inputs(inputs, dtype)
            with context:
                out = torch.nn.functional.conv2d(teacher_inputs, weight)
        assert out.dtype == expected


@pytest.mark.parametrize('isa', ['AVX2', ''])
def test_emulated_bf16_is_named_at_build_time(isa):
    """With oneDNN held to AVX2 (as the benchmarks' portable kernels) bf16
    has no native kernels and runs slower than fp32: the build says so,
    naming the config key; with native kernels it says nothing."""
    import os
    import subprocess
    import sys
    env = dict(os.environ, ONEDNN_MAX_CPU_ISA=isa) if isa else {
        k: v for k, v in os.environ.items() if k != 'ONEDNN_MAX_CPU_ISA'}
    run = subprocess.run([
        sys.executable, '-c', 'import torch\n'
        'from mtkd_mm.distillers.teacher_precision import precision_dtype\n'
        "print(torch.ops.mkldnn._is_mkldnn_bf16_supported())\n"
        "precision_dtype('bf16')"
    ], env=env, cwd=REPO, capture_output=True, text=True, check=True)
    native = run.stdout.splitlines()[0] == 'True'
    said = "model.teacher_precision 'bf16': oneDNN has no native bf16" in (
        run.stdout + run.stderr)
    assert not (isa and native)
    assert said == (not native)
