"""How a view's points turn logits into class probabilities, and the KL,
CE and entropy under that distribution."""
from abc import ABCMeta, abstractmethod

import torch.nn.functional as F


class PointDistribution(metaclass=ABCMeta):
    """The class distribution of one point given its logits (P, C).

    Every method returns one value per point, (P,), except
    :meth:`probabilities`, (P, C).
    """

    @abstractmethod
    def probabilities(self, logits):
        """(P, C) class probabilities."""

    @abstractmethod
    def kl(self, student_logits, teacher_logits, temperature):
        """KL(teacher ‖ student) at ``temperature`` (a scalar or a (P, 1)
        tensor), not scaled by T²."""

    @abstractmethod
    def cross_entropy(self, logits, labels):
        """CE against ``labels`` (P,) (valid labels only)."""

    @abstractmethod
    def entropy(self, logits):
        """H of the distribution at T = 1, in float64 (confident teachers
        have entropies far below float32's resolution near 1)."""

    @abstractmethod
    def predictions(self, logits):
        """The predicted label of each point, comparable with the labels
        of :meth:`cross_entropy`."""


class Softmax(PointDistribution):
    """One softmax over the C columns: classifiers (C classes), RoI heads
    and segmentation pixels (C classes + background or ignore)."""

    def probabilities(self, logits):
        return logits.softmax(dim=1)

    def kl(self, student_logits, teacher_logits, temperature):
        log_p_s = F.log_softmax(student_logits / temperature, dim=1)
        log_p_t = F.log_softmax(teacher_logits / temperature, dim=1)
        return (log_p_t.exp() * (log_p_t - log_p_s)).sum(dim=1)

    def cross_entropy(self, logits, labels):
        return F.cross_entropy(logits, labels, reduction='none')

    def entropy(self, logits):
        log_p = F.log_softmax(logits.double(), dim=1)
        return -(log_p.exp() * log_p).sum(dim=1)

    def predictions(self, logits):
        return logits.argmax(dim=1)


class Sigmoid(PointDistribution):
    """An independent sigmoid per class, no background column (dense
    one-stage detection heads): KL, CE and entropy are the binary ones
    summed over the C classes; label C (background) is all-negative."""

    def probabilities(self, logits):
        return logits.sigmoid()

    def kl(self, student_logits, teacher_logits, temperature):
        z_s = student_logits / temperature
        z_t = teacher_logits / temperature
        p_t = z_t.sigmoid()
        # log σ(z) and log(1 − σ(z)) = log σ(−z), stable for large |z|
        positive = F.logsigmoid(z_t) - F.logsigmoid(z_s)
        negative = F.logsigmoid(-z_t) - F.logsigmoid(-z_s)
        return (p_t * positive + (1 - p_t) * negative).sum(dim=1)

    def cross_entropy(self, logits, labels):
        classes = logits.shape[1]
        targets = F.one_hot(labels.clamp(max=classes), classes + 1)
        return F.binary_cross_entropy_with_logits(
            logits, targets[:, :classes].to(logits.dtype),
            reduction='none').sum(dim=1)

    def entropy(self, logits):
        z = logits.double()
        p = z.sigmoid()
        return -(p * F.logsigmoid(z) + (1 - p) * F.logsigmoid(-z)).sum(dim=1)

    def predictions(self, logits):
        """The most probable class where its probability is at least 0.5,
        else C (background)."""
        probability, label = logits.sigmoid().max(dim=1)
        return label.masked_fill(probability < 0.5, logits.shape[1])


SOFTMAX = Softmax()
SIGMOID = Sigmoid()
