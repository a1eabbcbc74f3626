"""One line on why a dataset could not be read: which file, and what is
wrong with it. Used by the tools when a training or test loop fails."""
import re


def data_roots(cfg):
    """``{'<key>.dataset.data_root': root}`` of the config's dataloaders."""
    return {
        f'{key}.dataset.data_root': cfg[key].dataset.get('data_root')
        for key in ('train_dataloader', 'val_dataloader', 'test_dataloader')
        if cfg.get(key) and 'dataset' in cfg[key]
    }


def explain_data_error(error, cfg):
    """The one-line reason ``error`` (raised while a loop built or read its
    datasets) names a bad data file, or None when it is not a data error."""
    if isinstance(error, FileNotFoundError):
        # A dataloader worker re-raises the error with its message only.
        found = re.search(r"No such file or directory: '([^']+)'", str(error))
        path = error.filename or (found.group(1) if found else str(error))
        return (f"a data file is missing: '{path}' (data roots: "
                f'{data_roots(cfg)})')
    return None
