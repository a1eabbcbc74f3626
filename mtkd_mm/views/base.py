"""The task-view contract: the only task-specific code of the distiller."""
import importlib
import sys
from abc import ABCMeta, abstractmethod
from contextlib import nullcontext

import torch

from mtkd_mm.errors import BuildError
from mtkd_mm.structures import SOFTMAX, ModelRecord

from .recorder import Recorder


def as_levels(output):
    """A module output (tensor, tuple or list of tensors) → list of tensors."""
    if torch.is_tensor(output):
        return [output]
    return list(output)


def pooled_levels(levels):
    """(B, D): the global average pool of each level (B, D, H_l, W_l),
    averaged over the levels (the detection views' embedding)."""
    return torch.stack([level.mean(dim=(2, 3)) for level in levels]).mean(
        dim=0)


def is_instance(model, path):
    """``isinstance(model, <class at dotted path>)``, importing nothing: a
    class whose package is not imported has no instances."""
    module, name = path.rsplit('.', 1)
    if module.partition('.')[0] not in sys.modules:
        return False
    return isinstance(model, getattr(importlib.import_module(module), name))


class TaskView(metaclass=ABCMeta):
    """Reads features, per-point logits and embeddings from one model family.

    Subclasses set ``family`` (the dotted path of the downstream base class
    they read, imported only once its package is: a model of it cannot
    exist before), ``teacher_family`` if teachers may be wider (the family
    when None), ``distribution`` (how its points' logits become class
    probabilities: :class:`~mtkd_mm.structures.distributions.Softmax` unless
    the heads classify with a sigmoid per class; its points carry it),
    ``default_feature_place`` and ``default_feature_levels``, and implement
    :meth:`student_loss`, :meth:`teacher_head` (or the whole
    :meth:`teacher_record`) and :meth:`classify_features`.

    Args:
        feature_place (str, optional): dotted path of the module whose
            output is distilled (e.g. ``'neck'``, ``'backbone'``).
        feature_levels (list[int], optional): which outputs of that module;
            None takes the view's default.
    """

    family = None
    teacher_family = None
    distribution = SOFTMAX
    summary_uses_probabilities = True
    default_feature_place = 'backbone'
    default_feature_levels = None

    def __init__(self, feature_place=None, feature_levels=None):
        self.feature_place = feature_place or self.default_feature_place
        self.feature_levels = (
            feature_levels if feature_levels is not None else
            self.default_feature_levels)

    @classmethod
    def accepts(cls, model):
        """Whether ``model`` can be the student."""
        return is_instance(model, cls.family)

    @classmethod
    def accepts_teacher(cls, model):
        """Whether ``model`` can be a teacher (``teacher_family``)."""
        return is_instance(model, cls.teacher_family or cls.family)

    @classmethod
    def family_name(cls, teacher=False):
        path = (cls.teacher_family or cls.family) if teacher else cls.family
        return path.rsplit('.', 1)[1]

    def check(self, model, who):
        """Raise a :class:`BuildError` naming ``who`` unless ``model`` fits."""
        try:
            model.get_submodule(self.feature_place)
        except AttributeError:
            raise BuildError(
                f"{who}: feature_place '{self.feature_place}' does not exist "
                f'in {type(model).__name__}') from None

    def feature_recorder(self, model):
        return Recorder().module_output(
            'features', model.get_submodule(self.feature_place))

    def select_levels(self, output, who='model'):
        """The configured levels of a feature-place output."""
        levels = as_levels(output)
        if self.feature_levels is None:
            return levels
        try:
            return [levels[i] for i in self.feature_levels]
        except IndexError:
            raise BuildError(
                f'{who}: feature_levels {self.feature_levels} out of range: '
                f"'{self.feature_place}' gives {len(levels)} outputs"
            ) from None

    def probe(self, model, inputs, who):
        """Feature levels and embedding of ``model`` on a dummy batch.

        Returns:
            tuple[list[Tensor], Tensor]: levels (B, C_l, H_l, W_l) and the
            embedding (B, D).
        """
        recorder = self.feature_recorder(model)
        with recorder.on():
            extracted = model.extract_feat(inputs)
        features = self.select_levels(recorder.outputs['features'], who)
        return features, self.embed(extracted, features)

    @abstractmethod
    def embed(self, extracted, features):
        """(B, D) pooled embedding from ``extract_feat``'s output."""

    @abstractmethod
    def num_classes(self, model):
        """Number of classes the model predicts, or None (features only)."""

    def why_features_only(self, teacher):
        """Why ``teacher`` cannot classify the student's points (it then
        gives feature knowledge only), or None if it can."""
        if self.num_classes(teacher) is None:
            return f'is not a {self.family_name()}'
        return None

    def logit_dim(self, model):
        """C, the width of the model's per-point logits."""
        return self.num_classes(model)

    @abstractmethod
    def student_loss(self, student, inputs, data_samples):
        """Run the student's own loss; return (losses, record, points)."""

    def teacher_record(self, teacher, inputs, points, student_record):
        """The teacher's record on the student's points (call under
        ``torch.no_grad()``): its levels at the feature place, its
        :meth:`embed` and its :meth:`teacher_head`."""
        recorder = self.feature_recorder(teacher)
        with recorder.on():
            extracted = teacher.extract_feat(inputs)
        features = self.select_levels(recorder.outputs['features'])
        logits, context = self.teacher_head(teacher, extracted, points,
                                            student_record)
        return ModelRecord(
            features=features,
            embedding=self.embed(extracted, features),
            logits=logits,
            context=context)

    def teacher_head(self, teacher, extracted, points, student_record):
        """The teacher's (P, C) logits on the student's points from
        ``extract_feat``'s output (None: features only) and the record's
        context."""
        raise NotImplementedError(
            f'{type(self).__name__} implements neither teacher_head nor '
            'teacher_record')

    def why_no_look_ahead(self, student):
        """Why :meth:`look_ahead` cannot make ``student``'s loss twice
        differentiable, or None."""
        return None

    def keep_draws_for_look_ahead(self):
        """Called before training by a learner whose look-aheads run on the
        batch of the last real step: from then on the view keeps that
        step's random draws (one batch's) for :meth:`look_ahead`. Default:
        the view draws nothing at random."""

    def look_ahead(self, student, num_images, last_batch=False):
        """A context in which ``student``'s loss on one batch of
        ``num_images`` is a twice-differentiable function of its parameters
        alone, as a look-ahead of the student (MMKD) needs: the same random
        draws in every loss (those of the last real step if ``last_batch``:
        the batch is that step's), no op without a second derivative.
        Default: nothing to change."""
        return nullcontext()

    def can_classify_features(self):
        """Whether :meth:`classify_features` works with this feature place
        (the CA-MKD feature weights need it)."""
        return False

    def classify_features(self, teacher, record, connected, points):
        """Teacher ``teacher``'s head applied to connected student features
        (CA-MKD feature weights): (P, C) logits."""
        raise BuildError(f'{type(self).__name__} cannot classify features at '
                         f"feature_place '{self.feature_place}'")
