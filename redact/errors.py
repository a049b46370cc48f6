"""Exceptions the library raises. The CLI turns them into one line on stderr and an exit code."""


class RedactError(Exception):
    """A failure the user should see as one clear line (exit status 1)."""


class InputError(RedactError):
    """The input cannot be read: missing, a directory, not media, corrupt, unsupported."""


class OutputError(RedactError):
    """The output cannot be written (bad path, same as input, disk full, read-only, ...)."""


class AnalysisError(RedactError):
    """A frame could not be analysed; fail closed rather than write it unredacted."""


class PlanMismatchError(RedactError):
    """A plan does not belong to the input it is applied to."""
