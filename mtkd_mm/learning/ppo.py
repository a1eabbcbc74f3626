"""The maths of PPO as the RLKD reference uses it (Zhengbo-Zhang/ITKD,
``utils/rl/ppo.py``, ``utils/rl/agents/utils/ppo_utils.py``,
``utils/trainer.py``): pure functions of tensors, no state."""
import math

import torch


def gaussian_log_prob(x, mean, log_std):
    """log N(x; mean, exp(log_std)²) per element, (N,) (the reference's
    ``gaussian_likelihood`` for a 1-d action, with its 1e-8)."""
    z = (x - mean) / (log_std.exp() + 1e-8)
    return -0.5 * (z**2 + 2 * log_std + math.log(2 * math.pi))


def discounted_sums(values, factor):
    """(N,) → (N,): ``out_i = Σ_{j ≥ i} factor^(j−i) · values_j``."""
    out = torch.empty_like(values)
    running = values.new_zeros(())
    for i in range(len(values) - 1, -1, -1):
        running = values[i] + factor * running
        out[i] = running
    return out


def gae(rewards, values, last_value, gamma=0.99, lam=0.95):
    """Generalised advantage estimation over one path (``finish_path``).

    Args:
        rewards (Tensor): (N,) per transition.
        values (Tensor): (N,) V(s_i) when acting.
        last_value (Tensor): () the bootstrap value after the path.

    Returns:
        tuple[Tensor, Tensor]: advantages (N,) and rewards-to-go (N,)
        (``discount(rews + [last], γ)[:-1]``, the critic's targets).
    """
    last = last_value.reshape(1)
    next_values = torch.cat([values[1:], last])
    deltas = rewards + gamma * next_values - values
    advantages = discounted_sums(deltas, gamma * lam)
    returns = discounted_sums(torch.cat([rewards, last]), gamma)[:-1]
    return advantages, returns


def normalised(advantages):
    """(A − mean) / std with the population std (the reference's ``get``);
    centred only when every advantage is equal."""
    centred = advantages - advantages.mean()
    std = advantages.std(unbiased=False)
    return centred / std if std > 0 else centred


def clipped_surrogate(log_prob, old_log_prob, advantages, clip=0.2):
    """The PPO actor loss ``−mean min(ρ·A, clip(ρ, 1 − ε, 1 + ε)·A)`` with
    ρ = exp(log π − log π_old); all (N,)."""
    ratio = (log_prob - old_log_prob).exp()
    clipped = ratio.clamp(1 - clip, 1 + clip)
    return -torch.min(ratio * advantages, clipped * advantages).mean()


def redistributed_rewards(predictions, total):
    """Instance rewards from per-instance predictions g (N,) that sum to
    ``total``: ``[g_0, g_1 − g_0, …, g_{N−1} − g_{N−2}] + (total − Σ) / N``
    (ours; the reference's ``get_prediction``, ``utils/trainer.py:909-962``,
    gives ``[ret_0, g_1 − g_0, …] + (ret_i − Σ) / N`` from the
    rewards-to-go ret (N,), and never passes it to PPO)."""
    steps = torch.cat([predictions[:1], predictions[1:] - predictions[:-1]])
    return steps + (total - steps.sum()) / len(steps)
