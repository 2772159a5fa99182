"""lip_toolkit.core.checkpoint: weights-only loading with a narrow allow-list, and the mmengine hooks into it."""
import copyreg
import io
import os
import pickle
import re
import uuid
import warnings
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch import nn
from torch.utils.data import Dataset

from lip_toolkit.core import checkpoint as ckpt
from lip_toolkit.core.checkpoint import (SafeCheckpointHook, install_mmengine_checkpoint_loader, load_checkpoint,
                                         safe_load, unloadable_entries)
from lip_toolkit.core.errors import LipToolkitError

PACKAGE = Path(__file__).resolve().parents[2] / 'lip_toolkit'


# ---------------------------------------------------------------------------------------------------------------
# A tiny real mmengine training run (CPU, 2 iterations)
# ---------------------------------------------------------------------------------------------------------------
class TinyModel(BaseModel):

    def __init__(self, width=2):
        super().__init__()
        self.linear = nn.Linear(width, 1)

    def forward(self, inputs, labels=None, mode='loss'):
        outputs = self.linear(torch.stack(inputs))
        if mode == 'loss':
            return dict(loss=((outputs.squeeze(-1) - torch.stack(labels)) ** 2).mean())
        return outputs


class TinyDataset(Dataset):
    # numpy in the metainfo, as MMPose's parsed dataset metainfo has (sigmas, colours, weights)
    metainfo = dict(classes=('a', 'b'), sigmas=np.array([0.1, 0.2], dtype=np.float32), count=np.int64(3))

    def __len__(self):
        return 8

    def __getitem__(self, index):
        generator = torch.Generator().manual_seed(index)
        return dict(inputs=torch.randn(2, generator=generator), labels=torch.tensor(float(index % 2)))


def build_runner(work_dir, max_iters, safe=True, load_from=None, resume=False):
    # safe: the hook declared as the runtime bases declare it (configs/_base_/*runtime.py)
    safe_hook = dict(safe_checkpoint=dict(type='SafeCheckpointHook')) if safe else {}
    install_mmengine_checkpoint_loader()
    return Runner(
        model=TinyModel(), work_dir=str(work_dir), experiment_name=f'ckpt_test_{uuid.uuid4().hex}',
        train_dataloader=dict(dataset=TinyDataset(), sampler=dict(type='DefaultSampler', shuffle=True),
                              batch_size=4, num_workers=0),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9)),
        param_scheduler=dict(type='MultiStepLR', milestones=[1], by_epoch=False),
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1, by_epoch=False),
                           logger=dict(type='LoggerHook', interval=1), **safe_hook),
        randomness=dict(seed=0), load_from=None if load_from is None else str(load_from), resume=resume,
        default_scope='mmengine', log_level='WARNING')


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """Two runs of 2 iterations: one with SafeCheckpointHook, one with plain mmengine saving."""
    runs = {}
    for safe in (True, False):
        work_dir = tmp_path_factory.mktemp('safe' if safe else 'plain')
        runner = build_runner(work_dir, max_iters=2, safe=safe)
        runner.train()
        runs[safe] = dict(work_dir=work_dir, runner=runner,
                          losses=runner.message_hub.get_scalar('train/loss').data[0].copy(),
                          weight=runner.model.linear.weight.detach().cpu().clone())
    return runs


def test_safe_hook_checkpoint_loads_with_plain_weights_only_torch_load(trained):
    """Issue 21: what the toolkit's training writes loads with torch.load(weights_only=True) and no allow-list
    (as MMPose's and MMSeg's tools, and any user script, load it); numpy metainfo and history included."""
    path = trained[True]['work_dir'] / 'iter_1.pth'
    assert torch.serialization.get_unsafe_globals_in_checkpoint(str(path)) == []
    plain = torch.load(str(path), map_location='cpu', weights_only=True)
    assert plain['meta']['dataset_meta']['sigmas'] == pytest.approx([0.1, 0.2])
    assert plain['message_hub']['log_scalars']['train/loss']['log_history'] == trained[True]['losses'][:1].tolist()
    # Our loader gives back exactly what was saved: numpy types and dtypes, HistoryBuffer objects. mmengine's
    # Runner.resume compares the metainfo by pickle.dumps (it warns "dataset metainfo ... different" otherwise).
    loaded = safe_load(path)
    assert pickle.dumps(loaded['meta']['dataset_meta']) == pickle.dumps(TinyDataset.metainfo)
    assert ckpt.NUMPY_RECORD_KEY not in loaded['meta']
    buffer = loaded['message_hub']['log_scalars']['train/loss']
    assert type(buffer) is HistoryBuffer and buffer.data[0].tolist() == trained[True]['losses'][:1].tolist()


def test_plain_mmengine_checkpoint_has_getattr_and_still_loads(trained):
    """What mmengine writes by itself (measured): getattr(HistoryBuffer, 'min'...); our mapping resolves it."""
    path = trained[False]['work_dir'] / 'iter_2.pth'
    assert 'builtins.getattr' in torch.serialization.get_unsafe_globals_in_checkpoint(str(path))
    loaded = safe_load(path)
    buffers = loaded['message_hub']['log_scalars']
    assert all(type(buffer) is HistoryBuffer for buffer in buffers.values())
    assert buffers['train/loss'].data[0].tolist() == trained[False]['losses'].tolist()
    assert torch.equal(loaded['state_dict']['linear.weight'], trained[False]['weight'])
    assert loaded['meta']['dataset_meta']['sigmas'].dtype == np.float32


@pytest.mark.parametrize('safe', [True, False], ids=['safe-hook', 'plain-mmengine'])
def test_runner_resume_round_trip(trained, tmp_path, safe):
    """Runner(resume=True, load_from=iter_1.pth) continues to iteration 2 exactly as the uninterrupted run did."""
    first = trained[safe]
    resumed = build_runner(tmp_path, max_iters=2, safe=safe, load_from=first['work_dir'] / 'iter_1.pth',
                           resume=True)
    resumed.train()
    assert resumed.iter == 2
    losses = resumed.message_hub.get_scalar('train/loss').data[0]
    # the first loss came back from the checkpoint's message hub, the second was computed after resuming
    assert losses.tolist() == pytest.approx(first['losses'].tolist())
    assert torch.allclose(resumed.model.linear.weight.detach().cpu(), first['weight'])


def test_runner_load_from_uses_safe_loader(trained, tmp_path):
    runner = build_runner(tmp_path, max_iters=1, load_from=trained[True]['work_dir'] / 'iter_2.pth')
    runner.load_or_resume()
    assert torch.equal(runner.model.linear.weight.detach().cpu(), trained[True]['weight'])


def test_build_runner_loads_through_safe_loader(hostile, tmp_path):
    """The toolkit's own Runner builder (lip_toolkit.core.runner) installs the safe loader before any load."""
    from mmengine.config import Config
    from mmengine.registry import MODELS
    from mmengine.runner.checkpoint import CheckpointLoader
    from lip_toolkit.core.runner import build_runner as toolkit_build_runner
    MODELS.register_module(name='CheckpointTestTinyModel', module=TinyModel, force=True)
    files, marker = hostile
    CheckpointLoader.register_scheme(prefixes='', loader=_mmengine_original_local_loader(), force=True)
    cfg = Config(dict(model=dict(type='CheckpointTestTinyModel'), work_dir=str(tmp_path), default_scope='mmengine',
                      experiment_name=f'ckpt_test_{uuid.uuid4().hex}', load_from=str(files['os_system.pth']),
                      log_level='WARNING'))
    runner = toolkit_build_runner(cfg)
    assert CheckpointLoader._schemes[''] is ckpt.load_from_local_safe
    with pytest.raises(LipToolkitError, match='refused to load'):
        runner.load_or_resume()
    assert not marker.exists()


def _mmengine_original_local_loader():
    from mmengine.runner import checkpoint as mmengine_checkpoint
    return mmengine_checkpoint.load_from_local


def test_scoped_allow_list_does_not_leak(trained):
    # torch keeps the allow-list as a set: compare contents, not the arbitrary order list() gives.
    before = list(torch.serialization.get_safe_globals())
    safe_load(trained[False]['work_dir'] / 'iter_1.pth')
    after = list(torch.serialization.get_safe_globals())
    assert len(after) == len(before) and set(after) == set(before)
    with pytest.raises(pickle.UnpicklingError):  # outside our loader torch stays strict
        torch.load(trained[False]['work_dir'] / 'iter_1.pth', weights_only=True)


# ---------------------------------------------------------------------------------------------------------------
# Hostile pickles: refused with one line naming the file, payload never runs
# ---------------------------------------------------------------------------------------------------------------
class _Payload:
    """Pickles as ``func(*args)``: the classic checkpoint exploit."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


class _GetattrChain:
    """Pickles as ``getattr(getattr(__import__('os'), 'system'), ...)``-style walks, built from reduce pairs."""

    def __init__(self, owner, name):
        self.owner, self.name = owner, name

    def __reduce__(self):
        return getattr, (self.owner, self.name)

    def __call__(self, *args):  # pickle wants the callee of a reduce to be callable; it is never called here
        raise AssertionError('only pickled, never called')


class _TamperedHistoryBuffer:
    """Pickles as a HistoryBuffer whose state replaces the class-wide 'mean' statistic with another callable."""

    @property
    def __class__(self):  # what pickle's NEWOBJ check asks
        return HistoryBuffer

    def __reduce_ex__(self, protocol):
        state = dict(max_length=10, _log_history=np.zeros(1), _count_history=np.ones(1),
                     statistics_methods={'mean': OrderedDict})
        return copyreg.__newobj__, (HistoryBuffer,), state


def _hostile_files(directory: Path, marker: Path):
    command = f'touch {marker}'
    write_marker = f'open({str(marker)!r}, "w").close()'
    files = {}

    def save(name, obj, **kwargs):
        path = directory / name
        torch.save({'state_dict': {'w': torch.zeros(1)}, 'meta': obj}, path, **kwargs)
        files[name] = path

    save('os_system.pth', _Payload(os.system, command))
    save('os_system_legacy.pth', _Payload(os.system, command), _use_new_zipfile_serialization=False)
    save('eval.pth', _Payload(eval, write_marker))
    save('exec.pth', _Payload(exec, write_marker))
    import subprocess
    save('subprocess.pth', _Payload(subprocess.call, ['touch', str(marker)]))
    # getattr walking from an innocent global to os.system, then calling it
    os_module = _Payload(__import__, 'os')
    save('getattr_walk.pth', _Payload(_GetattrChain(os_module, 'system'), command))
    # getattr from an allow-listed class towards its module globals (our getattr stand-in refuses)
    save('getattr_globals.pth', _GetattrChain(_GetattrChain(HistoryBuffer, '__init__'), '__globals__'))
    save('history_buffer_tampered.pth', _TamperedHistoryBuffer())
    raw = directory / 'raw_pickle.pth'
    raw.write_bytes(pickle.dumps(_Payload(os.system, command), protocol=2))
    files['raw_pickle.pth'] = raw
    return files


HOSTILE = ['os_system.pth', 'os_system_legacy.pth', 'eval.pth', 'exec.pth', 'subprocess.pth', 'getattr_walk.pth',
           'getattr_globals.pth', 'history_buffer_tampered.pth', 'raw_pickle.pth']


@pytest.fixture(scope='module')
def hostile(tmp_path_factory):
    directory = tmp_path_factory.mktemp('hostile')
    marker = directory / 'PAYLOAD_RAN'
    return _hostile_files(directory, marker), marker


def test_hostile_payload_really_runs_without_protection(hostile, tmp_path):
    """Guards the other tests: the payload does create the marker when unpickled without restriction."""
    marker = tmp_path / 'PAYLOAD_RAN'
    path = _hostile_files(tmp_path, marker)['os_system.pth']
    torch.load(path, weights_only=False)
    assert marker.exists()


@pytest.mark.parametrize('name', HOSTILE)
def test_hostile_pickle_refused_without_running(hostile, name):
    files, marker = hostile
    statistics_before = dict(HistoryBuffer._statistics_methods)
    with pytest.raises(LipToolkitError) as error:
        safe_load(files[name])
    message = str(error.value)
    assert '\n' not in message and message.startswith(str(files[name]) + ': ')
    if name != 'raw_pickle.pth':
        assert 'refused to load' in message
    assert not marker.exists()
    assert HistoryBuffer._statistics_methods == statistics_before


def test_hostile_messages_name_what_was_refused(hostile):
    files, _ = hostile
    messages = {}
    for name in ('os_system.pth', 'eval.pth', 'getattr_globals.pth', 'history_buffer_tampered.pth'):
        with pytest.raises(LipToolkitError) as error:
            safe_load(files[name])
        messages[name] = str(error.value)
    assert 'posix.system' in messages['os_system.pth'] or 'os.system' in messages['os_system.pth']
    assert 'builtins.eval' in messages['eval.pth']
    assert "getattr(HistoryBuffer, '__init__')" in messages['getattr_globals.pth']
    assert 'statistics methods' in messages['history_buffer_tampered.pth']


@pytest.mark.parametrize('name', ['os_system.pth', 'getattr_walk.pth'])
def test_hostile_pickle_refused_through_mmengine_runner(hostile, tmp_path, name):
    """Runner load_from, resume and mmengine.runner.load_checkpoint (init_cfg Pretrained) all go through us."""
    from mmengine.runner import load_checkpoint as mmengine_load_checkpoint
    files, marker = hostile
    for resume in (False, True):
        runner = build_runner(tmp_path / str(resume), max_iters=1, load_from=files[name], resume=resume)
        with pytest.raises(LipToolkitError, match='refused to load'):
            runner.load_or_resume()
    with pytest.raises(LipToolkitError, match='refused to load'):
        mmengine_load_checkpoint(TinyModel(), str(files[name]))
    assert not marker.exists()


def test_remote_loaders_refuse_when_env_disables_weights_only(monkeypatch):
    from mmengine.runner.checkpoint import CheckpointLoader
    install_mmengine_checkpoint_loader()
    install_mmengine_checkpoint_loader()  # idempotent: no double wrapping
    assert CheckpointLoader._schemes[''] is ckpt.load_from_local_safe
    # published names and URLs are downloaded and read by safe_load (tests/core/test_pretrained.py)
    from lip_toolkit.core.pretrained import load_from_published
    assert all(CheckpointLoader._schemes[prefix] is load_from_published
               for prefix in ('https://', 'http://', 'open-mmlab://', 'torchvision://', 'mmcls://'))
    pavi = CheckpointLoader._schemes['pavi://']
    assert pavi._lip_toolkit_guarded and not getattr(pavi.__wrapped__, '_lip_toolkit_guarded', False)
    monkeypatch.setenv('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '1')
    with pytest.raises(LipToolkitError, match='TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD'):
        CheckpointLoader.load_checkpoint('pavi://example/model.pth')


# ---------------------------------------------------------------------------------------------------------------
# Damaged and foreign files
# ---------------------------------------------------------------------------------------------------------------
def _damaged(directory: Path) -> dict:
    good = directory / 'good.pth'
    torch.save({'state_dict': {'w': torch.arange(1000.)}}, good)
    data = good.read_bytes()
    legacy = io.BytesIO()
    torch.save({'state_dict': {'w': torch.arange(1000.)}}, legacy, _use_new_zipfile_serialization=False)
    cases = {
        'truncated.pth': data[:len(data) // 2],
        'truncated_legacy.pth': legacy.getvalue()[:len(legacy.getvalue()) - 100],
        'text.pth': b'this is not a checkpoint\n',
        'image.pth': b'\x89PNG\r\n\x1a\n' + bytes(100),
        'other_pickle.pth': pickle.dumps({'a': 1}, protocol=4),
        'empty.pth': b'',
    }
    paths = {}
    for name, content in cases.items():
        paths[name] = directory / name
        paths[name].write_bytes(content)
    with zipfile.ZipFile(directory / 'archive.zip', 'w') as archive:
        archive.writestr('notes/readme.txt', 'a zip, not a checkpoint')
    paths['archive.zip'] = directory / 'archive.zip'
    tensor_only = directory / 'tensor.pth'
    torch.save(torch.zeros(2), tensor_only)
    paths['tensor.pth'] = tensor_only
    return paths


EXPECTED_DAMAGE = {
    'truncated.pth': 'truncated or corrupt', 'truncated_legacy.pth': 'truncated or corrupt',
    'text.pth': 'not a PyTorch checkpoint', 'image.pth': 'not a PyTorch checkpoint',
    'other_pickle.pth': 'not a PyTorch checkpoint', 'empty.pth': 'empty',
    'archive.zip': 'not a PyTorch checkpoint', 'tensor.pth': 'holds a Tensor',
}


@pytest.mark.parametrize('name', sorted(EXPECTED_DAMAGE))
def test_damaged_or_foreign_file_one_line(tmp_path, name):
    path = _damaged(tmp_path)[name]
    with pytest.raises(LipToolkitError) as error:
        safe_load(path)
    message = str(error.value)
    assert message.startswith(f'{path}: ') and '\n' not in message
    assert EXPECTED_DAMAGE[name] in message


def test_torchscript_archive_refused(tmp_path):
    path = tmp_path / 'scripted.pt'
    torch.jit.save(torch.jit.script(nn.Linear(2, 2)), str(path))
    with pytest.raises(LipToolkitError, match='TorchScript archive, not a checkpoint'):
        safe_load(path)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(LipToolkitError, match='checkpoint not found'):
        safe_load(tmp_path / 'nope.pth')
    with pytest.raises(LipToolkitError, match='folder'):
        safe_load(tmp_path)


# ---------------------------------------------------------------------------------------------------------------
# Plain state-dict checkpoints (MMPose zoo, CE2P / SCHP) and loading into a model
# ---------------------------------------------------------------------------------------------------------------
class TwoLayer(nn.Module):

    def __init__(self, classes=3):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.bn = nn.BatchNorm2d(4)
        self.head = nn.Conv2d(4, classes, 1)


@pytest.mark.parametrize('layout', ['raw', 'data_parallel', 'state_dict_meta', 'legacy_format'])
def test_plain_state_dict_layouts_load(tmp_path, layout):
    source = TwoLayer()
    nn.init.normal_(source.head.weight)
    weights = source.state_dict()
    path = tmp_path / f'{layout}.pth'
    if layout == 'raw':  # CE2P: torch.save(model.state_dict())
        torch.save(weights, path)
    elif layout == 'data_parallel':  # SCHP: DataParallel 'module.' keys inside 'state_dict'
        torch.save({'state_dict': OrderedDict((f'module.{k}', v) for k, v in weights.items()), 'epoch': 149},
                   path)
    elif layout == 'state_dict_meta':  # MMPose zoo: published meta + state_dict
        torch.save({'meta': {'mmengine_version': '0.10.7', 'epoch': 210, 'scores': [0.9, np.float64(0.8)]},
                    'state_dict': weights}, path)
    else:
        torch.save({'state_dict': weights}, path, _use_new_zipfile_serialization=False)
    target = TwoLayer()
    loaded = load_checkpoint(target, path, strict=True)
    assert isinstance(loaded, dict)
    for key, value in target.state_dict().items():
        assert torch.equal(value, weights[key]), key


def test_checkpoint_of_another_model_strict_one_line(tmp_path):
    path = tmp_path / 'other.pth'
    other = TwoLayer(classes=20).state_dict()
    other['extra.weight'] = torch.zeros(1)
    del other['bn.running_mean']
    torch.save({'state_dict': other}, path)
    with pytest.raises(LipToolkitError) as error:
        load_checkpoint(TwoLayer(classes=3), path, strict=True)
    message = str(error.value)
    assert message.startswith(f'{path}: ') and '\n' not in message
    assert re.search(r'1 weights missing \(bn\.running_mean\)', message)
    assert re.search(r'1 unexpected \(extra\.weight\)', message)
    assert '2 with another shape (checkpoint vs model: head.weight (20, 4, 1, 1) vs (3, 4, 1, 1), ' \
           'head.bias (20,) vs (3,))' in message


def _only_missing(weights):
    del weights['bn.running_mean']
    return 'missing', r'1 weights missing \(bn\.running_mean\)'


def _only_unexpected(weights):
    weights['extra.weight'] = torch.zeros(1)
    return 'unexpected', r'1 unexpected \(extra\.weight\)'


def _only_wrong_shape(weights):
    weights['head.bias'] = torch.zeros(20)
    return 'another shape', r'1 with another shape \(checkpoint vs model: head\.bias \(20,\) vs \(3,\)\)'


@pytest.mark.parametrize('difference', [_only_missing, _only_unexpected, _only_wrong_shape],
                         ids=['missing-only', 'extra-only', 'wrong-shape-only'])
def test_strict_refuses_each_kind_of_difference_alone(tmp_path, difference):
    """One kind of difference, nothing else: strict loading refuses it in one line naming only that kind, and
    the model keeps its weights (mmengine's own loader would skip such a tensor with a warning)."""
    weights = TwoLayer().state_dict()
    for value in weights.values():
        if value.is_floating_point():
            value.fill_(0.25)
    kind, pattern = difference(weights)
    path = tmp_path / f'{kind}.pth'
    torch.save({'state_dict': weights}, path)
    target = TwoLayer()
    before = {key: value.clone() for key, value in target.state_dict().items()}
    with pytest.raises(LipToolkitError) as error:
        load_checkpoint(target, path, strict=True)
    message = str(error.value)
    assert message.startswith(f'{path}: checkpoint does not fit the model TwoLayer: ') and '\n' not in message
    assert re.search(pattern, message)
    assert [other for other in ('missing', 'unexpected', 'another shape') if other in message] == [kind]
    assert all(torch.equal(value, before[key]) for key, value in target.state_dict().items())


def test_non_strict_loads_what_fits_but_refuses_nothing_in_common(tmp_path):
    source = TwoLayer(classes=20)
    nn.init.constant_(source.conv.weight, 0.5)
    path = tmp_path / 'partial.pth'
    torch.save(source.state_dict(), path)
    target = TwoLayer(classes=3)
    load_checkpoint(target, path, strict=False)
    assert torch.all(target.conv.weight == 0.5)
    unrelated = tmp_path / 'unrelated.pth'
    torch.save({'state_dict': {'something.else': torch.zeros(2)}}, unrelated)
    with pytest.raises(LipToolkitError, match='no weight in common'):
        load_checkpoint(TwoLayer(), unrelated, strict=False)
    no_weights = tmp_path / 'no_weights.pth'
    torch.save({'meta': {'epoch': 1}}, no_weights)
    with pytest.raises(LipToolkitError, match='no model weights'):
        load_checkpoint(TwoLayer(), no_weights)


def test_numpy_1_and_2_pickle_names_load(tmp_path):
    """numpy 1 pickles arrays as numpy.core.multiarray._reconstruct, numpy 2 as numpy._core...; both load."""
    buffer = io.BytesIO()
    torch.save({'meta': {'sigmas': np.array([0.5, 0.25]), 'count': np.int64(3)}}, buffer,
               _use_new_zipfile_serialization=False)
    data = buffer.getvalue()
    names = (b'numpy.core.multiarray', b'numpy._core.multiarray')
    written = names[0] if names[0] in data else names[1]
    assert written in data
    for name in names:
        path = tmp_path / f'{name.decode()}.pth'
        path.write_bytes(data.replace(written, name))
        meta = safe_load(path)['meta']
        assert meta['sigmas'].tolist() == [0.5, 0.25] and meta['count'] == 3


# ---------------------------------------------------------------------------------------------------------------
# Saving side and the "only one loader" rule
# ---------------------------------------------------------------------------------------------------------------
def test_safe_hook_converts_history_and_warns_on_unloadable(caplog):
    class Logger:
        warnings = []

        def warning(self, message):
            self.warnings.append(message)

    class FakeRunner:
        logger = Logger()

    buffer = HistoryBuffer([1.0, 2.0], [1, 1])
    colours = np.arange(6, dtype=np.uint8).reshape(2, 3)
    live_meta = {'colours': colours, 'pairs': [(0, np.int64(1))]}
    checkpoint = {'meta': {'bad': Path('x'), 'dataset_meta': live_meta},
                  'message_hub': {'log_scalars': OrderedDict(loss=buffer), 'runtime_info': {'eta': np.float64(2.5)}},
                  'state_dict': OrderedDict(w=torch.ones(1))}
    SafeCheckpointHook().before_save_checkpoint(FakeRunner(), checkpoint)
    plain = checkpoint['message_hub']['log_scalars']['loss']
    assert isinstance(plain, dict) and plain['log_history'] == [1.0, 2.0]
    assert FakeRunner.logger.warnings and 'meta.bad' in FakeRunner.logger.warnings[0]
    # numpy became plain Python, in the checkpoint only: the live metainfo keeps its arrays
    assert checkpoint['meta']['dataset_meta'] == {'colours': [[0, 1, 2], [3, 4, 5]], 'pairs': [(0, 1)]}
    assert type(checkpoint['message_hub']['runtime_info']['eta']) is float
    assert live_meta['colours'] is colours and type(live_meta['pairs'][0][1]) is np.int64
    # ... and comes back with its dtypes
    del checkpoint['meta']['bad']
    restored = ckpt.restore_numpy(checkpoint, checkpoint['meta'].pop(ckpt.NUMPY_RECORD_KEY))
    assert restored['meta']['dataset_meta']['colours'].dtype == np.uint8
    np.testing.assert_array_equal(restored['meta']['dataset_meta']['colours'], colours)
    assert pickle.dumps(restored['meta']['dataset_meta']) == pickle.dumps(live_meta)
    assert type(restored['message_hub']['runtime_info']['eta']) is np.float64
    assert unloadable_entries({'a': [1, np.zeros(2), torch.zeros(1)], 'b': 'x'}) == []


def test_no_other_module_loads_checkpoints_itself():
    """Issue 11: the safe loader is the only way the package loads a checkpoint (no torch.load, no pickle)."""
    forbidden = re.compile(r'torch\.load\(|weights_only\s*=\s*False|pickle\.loads?\(|add_safe_globals|'
                           r'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD|from mm\w*[\w.]* import .*\b(_?load_checkpoint|'
                           r'CheckpointLoader|init_model)\b|\binit_model\(')
    offenders = []
    for path in PACKAGE.rglob('*.py'):
        if path.name == 'checkpoint.py' and path.parent.name == 'core':
            continue
        for line_no, line in enumerate(path.read_text(encoding='utf-8').splitlines(), 1):
            if forbidden.search(line):
                offenders.append(f'{path.relative_to(PACKAGE.parent)}:{line_no}: {line.strip()}')
    assert not offenders, offenders


# ---------------------------------------------------------------------------------------------------------------
# Every command that takes a checkpoint refuses a hostile one (issue 11): exit 1, one line, payload never runs
# ---------------------------------------------------------------------------------------------------------------
REPO = PACKAGE.parent
POSE_CONFIG = REPO / 'configs/pose/hrnet/td-hm_hrnet-w32_8xb32-210e_lip-384x288.py'


def _first_config(pattern):
    found = sorted(REPO.glob(pattern))
    return found[0] if found else None


def _command_cases(data_root: Path, hostile: Path, work_dir: Path):
    """(name, argv, module the command needs): each command line hands ``hostile`` to the toolkit once."""
    no_pretrained = ['model.backbone.init_cfg=None']
    roots = [f'{loader}.dataset.data_root={data_root}' for loader in ('train_dataloader', 'val_dataloader')]
    workers = [f'{loader}.{key}' for loader in ('train_dataloader', 'val_dataloader')
               for key in ('num_workers=0', 'persistent_workers=False')]
    cases = [
        ('train --resume-from', ['train', str(POSE_CONFIG), '--resume-from', str(hostile), '--work-dir',
                                 str(work_dir / 'resume'), '--cfg-options', *roots, *workers, *no_pretrained],
         POSE_CONFIG, None),
        ('train, hostile pretrained backbone',
         ['train', str(POSE_CONFIG), '--work-dir', str(work_dir / 'pretrained'), '--cfg-options', *roots, *workers,
          f'model.backbone.init_cfg.checkpoint={hostile}'], POSE_CONFIG, None),
        ('evaluate pose', ['evaluate', str(POSE_CONFIG), str(hostile), '--data-root', str(data_root),
                           '--cfg-options', *no_pretrained], POSE_CONFIG, 'lip_toolkit.pose.inference'),
    ]
    cases.append(('export', ['export', str(POSE_CONFIG), str(hostile), '--out', str(work_dir / 'model.onnx'),
                             '--cfg-options', *no_pretrained], POSE_CONFIG, 'lip_toolkit.deploy'))
    cases.append(('publish-model', ['publish-model', str(hostile), str(work_dir / 'published.pth')], POSE_CONFIG,
                  'lip_toolkit.tools.publish_model'))
    parsing_config = _first_config('configs/parsing/*/*.py')
    cases.append(('evaluate parsing', ['evaluate', str(parsing_config), str(hostile), '--data-root', str(data_root),
                                       '--cfg-options', *no_pretrained], parsing_config,
                  'lip_toolkit.parsing.inference'))
    return cases


# The train cases take ~15 s each on 2 cores (config pretty-printing, HRNet build): slow suite. The default suite
# covers the same path through test_build_runner_loads_through_safe_loader and the Runner tests above.
CASE_NAMES = [pytest.param('train --resume-from', marks=pytest.mark.slow),
              pytest.param('train, hostile pretrained backbone', marks=pytest.mark.slow),
              'evaluate pose', 'evaluate parsing', 'export', 'publish-model']


@pytest.mark.parametrize('case', CASE_NAMES)
def test_every_command_refuses_hostile_checkpoint(case, synthetic_lip, tmp_path, capsys):
    import importlib.util
    from lip_toolkit.cli import main
    marker = tmp_path / 'PAYLOAD_RAN'
    hostile = _hostile_files(tmp_path, marker)['os_system.pth']
    name, argv, config, module = dict((c[0], c) for c in _command_cases(synthetic_lip, hostile, tmp_path))[case]
    if config is None or not config.is_file():
        pytest.skip(f'{case}: no config yet')
    if module is not None and importlib.util.find_spec(module) is None:
        pytest.skip(f'{case}: {module} not written yet')
    capsys.readouterr()
    assert main(argv) == 1
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith('error:')]
    assert len(errors) == 1 and str(hostile) in errors[0] and 'refused to load' in errors[0], errors
    assert 'Traceback' not in errors[0]
    assert not marker.exists()


# command -> its parameters that take a checkpoint, each exercised by a case above
COVERED_CHECKPOINT_PARAMETERS = {'train': {'resume_from'}, 'evaluate model': {'checkpoint'},
                                 'export': {'checkpoint'}, 'publish-model': {'checkpoint'}}


def test_hostile_cases_cover_every_checkpoint_parameter():
    """A new command option taking a checkpoint needs a case in test_every_command_refuses_hostile_checkpoint."""
    import click
    from lip_toolkit.cli import cli

    found = {}

    def walk(group, prefix):
        context = click.Context(group)
        for name in group.list_commands(context):
            command = group.get_command(context, name)
            full = f'{prefix} {name}'.strip()
            if isinstance(command, click.Group):
                walk(command, full)
            elif command is not None:
                params = {p.name for p in command.params
                          if p.name and re.search(r'checkpoint|resume_from|weights|pretrained', p.name)}
                if params:
                    found[full] = params

    walk(cli, '')
    uncovered = {name: params - COVERED_CHECKPOINT_PARAMETERS.get(name, set()) for name, params in found.items()}
    assert not any(uncovered.values()), f'add hostile-checkpoint cases for {uncovered}'


def test_refuses_when_real_getattr_was_allow_listed_globally(trained):
    torch.serialization.add_safe_globals([getattr])
    try:
        with pytest.raises(LipToolkitError, match='builtins.getattr was allow-listed process-wide'):
            safe_load(trained[False]['work_dir'] / 'iter_1.pth')
    finally:
        torch.serialization._weights_only_unpickler._remove_safe_globals([getattr])
    assert getattr not in torch.serialization.get_safe_globals()


@pytest.mark.parametrize('record', [[(['meta', ['x']], 'array', '<f4')], [(['meta', 'a'], 'array', 'no-dtype')],
                                    'not a list'])
def test_malformed_numpy_record_is_one_line(tmp_path, record):
    path = tmp_path / 'record.pth'
    torch.save({'meta': {'a': [1.0], ckpt.NUMPY_RECORD_KEY: record}, 'state_dict': {'w': torch.ones(1)}}, path)
    with pytest.raises(LipToolkitError, match='malformed meta'):
        safe_load(path)


# ---------------------------------------------------------------------------------------------------------------
# Issue 21: MMPose's and MMSeg's own test scripts load what `lip-toolkit train` writes
# ---------------------------------------------------------------------------------------------------------------
# What mmpose/mmseg `tools/test.py CONFIG CHECKPOINT` do (neither script ships with the pip packages):
# Config.fromfile -> --cfg-options merged -> cfg.work_dir, cfg.load_from = CHECKPOINT -> Runner.from_cfg (or
# RUNNERS.build with runner_type) -> runner.test(). Run in a fresh process, where nothing of lip-toolkit's safe
# loading is installed: mmengine's own loader calls torch.load, whose default is weights_only=True.
HOST_TEST_SCRIPT = '''
import json, sys
from mmengine.config import Config
from mmengine.registry import RUNNERS
from mmengine.runner import Runner
from mmengine.runner.checkpoint import CheckpointLoader
config, checkpoint, work_dir, data_root = sys.argv[1:5]
cfg = Config.fromfile(config)
cfg.merge_from_dict({'test_dataloader.dataset.data_root': data_root, 'test_dataloader.dataset.indices': 2})
cfg.work_dir = work_dir
cfg.load_from = checkpoint
runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
assert CheckpointLoader._schemes[''].__module__ == 'mmengine.runner.checkpoint', 'not the host loader'
print('METRICS', json.dumps(runner.test()))
'''

DEMO_CONFIGS = {'pose': 'configs/demo/pose_hrnet-tiny_lip-128x96.py',
                'parsing': 'configs/demo/parsing_ce2p-aspoc_r18-tiny_30e_synthetic-96x96.py'}


def _train_demo(config, data_root, work_dir, epochs=1, resume=None):
    from lip_toolkit.core.runner import train
    options = {'train_cfg.max_epochs': epochs, 'default_hooks.checkpoint.interval': 1, 'randomness': dict(seed=0),
               'train_dataloader.dataset.indices': 4, 'train_dataloader.batch_size': 2,
               'val_cfg': None, 'val_dataloader': None, 'val_evaluator': None}
    return train(config, work_dir=work_dir, data_root=data_root, cfg_options=options, resume=resume or False)


@pytest.mark.slow
@pytest.mark.parametrize('track', ['pose', 'parsing'])
def test_host_test_scripts_load_what_the_toolkit_trains(track, synthetic_lip, tmp_path, one_thread):
    import json
    import subprocess
    import sys
    work_dir = _train_demo(DEMO_CONFIGS[track], synthetic_lip, tmp_path / 'work')
    checkpoint = work_dir / 'epoch_1.pth'
    assert torch.serialization.get_unsafe_globals_in_checkpoint(str(checkpoint)) == []
    repo = Path(__file__).resolve().parents[2]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(repo), os.environ.get('PYTHONPATH', '')]))
    run = subprocess.run([sys.executable, '-c', HOST_TEST_SCRIPT, DEMO_CONFIGS[track], str(checkpoint),
                          str(tmp_path / 'host_test'), str(synthetic_lip)], cwd=repo, env=env, capture_output=True,
                         text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    metrics = json.loads(run.stdout.split('METRICS ', 1)[1])
    assert ('LIP/PCKh' if track == 'pose' else 'mIoU') in metrics
    if track == 'pose':
        # mmengine's resume through the toolkit: epoch 2 continues from epoch 1, nothing reported as different
        resumed = _train_demo(DEMO_CONFIGS[track], synthetic_lip, tmp_path / 'resumed', epochs=2, resume=checkpoint)
        log = next(resumed.glob('*/*.log')).read_text()
        assert 'resumed epoch: 1, iter: 2' in log and 'is different from the current' not in log
        assert (resumed / 'epoch_2.pth').is_file()


# What mmpose/mmseg `tools/train.py CONFIG` do (neither script ships with the pip packages): Config.fromfile ->
# --cfg-options merged -> cfg.work_dir -> Runner.from_cfg (or RUNNERS.build with runner_type) -> runner.train().
# Run in a fresh process with nothing of lip-toolkit's imported but what the config's custom_imports import; then
# torch.load(weights_only=True) with no allow-list, as any user script loads it.
HOST_TRAIN_SCRIPT = '''
import json, sys
import torch
from mmengine.config import Config
from mmengine.registry import RUNNERS
from mmengine.runner import Runner
config, work_dir, data_root = sys.argv[1:4]
cfg = Config.fromfile(config)
cfg.merge_from_dict({'train_dataloader.dataset.data_root': data_root, 'train_dataloader.dataset.indices': 2,
                     'train_dataloader.batch_size': 2, 'train_cfg.max_epochs': 1,
                     'default_hooks.checkpoint.interval': 1, 'randomness': dict(seed=0),
                     'val_cfg': None, 'val_dataloader': None, 'val_evaluator': None})
cfg.work_dir = work_dir
runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
assert type(runner) is Runner, type(runner)
runner.train()
allowed = [getattr(g, '__module__', '') for g in torch.serialization.get_safe_globals()]
assert not [m for m in allowed if m.split('.')[0] in ('numpy', 'mmengine')], 'allow-listed: ' + str(allowed)
checkpoint = torch.load(work_dir + '/epoch_1.pth', map_location='cpu', weights_only=True)
print('HOOKS', json.dumps([type(hook).__name__ for hook in runner.hooks]))
print('LOADED', sorted(checkpoint), checkpoint['meta']['iter'])
'''


@pytest.mark.parametrize('track', ['pose', pytest.param('parsing', marks=pytest.mark.slow)])
def test_host_train_script_writes_checkpoints_plain_torch_load_reads(track, synthetic_lip, tmp_path):
    """Issue 21: the runtime bases declare SafeCheckpointHook, so MMPose's / MMSeg's own tools/train.py on our
    configs (1 iteration here) write checkpoints that torch.load(weights_only=True) reads with no allow-list."""
    import subprocess
    import sys
    repo = Path(__file__).resolve().parents[2]
    env = dict(os.environ, OMP_NUM_THREADS='1',
               PYTHONPATH=os.pathsep.join([str(repo), os.environ.get('PYTHONPATH', '')]))
    run = subprocess.run([sys.executable, '-c', HOST_TRAIN_SCRIPT, DEMO_CONFIGS[track], str(tmp_path / 'work'),
                          str(synthetic_lip)], cwd=repo, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    import json
    hooks = json.loads(run.stdout.split('HOOKS ', 1)[1].splitlines()[0])
    assert hooks.count('SafeCheckpointHook') == 1
    assert 'LOADED' in run.stdout and 'state_dict' in run.stdout.split('LOADED ', 1)[1]
    assert torch.serialization.get_unsafe_globals_in_checkpoint(str(tmp_path / 'work' / 'epoch_1.pth')) == []


def test_toolkit_runner_keeps_the_configs_hook_once_and_warns_without_it(tmp_path):
    """The toolkit's runner adds no second SafeCheckpointHook to a config that declares one (every shipped config
    does: tests/test_configs.py), and names the missing declaration in a config that lacks it instead of patching
    the run."""
    from mmengine.config import Config
    from mmengine.registry import MODELS

    from lip_toolkit.core.runner import build_runner
    MODELS.register_module('CheckpointTestTinyModel', module=TinyModel, force=True)
    counts, warned = {}, {}
    for declared in (True, False):
        cfg = Config(dict(model=dict(type='CheckpointTestTinyModel'), work_dir=str(tmp_path / str(declared)),
                          experiment_name=f'hooks_{uuid.uuid4().hex}', default_scope='mmengine', log_level='WARNING',
                          default_hooks=dict(safe_checkpoint=dict(type='SafeCheckpointHook')) if declared else {}))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            runner = build_runner(cfg)
        counts[declared] = sum(isinstance(hook, SafeCheckpointHook) for hook in runner.hooks)
        warned[declared] = any('declares no SafeCheckpointHook' in str(w.message) for w in caught)
    assert counts == {True: 1, False: 0} and warned == {True: False, False: True}


POSE_TINY_CONFIG = 'demo/pose_hrnet-tiny_lip-128x96.py'
PARSING_TINY_CONFIG = 'demo/parsing_ce2p-aspoc_r18-tiny_30e_synthetic-96x96.py'


@pytest.fixture(scope='module')
def both_tracks(tmp_path_factory):
    """The tiny pose and parsing demo models, each with its weights saved as a checkpoint."""
    from lip_toolkit.convert.common import build_target_model
    folder = tmp_path_factory.mktemp('tracks')
    models, files = {}, {}
    for track, config in (('pose', POSE_TINY_CONFIG), ('parsing', PARSING_TINY_CONFIG)):
        models[track] = build_target_model(config)
        files[track] = folder / f'{track}.pth'
        torch.save({'state_dict': models[track].state_dict()}, files[track])
    return models, files


@pytest.mark.parametrize('found, wanted', [('parsing', 'pose'), ('pose', 'parsing')])
def test_checkpoint_of_the_other_track_says_so_in_one_line(both_tracks, found, wanted):
    models, files = both_tracks
    with pytest.raises(LipToolkitError) as error:
        load_checkpoint(models[wanted], files[found], strict=True)
    model_name = type(models[wanted]).__name__
    assert str(error.value) == (f'{files[found]}: this is a {found} checkpoint, but the config builds a {wanted} '
                                f'model ({model_name}); give it a {found} config')
    load_checkpoint(models[found], files[found], strict=True)  # its own track loads


def test_commands_name_the_track_of_a_wrong_checkpoint(both_tracks, synthetic_lip, tmp_path, capsys):
    from lip_toolkit.cli import main
    _, files = both_tracks
    images = str(synthetic_lip / 'Testing_images/testing_images')
    assert main(['predict', POSE_TINY_CONFIG, str(files['parsing']), images, '--out', str(tmp_path / 'p')]) == 1
    err = capsys.readouterr().err
    assert err.count('\n') == 1 and 'this is a parsing checkpoint, but the config builds a pose model' in err
    assert main(['convert', 'schp', str(files['parsing']), str(tmp_path / 'schp.pth'),
                 '--config', POSE_TINY_CONFIG]) == 1
    err = capsys.readouterr().err
    assert err.count('\n') == 1 and 'schp is a parsing checkpoint, but --config builds a pose model' in err
    assert not (tmp_path / 'schp.pth').exists() and not (tmp_path / 'p').exists()
