"""What a task view reads from one model for one batch."""
from dataclasses import dataclass
from typing import List, Optional

import torch
from torch import Tensor

from .distributions import SOFTMAX, PointDistribution


@dataclass
class Points:
    """The points of comparison of a batch, shared by student and teachers.

    A point is a sample (classification), a sampled RoI (detection) or a
    logit pixel (segmentation).

    Attributes:
        sample_index (Tensor): (P,) the sample each point belongs to.
        labels (Tensor): (P,) ground-truth class per point.
        num_samples (int): B.
        ignore_index (int): label of points left out of the CE.
        distribution (PointDistribution): how the points' logits become
            class probabilities (the view's: softmax, or a sigmoid per
            class).
    """
    sample_index: Tensor
    labels: Tensor
    num_samples: int
    ignore_index: int = -100
    distribution: PointDistribution = SOFTMAX

    def mean_per_sample(self, values, valid=None):
        """(P, ...) → (B, ...): the mean over each sample's (valid) points."""
        weights = (torch.ones(len(values), device=values.device)
                   if valid is None else valid).to(values.dtype)
        shape = (-1, ) + (1, ) * (values.dim() - 1)
        weights_b = weights.reshape(shape)
        values = torch.where(weights_b > 0, values, torch.zeros_like(values))
        total = values.new_zeros((self.num_samples, ) +
                                 values.shape[1:]).index_add(
                                     0, self.sample_index, values * weights_b)
        count = values.new_zeros(self.num_samples).index_add(
            0, self.sample_index, weights)
        return total / count.clamp(min=1).reshape(shape)

    def cross_entropy(self, logits):
        """(P, C) → (B,): per-sample mean CE against the labels, under
        the points' distribution."""
        valid = self.labels != self.ignore_index
        ce = self.distribution.cross_entropy(
            logits, torch.where(valid, self.labels, 0))
        return self.mean_per_sample(ce, valid)

    def accuracy(self, logits):
        """(P, C) → (B,): the share of each sample's labelled points whose
        predicted label (the distribution's) is the label."""
        valid = self.labels != self.ignore_index
        right = self.distribution.predictions(logits) == self.labels
        return self.mean_per_sample(right.to(logits.dtype), valid)


@dataclass
class ModelRecord:
    """What one model (student or teacher) gives for a batch.

    Attributes:
        features (list[Tensor]): the levels at the feature place, each
            (B, C_l, H_l, W_l).
        embedding (Tensor): (B, D) pooled embedding.
        logits (Tensor, optional): (P, C) per point; None for a teacher that
            only gives features (e.g. a one-stage detector for a two-stage
            student).
        context (dict): view-specific extras (e.g. all backbone outputs).
    """
    features: List[Tensor]
    embedding: Tensor
    logits: Optional[Tensor] = None
    context: Optional[dict] = None
