"""Logit distillation: KL divergence with a scalar or per-point temperature."""
import torch

from mtkd_mm.registry import MODELS
from mtkd_mm.structures import SOFTMAX


@MODELS.register_module()
class KLDivergence:
    """``T² · KL(p(z_t / T) ‖ p(z_s / T))`` per point, under the points'
    distribution p: a softmax over classes (classifiers, RoI heads, pixels)
    or a sigmoid per class (dense one-stage heads), given by the task view.

    A point is a sample (classification), a RoI or prior (detection) or a
    pixel (segmentation); the distiller averages points into samples.
    """

    def __call__(self, student_logits, teacher_logits, temperature,
                 distribution=SOFTMAX):
        """
        Args:
            student_logits (Tensor): (P, C).
            teacher_logits (Tensor): (P, C), no gradient.
            temperature (float | Tensor): a scalar or (P,).
            distribution (PointDistribution): ``points.distribution``.

        Returns:
            Tensor: (P,) the per-point KL, scaled by T².
        """
        t = torch.as_tensor(temperature, dtype=student_logits.dtype,
                            device=student_logits.device)
        t_col = t.reshape(-1, 1) if t.dim() else t
        kl = distribution.kl(student_logits, teacher_logits, t_col)
        return kl * t**2
