"""The strict key-mapping engine: renaming, prefixes, ABN -> BN, bias folding, channel reordering, refusals."""
import io
from collections import OrderedDict

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from lip_toolkit.convert.common import (ConversionMismatch, ReferenceSpec, abn_to_bn, apply_spec,
                                        fold_conv_bias_into_norm, map_state_dict, move_trailing_in_channels_first,
                                        read_reference_state_dict, rename_key, strip_prefixes, write_checkpoint)
from lip_toolkit.core.errors import LipToolkitError


def test_first_full_match_wins_and_partial_matches_do_not_count():
    rules = [(r'a\.(\d)\.w', r'x.\1.weight'), (r'a\..+', r'y.generic')]
    assert rename_key('a.3.w', rules) == 'x.3.weight'
    assert rename_key('a.3.wx', rules) == 'y.generic'
    assert rename_key('ba.3.w', rules) is None


def test_strip_prefixes_in_order_and_refuses_collisions():
    out = strip_prefixes({'module.model.conv.weight': torch.zeros(1), 'head.b': torch.zeros(1)},
                         ('module.', 'model.'))
    assert list(out) == ['conv.weight', 'head.b']
    with pytest.raises(LipToolkitError, match='two checkpoint keys'):
        strip_prefixes({'module.a': torch.zeros(1), 'a': torch.zeros(1)}, ('module.', ))


def test_abn_weight_becomes_abs_plus_eps_and_matches_inplace_abn_formula():
    weight = torch.tensor([-2.0, 0.0, 0.5])
    state = OrderedDict([('n.weight', weight.clone()), ('n.bias', torch.tensor([0.1, 0.2, 0.3])),
                         ('n.running_mean', torch.tensor([1.0, -1.0, 0.0])),
                         ('n.running_var', torch.tensor([4.0, 1.0, 0.25]))])
    abn_to_bn(state, ['n'])
    assert torch.equal(state['n.weight'], weight.abs() + 1e-5)
    bn = nn.BatchNorm2d(3).eval()
    bn.load_state_dict({k.split('.', 1)[1]: v for k, v in state.items()}, strict=False)
    x = torch.randn(2, 3, 4, 4)
    direct = (x - torch.tensor([1.0, -1.0, 0.0]).view(1, 3, 1, 1)) / torch.sqrt(
        torch.tensor([4.0, 1.0, 0.25]).view(1, 3, 1, 1) + 1e-5) * (weight.abs() + 1e-5).view(1, 3, 1, 1) + \
        torch.tensor([0.1, 0.2, 0.3]).view(1, 3, 1, 1)
    torch.testing.assert_close(bn(x), direct)


def test_conv_bias_folds_into_norm_mean_exactly():
    torch.manual_seed(0)
    conv = nn.Conv2d(4, 6, 1, bias=True)
    norm = nn.BatchNorm2d(6)
    norm.running_mean.normal_()
    norm.running_var.uniform_(0.5, 2.0)
    reference = nn.Sequential(conv, norm).eval()
    state = OrderedDict((f'm.{k}', v.clone()) for k, v in reference.state_dict().items())
    fold_conv_bias_into_norm(state, 'm.0.bias', 'm.1')
    assert 'm.0.bias' not in state
    folded = nn.Sequential(nn.Conv2d(4, 6, 1, bias=False), nn.BatchNorm2d(6)).eval()
    folded.load_state_dict({k[2:]: v for k, v in state.items()})
    x = torch.randn(2, 4, 5, 5)
    torch.testing.assert_close(folded(x), reference(x), rtol=1e-5, atol=1e-5)


def test_trailing_input_channels_move_first_like_the_concatenation_order():
    torch.manual_seed(0)
    pooled, feats = torch.randn(1, 6, 3, 3), torch.randn(1, 4, 3, 3)
    weight = torch.randn(5, 10, 3, 3)
    reference = F.conv2d(torch.cat([pooled, feats], 1), weight, padding=1)
    toolkit = F.conv2d(torch.cat([feats, pooled], 1), move_trailing_in_channels_first(weight, 4), padding=1)
    torch.testing.assert_close(toolkit, reference)
    with pytest.raises(LipToolkitError):
        move_trailing_in_channels_first(weight, 10)


TARGET = OrderedDict([('net.conv.weight', (2, 3, 1, 1)), ('net.bn.weight', (2, )), ('net.bn.bias', (2, )),
                      ('net.bn.running_mean', (2, )), ('net.bn.running_var', (2, )),
                      ('net.bn.num_batches_tracked', ())])
RULES = [(r'conv1\.weight', 'net.conv.weight'), (r'bn1\.(\w+)', r'net.bn.\1')]


def _source():
    return OrderedDict([('conv1.weight', torch.ones(2, 3, 1, 1)), ('bn1.weight', torch.ones(2)),
                        ('bn1.bias', torch.zeros(2)), ('bn1.running_mean', torch.zeros(2)),
                        ('bn1.running_var', torch.ones(2))])


def test_complete_mapping_fills_only_the_bn_counter():
    out, filled = map_state_dict(_source(), RULES, TARGET)
    assert list(out) == list(TARGET)
    assert filled == ['net.bn.num_batches_tracked'] and out['net.bn.num_batches_tracked'].item() == 0


@pytest.mark.parametrize('edit, expected', [
    (lambda s: s.pop('bn1.running_var'), r'1 toolkit weights get no value \(net\.bn\.running_var\)'),
    (lambda s: s.__setitem__('extra.weight', torch.ones(1)), r'1 CE2P keys have no place .*\(extra\.weight\)'),
    (lambda s: s.__setitem__('conv1.weight', torch.ones(2, 4, 1, 1)),
     r'1 shapes differ \(conv1\.weight \(2, 4, 1, 1\) -> net\.conv\.weight \(2, 3, 1, 1\)\)'),
])
def test_any_unmatched_key_refuses_with_one_line(edit, expected):
    source = _source()
    edit(source)
    with pytest.raises(ConversionMismatch, match=expected) as info:
        map_state_dict(source, RULES, TARGET, path='ref.pth', title='CE2P')
    assert '\n' not in str(info.value) and str(info.value).startswith('ref.pth: refusing a partial conversion')


def test_unmatched_lists_are_complete_on_the_exception():
    source = _source()
    for index in range(12):
        source[f'junk.{index}'] = torch.ones(1)
    with pytest.raises(ConversionMismatch) as info:
        map_state_dict(source, RULES, TARGET)
    assert len(info.value.unmatched_source) == 12
    assert '(4 more)' in str(info.value)


def test_apply_spec_runs_every_rewrite_in_reference_names():
    source = OrderedDict([('module.conv1.weight', torch.ones(2, 3, 1, 1)), ('module.conv1.bias', torch.ones(2)),
                          ('module.bn1.weight', -torch.ones(2)), ('module.bn1.bias', torch.zeros(2)),
                          ('module.bn1.running_mean', torch.zeros(2)), ('module.bn1.running_var', torch.ones(2))])
    spec = ReferenceSpec(name='t', title='T', default_config='', rules=RULES, abn_module=lambda m: m == 'bn1',
                         fold_conv_bias={'conv1.bias': 'bn1'},
                         reorder_in_channels={'conv1.weight': lambda w, sd: w * 2})
    out, _ = apply_spec(source, spec, TARGET)
    assert torch.equal(out['net.bn.running_mean'], -torch.ones(2))
    assert torch.equal(out['net.bn.weight'], torch.ones(2) + 1e-5)
    assert torch.equal(out['net.conv.weight'], 2 * torch.ones(2, 3, 1, 1))


def test_read_reference_state_dict_takes_state_dict_entry_or_plain_dict(tmp_path):
    weights = OrderedDict([('a', torch.ones(1))])
    torch.save({'state_dict': weights, 'epoch': 3}, tmp_path / 'wrapped.pth')
    torch.save(weights, tmp_path / 'plain.pth')
    torch.save({'a': torch.ones(1), 'epoch': 3}, tmp_path / 'mixed.pth')
    assert list(read_reference_state_dict(tmp_path / 'wrapped.pth')) == ['a']
    assert list(read_reference_state_dict(tmp_path / 'plain.pth')) == ['a']
    with pytest.raises(LipToolkitError, match='mixes weights'):
        read_reference_state_dict(tmp_path / 'mixed.pth')


def test_written_checkpoint_is_complete_and_safe_loadable(tmp_path):
    from lip_toolkit.core.checkpoint import safe_load
    path = write_checkpoint(tmp_path / 'out.pth', {'w': torch.arange(3)}, dict(reference='ce2p'))
    loaded = safe_load(path)
    assert torch.equal(loaded['state_dict']['w'], torch.arange(3)) and loaded['meta']['reference'] == 'ce2p'
    assert not list(tmp_path.glob('.*partial'))
    buffer = io.BytesIO(path.read_bytes())
    assert torch.load(buffer, weights_only=True)['meta'] == {'reference': 'ce2p'}
