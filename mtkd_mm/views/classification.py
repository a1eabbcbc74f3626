"""Task view of mmpretrain's ``ImageClassifier``."""
import torch

from mtkd_mm.registry import TASK_VIEWS
from mtkd_mm.structures import ModelRecord, Points

from .base import BuildError, TaskView


def labels_of(data_samples):
    """(B,) hard labels; mixed (soft) labels give their arg-max."""
    if 'gt_label' in data_samples[0]:
        return torch.cat([s.gt_label[:1] for s in data_samples])
    return torch.stack([s.gt_score.argmax() for s in data_samples])


@TASK_VIEWS.register_module()
class ClassificationView(TaskView):
    """Points are the images; features are the last backbone stage and the
    embedding is the neck (pooling) output."""

    family = 'mmpretrain.models.classifiers.ImageClassifier'
    summary_uses_probabilities = False
    default_feature_place = 'backbone'
    default_feature_levels = [-1]

    def check(self, model, who):
        super().check(model, who)
        if not model.with_neck or not model.with_head:
            raise BuildError(f'{who}: an ImageClassifier without a neck or '
                             'head cannot be distilled')

    def num_classes(self, model):
        return model.head.num_classes

    def embed(self, extracted, features):
        return extracted[-1].flatten(1)

    def student_loss(self, student, inputs, data_samples):
        recorder = self.feature_recorder(student)
        recorder.module_output('embedding', student.neck)
        recorder.module_output('logits', student.head)
        with recorder.on():
            losses = student.loss(inputs, data_samples)
        out = recorder.outputs
        record = ModelRecord(
            features=self.select_levels(out['features']),
            embedding=out['embedding'][-1].flatten(1),
            logits=out['logits'])
        labels = labels_of(data_samples).to(inputs.device)
        points = Points(
            sample_index=torch.arange(len(labels), device=inputs.device),
            labels=labels,
            num_samples=len(labels),
            distribution=self.distribution)
        return losses, record, points

    def teacher_head(self, teacher, extracted, points, student_record):
        return teacher.head(extracted), None

    def can_classify_features(self):
        return self.feature_place == 'backbone' and self.feature_levels == [
            -1
        ]

    def classify_features(self, teacher, record, connected, points):
        return teacher.head(teacher.neck(tuple(connected)))
