"""Logit distillation: KL divergence with a scalar or per-point temperature."""
import torch
import torch.nn.functional as F

from mtkd_mm.registry import MODELS


@MODELS.register_module()
class KLDivergence:
    """``T² · KL(σ(z_t / T) ‖ σ(z_s / T))`` summed over classes, per point.

    A point is a sample (classification), a RoI (detection) or a pixel
    (segmentation); the distiller averages points into samples.
    """

    def __call__(self, student_logits, teacher_logits, temperature):
        """
        Args:
            student_logits (Tensor): (P, C).
            teacher_logits (Tensor): (P, C), no gradient.
            temperature (float | Tensor): a scalar or (P,).

        Returns:
            Tensor: (P,) the per-point KL, scaled by T².
        """
        t = torch.as_tensor(temperature, dtype=student_logits.dtype,
                            device=student_logits.device)
        t_col = t.reshape(-1, 1) if t.dim() else t
        log_p_s = F.log_softmax(student_logits / t_col, dim=1)
        log_p_t = F.log_softmax(teacher_logits / t_col, dim=1)
        kl = (log_p_t.exp() * (log_p_t - log_p_s)).sum(dim=1)
        return kl * t**2
