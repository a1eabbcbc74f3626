from .base import BuildError, TaskView
from .classification import ClassificationView
from .record import ModelRecord, Points
from .recorder import Recorder
from .segmentation import SegmentationView
from .two_stage_detection import TwoStageDetectionView

VIEWS = (TwoStageDetectionView, SegmentationView, ClassificationView)


def view_for(student, **kwargs):
    """The task view that reads ``student``'s family."""
    for view in VIEWS:
        if view.accepts(student):
            return view(**kwargs)
    raise BuildError(
        f'student: no task view for {type(student).__name__}; supported: '
        'mmdet TwoStageDetector, mmseg EncoderDecoder, mmpretrain '
        'ImageClassifier')


__all__ = [
    'BuildError', 'ClassificationView', 'ModelRecord', 'Points', 'Recorder',
    'SegmentationView', 'TaskView', 'TwoStageDetectionView', 'view_for'
]
