"""``lip-toolkit convert``: wiring, the written file, one-line refusals, hostile pickles, no partial output."""
import json
import os
import textwrap

import pytest
import torch

from lip_toolkit.cli import main
from lip_toolkit.convert import hrnet_seg
from lip_toolkit.core.paths import CONFIGS_DIR

from .test_hrnet_seg import SMALL_EXTRA


@pytest.fixture(scope='module')
def small_config(tmp_path_factory):
    """The HRNet-Seg reference config with a small network (same code path as W48, seconds to build)."""
    folder = tmp_path_factory.mktemp('convert_cli')
    path = folder / 'hrnet_small.py'
    path.write_text(textwrap.dedent(f"""\
        _base_ = ['{CONFIGS_DIR / 'references' / 'hrnetv2-w48_lip-473x473.py'}']
        model = dict(backbone=dict(extra={SMALL_EXTRA!r}),
                     decode_head=dict(in_channels=[8, 16, 32, 64], channels=120))
        """))
    return path


def _reference_file(path, drop=None, add=None, counters=True):
    state = {f'model.{key}': torch.rand(shape) if shape else torch.tensor(3)
             for key, shape in hrnet_seg.reference_keys(20, SMALL_EXTRA, counters=counters).items()}
    if drop:
        state.pop(drop)
    state.update(add or {})
    torch.save({'state_dict': state, 'epoch': 150}, path)
    return path


def test_convert_writes_a_checkpoint_the_toolkit_loads_strictly(small_config, tmp_path, capsys):
    from lip_toolkit.core.checkpoint import load_checkpoint
    from lip_toolkit.core.runner import load_config
    from lip_toolkit.parsing.inference import build_parsing_model
    src = _reference_file(tmp_path / 'hrnet_lip.pth')
    dst = tmp_path / 'out' / 'toolkit.pth'
    assert main(['convert', 'hrnet-seg', str(src), str(dst), '--config', str(small_config)]) == 0
    assert f'wrote {dst}' in capsys.readouterr().out
    model = build_parsing_model(load_config(small_config), None, device='cpu')
    checkpoint = load_checkpoint(model, dst, strict=True)
    assert checkpoint['meta'] == dict(converted_from='hrnet_lip.pth', reference='hrnet-seg',
                                      config=str(small_config), variant='bn')  # counters on every norm
    source = torch.load(src, weights_only=True)['state_dict']
    assert torch.equal(model.backbone.stage4[1].fuse_layers[0][3][0].weight,
                       source['model.stage4.1.fuse_layers.0.3.0.weight'])
    torch.testing.assert_close(model.decode_head.convs[0].bn.running_mean,
                               source['model.last_layer.1.running_mean'] - source['model.last_layer.0.bias'])


@pytest.mark.parametrize('drop, add, expected', [
    ('model.last_layer.3.bias', None, 'toolkit weights get no value (decode_head.conv_seg.bias)'),
    (None, {'model.ocr.conv.weight': torch.ones(1)}, 'HRNet-Seg keys have no place in the toolkit model '
                                                     '(ocr.conv.weight)'),
])
def test_partial_conversion_is_refused_in_one_line_and_writes_nothing(small_config, tmp_path, capsys, drop, add,
                                                                      expected):
    src = _reference_file(tmp_path / 'ref.pth', drop=drop, add=add)
    dst = tmp_path / 'toolkit.pth'
    dst.write_bytes(b'previous file')
    assert main(['convert', 'hrnet-seg', str(src), str(dst), '--config', str(small_config), '--overwrite']) == 1
    err = capsys.readouterr().err.strip()
    assert err.count('\n') == 0 and err.startswith(f'error: {src}: refusing a partial conversion')
    assert expected in err
    assert dst.read_bytes() == b'previous file'
    assert sorted(p.name for p in tmp_path.iterdir()) == ['ref.pth', 'toolkit.pth']


def test_hrnet_seg_variant_is_told_by_the_file_or_required(small_config, tmp_path, capsys):
    """No counters: InPlaceABN (|w| + 1e-5). Counters on some norms only: --variant required, in one line."""
    from lip_toolkit.core.checkpoint import safe_load
    src = _reference_file(tmp_path / 'hrnet_lip_5583_torch04.pth', counters=False)
    dst = tmp_path / 'toolkit.pth'
    assert main(['convert', 'hrnet-seg', str(src), str(dst), '--config', str(small_config)]) == 0
    assert '(hrnet-seg variant inplace-abn)' in capsys.readouterr().out
    source = torch.load(src, weights_only=True)['state_dict']
    converted = safe_load(dst)['state_dict']
    torch.testing.assert_close(converted['backbone.bn1.weight'], source['model.bn1.weight'].abs() + 1e-5,
                               rtol=0, atol=0)
    mixed = _reference_file(tmp_path / 'mixed.pth', counters=False, add={'model.bn1.num_batches_tracked':
                                                                         torch.tensor(1)})
    assert main(['convert', 'hrnet-seg', str(mixed), str(tmp_path / 'm.pth'), '--config', str(small_config)]) == 1
    err = capsys.readouterr().err.strip()
    assert '\n' not in err and err.startswith(f'error: {mixed}: cannot tell which HRNet-Seg network')
    assert not (tmp_path / 'm.pth').exists()
    assert main(['convert', 'hrnet-seg', str(mixed), str(tmp_path / 'm.pth'), '--config', str(small_config),
                 '--variant', 'inplace-abn']) == 0
    assert main(['convert', 'ce2p', str(mixed), str(tmp_path / 'c.pth'), '--variant', 'bn']) == 1
    assert 'ce2p has a single network' in capsys.readouterr().err


class _Payload:
    def __reduce__(self):
        return (os.system, (f'touch {self.marker}', ))


def test_hostile_pickle_is_refused_before_anything_runs(tmp_path, capsys):
    marker = tmp_path / 'pwned'
    payload = _Payload()
    payload.marker = marker
    src = tmp_path / 'LIP_epoch_149.pth'
    torch.save({'state_dict': {'conv1.weight': torch.zeros(1)}, 'hook': payload}, src)
    assert main(['convert', 'ce2p', str(src), str(tmp_path / 'out.pth')]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(f'error: {src}: refused to load') and '\n' not in err
    assert not marker.exists() and not (tmp_path / 'out.pth').exists()


def test_unknown_reference_and_same_source_and_destination(tmp_path, capsys):
    assert main(['convert', 'deeplab', 'a.pth', 'b.pth']) == 2
    assert "'deeplab' is not one of" in capsys.readouterr().err
    src = tmp_path / 'same.pth'
    torch.save({'a': torch.zeros(1)}, src)
    assert main(['convert', 'schp', str(src), str(src)]) == 1  # the rule for outputs that exist
    assert 'add --overwrite' in capsys.readouterr().err
    assert main(['convert', 'schp', str(src), str(src), '--overwrite']) == 1
    assert 'would overwrite its source' in capsys.readouterr().err


@pytest.mark.slow  # 24 images x 2 flips at 473x473: about 2 minutes on a shared CPU
def test_converted_checkpoint_evaluates_with_the_reference_config(small_config, synthetic_lip, tmp_path, capsys):
    """convert -> evaluate: the reference config's pipeline, input size and flip run on a LIP-layout tree."""
    src = _reference_file(tmp_path / 'hrnet_lip.pth')
    dst = tmp_path / 'toolkit.pth'
    assert main(['-q', 'convert', 'hrnet-seg', str(src), str(dst), '--config', str(small_config)]) == 0
    scores = tmp_path / 'scores.json'
    assert main(['-q', 'evaluate', str(small_config), str(dst), '--data-root', str(synthetic_lip), '--device', 'cpu',
                 '--json', str(scores)]) == 0
    result = json.loads(scores.read_text())
    assert result['flip'] is True and result['num_images'] == 24 and 0 <= result['mIoU'] <= 100
