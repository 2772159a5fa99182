"""The one user-facing error type. The CLI catches it once and prints one line (see ``lip_toolkit.cli``)."""


class LipToolkitError(Exception):
    """An error caused by the user's input (a file, a flag, a config), printed as one line without traceback.

    Args:
        message: what is wrong, in one line.
        path: the file concerned, prefixed to the message when given.
        location: where in the file (``line 12``, ``pixel (3, 4)``), appended after the path.
    """

    def __init__(self, message: str, path=None, location: str = None):
        self.message = message
        self.path = None if path is None else str(path)
        self.location = location
        super().__init__(self.one_line())

    def one_line(self) -> str:
        prefix = ''
        if self.path is not None:
            prefix = f'{self.path}'
            if self.location:
                prefix += f' ({self.location})'
            prefix += ': '
        return (prefix + str(self.message)).replace('\n', ' ')
