"""Errors the pipeline raises on bad input: each message names what is at fault."""


class FakenewsError(Exception):
    """Base class: a stage prints the message and exits non-zero, without a traceback."""


class ParamsError(FakenewsError, ValueError):
    """params.yaml is invalid; the message names the key."""


class AuditError(FakenewsError):
    """The audit found more than params.yaml `audit` allows."""


class DatasetError(FakenewsError):
    """A dataset's files are missing or malformed (the message names dataset, file and row)."""


class DownloadError(FakenewsError):
    """A download or checksum check failed (the message names dataset, URL and what to do)."""


class ModelError(FakenewsError):
    """A model folder is missing, corrupt or of another model."""


class InputError(FakenewsError):
    """A text or file given to ``fakenews predict`` is unusable (names file, row or column)."""
