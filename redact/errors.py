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


WITHHELD = "(message withheld: an error from inside a detector could quote recognised text)"


def safe_message(e: BaseException) -> str:
    """``e``'s message if it is the tool's own (a :class:`RedactError`, written never to quote text), else
    :data:`WITHHELD`: a library's message (OCR, a decoder) could hold the words the tool was removing."""
    return str(e) if isinstance(e, RedactError) else WITHHELD


def safe_traceback(e: BaseException) -> str:
    """A traceback of ``e`` and the exceptions it was raised from or during (where each was raised: files, lines,
    functions) with only :func:`safe_message`s: what ``--debug`` and debug logging print."""
    import traceback

    chain: list[BaseException] = []
    cur: BaseException | None = e
    while cur is not None and all(cur is not c for c in chain):
        chain.append(cur)
        cur = cur.__cause__ or (None if cur.__suppress_context__ else cur.__context__)
    parts: list[str] = []
    for i, exc in enumerate(reversed(chain)):
        if i:
            parts.append("\nThe exception above led to this one:\n\n")
        parts.append("Traceback (most recent call last):\n")
        parts.extend(traceback.format_list(traceback.extract_tb(exc.__traceback__)))
        parts.append(f"{type(exc).__module__}.{type(exc).__qualname__}: {safe_message(exc)}\n")
    return "".join(parts)
