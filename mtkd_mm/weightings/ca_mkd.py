"""CA-MKD: confidence-aware teacher weights (Zhang, Chen, Wang, ICASSP 2022)."""
import torch
from mmengine.logging import MessageHub

from mtkd_mm.registry import WEIGHTINGS

from .base import TeacherWeighting, TeacherWeights


def confidence_weights(ce):
    """``(1 − softmax_k(CE_ik)) / (K − 1)``: (B, K) → (B, K), rows sum to 1
    (a single teacher gets 1)."""
    if ce.shape[1] == 1:
        return torch.ones_like(ce)
    return (1 - ce.softmax(dim=1)) / (ce.shape[1] - 1)


@WEIGHTINGS.register_module()
class CAMKD(TeacherWeighting):
    """Teachers whose predictions have a lower CE against the ground truth
    weigh more.

    Logit weights come from each teacher's CE. Feature weights come from the
    CE of teacher k's own head applied to the student feature after teacher
    k's connector (``feature_form='connected'``, the reference), or are
    uniform (``feature_form='uniform'``). The weighted teacher losses are
    summed and divided by K, as the reference does. The feature term is off
    (weights 0) for the first ``feature_off_iters`` iterations (the
    reference: its first epoch).
    """

    teacher_reduction = 'mean'

    def __init__(self, feature_form='connected', feature_off_iters=0):
        super().__init__()
        if feature_form not in ('connected', 'uniform'):
            raise ValueError("CAMKD.feature_form must be 'connected' or "
                             f"'uniform', got {feature_form!r}")
        self.feature_form = feature_form
        self.reads = ('teacher_ce', ) + (
            ('connected_ce', ) if feature_form == 'connected' else ())
        self.feature_off_iters = feature_off_iters

    def setup(self, info):
        if self.feature_form == 'connected' and len(
                info.logit_teachers) < len(info.names):
            only_features = sorted(
                set(info.names) - {info.names[k]
                                   for k in info.logit_teachers})
            raise ValueError(
                "CAMKD feature_form='connected' needs a head on every "
                f'teacher; {only_features} give features only (use '
                "feature_form='uniform')")

    def forward(self, state):
        logit = confidence_weights(state.teacher_ce)
        if self.feature_form == 'connected':
            feature = confidence_weights(state.connected_ce)
        else:
            feature = state.uniform(state.num_teachers)
        iteration = MessageHub.get_current_instance().get_info('iter', 0)
        if iteration < self.feature_off_iters:
            feature = torch.zeros_like(feature)
        return TeacherWeights(logit=logit, feature=feature)
