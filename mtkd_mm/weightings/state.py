"""The per-sample teacher state that weightings read."""
from functools import cached_property

import torch
import torch.nn.functional as F


class TeacherState:
    """Per-sample, per-teacher quantities of one iteration, all detached.

    Cheap ones are given; the others are computed on first access only, so
    a weighting pays for what it reads and nothing is computed twice.
    K counts all teachers, K_l those with logits (``logit_teachers``).

    Attributes:
        kl (Tensor): (B, K_l) per-sample KL (T²-scaled) to each teacher.
        feature_loss (Tensor): (B, K) per-sample feature loss.
        teacher_ce (Tensor): (B, K_l) per-sample CE of each teacher.
        student_ce (Tensor): (B,) per-sample CE of the student.
        entropy (Tensor): (B, K_l) per-sample mean entropy of σ(z_t) (T=1).
        teacher_probs (Tensor): (B, K_l, C) per-sample mean of σ(z_t).
        embeddings (list[Tensor]): K teacher embeddings, (B, D_k) each.
        connected_ce (Tensor): (B, K) CE of the teachers' heads on the
            connected student features (CA-MKD feature weights).
        teacher_summary (Tensor): (B, K_l, C) logits (classification) or
            mean class probabilities (detection, segmentation).
        cosine (Tensor): (B, K) cosine of the pooled connected student
            feature and each teacher's embedding (MTKD-RL).
        kd_grads (Tensor): (K_l, C) gradient of each teacher's mean KD
            loss w.r.t. the student logits (P, C), averaged over the P
            points: samples, RoIs or pixels (AEKD).
    """

    def __init__(self, names, logit_teachers, points, student, teachers, kl,
                 feature_loss, lazy, summary_uses_probabilities=True):
        self.names = names
        self.logit_teachers = logit_teachers
        self.points = points
        self.student = student
        self.teachers = teachers
        self.kl = kl.detach()
        self.feature_loss = feature_loss.detach()
        self._lazy = lazy
        self.summary_uses_probabilities = summary_uses_probabilities

    @property
    def num_samples(self):
        return self.points.num_samples

    @property
    def num_teachers(self):
        return len(self.names)

    def _logit_records(self):
        return [self.teachers[k] for k in self.logit_teachers]

    @cached_property
    def teacher_ce(self):
        return torch.stack([
            self.points.cross_entropy(r.logits) for r in self._logit_records()
        ], dim=1)

    @cached_property
    def student_ce(self):
        return self.points.cross_entropy(self.student.logits.detach())

    @cached_property
    def entropy(self):
        per_teacher = []
        for record in self._logit_records():
            # float64: confident teachers have entropies far below 1e-7
            log_p = F.log_softmax(record.logits.double(), dim=1)
            h = -(log_p.exp() * log_p).sum(dim=1)
            per_teacher.append(self.points.mean_per_sample(h))
        return torch.stack(per_teacher, dim=1).to(record.logits.dtype)

    @cached_property
    def teacher_probs(self):
        return torch.stack([
            self.points.mean_per_sample(F.softmax(r.logits, dim=1))
            for r in self._logit_records()
        ], dim=1)

    @property
    def teacher_summary(self):
        """(B, K_l, C): what the MTKD-RL state calls a teacher's logits: the
        logits themselves when points are samples, else the mean class
        probabilities over the sample's points."""
        if self.summary_uses_probabilities:
            return self.teacher_probs
        return torch.stack([r.logits for r in self._logit_records()], dim=1)

    @cached_property
    def cosine(self):
        return self._lazy['cosine']().detach()

    @property
    def embeddings(self):
        return [r.embedding for r in self.teachers]

    @cached_property
    def connected_ce(self):
        return self._lazy['connected_ce']().detach()

    @cached_property
    def kd_grads(self):
        return self._lazy['kd_grads']().detach()
