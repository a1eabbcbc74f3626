"""Task view of mmseg's ``EncoderDecoder`` (auxiliary heads stay the
student's own business)."""
import torch
import torch.nn.functional as F

from mtkd_mm.registry import TASK_VIEWS
from mtkd_mm.structures import ModelRecord, Points

from .base import TaskView


def flatten_pixels(seg_logits, size):
    """(B, C, h, w) → (B·H·W, C) at ``size`` (H, W)."""
    if tuple(seg_logits.shape[-2:]) != tuple(size):
        seg_logits = F.interpolate(
            seg_logits, size=size, mode='bilinear', align_corners=False)
    return seg_logits.permute(0, 2, 3, 1).flatten(0, 2)


@TASK_VIEWS.register_module()
class SegmentationView(TaskView):
    """Points are the pixels of the student's decode-head logits (labels
    resized to them by nearest neighbour); features are the last backbone
    stage; the embedding is its global average pool."""

    family = 'mmseg.models.segmentors.EncoderDecoder'
    default_feature_place = 'backbone'
    default_feature_levels = [-1]

    def num_classes(self, model):
        return model.decode_head.num_classes

    def embed(self, extracted, features):
        return features[-1].mean(dim=(2, 3))

    def student_loss(self, student, inputs, data_samples):
        recorder = self.feature_recorder(student)
        # decode_head.loss calls self.forward(), which skips module hooks
        recorder.method_call('logits', student.decode_head, 'forward')
        with recorder.on():
            losses = student.loss(inputs, data_samples)
        seg_logits = recorder.calls['logits'][2]
        size = seg_logits.shape[-2:]
        features = self.select_levels(recorder.outputs['features'])
        record = ModelRecord(
            features=features,
            embedding=self.embed(None, features),
            logits=flatten_pixels(seg_logits, size),
            context=dict(size=size))
        labels = torch.stack([s.gt_sem_seg.data for s in data_samples])
        labels = F.interpolate(labels.float(), size=size, mode='nearest')
        points = Points(
            sample_index=torch.arange(
                len(data_samples),
                device=inputs.device).repeat_interleave(size[0] * size[1]),
            labels=labels.long().flatten(),
            num_samples=len(data_samples),
            ignore_index=student.decode_head.ignore_index,
            distribution=self.distribution)
        return losses, record, points

    def teacher_head(self, teacher, extracted, points, student_record):
        size = student_record.context['size']
        return (flatten_pixels(teacher.decode_head(extracted), size),
                dict(extracted=extracted, size=size))

    def can_classify_features(self):
        return self.feature_place == 'backbone' and self.feature_levels == [
            -1
        ]

    def classify_features(self, teacher, record, connected, points):
        levels = list(record.context['extracted'])
        levels[-1] = connected[-1]
        return flatten_pixels(
            teacher.decode_head(tuple(levels)), record.context['size'])
