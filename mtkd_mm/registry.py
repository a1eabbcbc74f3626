"""The ``mtkd_mm`` registries: children of MMEngine's root registries.

A config selects them with ``default_scope = 'mtkd_mm'`` (or a
``mtkd_mm.TypeName`` type); the ``locations`` are imported on first use, as
``mmdet/registry.py`` does.
"""
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import \
    OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import Registry

MODELS = Registry(
    'model', parent=MMENGINE_MODELS, scope='mtkd_mm',
    locations=['mtkd_mm.distillers', 'mtkd_mm.losses', 'mtkd_mm.connectors'])
MODEL_WRAPPERS = Registry(
    'model_wrapper', parent=MMENGINE_MODEL_WRAPPERS, scope='mtkd_mm',
    locations=['mtkd_mm.engine'])
WEIGHTINGS = Registry(
    'teacher weighting', scope='mtkd_mm', locations=['mtkd_mm.weightings'])
TEMPERATURES = Registry(
    'distillation temperature', scope='mtkd_mm',
    locations=['mtkd_mm.temperatures'])
TASK_VIEWS = Registry(
    'task view', scope='mtkd_mm', locations=['mtkd_mm.views'])
DATASETS = Registry(
    'dataset', parent=MMENGINE_DATASETS, scope='mtkd_mm',
    locations=['mtkd_mm.datasets'])
HOOKS = Registry(
    'hook', parent=MMENGINE_HOOKS, scope='mtkd_mm',
    locations=['mtkd_mm.engine.hooks'])
OPTIM_WRAPPER_CONSTRUCTORS = Registry(
    'optimizer wrapper constructor',
    parent=MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS,
    scope='mtkd_mm',
    locations=['mtkd_mm.engine'])
