"""Read a config given as a file path or a ``package::path.py`` reference."""
import os.path as osp

from mmengine.config import Config

CONFIG_ROOT = osp.join(osp.dirname(__file__), '.mim', 'configs')


def read_config(ref):
    """``mmdet::…`` (any OpenMMLab package), ``mtkd_mm::…`` (this
    package's ``configs/``) or a file path → ``Config``."""
    package, sep, path = ref.partition('::')
    if not sep:
        return Config.fromfile(ref)
    if package == 'mtkd_mm':
        return Config.fromfile(osp.join(CONFIG_ROOT, path))
    from mmengine.hub import get_config
    return get_config(ref)
