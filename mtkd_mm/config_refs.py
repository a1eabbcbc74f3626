"""Read a config given as a file path or a ``package::path.py`` reference,
and let a downstream config inherit ours: ``_base_ = 'mtkd_mm::…'``."""
import os.path as osp

from mmengine.config import Config
from mmengine.config.utils import MODULE2PACKAGE

CONFIG_ROOT = osp.join(osp.dirname(__file__), '.mim', 'configs')

# MMEngine resolves ``_base_ = 'pkg::…'`` only for the packages it lists
# (then in ``pkg/.mim/configs``, after ``pkg/.mim/model-index.yml``); listed
# once ``mtkd_mm`` is imported, as tools/train.py does first.
MODULE2PACKAGE.setdefault('mtkd_mm', 'mtkd_mm')


def read_config(ref):
    """``mmdet::…`` (any OpenMMLab package), ``mtkd_mm::…`` (this
    package's ``configs/``) or a file path → ``Config``."""
    package, sep, path = ref.partition('::')
    if not sep:
        cfg = Config.fromfile(ref)
    elif package == 'mtkd_mm':
        cfg = Config.fromfile(osp.join(CONFIG_ROOT, path))
    else:
        from mmengine.hub import get_config
        cfg = get_config(ref)
    for key in cfg.keys():
        _drop_our_scope(cfg[key])
    return cfg


def _drop_our_scope(node):
    """Remove ``_scope_ = 'mtkd_mm'`` under ``node``: MMEngine gives it to
    every dict inherited by ``_base_ = 'mtkd_mm::…'``, which would look the
    student's types up in our registries. Our configs are written for the
    student package's default scope (our own types carry ``mtkd_mm.``)."""
    if isinstance(node, dict):
        if node.get('_scope_') == 'mtkd_mm':
            node.pop('_scope_')
        children = node.values()
    elif isinstance(node, (list, tuple)):
        children = node
    else:
        return
    for child in children:
        _drop_our_scope(child)
