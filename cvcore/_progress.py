"""One progress convention for long work (calibration, training, segmentation, batches).

Every long-running public function takes ``progress=None`` and reports through
:func:`progress_reporter`:

* ``None`` (default): a bar on stderr when stderr is a terminal, silent otherwise
  (logs and pipes stay clean);
* ``True`` / ``False``: always / never draw the bar;
* a callable: called as ``progress(done, total, description)`` after each step
  (``total`` may be None when unknown), for library users and GUIs; no bar.

The bar is `tqdm <https://tqdm.github.io/>`_, a well-kept library that handles
terminal widths, rates and ETA.
"""
from __future__ import annotations

import sys

__all__ = ["progress_reporter", "check_progress"]


def check_progress(value, name="progress"):
    """Validate a ``progress`` argument (None, a bool or a callable)."""
    if value is None or isinstance(value, bool) or callable(value):
        return value
    raise TypeError(f"{name} must be None, True, False or a callable(done, total, description); "
                    f"got {type(value).__name__}")


class _Reporter:
    def __init__(self, total, description, progress, stream):
        self.total = total
        self.description = description
        self.done = 0
        self._callback = progress if callable(progress) and not isinstance(progress, bool) else None
        show = progress if isinstance(progress, bool) else (progress is None and _is_tty(stream))
        self._bar = None
        if show and self._callback is None:
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=description, file=stream, leave=True,
                             dynamic_ncols=True, mininterval=0.2)

    def update(self, n=1, status=None):
        """Advance by ``n`` steps; ``status`` (a short string) is shown beside the bar."""
        self.done += n
        if self._bar is not None:
            if status is not None:
                self._bar.set_postfix_str(str(status), refresh=False)
            self._bar.update(n)
        elif self._callback is not None:
            self._callback(self.done, self.total, self.description)

    def write(self, message):
        """Print a line without breaking the bar (silent when no bar is shown)."""
        if self._bar is not None:
            self._bar.write(message, file=self._bar.fp)

    def close(self):
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def _is_tty(stream):
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def progress_reporter(total, description, progress=None, *, stream=None):
    """A context manager reporting ``total`` steps of ``description`` per the convention above.

    Examples
    --------
    >>> seen = []
    >>> with progress_reporter(3, "views", lambda d, t, s: seen.append((d, t))) as bar:
    ...     for _ in range(3):
    ...         bar.update()
    >>> seen
    [(1, 3), (2, 3), (3, 3)]
    """
    check_progress(progress)
    return _Reporter(total, description, progress, sys.stderr if stream is None else stream)
