"""``Points``: per-sample means and per-sample cross-entropy."""
import torch
import torch.nn.functional as F

from mtkd_mm.structures import Points

# Detection-like: unsorted sample indices, sample 3 of 5 has no points.
SAMPLE_INDEX = torch.tensor([2, 0, 1, 2, 0, 4, 2, 1, 0])
NUM_SAMPLES = 5


def points(labels=None, ignore_index=-100):
    if labels is None:
        labels = torch.zeros(len(SAMPLE_INDEX), dtype=torch.long)
    return Points(SAMPLE_INDEX, labels, NUM_SAMPLES, ignore_index)


def loop_mean(values, valid=None):
    """Mean of each sample's valid points, 0 for a sample without any."""
    out = torch.zeros((NUM_SAMPLES, ) + values.shape[1:], dtype=values.dtype)
    for b in range(NUM_SAMPLES):
        rows = [
            values[p] for p in range(len(values))
            if SAMPLE_INDEX[p] == b and (valid is None or valid[p])
        ]
        if rows:
            out[b] = torch.stack(rows).mean(dim=0)
    return out


def test_mean_per_sample_1d():
    values = torch.arange(9, dtype=torch.float32) ** 2
    mean = points().mean_per_sample(values)
    assert mean.shape == (NUM_SAMPLES, )
    torch.testing.assert_close(mean, loop_mean(values))
    # Spelled out: sample 0 holds points 1, 4, 8.
    torch.testing.assert_close(mean[0], (1 + 16 + 64) / torch.tensor(3.0))
    assert mean[3] == 0


def test_mean_per_sample_2d():
    values = torch.randn(9, 4, generator=torch.Generator().manual_seed(0))
    mean = points().mean_per_sample(values)
    assert mean.shape == (NUM_SAMPLES, 4)
    torch.testing.assert_close(mean, loop_mean(values))
    assert (mean[3] == 0).all()


def test_mean_per_sample_with_valid_mask():
    values = torch.randn(9, 3, generator=torch.Generator().manual_seed(1))
    valid = torch.tensor([1, 0, 1, 0, 1, 0, 1, 1, 1], dtype=torch.bool)
    # Sample 4's only point (index 5) is invalid: it gets 0.
    mean = points().mean_per_sample(values, valid)
    torch.testing.assert_close(mean, loop_mean(values, valid))
    assert (mean[4] == 0).all()
    torch.testing.assert_close(
        points().mean_per_sample(values[:, 0], valid),
        loop_mean(values[:, 0], valid))


def test_invalid_points_do_not_leak_non_finite_values():
    values = torch.tensor([1.0, 2.0, float('nan'), float('inf'), 4.0, 5.0,
                           6.0, 7.0, 8.0])
    valid = torch.isfinite(values)
    mean = points().mean_per_sample(values, valid)
    assert torch.isfinite(mean).all()
    torch.testing.assert_close(mean, loop_mean(values, valid))


def test_cross_entropy_ignores_ignore_index():
    gen = torch.Generator().manual_seed(2)
    logits = torch.randn(9, 6, generator=gen) * 2
    labels = torch.tensor([3, 255, 0, 5, 255, 255, 1, 2, 4])
    pts = points(labels, ignore_index=255)
    ce = pts.cross_entropy(logits)
    assert ce.shape == (NUM_SAMPLES, )
    for b in range(NUM_SAMPLES):
        keep = (SAMPLE_INDEX == b) & (labels != 255)
        if keep.any():
            expected = F.cross_entropy(logits[keep], labels[keep])
        else:
            expected = torch.tensor(0.0)
        torch.testing.assert_close(ce[b], expected)
    # Sample 4's only point is ignored, sample 3 has none.
    assert ce[4] == 0 and ce[3] == 0
    # Another ignore index at the same points gives the same CE.
    relabelled = Points(SAMPLE_INDEX, torch.where(labels == 255, -1, labels),
                        NUM_SAMPLES, -1).cross_entropy(logits)
    torch.testing.assert_close(ce, relabelled)


def test_cross_entropy_matches_per_sample_f_cross_entropy():
    gen = torch.Generator().manual_seed(3)
    logits = torch.randn(9, 4, generator=gen)
    labels = torch.randint(0, 4, (9, ), generator=gen)
    ce = points(labels).cross_entropy(logits)
    per_point = F.cross_entropy(logits, labels, reduction='none')
    torch.testing.assert_close(ce, loop_mean(per_point))


def test_cross_entropy_classification_one_point_per_sample():
    gen = torch.Generator().manual_seed(4)
    logits = torch.randn(4, 3, generator=gen)
    labels = torch.tensor([0, 2, 1, 2])
    pts = Points(torch.arange(4), labels, 4)
    torch.testing.assert_close(
        pts.cross_entropy(logits),
        F.cross_entropy(logits, labels, reduction='none'))


def test_accuracy_is_the_share_of_labelled_points_predicted_right():
    # point:  0  1    2  3  4    5    6  7  8 (sample 2 0 1 2 0 4 2 1 0)
    labels = torch.tensor([3, 255, 0, 5, 255, 255, 1, 2, 4])
    predicted = torch.tensor([3, 0, 1, 5, 7, 7, 0, 2, 4])
    logits = F.one_hot(predicted, 8).float()
    accuracy = points(labels, ignore_index=255).accuracy(logits)
    # sample 0: points 1 (ignored), 4 (ignored), 8 (right) → 1
    # sample 1: points 2 (wrong), 7 (right) → 1/2
    # sample 2: points 0 (right), 3 (right), 6 (wrong) → 2/3
    # samples 3 (no point) and 4 (only an ignored point) → 0
    torch.testing.assert_close(accuracy,
                               torch.tensor([1.0, 0.5, 2 / 3, 0.0, 0.0]))
