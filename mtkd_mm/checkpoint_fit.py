"""What a loaded checkpoint holds for a model, and whether it fits exactly."""
import torch

from .errors import CheckpointError


def state_dict_of(checkpoint, path):
    """The ``{name: tensor}`` a loaded checkpoint holds for a model: its
    ``'state_dict'`` or, for a bare state dict, itself; DDP's ``module.``
    prefixes removed. Raises :class:`CheckpointError` naming ``path`` if it
    holds anything else."""
    if not isinstance(checkpoint, dict):
        raise CheckpointError(path, f'it holds a {type(checkpoint).__name__}'
                              ', not a state dict')
    state = checkpoint.get('state_dict', checkpoint)
    if not isinstance(state, dict):
        raise CheckpointError(path, f"its 'state_dict' is a "
                              f'{type(state).__name__}, not a dict of tensors')
    not_tensors = [k for k, v in state.items() if not torch.is_tensor(v)]
    if not_tensors:
        key = not_tensors[0]
        raise CheckpointError(
            path, f'{len(not_tensors)} of its weights are not tensors, e.g. '
            f'{key!r} is a {type(state[key]).__name__}')
    return {k[len('module.'):] if k.startswith('module.') else k: v
            for k, v in state.items()}


def optional_prefixes(model):
    """Prefixes of the submodules whose stored keys a checkpoint may lack or
    hold (``checkpoint_keys_optional``: the teacher pool)."""
    return tuple(f'{name}.' for name, module in model.named_modules()
                 if getattr(module, 'checkpoint_keys_optional', False))


def misfit(model, state):
    """Why ``state`` does not fit ``model`` exactly (missing, unexpected and
    misshapen keys, a few of each), or None if it does."""
    expected = model.state_dict()
    optional = optional_prefixes(model)
    missing = sorted(k for k in set(expected) - set(state)
                     if not k.startswith(optional))
    unexpected = sorted(k for k in set(state) - set(expected)
                        if not k.startswith(optional))
    misshapen = sorted(k for k in set(state) & set(expected)
                       if state[k].shape != expected[k].shape)
    if not (missing or unexpected or misshapen):
        return None
    foreign = sorted({k.split('.')[0] for k in unexpected} -
                     {k.split('.')[0] for k in expected})
    hint = (f", which has no {', '.join(foreign)}: a checkpoint of another "
            'model?' if foreign else '')
    return (f'does not fit its config ({type(model).__name__}{hint}): missing '
            f'{missing[:5]} ({len(missing)}), unexpected {unexpected[:5]} '
            f'({len(unexpected)}), other shapes {misshapen[:5]} '
            f'({len(misshapen)})')
