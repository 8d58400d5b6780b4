"""The one exception type the pipeline raises for bad input or a failed stage.

Its message is a single line naming the file (or stage) and what is wrong;
the CLI prints it without a traceback.
"""


class ZsbedError(Exception):
    """A user-facing, one-line error."""
