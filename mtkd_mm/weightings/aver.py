"""AVER / AvgKD: every teacher counts the same."""
from mtkd_mm.registry import WEIGHTINGS

from .base import TeacherWeighting, TeacherWeights, uniform


@WEIGHTINGS.register_module()
class AVER(TeacherWeighting):
    """``w_ik = 1/K`` for logits (over the K_l teachers with logits) and
    features."""

    def forward(self, state):
        like = state.feature_loss
        return TeacherWeights(
            logit=uniform(state.num_samples, len(state.logit_teachers), like),
            feature=uniform(state.num_samples, state.num_teachers, like))
