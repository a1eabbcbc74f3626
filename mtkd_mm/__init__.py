"""mtkd_mm: multi-teacher knowledge distillation for OpenMMLab 2.x."""
import warnings

# mmengine and mmdet import pkg_resources (setuptools < 81 is pinned for
# them); its deprecation notice, repeated on every import, would bury the
# tools' one-line error messages.
warnings.filterwarnings(
    'ignore', message='pkg_resources is deprecated', category=UserWarning)

from . import checkpoint_safety  # noqa: F401,E402  (before any load)
from . import (connectors, datasets, distillers, engine,  # noqa: F401,E402
               losses, temperatures, weightings)
from .version import __version__  # noqa: E402

__all__ = ['__version__']
