"""tools/analysis/profile_teacher_ops.py on the shapes Faster R-CNN: it
times the teacher's forward in fp32 and bf16 and names the operators,
mmcv's RoIAlign among them (the op with no bf16 kernel)."""
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
        assert 'RoIAlignFunction' in section, out
        assert 'aten::mkldnn_convolution' in section, out
    assert re.search(r'bf16 ÷ fp32: \d+\.\d\d', out), out
