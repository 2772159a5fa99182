"""Worker pools: forked workers do not hang after OpenCV has run its threads in the parent."""
import subprocess
import sys
import textwrap

from lip_toolkit.core.pools import default_workers

AFTER_OPENCV_THREADS = textwrap.dedent('''
    import cv2
    import numpy as np
    from lip_toolkit.core.pools import process_pool

    def decode(value):
        cv2.setNumThreads(1)  # what the scoring and conversion workers do first
        png = cv2.imencode('.png', np.full((8, 8), value, np.uint8))[1]
        return int(cv2.imdecode(png, cv2.IMREAD_UNCHANGED).sum())

    if __name__ == '__main__':
        cv2.setNumThreads(2)
        image = np.random.default_rng(0).integers(0, 255, (2000, 2000, 3), dtype=np.uint8)
        for _ in range(3):
            cv2.resize(image, (1500, 1500))  # runs OpenCV's own worker threads in this process
        with process_pool(2) as pool:
            print(sum(pool.map(decode, range(8))))
        print(cv2.getNumThreads())
''')


def test_forked_workers_do_not_hang_after_opencv_threads(tmp_path):
    script = tmp_path / 'after_opencv_threads.py'
    script.write_text(AFTER_OPENCV_THREADS)
    # Measured without the guard: the workers wait forever in cv2.setNumThreads; the timeout turns that into a
    # failure instead of a hung suite.
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    total, threads = done.stdout.split()
    assert int(total) == 64 * sum(range(8))
    assert int(threads) == 2  # the parent's OpenCV setting is back


def test_default_workers_counts_usable_cpus():
    assert 1 <= default_workers()
