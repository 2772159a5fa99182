"""Where the repository's configs live, so that commands accept either a path or a path inside configs/."""
from pathlib import Path

from .errors import LipToolkitError

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIGS_DIR = REPO_ROOT / 'configs'


def resolve_config(path) -> Path:
    """Return ``path`` if it exists, else the same relative path under the repository's ``configs/``."""
    candidate = Path(path)
    if candidate.is_file():
        return candidate
    for base in (CONFIGS_DIR, REPO_ROOT):
        if (base / candidate).is_file():
            return base / candidate
    raise LipToolkitError('config file not found', path)
