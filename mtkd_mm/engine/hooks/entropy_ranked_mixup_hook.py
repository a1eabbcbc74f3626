"""RLKD's exploration: every few epochs, the training images the student
is surest of are blended with ones it is unsure of
(docs/methods.md#rlkd--itkd)."""
import torch
from mmengine.dist import all_reduce
from mmengine.hooks import Hook
from mmengine.runner import EpochBasedTrainLoop

from mtkd_mm.datasets import EntropyRankedMixupDataset
from mtkd_mm.engine.distiller_of import distiller_of
from mtkd_mm.errors import BuildError
from mtkd_mm.registry import HOOKS
from mtkd_mm.views.classification import ClassificationView

CHECKPOINT_KEY = 'entropy_ranked_mixup'


def mixup_pairs(scores, lost_band=(0.8, 0.9), partner_band=(0.1, 0.2),
                weights=(1.0, 0.7)):
    """Images ranked by ``scores`` (N,), highest first: the j-th of the
    ``lost_band`` ranks gets the j-th of the ``partner_band`` ranks with
    weight ``weights[0]`` at j = 0 falling linearly towards ``weights[1]``.

    Returns:
        tuple[Tensor]: images (M,), partners (M,), weights (M,).
    """
    n = len(scores)
    ranked = torch.argsort(scores, descending=True, stable=True)
    lost = ranked[int(lost_band[0] * n):int(lost_band[1] * n)]
    partners = ranked[int(partner_band[0] * n):int(partner_band[1] * n)]
    m = min(len(lost), len(partners))
    start, end = weights
    j = torch.arange(m, dtype=torch.float64)
    return lost[:m], partners[:m], (start - end) * (m - j) / m + end


@HOOKS.register_module()
class EntropyRankedMixupHook(Hook):
    """The released ITKD code's exploration, for classifiers in epoch-based
    loops (docs/methods.md#rlkd--itkd, "Exploration"): each step adds the
    student's prediction entropy on each image to its score (N,); before
    each epoch E > ``start_epoch`` with ``E % every == 0``,
    :func:`mixup_pairs` picks pairs by score, which the training set (an
    :class:`EntropyRankedMixupDataset`) blends for that epoch. The scores
    are summed over the ranks at each epoch's end and checkpointed.
    Detection and segmentation are refused (a blend would keep one image's
    boxes over another's objects).

    Args:
        start_epoch (int): no blending up to this epoch.
        every (int): blend in the epochs that are multiples of it.
        lost_band, partner_band (tuple[float]): rank fractions, highest
            entropy first, of the blended images and of their partners.
        weights (tuple[float]): the partner's weight at the first and
            towards the last pair.
    """

    priority = 'NORMAL'

    def __init__(self, start_epoch=20, every=20, lost_band=(0.8, 0.9),
                 partner_band=(0.1, 0.2), weights=(1.0, 0.7)):
        if not isinstance(every, int) or every < 1:
            raise ValueError('EntropyRankedMixupHook.every must be a positive'
                             f' integer, got {every!r}')
        self.start_epoch, self.every = start_epoch, every
        self.lost_band, self.partner_band = lost_band, partner_band
        self.weights = weights
        self.scores = None  # (N,) float64, summed over the ranks
        self.unsynced = None  # (N,) this rank's since the last sum
        self._entropies = None

    def before_train(self, runner):
        if not isinstance(runner.train_loop, EpochBasedTrainLoop):
            raise BuildError(
                'EntropyRankedMixupHook blends images for whole epochs: '
                'train_cfg must be an EpochBasedTrainLoop')
        self.dataset = runner.train_dataloader.dataset
        if not isinstance(self.dataset, EntropyRankedMixupDataset):
            raise BuildError(
                'EntropyRankedMixupHook: train_dataloader.dataset must be '
                "dict(type='mtkd_mm.EntropyRankedMixupDataset', "
                f'dataset=...), got {type(self.dataset).__name__}')
        model = distiller_of(runner)
        if not isinstance(model.view, ClassificationView):
            raise BuildError(
                'EntropyRankedMixupHook: only classifiers can learn from '
                'blended images (a blend keeps one image\'s boxes or masks)')
        if model.logit_loss is None or not model.logit_teachers:
            raise BuildError(
                'EntropyRankedMixupHook reads the student\'s logits where '
                'they are distilled, but nothing is distilled through '
                'logits')
        self.device = next(model.parameters()).device
        if self.scores is None:
            self.scores = torch.zeros(len(self.dataset), dtype=torch.float64)
        self.unsynced = torch.zeros_like(self.scores)
        model.temperature.register_forward_hook(self._keep)

    def _keep(self, module, args, output):
        """The student's entropies (B,) at the step's first call of the
        temperature (not again in a look-ahead)."""
        if module.training and self._entropies is None:
            points, student, _ = args
            entropy = points.distribution.entropy(student.logits.detach())
            self._entropies = points.mean_per_sample(entropy)

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        entropies, self._entropies = self._entropies, None
        indices = [s.sample_idx for s in data_batch['data_samples']]
        self.unsynced.index_add_(0, torch.tensor(indices),
                                 entropies.cpu().double())

    def before_train_epoch(self, runner):
        epoch = runner.epoch + 1
        if epoch > self.start_epoch and epoch % self.every == 0:
            images, partners, weights = mixup_pairs(
                self.scores, self.lost_band, self.partner_band, self.weights)
            self.dataset.set_pairs(images, partners, weights)
            runner.logger.info(
                f'epoch {epoch}: {len(images)} low-entropy images blended '
                'with high-entropy ones (EntropyRankedMixupHook)')
        else:
            self.dataset.clear()

    def after_train_epoch(self, runner):
        total = self.unsynced.to(self.device)
        all_reduce(total)
        self.scores += total.cpu()
        self.unsynced.zero_()

    def before_save_checkpoint(self, runner, checkpoint):
        checkpoint[CHECKPOINT_KEY] = self.scores.clone()

    def after_load_checkpoint(self, runner, checkpoint):
        if CHECKPOINT_KEY in checkpoint:
            self.scores = checkpoint[CHECKPOINT_KEY].clone()
