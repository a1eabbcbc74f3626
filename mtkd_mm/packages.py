"""Import an OpenMMLab task package only when a config needs it.

``import mtkd_mm`` imports none of mmdet, mmseg and mmpretrain: a detection
user's training must not depend on the classification package importing.

mmdet imports mmpretrain optionally but catches only ``ImportError``: a
mmpretrain that fails otherwise (``TypeError`` beside transformers >= 5)
would break every detector. Before importing mmdet, a broken mmpretrain is
therefore marked absent, with a warning that names the cause.
"""
import importlib
import sys
import warnings

from .checkpoint_safety import make_checkpoint_loaders_safe
from .errors import PackageImportError

TASK_PACKAGES = ('mmdet', 'mmseg', 'mmpretrain')

# Packages that a task package imports optionally (catching ImportError).
OPTIONAL_IMPORTS = {'mmdet': ('mmpretrain', )}

# Known breakages of a package's import and what fixes them.
WORKAROUNDS = {
    'mmpretrain': "mmpretrain 1.2 does not import beside transformers >= 5 "
                  "(its BLIP module); pip install 'transformers<5', or "
                  'uninstall transformers if no multimodal model is used',
}


def first_line(error):
    lines = str(error).strip().splitlines()
    return f'{type(error).__name__}: {lines[0] if lines else ""}'


def workaround(name):
    return WORKAROUNDS.get(name, f'check the installation of {name}')


def hide_if_broken(optional, user):
    """Mark package ``optional`` absent (``sys.modules[optional] = None``,
    so that importing it raises ``ImportError``) if importing it fails with
    another error, warning that ``user`` goes on without it."""
    if optional in sys.modules:
        return
    try:
        importlib.import_module(optional)
    except ImportError:
        return
    except Exception as error:
        sys.modules[optional] = None
        warnings.warn(f'{optional} fails to import ({first_line(error)}); '
                      f'{user} goes on without it. {workaround(optional)}')


def import_package(name, who):
    """Import package ``name`` for ``who`` (a config key, a teacher).

    Raises:
        PackageImportError: one line naming the package, ``who``, the cause
            and, where known, the workaround.
    """
    for optional in OPTIONAL_IMPORTS.get(name, ()):
        hide_if_broken(optional, name)
    try:
        package = importlib.import_module(name)
    except Exception as error:
        raise PackageImportError(
            f'{who} needs the package {name}, which fails to import '
            f'({first_line(error)}); {workaround(name)}') from error
    make_checkpoint_loaders_safe()  # schemes the package may have added
    return package


def import_scope(scope, who):
    """Import the task package of a registry scope (``'mmdet'``, …); other
    scopes (``mtkd_mm``, ``mmengine``, None) need nothing."""
    if scope in TASK_PACKAGES:
        import_package(scope, who)
