"""plot_teacher_weights.py reads a run's teacher weights and draws them."""
import json

import pytest

from tests.conftest import load_tool_module


def write_run(work_dir, records):
    log = work_dir / '20260101_000000' / 'vis_data' / 'scalars.json'
    log.parent.mkdir(parents=True)
    log.write_text('\n'.join(json.dumps(r) for r in records))


def test_reads_every_teacher_curve_and_writes_a_png(tmp_path):
    records = [{'step': it, 'loss': 1.0, 'distill.w_logit.a': 0.1 * it,
                'distill.w_logit.b': 1 - 0.1 * it, 'distill.w_feature.a': 0.5,
                'distill.w_feature.b': 0.5} for it in (10, 20, 30)]
    records.append({'step': 30, 'accuracy/top1': 80.0})
    write_run(tmp_path, records)
    tool = load_tool_module('tools/analysis/plot_teacher_weights.py')
    curves = tool.read_weights(tmp_path)
    assert curves['logit']['a'] == ([10, 20, 30], [1.0, 2.0, 3.0])
    assert curves['logit']['b'][1] == pytest.approx([0.0, -1.0, -2.0])
    assert set(curves['feature']) == {'a', 'b'}
    out = tmp_path / 'weights.png'
    tool.plot(curves, out)
    assert out.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'


def test_a_run_without_weights_is_a_clear_error(tmp_path):
    write_run(tmp_path, [{'step': 1, 'loss': 1.0}])
    tool = load_tool_module('tools/analysis/plot_teacher_weights.py')
    with pytest.raises(SystemExit, match='no distill.w_'):
        tool.read_weights(tmp_path)


def test_a_learnt_temperature_gets_its_own_panel(tmp_path):
    records = [{'step': it, 'distill.w_logit.a': 1.0,
                'distill.w_feature.a': 1.0} for it in (10, 20)]
    records[1].update({'distill.temperature_mean': 4.5,
                       'distill.temperature_std': 1.5})
    write_run(tmp_path, records)
    tool = load_tool_module('tools/analysis/plot_teacher_weights.py')
    curves = tool.read_weights(tmp_path)
    assert curves['temperature'] == {'mean': ([20], [4.5]),
                                     'std': ([20], [1.5])}
    out = tmp_path / 'weights.png'
    tool.plot(curves, out)
    import matplotlib.image
    assert matplotlib.image.imread(out).shape[1] == 1650  # 3 × 5.5 in


def test_each_domain_gets_a_panel_of_its_images_weights(tmp_path):
    records = [{'step': it, 'distill.w_logit.a': 0.5,
                'distill.w_feature.a': 0.5} for it in (10, 20)]
    records[0].update({'domain_weight/shapes_dark/a': 0.8,
                       'domain_weight/shapes_dark/b': 0.2,
                       'domain_weight/shapes_clean/a': 0.3})
    records[1].update({'domain_weight/shapes_dark/a': 0.9})
    write_run(tmp_path, records)
    tool = load_tool_module('tools/analysis/plot_teacher_weights.py')
    curves = tool.read_weights(tmp_path)
    assert curves['domains']['shapes_dark']['a'] == ([10, 20], [0.8, 0.9])
    assert curves['domains']['shapes_dark']['b'] == ([10], [0.2])
    assert set(curves['domains']) == {'shapes_dark', 'shapes_clean'}
    out = tmp_path / 'weights.png'
    tool.plot(curves, out)
    import matplotlib.image
    assert matplotlib.image.imread(out).shape[1] == 2200  # 4 × 5.5 in
