"""A bounded buffer of the MTKD-RL agent's experience."""
from collections import deque


class ExperienceBuffer:
    """Keeps at most ``max_batches`` batches of (observation (B, S),
    reward (B,), extras) on the CPU; the oldest fall out first, so memory
    stays bounded whatever the update interval."""

    def __init__(self, max_batches):
        self.entries = deque(maxlen=max_batches)

    def __len__(self):
        return len(self.entries)

    def add(self, observation, reward, extras):
        self.entries.append(
            (observation.detach().cpu(), reward.detach().cpu(),
             {k: v.detach().cpu() for k, v in extras.items()}))

    def drain(self):
        """All stored batches, oldest first; the buffer is left empty."""
        entries = list(self.entries)
        self.entries.clear()
        return entries

    def state_dict(self):
        return {'entries': list(self.entries),
                'max_batches': self.entries.maxlen}

    def load_state_dict(self, state):
        self.entries = deque(state['entries'], maxlen=state['max_batches'])
