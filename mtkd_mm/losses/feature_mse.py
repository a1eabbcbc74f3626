"""Feature distillation: mean squared error per sample."""
from mtkd_mm.registry import MODELS


@MODELS.register_module()
class FeatureMSE:
    """``mean_{c,h,w} (f_s − f_t)²`` for each sample."""

    def __call__(self, student_feat, teacher_feat):
        """(B, C, H, W) × 2 → (B,)."""
        return (student_feat - teacher_feat).pow(2).flatten(1).mean(dim=1)
