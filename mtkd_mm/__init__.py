"""mtkd_mm: multi-teacher knowledge distillation for OpenMMLab 2.x."""
from . import checkpoint_safety  # noqa: F401  (before any checkpoint loads)
from . import connectors, distillers, engine, losses, weightings  # noqa: F401
from .version import __version__

__all__ = ['__version__']
