"""AVER / AvgKD: every teacher counts the same."""
from mtkd_mm.registry import WEIGHTINGS

from .base import TeacherWeighting, TeacherWeights


@WEIGHTINGS.register_module()
class AVER(TeacherWeighting):
    """``w_ik = 1/K`` for logits (over the K_l teachers with logits) and
    features."""

    def forward(self, state):
        return TeacherWeights(
            logit=state.uniform(len(state.logit_teachers)),
            feature=state.uniform(state.num_teachers))
