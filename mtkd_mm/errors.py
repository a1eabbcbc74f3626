"""Errors that mean bad input: the tools report them as one line (exit 2)."""


class BuildError(ValueError):
    """A config that cannot work, found while the distiller is built."""


class PackageImportError(ImportError):
    """An OpenMMLab task package that a config needs does not import."""


INPUT_ERRORS = (BuildError, PackageImportError)
