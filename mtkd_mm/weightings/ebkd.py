"""EBKD: entropy-based teacher weights."""
import torch

from mtkd_mm.registry import WEIGHTINGS

from .base import TeacherWeighting, TeacherWeights, feature_weights_like_logits


@WEIGHTINGS.register_module()
class EBKD(TeacherWeighting):
    """``w_ik = 1 − H_ik / Σ_j H_ij``, H the entropy of σ(z_t,k,i) at T = 1
    (detection and segmentation: the mean over the sample's points).

    With K teachers the weights sum to K − 1; ``normalize=True`` (default)
    divides by K − 1 so that they sum to 1 like the other methods. A single
    teacher gets weight 1.
    """

    def __init__(self, normalize=True):
        super().__init__()
        self.normalize = normalize

    def forward(self, state):
        entropy = state.entropy.double()
        if entropy.shape[1] == 1:
            weights = torch.ones_like(state.entropy)
            return TeacherWeights(
                weights, feature_weights_like_logits(state, weights))
        total = entropy.sum(dim=1, keepdim=True)
        share = torch.where(total > 0, entropy / total.clamp(min=1e-30),
                            torch.full_like(entropy, 1 / entropy.shape[1]))
        weights = 1 - share
        if self.normalize:
            weights = weights / (weights.shape[1] - 1)
        weights = weights.to(state.kl.dtype)
        return TeacherWeights(
            logit=weights,
            feature=feature_weights_like_logits(state, weights))
