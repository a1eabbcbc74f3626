"""PKD: MSE between features normalised to zero mean and unit variance."""
from mtkd_mm.registry import MODELS


def standardise_channels(feat, eps=1e-6):
    """Each channel to zero mean, unit std over the batch and positions.

    (B, C, H, W) → (B, C, H, W).
    """
    mean = feat.mean(dim=(0, 2, 3), keepdim=True)
    std = feat.std(dim=(0, 2, 3), keepdim=True)
    return (feat - mean) / (std + eps)


@MODELS.register_module()
class PKD:
    """Pearson-correlation distillation (Cao et al., NeurIPS 2022).

    The batch loss ``mse(norm(f_s), norm(f_t)) / 2`` of the reference,
    split into samples: ``mean_{c,h,w} (norm(f_s) − norm(f_t))² / 2``.
    """

    def __call__(self, student_feat, teacher_feat):
        """(B, C, H, W) × 2 → (B,)."""
        diff = standardise_channels(student_feat) - standardise_channels(
            teacher_feat)
        return diff.pow(2).flatten(1).mean(dim=1) / 2
