"""AEKD: adaptive ensemble by min-norm gradients (Du et al., NeurIPS 2020)."""
import itertools

import torch

from mtkd_mm.registry import WEIGHTINGS

from .base import TeacherWeighting, TeacherWeights, feature_weights_like_logits

ZERO, FREE, AT_CAP = range(3)


def min_norm_simplex(gram, cap=1.0, tol=1e-9):
    """``argmin wᵀ G w`` over ``{w ≥ 0, Σ w = 1, w ≤ cap}``, exactly, for a
    few teachers.

    The optimum lies on a face of that polytope: each teacher is at 0, free
    or at the cap (3^K faces, K the teacher count). On every face the free
    weights F, given the capped ones U, solve the KKT system
    ``[[2 G_FF, 1], [1ᵀ, 0]] [w_F; μ] = [−2 cap · G_FU 1; 1 − |U| · cap]``;
    the feasible solution with the lowest value wins (the first one on a
    tie, the all-free face first). Solved in float64 on the CPU by SVD
    least squares (G may be singular: K > C, or equal gradients), with G
    divided by its largest diagonal entry (the argmin does not depend on
    the scale).

    Args:
        gram (Tensor): (K, K) Gram matrix of the teachers' gradients.
        cap (float): upper bound on each weight, in [1/K, 1]; 1 is the
            plain simplex.
        tol (float): feasibility tolerance on the weights.

    Returns:
        Tensor: (K,) weights in [0, cap] summing to 1, on ``gram``'s device
        and of its dtype.
    """
    k = gram.shape[0]
    if not 1 / k - tol <= cap <= 1 + tol:
        raise ValueError(f'cap must lie in [1/K, 1] = [{1 / k}, 1], got {cap}')
    g = gram.detach().double().cpu()
    largest = g.diagonal().max()
    if largest > 0:
        g = g / largest
    best, best_value = None, None
    for states in itertools.product((FREE, ZERO, AT_CAP), repeat=k):
        free = [i for i in range(k) if states[i] == FREE]
        capped = [i for i in range(k) if states[i] == AT_CAP]
        rest = 1 - len(capped) * cap
        if rest < -tol or (not free and abs(rest) > tol):
            continue
        w = g.new_zeros(k)
        w[capped] = cap
        if free:
            n = len(free)
            kkt = g.new_zeros(n + 1, n + 1)
            kkt[:n, :n] = 2 * g[free][:, free]
            kkt[:n, n] = 1
            kkt[n, :n] = 1
            rhs = g.new_zeros(n + 1, 1)
            rhs[:n, 0] = -2 * cap * g[free][:, capped].sum(dim=1)
            rhs[n, 0] = rest
            w_free = torch.linalg.lstsq(kkt, rhs,
                                        driver='gelsd').solution[:n, 0]
            if ((w_free < -tol).any() or (w_free > cap + tol).any()
                    or abs(float(w_free.sum()) - rest) > tol):
                continue
            w[free] = w_free.clamp(0, cap)
        value = float(w @ g @ w)
        if best_value is None or value < best_value - 1e-12:
            best, best_value = w, value
    return best.to(gram)


@WEIGHTINGS.register_module()
class AEKD(TeacherWeighting):
    """Teacher weights ``argmin wᵀ G w`` over the simplex with every weight
    at most ``max(max_weight, 1/K_l)``, G the Gram matrix of the teachers'
    batch-mean KD gradients w.r.t. the student logits
    (``state.kd_grads``, (K_l, C)). The same weights apply to every
    sample; the distiller sums the weighted teacher losses, the CA-MKD
    reference's ``Σ_k w_k · KL_k`` (``loops.py:249``). Feature weights
    follow the logit weights when every teacher has logits.

    Args:
        max_weight (float): C of the reference (default 0.6, the
            reference's): its one-class SVM with ``ν = 1/(C · K)``, clamped
            into [1/K, 1], caps each weight at ``1/(K · ν) = max(C, 1/K)``
            (``helper/optimization.py``, ``train_student.py``). 1.0 is ours:
            the plain simplex, no cap.
    """

    reads = ('kd_grads', )

    def __init__(self, max_weight=0.6):
        super().__init__()
        if not 0 < max_weight <= 1:
            raise ValueError(
                f'AEKD.max_weight must lie in (0, 1], got {max_weight}')
        self.max_weight = max_weight

    def forward(self, state):
        grads = state.kd_grads.double()
        cap = max(self.max_weight, 1 / grads.shape[0])
        w = min_norm_simplex(grads @ grads.T, cap=cap).to(state.dtype)
        logit = w.expand(state.num_samples, -1).clone()
        return TeacherWeights(
            logit=logit, feature=feature_weights_like_logits(state, logit))
