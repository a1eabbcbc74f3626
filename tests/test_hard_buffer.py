"""MMKD's hard buffer: filling, the replacement rule, quiz draws, bounded
memory, and which samples MMKD calls hard."""
import pytest
import torch
import torch.nn.functional as F
from mmengine.structures import BaseDataElement

from mtkd_mm.learning import HardBuffer
from mtkd_mm.weightings import MMKD
from tests.test_mmkd import build
from tests.test_weightings import classification_state, detection_state


def batch(first_id, size=4, stacked=False):
    """Images whose every pixel is their id, and samples that carry it."""
    ids = range(first_id, first_id + size)
    inputs = [torch.full((3, 2, 2), i, dtype=torch.int32) for i in ids]
    return dict(inputs=torch.stack(inputs) if stacked else inputs,
                data_samples=[BaseDataElement(metainfo=dict(id=i))
                              for i in ids])


def ids(buffer):
    return [int(image[0, 0, 0]) for image, _ in buffer.images]


def test_first_images_fill_it_in_order():
    buffer = HardBuffer(capacity=10, quiz_size=4)
    for start in (0, 4, 8):
        buffer.put(batch(start), torch.zeros(4, dtype=torch.bool))
    assert ids(buffer) == list(range(10))
    assert [s.id for _, s in buffer.images] == list(range(10))


@pytest.mark.parametrize('stacked', [False, True])
def test_hard_images_overwrite_distinct_random_slots(stacked):
    buffer = HardBuffer(capacity=8, quiz_size=4)
    buffer.put(batch(0, 8), torch.zeros(8, dtype=torch.bool))
    before = ids(buffer)
    buffer.put(batch(100, stacked=stacked),
               torch.tensor([True, False, True, False]))
    after = ids(buffer)
    changed = [slot for slot in range(8) if after[slot] != before[slot]]
    assert len(changed) == 2
    assert sorted(after[slot] for slot in changed) == [100, 102]
    for slot in changed:
        assert buffer.images[slot][1].id == after[slot]

    buffer.put(batch(200), torch.zeros(4, dtype=torch.bool))
    assert ids(buffer) == after


def test_slots_are_drawn_uniformly():
    counts = torch.zeros(8)
    buffer = HardBuffer(capacity=8, quiz_size=4, seed=3)
    buffer.put(batch(0, 8), torch.zeros(8, dtype=torch.bool))
    for step in range(400):
        before = ids(buffer)
        buffer.put(batch(1000 + 4 * step),
                   torch.tensor([True, False, False, False]))
        counts += torch.tensor(ids(buffer)) != torch.tensor(before)
    assert counts.sum() == 400
    assert counts.min() > 25 and counts.max() < 75  # 50 expected each


def test_stored_images_do_not_hold_the_batch():
    data = batch(0, stacked=True)
    buffer = HardBuffer(capacity=8, quiz_size=4)
    buffer.put(data, torch.zeros(4, dtype=torch.bool))
    data['inputs'].fill_(7)
    data['data_samples'][0].set_metainfo(dict(id=7))
    assert ids(buffer) == [0, 1, 2, 3]
    assert buffer.images[0][1].id == 0
    image = buffer.images[0][0]
    assert image.untyped_storage().nbytes() == image.nbytes


def test_quiz_batches_are_distinct_images_and_leave_the_buffer():
    buffer = HardBuffer(capacity=12, quiz_size=6)
    buffer.put(batch(0), torch.zeros(4, dtype=torch.bool))
    assert buffer.drain() == []
    buffer.put(batch(4), torch.zeros(4, dtype=torch.bool))
    (entry, ) = buffer.drain()
    drawn = [int(image[0, 0, 0]) for image in entry['batch']['inputs']]
    assert len(set(drawn)) == 6 and set(drawn) <= set(range(8))
    assert [s.id for s in entry['batch']['data_samples']] == drawn
    assert ids(buffer) == list(range(8))


def test_memory_stays_bounded():
    """The stored bytes after 2,000 batches equal those after 200."""
    buffer = HardBuffer(capacity=16, quiz_size=4)
    stored = {}
    for step in range(1, 2001):
        buffer.put(batch(4 * step), torch.tensor([True, True, False, True]))
        if step in (200, 2000):
            stored[step] = sum(image.untyped_storage().nbytes()
                               for image, _ in buffer.images)
    assert len(buffer) == 16
    assert stored[2000] == stored[200] == 16 * 12 * 4


def test_capacity_below_the_quiz_size_is_refused():
    with pytest.raises(ValueError, match='cannot give quiz batches of 8'):
        HardBuffer(capacity=4, quiz_size=8)


def test_mmkd_hard_samples_classification_are_the_misclassified():
    state = classification_state(num_teachers=3)
    weighting = build(3, batch_size=5)
    state.summary_uses_probabilities = False  # points are samples
    with torch.no_grad():  # samples 0 and 2 right, the others wrong
        logits = state.student.logits
        logits[torch.arange(5), state.points.labels] = torch.tensor(
            [10., -10., 10., -10., -10.])
    expected = torch.tensor([False, True, False, True, True])
    assert torch.equal(weighting.hard_samples(state), expected)


def test_mmkd_hard_samples_per_point_are_the_highest_student_ce():
    """Detection and segmentation (ours): the top ``hard_fraction`` of the
    images by the mean student CE over their points."""
    state = detection_state()
    weighting = build(3, batch_size=3)
    weighting.hard_fraction = 0.34
    state.summary_uses_probabilities = True
    labels = state.points.labels
    valid = labels != 255
    ce = F.cross_entropy(state.student.logits[valid], labels[valid],
                         reduction='none')
    per_image = torch.stack([
        ce[state.points.sample_index[valid] == i].mean() for i in range(3)
    ])
    expected = torch.zeros(3, dtype=torch.bool)
    expected[per_image.argmax()] = True
    assert torch.equal(weighting.hard_samples(state), expected)


@pytest.mark.parametrize('kwargs,message', [
    (dict(quiz='hardest'), "MMKD.quiz must be 'latest' or 'hard'"),
    (dict(quiz='hard', hard_buffer_size=4),
     r'MMKD.hard_buffer_size \(4\) must be at least batch_size \(8\)'),
    (dict(quiz='hard', hard_fraction=0), 'MMKD.hard_fraction must be in'),
])
def test_mmkd_quiz_options_are_checked(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MMKD(batch_size=8, **kwargs)
