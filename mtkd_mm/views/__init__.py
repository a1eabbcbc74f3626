from mtkd_mm.registry import TASK_VIEWS

from .base import BuildError, TaskView
from .classification import ClassificationView
from .one_stage_detection import OneStageDetectionView
from .recorder import Recorder
from .segmentation import SegmentationView
from .two_stage_detection import TwoStageDetectionView


def view_for(student, **kwargs):
    """The registered task view (``TASK_VIEWS``) that reads ``student``'s
    family; a downstream project adds a family by registering its own."""
    TASK_VIEWS.import_from_location()
    for view in TASK_VIEWS.module_dict.values():
        if view.accepts(student):
            return view(**kwargs)
    supported = ', '.join(v.family for v in TASK_VIEWS.module_dict.values())
    raise BuildError(f'student: no task view for {type(student).__name__}; '
                     f'supported: {supported}')


__all__ = [
    'BuildError', 'ClassificationView', 'OneStageDetectionView', 'Recorder',
    'SegmentationView', 'TaskView', 'TwoStageDetectionView', 'view_for'
]
