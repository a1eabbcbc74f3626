"""CWD: channel-wise distillation (Shu et al., ICCV 2021)."""
import torch.nn.functional as F

from mtkd_mm.registry import MODELS


@MODELS.register_module()
class ChannelWiseDivergence:
    """Each channel's spatial map becomes a distribution (softmax at τ);
    ``τ² · Σ_c KL(teacher_c ‖ student_c) / C`` per sample.

    Args:
        tau (float): temperature of the spatial softmax.
    """

    def __init__(self, tau=1.0):
        self.tau = tau

    def __call__(self, student_feat, teacher_feat):
        """(B, C, H, W) × 2 → (B,)."""
        s = student_feat.flatten(2) / self.tau
        t = teacher_feat.flatten(2) / self.tau
        log_p_t = F.log_softmax(t, dim=2)
        kl = (log_p_t.exp() * (log_p_t - F.log_softmax(s, dim=2))).sum(2)
        return kl.mean(dim=1) * self.tau**2
