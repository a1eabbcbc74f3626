"""Task view of mmdet's two-stage detectors (``TwoStageDetector`` with a
standard RoI head, e.g. Faster R-CNN)."""
import inspect
from contextlib import contextmanager

from mtkd_mm.ops import SeparableRoIAlign
from mtkd_mm.registry import TASK_VIEWS
from mtkd_mm.structures import ModelRecord, Points

from .base import BuildError, TaskView, pooled_levels
from .twice_differentiable import (recorded_sampling, replayed_sampling,
                                   torch_focal_loss, torch_roi_align)


def has_roi_classifier(model):
    """A two-stage detector whose RoI head classifies RoIs in one stage,
    ``roi_head._bbox_forward(x, rois)`` (``StandardRoIHead``; not Cascade
    heads, whose stages take another signature)."""
    if not (TwoStageDetectionView.accepts(model) and model.with_roi_head
            and getattr(model.roi_head, 'with_bbox', False)):
        return False
    forward = getattr(model.roi_head, '_bbox_forward', None)
    return forward is not None and list(
        inspect.signature(forward).parameters) == ['x', 'rois']


def samplers_of(model):
    """The random samplers of a two-stage detector's loss: the RoI head's
    and the RPN's."""
    samplers = [model.roi_head.bbox_sampler]
    if getattr(model.rpn_head, 'sampler', None) is not None:
        samplers.append(model.rpn_head.sampler)
    return samplers


@TASK_VIEWS.register_module()
class TwoStageDetectionView(TaskView):
    """Points are the student's sampled RoIs of the iteration.

    Every teacher's RoI head classifies the same RoIs from the teacher's own
    features; labels are the RoI targets of the student's assigner
    (background = C). Features are the neck levels; the embedding is the
    global average pool of each neck level, averaged over levels. A teacher
    of another detector family gives features only.
    """

    family = 'mmdet.models.detectors.TwoStageDetector'
    teacher_family = 'mmdet.models.detectors.BaseDetector'
    default_feature_place = 'neck'
    # whether student_loss keeps its samplers' results (one batch's anchors
    # and RoIs) in _last_draws, for a look-ahead on the same batch
    _keeps_draws = False
    _last_draws = None

    def check(self, model, who):
        super().check(model, who)
        if who == 'student' and not has_roi_classifier(model):
            raise BuildError(
                f'student: {type(model).__name__} has no standard RoI head '
                '(roi_head.bbox_head) to read RoI logits from')

    def num_classes(self, model):
        if not has_roi_classifier(model):
            return None
        return model.roi_head.bbox_head.num_classes

    def logit_dim(self, model):
        return self.num_classes(model) + 1  # RoI logits include background

    def embed(self, extracted, features):
        return pooled_levels(extracted)

    def student_loss(self, student, inputs, data_samples):
        recorder = self.feature_recorder(student)
        recorder.module_output('neck', student.neck)
        recorder.method_call('rois', student.roi_head.bbox_head,
                             'loss_and_target')
        samplers = samplers_of(student) if self._keeps_draws else []
        with recorder.on(), recorded_sampling(samplers) as draws:
            losses = student.loss(inputs, data_samples)
        if self._keeps_draws:
            self._last_draws = draws
        _, kwargs, result = recorder.calls['rois']
        labels = result['bbox_targets'][0]
        rois = kwargs['rois']
        record = ModelRecord(
            features=self.select_levels(recorder.outputs['features']),
            embedding=self.embed(recorder.outputs['neck'], None),
            logits=kwargs['cls_score'],
            context=dict(rois=rois))
        points = Points(
            sample_index=rois[:, 0].long(),
            labels=labels,
            num_samples=len(data_samples),
            distribution=self.distribution)
        return losses, record, points

    def why_no_look_ahead(self, student):
        for layer in student.roi_head.bbox_roi_extractor.roi_layers:
            try:
                SeparableRoIAlign(layer)
            except ValueError as error:
                return f'the student RoI extractor: {error}'
        return None

    def keep_draws_for_look_ahead(self):
        self._keeps_draws = True

    @contextmanager
    def look_ahead(self, student, num_images, last_batch=False):
        """The RPN's and the RoI head's samplers replay one draw: the last
        real step's if ``last_batch`` (the look-ahead's batch is that
        step's), else the first loss's; so every loss trains the same
        anchors and RoIs, whatever the look-ahead does to the RPN. The
        student's RoIAlign and mmdet's focal loss run as torch ops (mmcv's
        have no second derivative)."""
        first_draws = self._last_draws if last_batch else None
        if last_batch and first_draws is None:
            raise RuntimeError(
                'a look-ahead on the last real batch needs '
                'keep_draws_for_look_ahead() before that step')
        if first_draws and any(len(d) != num_images for d in first_draws):
            raise RuntimeError(
                f'the last real step drew for {len(first_draws[0])} images, '
                f'the look-ahead has {num_images}: not the same batch')
        with torch_focal_loss(), torch_roi_align(
                student.roi_head.bbox_roi_extractor), replayed_sampling(
                    samplers_of(student), num_images, first_draws):
            yield

    def teacher_head(self, teacher, extracted, points, student_record):
        rois = student_record.context['rois']
        logits = None
        if has_roi_classifier(teacher):
            logits = teacher.roi_head._bbox_forward(extracted,
                                                    rois)['cls_score']
        return logits, dict(rois=rois)

    def can_classify_features(self):
        return self.feature_place == 'neck' and self.feature_levels is None

    def classify_features(self, teacher, record, connected, points):
        if not has_roi_classifier(teacher):
            raise BuildError('a teacher without an RoI head cannot classify '
                             'connected features')
        return teacher.roi_head._bbox_forward(
            tuple(connected), record.context['rois'])['cls_score']
