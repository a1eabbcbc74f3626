"""Record what a model computes, without changing or copying its code."""
from contextlib import ExitStack, contextmanager

_ABSENT = object()


@contextmanager
def replaced(owner, name, value):
    """``owner.name`` is ``value`` inside, what it was after (an attribute
    ``owner`` did not hold itself is deleted again)."""
    previous = vars(owner).get(name, _ABSENT)
    setattr(owner, name, value)
    try:
        yield
    finally:
        if previous is _ABSENT:
            delattr(owner, name)
        else:
            setattr(owner, name, previous)


class Recorder:
    """Collects module outputs and method calls inside ``with recorder.on():``.

    ``outputs[key]`` is a module's last forward output; ``calls[key]`` is the
    last ``(args, kwargs, result)`` of a method. Hooks exist only inside the
    ``with`` block, so a model outside it runs exactly as without mtkd_mm;
    recorders nest (each restores what it found on leaving).
    """

    def __init__(self):
        self.outputs = {}
        self.calls = {}
        self._modules = {}
        self._methods = {}

    def module_output(self, key, module):
        self._modules[key] = module
        return self

    def method_call(self, key, owner, name):
        self._methods[key] = (owner, name)
        return self

    @contextmanager
    def on(self):
        self.outputs.clear()
        self.calls.clear()
        handles = [
            module.register_forward_hook(self._output_hook(key))
            for key, module in self._modules.items()
        ]
        with ExitStack() as methods:
            for key, (owner, name) in self._methods.items():
                methods.enter_context(replaced(
                    owner, name, self._wrap(key, getattr(owner, name))))
            try:
                yield self
            finally:
                for handle in handles:
                    handle.remove()

    def _output_hook(self, key):

        def hook(module, args, output):
            self.outputs[key] = output

        return hook

    def _wrap(self, key, method):

        def wrapper(*args, **kwargs):
            result = method(*args, **kwargs)
            self.calls[key] = (args, kwargs, result)
            return result

        return wrapper
