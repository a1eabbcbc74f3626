"""Optimise the student and connectors of a distiller, never the teachers."""
import torch.nn as nn
from mmengine.model import is_model_wrapper
from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS as ROOT_CONSTRUCTORS

from mtkd_mm.registry import OPTIM_WRAPPER_CONSTRUCTORS


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class DistillerOptimWrapperConstructor:
    """Build the student's optimiser over ``student`` and ``connectors`` only.

    MMEngine's default constructor puts every parameter of the model into
    the optimiser, frozen ones included; a distiller's teachers must not be
    there, and learnable weightings have optimisers of their own (in their
    hooks). The parameter names keep the ``student.`` / ``connectors.``
    prefixes, so ``paramwise_cfg.custom_keys`` such as ``'backbone'`` still
    match. ``optim_wrapper.student_constructor`` names the constructor to
    delegate to (default: MMEngine's).
    """

    def __init__(self, optim_wrapper_cfg, paramwise_cfg=None):
        optim_wrapper_cfg = dict(optim_wrapper_cfg)
        inner = optim_wrapper_cfg.pop('student_constructor',
                                      'DefaultOptimWrapperConstructor')
        self.constructor = ROOT_CONSTRUCTORS.build(
            dict(type=inner, optim_wrapper_cfg=optim_wrapper_cfg,
                 paramwise_cfg=paramwise_cfg))

    def __call__(self, model):
        distiller = model.module if is_model_wrapper(model) else model
        trainable = nn.ModuleDict(
            dict(student=distiller.student, connectors=distiller.connectors))
        return self.constructor(trainable)
