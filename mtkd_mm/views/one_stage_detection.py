"""Task view of mmdet's one-stage dense detectors (``SingleStageDetector``
with a RetinaNet, FCOS, GFL or ATSS head), which classify every prior with
a sigmoid per class."""
import importlib
from contextlib import contextmanager

import torch

from mtkd_mm.registry import TASK_VIEWS
from mtkd_mm.structures import SIGMOID, ModelRecord, Points

from .base import BuildError, TaskView, pooled_levels
from .twice_differentiable import replayed_sampling, torch_focal_loss

# head class → (position of the labels in its get_targets' return value,
# whether those labels are per level (B*H*W,) image-major (FCOS) rather
# than (B, H*W*A))
TARGET_LAYOUTS = (
    ('mmdet.models.dense_heads.AnchorHead', 0, False),
    ('mmdet.models.dense_heads.GFLHead', 1, False),
    ('mmdet.models.dense_heads.ATSSHead', 1, False),
    ('mmdet.models.dense_heads.FCOSHead', 0, True),
)


def target_layout(head):
    """(labels_at, image_major) of ``head.get_targets``' return value, for
    heads whose ``get_targets`` and ``loss_by_feat`` are exactly those of a
    head above (so the layout, and one call per loss, are known); None for
    others (FreeAnchor, PISA, SSD, LD, …)."""
    for path, labels_at, image_major in TARGET_LAYOUTS:
        module, name = path.rsplit('.', 1)
        owner = getattr(importlib.import_module(module), name)
        if (type(head).get_targets is owner.get_targets
                and type(head).loss_by_feat is owner.loss_by_feat):
            return labels_at, image_major
    return None


def has_dense_classifier(model):
    """A one-stage detector whose head this view reads: a known target
    layout and a sigmoid per class (no background column)."""
    head = getattr(model, 'bbox_head', None)
    return (head is not None and target_layout(head) is not None
            and getattr(head, 'use_sigmoid_cls', False)
            and head.cls_out_channels == head.num_classes)


def same_priors(a, b):
    """Whether two prior generators give the same priors in the same order:
    same type, strides, priors per location, anchors (AnchorGenerator) and
    offset (MlvlPointGenerator)."""
    if (type(a) is not type(b) or list(a.strides) != list(b.strides)
            or list(a.num_base_priors) != list(b.num_base_priors)
            or getattr(a, 'offset', None) != getattr(b, 'offset', None)):
        return False
    anchors_a = getattr(a, 'base_anchors', [])
    anchors_b = getattr(b, 'base_anchors', [])
    return len(anchors_a) == len(anchors_b) and all(
        torch.equal(x, y) for x, y in zip(anchors_a, anchors_b))


def flat_head_logits(head, cls_scores):
    """``head``'s cls logits per level → (B, N, C)."""
    classes = head.cls_out_channels
    return torch.cat([
        s.permute(0, 2, 3, 1).reshape(s.shape[0], -1, classes)
        for s in cls_scores
    ], dim=1)


def flat_labels(head, targets, num_images):
    """``head.get_targets``' return value → (B, N) labels (background: C)."""
    labels_at, image_major = target_layout(head)
    levels = targets[labels_at]
    if image_major:
        levels = [level.reshape(num_images, -1) for level in levels]
    return torch.cat(levels, dim=1)


@TASK_VIEWS.register_module()
class OneStageDetectionView(TaskView):
    """Points are the student's positive priors of the iteration (those its
    assigner gave a class), as in LD's classification KD.

    Every teacher's head classifies the same priors from the teacher's own
    features (its full head output, gathered at the student's prior
    indices), which needs the same priors in the same order: a one-stage
    teacher whose prior generator differs (other strides, anchors, or
    points instead of anchors), or a detector of another family, gives
    features only (logged at build time). Point distribution: a sigmoid per
    class. Features are the neck levels; the embedding is the global
    average pool of each neck level, averaged over levels.
    """

    family = 'mmdet.models.detectors.SingleStageDetector'
    teacher_family = 'mmdet.models.detectors.BaseDetector'
    distribution = SIGMOID
    default_feature_place = 'neck'

    def check(self, model, who):
        super().check(model, who)
        if who != 'student':
            return
        if not has_dense_classifier(model):
            raise BuildError(
                f'student: {type(model).__name__} has no dense head with a '
                'sigmoid per class and known targets (RetinaHead, FCOSHead, '
                'GFLHead, ATSSHead and heads that keep their targets and '
                'losses)')
        self.student_priors = model.bbox_head.prior_generator

    def why_features_only(self, teacher):
        if not has_dense_classifier(teacher):
            return 'has no dense sigmoid head this view reads'
        if not same_priors(teacher.bbox_head.prior_generator,
                           self.student_priors):
            return ("has other priors than the student's (strides, anchors "
                    'or points), so it cannot classify the same ones')
        return None

    def num_classes(self, model):
        if not has_dense_classifier(model):
            return None
        return model.bbox_head.num_classes

    def embed(self, extracted, features):
        return pooled_levels(extracted)

    def student_loss(self, student, inputs, data_samples):
        head = student.bbox_head
        recorder = self.feature_recorder(student)
        recorder.module_output('neck', student.neck)
        recorder.module_output('head', head)
        recorder.method_call('targets', head, 'get_targets')
        with recorder.on():
            losses = student.loss(inputs, data_samples)
        _, _, targets = recorder.calls['targets']
        labels = flat_labels(head, targets, len(data_samples))
        cls_scores = recorder.outputs['head'][0]
        sample, prior = (labels < head.num_classes).nonzero(as_tuple=True)
        record = ModelRecord(
            features=self.select_levels(recorder.outputs['features']),
            embedding=self.embed(recorder.outputs['neck'], None),
            logits=flat_head_logits(head, cls_scores)[sample, prior],
            context=dict(prior=prior,
                         sizes=[s.shape[-2:] for s in cls_scores]))
        points = Points(
            sample_index=sample,
            labels=labels[sample, prior],
            num_samples=len(data_samples),
            distribution=self.distribution)
        return losses, record, points

    def _classify(self, teacher, levels, points, student_record):
        """Teacher's head on ``levels`` → (P, C) logits of the points."""
        cls_scores = teacher.bbox_head(tuple(levels))[0]
        sizes = [s.shape[-2:] for s in cls_scores]
        if sizes != student_record.context['sizes']:
            raise RuntimeError(
                f'teacher head levels {sizes} differ from the student\'s '
                f"{student_record.context['sizes']}")
        return flat_head_logits(teacher.bbox_head, cls_scores)[
            points.sample_index, student_record.context['prior']]

    def teacher_head(self, teacher, extracted, points, student_record):
        logits = None
        if self.why_features_only(teacher) is None:
            logits = self._classify(teacher, extracted, points,
                                    student_record)
        return logits, student_record.context

    @contextmanager
    def look_ahead(self, student, num_images, last_batch=False):
        """mmdet's focal loss in its torch form (on CUDA it is an mmcv op
        without a second derivative); the head's sampler, if any, replays
        the look-ahead's first draw (the accepted heads' samplers are
        deterministic: the real step's draw is the same)."""
        sampler = getattr(student.bbox_head, 'sampler', None)
        with torch_focal_loss(), replayed_sampling(
                [] if sampler is None else [sampler], num_images):
            yield

    def can_classify_features(self):
        return self.feature_place == 'neck' and self.feature_levels is None

    def classify_features(self, teacher, record, connected, points):
        if self.why_features_only(teacher) is not None:
            raise BuildError('a teacher without matching dense priors '
                             'cannot classify connected features')
        return self._classify(teacher, connected, points, record)
