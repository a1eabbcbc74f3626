"""The training set of RLKD's exploration epochs: chosen images blended
with a partner image, the rest unchanged (docs/methods.md#rlkd--itkd)."""
import mmcv
import numpy as np
import torch
from mmengine.dataset import BaseDataset, Compose
from mmengine.registry import DATASETS as MMENGINE_DATASETS

from mtkd_mm.registry import DATASETS


@DATASETS.register_module()
class EntropyRankedMixupDataset:
    """Wraps a training set; image ``i`` with a partner ``j`` and weight
    ``r`` is loaded as ``uint8(r · img_j + (1 − r) · img_i)`` and keeps
    ``i``'s labels, then goes through the rest of the pipeline (the
    released ITKD code blends the raw CIFAR arrays the same way).

    :class:`~mtkd_mm.engine.hooks.EntropyRankedMixupHook` sets the pairs
    before an epoch. They live in shared memory, so dataloader workers,
    persistent ones included, see each epoch's pairs. A partner of another
    size is resized to the image's (ours: CIFAR's images share one size).

    Args:
        dataset (dict | BaseDataset): the training set.
        load_transforms (int): how many leading transforms of its pipeline
            load the image; the blend comes after them.
    """

    def __init__(self, dataset, load_transforms=1):
        if isinstance(dataset, dict):
            dataset = MMENGINE_DATASETS.build(dataset)
        if not isinstance(dataset, BaseDataset):
            raise TypeError('EntropyRankedMixupDataset.dataset must be a '
                            f'BaseDataset or its config, got {dataset!r}')
        self.dataset = dataset
        transforms = dataset.pipeline.transforms
        if not 1 <= load_transforms <= len(transforms):
            raise ValueError(
                'EntropyRankedMixupDataset.load_transforms must be between 1 '
                f'and the {len(transforms)} transforms of the pipeline, got '
                f'{load_transforms!r}')
        self.load = Compose(transforms[:load_transforms])
        self.rest = Compose(transforms[load_transforms:])
        self.partner = torch.full((len(dataset), ), -1).share_memory_()
        self.weight = torch.zeros(len(dataset)).share_memory_()

    @property
    def metainfo(self):
        return self.dataset.metainfo

    def full_init(self):
        self.dataset.full_init()

    def get_data_info(self, idx):
        return self.dataset.get_data_info(idx)

    def __len__(self):
        return len(self.dataset)

    def set_pairs(self, images, partners, weights):
        """Blend ``partners`` (M,) into ``images`` (M,) with ``weights``
        (M,) from now on; every other image is left as it is."""
        self.clear()
        self.partner[images] = partners
        self.weight[images] = weights.float()

    def clear(self):
        self.partner.fill_(-1)
        self.weight.zero_()

    def __getitem__(self, idx):
        partner = int(self.partner[idx])
        if partner < 0:
            return self.dataset[idx]
        results = self.load(self.dataset.get_data_info(idx))
        other = self.load(self.dataset.get_data_info(partner))['img']
        image = results['img']
        if other.shape[:2] != image.shape[:2]:
            other = mmcv.imresize(other, image.shape[1::-1])
        weight = float(self.weight[idx])
        results['img'] = (weight * other.astype(np.float32) +
                          (1 - weight) * image.astype(np.float32)).astype(
                              np.uint8)
        return self.rest(results)
