"""The weighting contract: per-sample teacher state → per-sample weights."""
from abc import ABCMeta, abstractmethod
from typing import NamedTuple, Optional

import torch
import torch.nn as nn
from torch import Tensor


class TeacherWeights(NamedTuple):
    """Per-sample teacher weights.

    Attributes:
        logit (Tensor): (B, K_l) over the teachers with logits.
        feature (Tensor): (B, K) over all teachers.
        extras (dict, optional): other per-sample weights a weighting
            reports for analysis, by name, (B, K_l) or (B, K) each (e.g.
            MTKD-RL's agent actions before fusion); logged per domain by
            ``TeacherWeightsByDomainHook``, never applied.
    """
    logit: Tensor
    feature: Tensor
    extras: Optional[dict] = None


class PoolInfo(NamedTuple):
    """What a weighting may know about the teacher pool when it is built.

    Attributes:
        names (list[str]): the K teachers.
        logit_teachers (list[int]): indices of the teachers with logits.
        embedding_dims (list[int]): D_k of each teacher's embedding.
        feature_channels (list[list[int]]): channels of each teacher's
            feature levels ([] without a feature loss).
        logit_dim (int): C, the width of the per-point logits.
        feature_loss_weight (float): β of the distiller.
    """
    names: list
    logit_teachers: list
    embedding_dims: list
    feature_channels: list
    logit_dim: int
    feature_loss_weight: float

    def require_logits_from_every_teacher(self, who):
        """Raise ``ValueError`` naming ``who`` if a teacher gives features
        only."""
        if len(self.logit_teachers) != len(self.names):
            raise ValueError(f'{who} needs logits from every teacher; some '
                             'give features only')


class TeacherWeighting(nn.Module, metaclass=ABCMeta):
    """Maps a :class:`~mtkd_mm.structures.TeacherState` to
    :class:`TeacherWeights`.

    A weighting that learns from stored experience is also a
    :class:`~mtkd_mm.learning.Learner` (e.g. ``MTKDRL``).

    Class attributes (a weighting may override them per instance):
        reads (tuple[str]): the state quantities it reads
            (``TeacherState.QUANTITIES``); the distiller checks them at
            build time and the state refuses the others.
        weights_carry_gradients (bool): False: called under ``no_grad``
            on detached quantities; True: in the distiller's look-ahead of
            the student, with gradients, quantities keep their graph (a
            weighting learned through the student's loss).
        teacher_reduction (str): how the distiller reduces the weighted
            teacher losses, see :func:`weighted_teacher_loss`.
    """

    reads = ()
    weights_carry_gradients = False
    teacher_reduction = 'sum'

    @abstractmethod
    def forward(self, state):
        """state → :class:`TeacherWeights`."""

    def setup(self, info):
        """Called once the pool is built, with a :class:`PoolInfo`: check
        the pool (raise ``ValueError``) and size what depends on it."""


def feature_weights_like_logits(state, logit_weights):
    """Feature weights that follow the logit weights when every teacher has
    logits, else 1/K (feature-only teachers have no logit state)."""
    if len(state.logit_teachers) == state.num_teachers:
        return logit_weights
    return state.uniform(state.num_teachers)


def dirichlet(mean, concentration):
    """A Dirichlet around per-sample weights ``mean`` (B, K): concentration
    ``mean · concentration``, at least 1e-3."""
    return torch.distributions.Dirichlet(
        (mean * concentration).clamp(min=1e-3))


def weighted_teacher_loss(weights, losses, reduction='sum'):
    """``Σ_k mean_i(w_ik · L_ik)``, divided by the number of teachers K
    when ``reduction`` is ``'mean'`` (the CA-MKD reference's EBKD and CA-MKD
    losses); ``'sum'`` leaves it as it is.

    Args:
        weights (Tensor): (B, K) per-sample teacher weights.
        losses (Tensor): (B, K) per-sample loss to each teacher.
        reduction (str): ``'sum'`` or ``'mean'``.

    Returns:
        Tensor: the scalar loss.
    """
    if reduction not in ('sum', 'mean'):
        raise ValueError("teacher_reduction must be 'sum' or 'mean', got "
                         f'{reduction!r}')
    total = (weights * losses).mean(dim=0).sum()
    return total / losses.shape[1] if reduction == 'mean' else total
