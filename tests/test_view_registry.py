"""A downstream project adds a task family by registering a view."""
import pytest
import torch.nn as nn

from mtkd_mm.registry import TASK_VIEWS
from mtkd_mm.views import BuildError, TaskView, view_for


class LinearView(TaskView):
    """A view of ``nn.Linear`` 'models' (for this test only)."""
    family = 'torch.nn.modules.linear.Linear'

    def embed(self, extracted, features):
        return extracted

    def num_classes(self, model):
        return model.out_features

    def student_loss(self, student, inputs, data_samples):
        raise NotImplementedError

    def teacher_record(self, teacher, inputs, points, student_record):
        raise NotImplementedError


@pytest.fixture
def linear_view():
    TASK_VIEWS.register_module(module=LinearView)
    yield
    TASK_VIEWS._module_dict.pop('LinearView')


def test_a_registered_view_reads_its_family(linear_view):
    view = view_for(nn.Linear(3, 2), feature_place='weight')
    assert isinstance(view, LinearView) and view.feature_place == 'weight'


def test_no_view_lists_the_registered_families():
    with pytest.raises(BuildError) as error:
        view_for(nn.Linear(3, 2))
    message = str(error.value)
    assert 'student: no task view for Linear' in message
    for family in ('mmdet.models.detectors.TwoStageDetector',
                   'mmseg.models.segmentors.EncoderDecoder',
                   'mmpretrain.models.classifiers.ImageClassifier'):
        assert family in message
