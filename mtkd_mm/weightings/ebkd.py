"""EBKD: entropy-based teacher weights."""
import torch

from mtkd_mm.registry import WEIGHTINGS

from .base import TeacherWeighting, TeacherWeights


def entropy_weights(entropy, normalize=False):
    """``1 − H_ik / Σ_j H_ij``: (B, K) entropies → (B, K) float64 weights.

    Rows sum to K − 1, or to 1 with ``normalize``. A row of zero entropies
    counts as equal entropies; a single teacher gets 1.
    """
    entropy = entropy.double()
    if entropy.shape[1] == 1:
        return torch.ones_like(entropy)
    total = entropy.sum(dim=1, keepdim=True)
    share = torch.where(total > 0, entropy / total.clamp(min=1e-30),
                        torch.full_like(entropy, 1 / entropy.shape[1]))
    weights = 1 - share
    if normalize:
        weights = weights / (weights.shape[1] - 1)
    return weights


@WEIGHTINGS.register_module()
class EBKD(TeacherWeighting):
    """``w_ik = 1 − H_ik / Σ_j H_ij``, H the entropy of σ(z_t,k,i) at T = 1
    (detection and segmentation: the mean over the sample's points). A
    single teacher gets weight 1.

    ``normalize=False`` (default, the reference's): the weights sum to
    K_l − 1 and ``teacher_reduction`` is ``'mean'``, so the distiller's
    logit loss is ``α · Σ_i Σ_k w_ik · KL_ik / (B · K_l)``, the CA-MKD
    reference's (``loops.py:204-219``). ``normalize=True`` (ours): the
    weights are divided by K_l − 1 to sum to 1 and the teacher losses are
    summed (``'sum'``), K_l / (K_l − 1) times the reference's loss.

    Feature weights (the reference has no EBKD feature term) follow the
    logit weights when every teacher has logits; otherwise every teacher
    gets the weight of equal entropies, 1 − 1/K (normalised: 1/K).
    """

    reads = ('entropy', )

    def __init__(self, normalize=False):
        super().__init__()
        self.normalize = normalize
        self.teacher_reduction = 'sum' if normalize else 'mean'

    def forward(self, state):
        logit = entropy_weights(state.entropy,
                                self.normalize).to(state.dtype)
        if len(state.logit_teachers) == state.num_teachers:
            feature = logit
        else:
            equal_entropies = logit.new_ones(state.num_samples,
                                             state.num_teachers)
            feature = entropy_weights(equal_entropies,
                                      self.normalize).to(logit.dtype)
        return TeacherWeights(logit=logit, feature=feature)
