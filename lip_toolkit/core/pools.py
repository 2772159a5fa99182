"""Worker processes: how many to use, and a pool that is safe to fork whatever the parent has run."""
import contextlib
import os
import sys
from typing import Iterator


def default_workers() -> int:
    """Processes to use: the CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


@contextlib.contextmanager
def process_pool(processes: int) -> Iterator:
    """A ``multiprocessing`` pool of forked workers (spawned where fork does not exist), closed on exit.

    Fork starts workers in milliseconds with the parent's modules loaded. But once OpenCV has run its own threads
    in the parent (a resize, a warp), a forked child inherits its thread pool without the threads, and the
    child's first ``cv2.setNumThreads`` waits for them forever (measured: the scorer hung after a test that had
    resized images). So while the pool lives the parent runs OpenCV single-threaded, which leaves no thread pool
    to inherit, and gets its own setting back afterwards.
    """
    import multiprocessing
    method = 'fork' if 'fork' in multiprocessing.get_all_start_methods() else 'spawn'
    cv2 = sys.modules.get('cv2') if method == 'fork' else None
    previous = cv2.getNumThreads() if cv2 is not None else None
    if cv2 is not None:
        cv2.setNumThreads(1)
    try:
        with multiprocessing.get_context(method).Pool(processes) as pool:
            yield pool
    finally:
        if cv2 is not None:
            cv2.setNumThreads(previous)
