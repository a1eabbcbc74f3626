"""RLKD's delayed batch reward: the change of the student's batch accuracy,
scaled by a stage schedule (docs/methods.md#rlkd--itkd; ITKD
``trainer.py:354-470``).
"""
import math

import torch


def batch_accuracy(logits, labels, average='macro', ignore_index=-100):
    """The student's accuracy on a batch's points with a valid label.

    Args:
        logits (Tensor): (P, C); the prediction is the argmax (a sigmoid
            head's points are its positive priors).
        labels (Tensor): (P,).
        average (str): ``'macro'``: the mean recall over the classes in
            the labels or the predictions (torchmetrics'
            ``multiclass_accuracy``, the reference); ``'micro'``: the
            fraction of correct points.

    Returns:
        Tensor: () in [0, 1]; 0 without a valid point.
    """
    valid = labels != ignore_index
    predicted, labels = logits[valid].argmax(dim=1), labels[valid]
    if len(labels) == 0:
        return logits.new_zeros(())
    correct = (predicted == labels).to(logits.dtype)
    if average == 'micro':
        return correct.mean()
    classes = max(logits.shape[1], int(labels.max()) + 1)
    hits = logits.new_zeros(classes).index_add(0, labels, correct)
    counts = logits.new_zeros(classes).index_add(0, labels,
                                                 torch.ones_like(correct))
    seen = (counts > 0) | (torch.bincount(predicted, minlength=classes) > 0)
    return (hits / counts.clamp(min=1))[seen].mean()


def stage_scale(unit, stages):
    """The reward's multiplier at ``unit`` (1-based epoch or iteration):
    ``((cos(unit·π / period) + 1) / 2 + 1) · scale`` of the first stage with
    ``unit < end``, 1 after the last (the reference's CIFAR stages:
    ``end`` 150 / 210 / 240, ``period`` 75 / 30 / 30, ``scale`` 10 / 5 /
    2)."""
    for stage in stages:
        if unit < stage['end']:
            cosine = (math.cos(unit * math.pi / stage['period']) + 1) / 2
            return (cosine + 1) * stage['scale']
    return 1.0
