"""A bounded buffer of what a learner stored in the student's steps."""
from collections import deque


class ExperienceBuffer:
    """Keeps at most ``max_batches`` entries on the CPU, one per student
    step; an entry is a dict of detached tensors (e.g. MTKD-RL's
    ``observation`` (B, S) and ``reward`` (B,)). The oldest fall out first,
    so memory stays bounded whatever the update interval."""

    def __init__(self, max_batches):
        self.entries = deque(maxlen=max_batches)

    def __len__(self):
        return len(self.entries)

    def add(self, **tensors):
        self.entries.append(
            {name: value.detach().cpu() for name, value in tensors.items()})

    def drain(self):
        """All stored entries, oldest first; the buffer is left empty."""
        entries = list(self.entries)
        self.entries.clear()
        return entries

    def state_dict(self):
        return {'entries': list(self.entries),
                'max_batches': self.entries.maxlen}

    def load_state_dict(self, state):
        self.entries = deque(state['entries'], maxlen=state['max_batches'])
