"""The per-sample teacher state that weightings read, by declaration."""
import copy

import torch
import torch.nn.functional as F


def _detached(value):
    if isinstance(value, (list, tuple)):
        return [v.detach() for v in value]
    return value.detach()


class Quantity(property):
    """A property that is a state quantity (``TeacherState.QUANTITIES``)."""


def quantity(compute):
    """A state quantity: computed on first read only, then kept; a
    weighting may read it only if it declares it in ``reads``."""
    name = compute.__name__

    def read(self):
        if self.reads is not None and name not in self.reads:
            raise AttributeError(
                f'{self.reader} reads state.{name} but does not declare it '
                f'in its reads {tuple(self.reads)}')
        self._read.add(name)
        if name not in self._values:
            value = compute(self)
            self._values[name] = (value if self.keep_gradients else
                                  _detached(value))
        return self._values[name]

    read.__doc__ = compute.__doc__
    return Quantity(read)


class TeacherState:
    """Per-sample, per-teacher quantities of one iteration, built by the
    distiller. A weighting declares what it reads (``reads``); each
    quantity (a ``@quantity`` method, listed in ``QUANTITIES``) is computed
    on first read, once, detached unless ``keep_gradients``; the others
    are refused. K counts all teachers, K_l those with logits.

    Args:
        names (list[str]), logit_teachers (list[int]): the K teachers, and
            the indices of those with logits.
        points (Points), student (ModelRecord), teachers
            (list[ModelRecord]): the batch's points and records.
        kl (Tensor): (B, K_l) per-sample logit loss, with its graph.
        feature_loss (Tensor): (B, K) per-sample feature loss.
        connected (dict), classify_connected (callable), optional: the
            connected student levels per teacher, and teacher k's head on
            them, ``(k, levels)`` → (P, C) (``cosine``, ``connected_ce``).
        summary_uses_probabilities (bool): summaries are mean class
            probabilities (False: logits; points are samples).
        given (dict), reads (iterable[str]), reader (str), keep_gradients
            (bool): precomputed values, the readable quantities (None:
            all), who reads (for errors), whether to keep graphs.
    """

    def __init__(self, names, logit_teachers, points, student, teachers, kl,
                 feature_loss, connected=None, classify_connected=None,
                 summary_uses_probabilities=True, given=None, reads=None,
                 reader='weighting', keep_gradients=False):
        self.names = names
        self.logit_teachers = logit_teachers
        self.points = points
        self.student = student
        self.teachers = teachers
        self._kl = kl
        self._feature_loss = feature_loss
        self._connected = connected
        self._classify_connected = classify_connected
        self.summary_uses_probabilities = summary_uses_probabilities
        self.reads = None if reads is None else frozenset(reads)
        self.reader = reader
        self.keep_gradients = keep_gradients
        self._values, self._read = {}, set()
        for name, value in (given or {}).items():
            self.provide(name, value)

    def provide(self, name, value):
        """Set quantity ``name`` to a value computed elsewhere."""
        if name not in self.QUANTITIES:
            raise KeyError(f'unknown state quantity {name!r}')
        self._values[name] = value

    def for_reader(self, reads, reader):
        """The same state for another ``reader`` that declares its own
        ``reads`` (e.g. a hook that averages a quantity per domain): the
        values computed so far are shared, the declarations are not."""
        view = copy.copy(self)
        view.reads, view.reader, view._read = frozenset(reads), reader, set()
        return view

    @property
    def was_read(self):
        """The quantities read so far."""
        return set(self._read)

    @property
    def num_samples(self):
        return self.points.num_samples

    @property
    def num_teachers(self):
        return len(self.names)

    @property
    def dtype(self):
        return self._kl.dtype

    def uniform(self, num_teachers):
        """(B, num_teachers) of 1/num_teachers."""
        return self._feature_loss.new_full(
            (self.num_samples, num_teachers), 1.0 / num_teachers)

    def _logit_records(self):
        return [self.teachers[k] for k in self.logit_teachers]

    @quantity
    def kl(self):
        """(B, K_l) per-sample KL (T²-scaled) to each teacher."""
        return self._kl

    @quantity
    def feature_loss(self):
        """(B, K) per-sample feature loss."""
        return self._feature_loss

    @quantity
    def teacher_ce(self):
        """(B, K_l) per-sample CE of each teacher."""
        return torch.stack([
            self.points.cross_entropy(r.logits) for r in self._logit_records()
        ], dim=1)

    @quantity
    def teacher_accuracy(self):
        """(B, K_l) share of each sample's labelled points that each
        teacher predicts right (:meth:`Points.accuracy`)."""
        return torch.stack([
            self.points.accuracy(r.logits) for r in self._logit_records()
        ], dim=1)

    @quantity
    def student_ce(self):
        """(B,) per-sample CE of the student."""
        return self.points.cross_entropy(self.student.logits.detach())

    @quantity
    def entropy(self):
        """(B, K_l) per-sample mean entropy of each teacher's point
        distribution (T = 1)."""
        entropy = self.points.distribution.entropy
        return torch.stack([
            self.points.mean_per_sample(entropy(r.logits))
            for r in self._logit_records()
        ], dim=1).to(self.dtype)

    @quantity
    def teacher_summary(self):
        """(B, K_l, C): what the MTKD-RL state calls a teacher's logits: the
        logits themselves when points are samples, else the mean class
        probabilities p(z_t) over the sample's points (the points'
        distribution)."""
        probabilities = self.points.distribution.probabilities
        if self.summary_uses_probabilities:
            return torch.stack([
                self.points.mean_per_sample(probabilities(r.logits))
                for r in self._logit_records()
            ], dim=1)
        return torch.stack([r.logits for r in self._logit_records()], dim=1)

    @quantity
    def student_summary(self):
        """(B, C): the student's ``teacher_summary``, without gradient."""
        logits = self.student.logits.detach()
        if self.summary_uses_probabilities:
            return self.points.mean_per_sample(
                self.points.distribution.probabilities(logits))
        return logits

    @quantity
    def embeddings(self):
        """K teacher embeddings, (B, D_k) each."""
        return [r.embedding for r in self.teachers]

    @quantity
    def gram(self):
        """(B, B·(K+1)): row i of concat[G_1 … G_K, G_s] with G = F Fᵀ,
        F (B, ·) the flattened last feature level of each teacher and of the
        student before its connectors (no gradient), unnormalised (MMKD)."""
        levels = [r.features[-1] for r in self.teachers]
        levels.append(self.student.features[-1].detach())
        flat = [level.flatten(1) for level in levels]
        return torch.cat([f @ f.t() for f in flat], dim=1)

    @quantity
    def connected_ce(self):
        """(B, K) CE of each teacher's head on its connected student
        features (CA-MKD feature weights)."""
        with torch.no_grad():
            return torch.stack([
                self.points.cross_entropy(
                    self._classify_connected(
                        k, [c.detach() for c in self._connected[name]]))
                for k, name in enumerate(self.names)
            ], dim=1)

    @quantity
    def cosine(self):
        """(B, K) cosine of the pooled connected student feature (global
        average pool, averaged over levels) and each teacher's embedding
        (MTKD-RL)."""
        return torch.stack([
            F.cosine_similarity(
                torch.stack([c.detach().mean(dim=(2, 3))
                             for c in self._connected[name]]).mean(dim=0),
                record.embedding, dim=1)
            for name, record in zip(self.names, self.teachers)
        ], dim=1)

    @quantity
    def kd_grads(self):
        """(K_l, C): the gradient of each teacher's mean KD loss
        ``kl[:, k].mean()`` w.r.t. the student logits (P, C), averaged over
        the P points (samples, RoIs or pixels), as the AEKD reference does.
        Computed with gradients enabled whatever the caller's mode."""
        with torch.enable_grad():
            return torch.stack([
                torch.autograd.grad(
                    self._kl[:, k].mean(), self.student.logits,
                    retain_graph=True)[0].mean(dim=0)
                for k in range(self._kl.shape[1])
            ])

    @quantity
    def lookahead_credit(self):
        """(B, K_l) how much one gradient step on teacher k's distillation
        loss lowers sample i's own CE, to first order (ours):
        ``mean_p ⟨∂KL_pk/∂z_p, ∂CE_p/∂z_p⟩`` over the sample's points p
        with a label, each point's student logits z_p (C,) taken as free
        parameters (softmax, T²-scaled KL: ``T ⟨p_s^T − p_t^T, p_s − y⟩``).
        Positive where teacher k pulls the student towards the label.
        Computed with gradients enabled whatever the caller's mode."""
        logits = self.student.logits
        index = self.points.sample_index
        # the KL is a mean over all the sample's n_i points and the CE over
        # its m_i labelled ones: the summed products carry 1 / (n_i m_i)
        counts = torch.bincount(index, minlength=self.num_samples)
        with torch.enable_grad():
            ce_grad = torch.autograd.grad(
                self.points.cross_entropy(logits).sum(), logits,
                retain_graph=True)[0]
            credit = []
            for k in range(self._kl.shape[1]):
                kl_grad = torch.autograd.grad(
                    self._kl[:, k].sum(), logits, retain_graph=True)[0]
                products = (kl_grad * ce_grad).sum(dim=1)
                credit.append(
                    products.new_zeros(self.num_samples).index_add(
                        0, index, products) * counts)
        return torch.stack(credit, dim=1)


TeacherState.QUANTITIES = tuple(
    name for name, value in vars(TeacherState).items()
    if isinstance(value, Quantity))
