"""tools/analysis/profile_teacher_ops.py on the shapes Faster R-CNN: it
times the teacher's forward in fp32 and bf16 and names the operators:
mmcv's RoIAlign in fp32, the separable RoIAlign's products in bf16."""
import re

from tests.conftest import REPO, run


def test_profiles_a_two_stage_teacher_in_both_precisions(tmp_path):
    out = run([
        'python', REPO / 'tools' / 'analysis' / 'profile_teacher_ops.py',
        REPO / 'configs' / 'shapes' / 'faster-rcnn_r18_fpn_narrow_shapes.py',
        '--batch', '1', '--img-size', '64', '--rois-per-image', '8',
        '--iters', '1', '--top', '50'
    ], cwd=tmp_path).stdout
    parts = re.split(r'^(fp32|bf16): ', out, flags=re.M)
    sections = dict(zip(parts[1::2], parts[2::2]))
    assert list(sections) == ['fp32', 'bf16'], out
    for section in sections.values():
        assert 'aten::mkldnn_convolution' in section, out
    assert 'RoIAlignFunction' in sections['fp32'], out
    assert 'RoIAlignFunction' not in sections['bf16'], out
    assert 'aten::bmm' in sections['bf16'], out
    assert re.search(r'bf16 ÷ fp32: \d+\.\d\d', out), out


def test_cfg_options_reach_the_teacher_config(tmp_path):
    """With torchvision's RoIAlign (mmcv's ``use_torchvision``) the
    profile names torchvision's op instead of mmcv's."""
    out = run([
        'python', REPO / 'tools' / 'analysis' / 'profile_teacher_ops.py',
        REPO / 'configs' / 'shapes' / 'faster-rcnn_r18_fpn_narrow_shapes.py',
        '--batch', '1', '--img-size', '64', '--rois-per-image', '8',
        '--iters', '1', '--top', '50', '--cfg-options',
        'model.roi_head.bbox_roi_extractor.roi_layer.use_torchvision=True'
    ], cwd=tmp_path).stdout
    assert 'torchvision::roi_align' in out, out
    assert 'RoIAlignFunction' not in out, out


def test_torchvision_roi_align_gives_mmcvs_outputs():
    """docs/performance.md's CPU tip: the same RoIAlign (aligned, adaptive
    sampling, as mmdet's configs), by torchvision's kernel."""
    import torch
    from mmcv.ops import RoIAlign
    gen = torch.Generator().manual_seed(0)
    features = torch.randn(2, 8, 32, 32, generator=gen)
    corners = torch.rand(50, 2, generator=gen) * 100
    sizes = torch.rand(50, 2, generator=gen) * 27 + 1
    rois = torch.cat([torch.randint(0, 2, (50, 1), generator=gen).float(),
                      corners, corners + sizes], dim=1)
    outputs = [RoIAlign(7, 0.25, 0, use_torchvision=tv)(features, rois)
               for tv in (False, True)]
    assert outputs[0].abs().sum() > 0
    torch.testing.assert_close(outputs[1], outputs[0], atol=1e-5, rtol=1e-5)
