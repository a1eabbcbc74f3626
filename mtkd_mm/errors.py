"""Errors that mean bad input: the tools report them as one line (exit 2)."""


class BuildError(ValueError):
    """A config that cannot work, found while the distiller is built."""


class PackageImportError(ImportError):
    """An OpenMMLab task package that a config needs does not import."""


class CheckpointError(ValueError):
    """A checkpoint that cannot be loaded: ``reason`` says why in a few
    words (missing, refused by the safe loader, damaged)."""

    def __init__(self, path, reason):
        super().__init__(f"checkpoint '{path}' cannot be loaded: {reason}")
        self.path = path
        self.reason = reason


class NonFiniteLossError(FloatingPointError):
    """A distillation loss became NaN or infinite (names the teacher)."""


def missing_type(error):
    """The registry's message if ``error`` (a ``KeyError`` of a build) says a
    type is not in a registry, else None."""
    message = str(error.args[0]) if error.args else ''
    return message if 'registry' in message else None


INPUT_ERRORS = (BuildError, PackageImportError, CheckpointError,
                NonFiniteLossError)
