"""Evaluate every teacher once before training."""
import torch
from mmengine.hooks import Hook

from mtkd_mm.engine.distiller_of import distiller_of
from mtkd_mm.registry import HOOKS


@HOOKS.register_module()
class TeacherEvalHook(Hook):
    """Before training, run each teacher on the validation set with the
    config's ``val_evaluator`` and log ``teacher/<name>/<metric>``, so a
    user sees what the pool is worth. Each teacher uses its own data
    preprocessor. Off unless added to ``custom_hooks``.
    """

    priority = 'LOW'

    def before_train(self, runner):
        distiller = distiller_of(runner)
        dataloader = runner.val_dataloader
        for name, teacher in distiller.teachers.items():
            evaluator = runner.build_evaluator(runner.cfg.val_evaluator)
            evaluator.dataset_meta = dataloader.dataset.metainfo
            with torch.no_grad():
                for data in dataloader:
                    outputs = teacher.val_step(data)
                    evaluator.process(outputs, data['data_samples'])
            metrics = evaluator.evaluate(len(dataloader.dataset))
            scalars = {f'teacher/{name}/{k}': v for k, v in metrics.items()}
            runner.logger.info(f"teacher '{name}': {scalars}")
            runner.visualizer.add_scalars(scalars, step=0)
            for key, value in scalars.items():
                runner.message_hub.update_info(key, value)
