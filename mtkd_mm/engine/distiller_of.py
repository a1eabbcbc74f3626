"""The runner's distiller, whatever wraps it (DDP, our CPU DDP)."""
from mmengine.model import is_model_wrapper


def distiller_of(runner):
    """``runner.model`` without its model wrapper."""
    model = runner.model
    return model.module if is_model_wrapper(model) else model
