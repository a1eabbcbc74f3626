"""The distiller's T comes from the temperatures part: a number is a
FixedTemperature, a dict any registered temperature."""
import pytest

from mtkd_mm.errors import BuildError
from mtkd_mm.temperatures import FixedTemperature
from tests.test_distill.helpers import (CLS_DISTILL, build_model,
                                        with_teacher_checkpoints)


@pytest.mark.parametrize('temperature', [2.0, 2,
                                         dict(type='FixedTemperature',
                                              value=2.0)])
def test_number_or_config(teacher_ckpts, temperature):
    cfg = with_teacher_checkpoints(CLS_DISTILL, teacher_ckpts)
    cfg.model.temperature = temperature
    model = build_model(cfg)
    assert isinstance(model.temperature, FixedTemperature)
    assert model.temperature(None, None, None) == 2.0
    assert not list(model.temperature.parameters())


@pytest.mark.parametrize('temperature,message', [
    (0, 'model.temperature: a positive, finite number is needed, got 0'),
    (float('nan'), 'positive, finite'),
    ('4', "got '4'"),
    (dict(type='Annealed'), "model.temperature.type: 'Annealed' is not a "
     'registered distillation temperature of mtkd_mm; registered: '
     'FixedTemperature'),
])
def test_bad_temperature(teacher_ckpts, temperature, message):
    cfg = with_teacher_checkpoints(CLS_DISTILL, teacher_ckpts)
    cfg.model.temperature = temperature
    with pytest.raises(BuildError, match=message.replace('(', r'\(')):
        build_model(cfg)
