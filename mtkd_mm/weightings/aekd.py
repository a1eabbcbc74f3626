"""AEKD: adaptive ensemble by min-norm gradients (Du et al., NeurIPS 2020)."""
import itertools

import torch

from mtkd_mm.registry import WEIGHTINGS

from .base import TeacherWeighting, TeacherWeights, feature_weights_like_logits


def min_norm_simplex(gram):
    """``argmin_{w ∈ simplex} wᵀ G w``, exactly, for a few teachers.

    The optimum is the minimiser of the quadratic on one face of the
    simplex; every face (subset S of teachers) is solved from its KKT
    system ``[[2 G_S, 1], [1ᵀ, 0]] [w; μ] = [0; 1]`` and the best
    non-negative solution wins (2^K small solves: K is the teacher count).

    Args:
        gram (Tensor): (K, K) Gram matrix of the teachers' gradients.

    Returns:
        Tensor: (K,) non-negative weights summing to 1.
    """
    k = gram.shape[0]
    best, best_value = None, None
    for subset in itertools.chain.from_iterable(
            itertools.combinations(range(k), n) for n in range(1, k + 1)):
        idx = torch.tensor(subset, device=gram.device)
        n = len(subset)
        kkt = gram.new_zeros(n + 1, n + 1)
        kkt[:n, :n] = 2 * gram[idx][:, idx]
        kkt[:n, n] = 1
        kkt[n, :n] = 1
        rhs = gram.new_zeros(n + 1, 1)
        rhs[n] = 1
        w_s = torch.linalg.lstsq(kkt, rhs).solution[:n, 0]
        if (w_s < -1e-9).any() or not torch.isclose(w_s.sum(),
                                                    w_s.new_tensor(1.0)):
            continue
        w = gram.new_zeros(k).index_put((idx, ), w_s.clamp(min=0))
        w = w / w.sum()
        value = w @ gram @ w
        if best_value is None or value < best_value - 1e-12:
            best, best_value = w, value
    return best


@WEIGHTINGS.register_module()
class AEKD(TeacherWeighting):
    """Teacher weights that solve the min-norm problem over the simplex for
    the per-teacher gradients of the KD loss w.r.t. the student logits
    (batch-averaged; the reference's one-class SVM dual with ν = 1/K has the
    same optimum). The same weights apply to every sample; feature weights
    follow them when every teacher has logits."""

    def forward(self, state):
        grads = state.kd_grads.double()
        w = min_norm_simplex(grads @ grads.T).to(state.kl.dtype)
        logit = w.expand(state.num_samples, -1).clone()
        return TeacherWeights(
            logit=logit, feature=feature_weights_like_logits(state, logit))
