"""MMKD's hard buffer: a bounded pool of hard training images from which
quiz batches are drawn (the reference's ``HardBuffer``)."""
import copy

import torch


def split_batch(data_batch, indices):
    """The images ``indices`` of a raw batch ``dict(inputs, data_samples)``
    as ``(input, data_sample)`` pairs, copied to the CPU so that nothing of
    the batch is kept alive."""
    inputs, samples = data_batch['inputs'], data_batch['data_samples']
    return [(inputs[i].detach().cpu().clone(), copy.deepcopy(samples[i]))
            for i in indices]


class HardBuffer:
    """At most ``capacity`` images: the first images of the run fill it,
    then each batch's hard images overwrite as many distinct slots drawn at
    random; a quiz batch is ``quiz_size`` distinct images drawn at random.

    Which images are hard is the learner's choice (MMKD: misclassified
    samples, as in the reference; for detection and segmentation, ours,
    the images with the highest per-image student loss). Not checkpointed
    (a COCO-scale buffer would make every checkpoint gigabytes): a resumed
    run refills it from its next batches, as a new run does.

    Args:
        capacity (int): most images kept (the reference: 256).
        quiz_size (int): images per quiz batch (the reference: the batch
            size, 64).
        seed (int): of the buffer's own random draws.
    """

    def __init__(self, capacity, quiz_size, seed=0):
        if capacity < quiz_size:
            raise ValueError(f'a hard buffer of {capacity} images cannot '
                             f'give quiz batches of {quiz_size}')
        self.capacity = capacity
        self.quiz_size = quiz_size
        self.images = []
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self):
        return len(self.images)

    def put(self, data_batch, hard):
        """Store the batch's images while the buffer fills, then its hard
        ones (``hard``: (B,) bool) in random slots."""
        if len(self.images) < self.capacity:
            room = self.capacity - len(self.images)
            count = min(room, len(data_batch['data_samples']))
            self.images.extend(split_batch(data_batch, range(count)))
            return
        hard_images = split_batch(data_batch, hard.nonzero()[:, 0].tolist())
        slots = torch.randperm(self.capacity, generator=self.generator)
        for slot, image in zip(slots.tolist(), hard_images):
            self.images[slot] = image

    def drain(self):
        """One quiz entry ``[dict(batch=raw batch)]``, or none while fewer
        than ``quiz_size`` images are stored; the images stay."""
        if len(self.images) < self.quiz_size:
            return []
        picks = torch.randperm(len(self.images), generator=self.generator)
        chosen = [self.images[i] for i in picks[:self.quiz_size].tolist()]
        return [dict(batch=dict(
            inputs=[image for image, _ in chosen],
            data_samples=[copy.deepcopy(sample) for _, sample in chosen]))]

    def state_dict(self):
        return {}

    def load_state_dict(self, state):
        """Nothing to restore: the buffer refills (see the class)."""
