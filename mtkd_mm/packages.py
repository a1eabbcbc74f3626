"""Import an OpenMMLab task package only when a config needs it.

``import mtkd_mm`` imports none of mmdet, mmseg and mmpretrain: a detection
user's training must not depend on the classification package importing.
"""
import importlib

from .errors import PackageImportError

TASK_PACKAGES = ('mmdet', 'mmseg', 'mmpretrain')

# Known breakages of a package's import and what fixes them.
WORKAROUNDS = {
    'mmpretrain': "mmpretrain 1.2 does not import beside transformers >= 5 "
                  "(its BLIP module); pip install 'transformers<5', or "
                  'uninstall transformers if no multimodal model is used',
}


def import_package(name, who):
    """Import package ``name`` for ``who`` (a config key, a teacher).

    Raises:
        PackageImportError: one line naming the package, ``who``, the cause
            and, where known, the workaround.
    """
    try:
        return importlib.import_module(name)
    except Exception as error:
        cause = str(error).strip().splitlines()
        cause = f'{type(error).__name__}: {cause[0] if cause else ""}'
        hint = WORKAROUNDS.get(name, f'check the installation of {name}')
        raise PackageImportError(
            f'{who} needs the package {name}, which fails to import '
            f'({cause}); {hint}') from error


def import_scope(scope, who):
    """Import the task package of a registry scope (``'mmdet'``, …); other
    scopes (``mtkd_mm``, ``mmengine``, None) need nothing."""
    if scope in TASK_PACKAGES:
        import_package(scope, who)
