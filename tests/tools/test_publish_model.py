"""publish-model: a checkpoint stripped for release, named with its sha256 prefix as OpenMMLab's script does."""
import hashlib
import pickle
from collections import OrderedDict

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer

from lip_toolkit.cli import main
from lip_toolkit.core.checkpoint import make_plain, safe_load
from lip_toolkit.core.errors import LipToolkitError
from lip_toolkit.tools.publish_model import publish_model


@pytest.fixture
def training_checkpoint(tmp_path):
    """What `lip-toolkit train` saves (made plain by the same conversion): weights, meta, resume state."""
    meta = {'epoch': 3, 'cfg': "model = dict(type='X')",
            'dataset_meta': {'sigmas': np.array([0.1, 0.2], np.float32), 'flip_indices': [1, 0]}}
    checkpoint = {
        'meta': meta,
        'state_dict': OrderedDict([('conv.weight', torch.randn(8, 3, 3, 3)), ('conv.bias', torch.randn(8)),
                                   ('data_preprocessor.mean', torch.zeros(3))]),
        'message_hub': {'log_scalars': {'train/loss': HistoryBuffer([1.0, 0.5], [1, 1])}, 'runtime_info': {},
                        'resumed_keys': {}},
        'optimizer': {'state': {0: {'exp_avg': torch.randn(8, 3, 3, 3)}}, 'param_groups': [{'lr': 0.1}]},
        'param_schedulers': [{'milestones': {3: 1}}],
    }
    weights = {k: v.clone() for k, v in checkpoint['state_dict'].items()}
    path = tmp_path / 'epoch_3.pth'
    torch.save(make_plain(checkpoint), path)
    return path, weights, meta


def test_published_file_keeps_weights_and_meta_and_is_named_by_its_hash(training_checkpoint, tmp_path):
    path, weights, meta = training_checkpoint
    out, info = publish_model(path, tmp_path / 'release' / 'tiny_lip.pth')
    data = out.read_bytes()
    assert out.name == f'tiny_lip-{hashlib.sha256(data).hexdigest()[:8]}.pth'  # hashlib: the file's own sha256
    assert info['removed'] == ['optimizer', 'message_hub', 'param_schedulers']
    assert info['removed_weights'] == ['data_preprocessor.mean'] and info['size_out'] < info['size_in']
    plain = torch.load(str(out), map_location='cpu', weights_only=True)  # no allow-list needed
    assert set(plain) == {'meta', 'state_dict'}
    assert list(plain['state_dict']) == ['conv.weight', 'conv.bias']
    assert all(torch.equal(plain['state_dict'][k], weights[k]) for k in plain['state_dict'])
    restored = safe_load(out)['meta']
    assert pickle.dumps(restored['dataset_meta']) == pickle.dumps(meta['dataset_meta'])  # numpy dtypes back
    assert restored['epoch'] == 3 and restored['cfg'] == meta['cfg']


def test_command_output_and_one_line_errors(training_checkpoint, tmp_path, capsys):
    path, _, _ = training_checkpoint
    assert main(['publish-model', str(path), str(tmp_path / 'model.pth')]) == 0
    out = capsys.readouterr().out
    (published,) = tmp_path.glob('model-*.pth')
    assert out.startswith(f'published {published} (') and 'removed: optimizer, message_hub, param_schedulers' in out
    assert main(['publish-model', str(tmp_path / 'missing.pth'), str(tmp_path / 'o.pth')]) == 1
    assert capsys.readouterr().err == f'error: {tmp_path / "missing.pth"}: checkpoint not found\n'
    torch.save({'meta': {}}, tmp_path / 'no_weights.pth')
    with pytest.raises(LipToolkitError, match='no state_dict of weights'):
        publish_model(tmp_path / 'no_weights.pth', tmp_path / 'o.pth')
    assert not list(tmp_path.glob('o-*.pth'))
