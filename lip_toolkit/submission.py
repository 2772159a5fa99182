"""Check a challenge submission of either track: the pose CSV or the parsing zip, picked by file type.

The track checkers live in :mod:`lip_toolkit.pose.submission` and :mod:`lip_toolkit.parsing.submission`; what they
share (the report, ids, sizes, atomic writes) in :mod:`lip_toolkit.core.submission`. This dispatcher sits above
both tracks, beside :mod:`lip_toolkit.ensemble` and :mod:`lip_toolkit.evaluation`, so that ``core`` imports
neither.
"""
from typing import Optional

from .core.submission import CheckReport, IdsLike, PathLike, submission_kind


def check_submission(path: PathLike, test_ids: IdsLike, images_dir: Optional[PathLike] = None) -> CheckReport:
    """Check one submission file, pose CSV or parsing zip (see the track modules for what is checked).

    Args:
        path: the file.
        test_ids: ``test_id.txt`` (path) or the ids in order.
        images_dir: the test images (sizes are read from their headers); default ``testing_images`` beside
            ``test_id.txt``.
    """
    kind = submission_kind(path)
    if kind == 'pose':
        from .pose.submission import check_pose_submission
        return check_pose_submission(path, test_ids, images_dir=images_dir)
    from .parsing.submission import check_parsing_submission
    return check_parsing_submission(path, test_ids, images_dir=images_dir)
