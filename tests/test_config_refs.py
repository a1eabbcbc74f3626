"""A downstream project's config inherits ours by ``_base_ =
'mtkd_mm::…'`` (here from the editable install; from a wheel:
tests/test_tools/test_installed_package.py)."""
from mmengine.registry import METRICS, init_default_scope

from mtkd_mm.config_refs import read_config

DOWNSTREAM = """\
_base_ = 'mtkd_mm::mtkd_rl/resnet18_narrow_shapes.py'
model = dict(weighting=dict(update_interval=5))
"""


def scopes(node):
    """Every ``_scope_`` value under ``node``."""
    if isinstance(node, dict):
        found = [node['_scope_']] if '_scope_' in node else []
        return found + [s for v in node.values() for s in scopes(v)]
    if isinstance(node, (list, tuple)):
        return [s for v in node for s in scopes(v)]
    return []


def test_a_downstream_config_inherits_ours_under_the_students_scope(
        tmp_path):
    (tmp_path / 'mine.py').write_text(DOWNSTREAM)
    cfg = read_config(str(tmp_path / 'mine.py'))
    assert cfg.model.weighting == dict(type='MTKDRL', warmup_iters=20,
                                       update_interval=5)
    assert 'mtkd_mm' not in scopes(cfg.to_dict())
    init_default_scope(cfg.default_scope)
    assert type(METRICS.build(cfg.val_evaluator)).__name__ == 'Accuracy'
