"""Shared fixtures. Synthetic LIP is generated once per test session and shared (read-only) by all tests."""
import pytest


@pytest.fixture(autouse=True)
def _loud_progress():
    """--quiet is process state; a test that sets it (through click's CliRunner) must not silence the next."""
    from lip_toolkit.core.progress import is_quiet, set_quiet
    before = is_quiet()
    yield
    set_quiet(before)


@pytest.fixture(scope='module')
def one_thread():
    """One torch intra-op thread for a module's tests, as torchrun's workers run (OMP_NUM_THREADS=1): on shared
    cores OpenMP threads spin against other processes and tiny models run many times slower."""
    import torch
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope='session')
def synthetic_lip(tmp_path_factory):
    """A small synthetic LIP release tree (real layout): 64 train, 24 val, 8 test images, seed 0."""
    from lip_toolkit.synthetic import synthesize_lip
    root = tmp_path_factory.mktemp('synthetic_lip')
    synthesize_lip(root, train=64, val=24, test=8, seed=0)
    return root


@pytest.fixture(scope='session')
def real_lip_dir():
    """The shared real LIP material (val pose CSV, six val images), or skip where it is absent."""
    from pathlib import Path
    for candidate in (Path(__file__).resolve().parents[1] / '../shared/real', Path('/work/shared/real')):
        if (candidate / 'lip_val_set.csv').is_file():
            return candidate.resolve()
    pytest.skip('real LIP material (../shared/real) not present')


@pytest.fixture
def parsing_loss_batch():
    """Two 64x64 images with random LIP labels (20 classes) and edge maps, as an MMSeg model's loss mode takes
    them (the parsing DCN tests train on it): ``(images, data_samples)``, the same on every call."""
    import torch
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    generator = torch.Generator().manual_seed(0)
    samples = []
    for _ in range(2):
        sample = SegDataSample(gt_sem_seg=PixelData(data=torch.randint(0, 20, (1, 64, 64), generator=generator)),
                               gt_edge_map=PixelData(data=torch.randint(0, 2, (1, 64, 64), generator=generator)))
        sample.set_metainfo(dict(img_shape=(64, 64), ori_shape=(64, 64), pad_shape=(64, 64)))
        samples.append(sample)
    return torch.randn(2, 3, 64, 64, generator=generator), samples
