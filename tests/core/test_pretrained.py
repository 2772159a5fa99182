"""Published ImageNet weights: names resolved by mmengine's tables, downloaded once into torch's hub cache with the
name's SHA-256 prefix checked, read by the safe loader; one-line errors offline. Downloads are stood in for by
``file://`` URLs (torch's downloader reads them like any URL), so no test touches the network."""
import hashlib
import os
import re
from pathlib import Path

import pytest
import torch

from lip_toolkit.core.checkpoint import install_mmengine_checkpoint_loader
from lip_toolkit.core.errors import LipToolkitError
from lip_toolkit.core.paths import CONFIGS_DIR
from lip_toolkit.core.pretrained import OVERRIDE_HINT, cache_path, fetch, is_published_name, published_url

ROOT = CONFIGS_DIR.parent


@pytest.fixture
def hub(tmp_path, monkeypatch):
    """torch's hub folder in tmp: the cache every download goes to."""
    import torch.hub
    monkeypatch.setattr(torch.hub, '_hub_dir', str(tmp_path / 'hub'))
    return tmp_path / 'hub' / 'checkpoints'


def publish(folder: Path, stem: str, checkpoint) -> Path:
    """Save ``checkpoint`` as OpenMMLab and torchvision publish files: ``<stem>-<first 8 hex of SHA-256>.pth``."""
    folder.mkdir(parents=True, exist_ok=True)
    draft = folder / 'draft.pth'
    torch.save(checkpoint, draft)
    final = folder / f'{stem}-{hashlib.sha256(draft.read_bytes()).hexdigest()[:8]}.pth'
    draft.rename(final)
    return final


def serve_as(monkeypatch, table: str, name: str, path: Path) -> None:
    """Stand in for the download: mmengine's ``table`` maps ``name`` to a ``file://`` URL of ``path``."""
    from mmengine.runner import checkpoint as mm
    original = getattr(mm, table)
    monkeypatch.setattr(mm, table, lambda: dict(original(), **{name: path.as_uri()}))


def test_published_names_resolve_through_mmengines_tables():
    assert published_url('open-mmlab://resnet101_v1c') == \
        'https://download.openmmlab.com/pretrain/third_party/resnet101_v1c-e67eebb6.pth'
    assert published_url('open-mmlab://msra/hrnetv2_w48') == \
        'https://download.openmmlab.com/pretrain/third_party/hrnetv2_w48-d2186c55.pth'
    assert published_url('torchvision://resnet50') == 'https://download.pytorch.org/models/resnet50-0676ba61.pth'
    assert published_url('torchvision://resnet152') == 'https://download.pytorch.org/models/resnet152-394f9c45.pth'
    with pytest.raises(LipToolkitError, match=r"unknown open-mmlab:// weights 'resnet999'"):
        published_url('open-mmlab://resnet999')
    assert is_published_name('torchvision://resnet50') and not is_published_name('checkpoints/r50.pth')


def test_download_is_cached_checked_and_read_by_the_safe_loader(hub, tmp_path, monkeypatch):
    from mmengine.runner.checkpoint import CheckpointLoader
    weights = {'conv1.weight': torch.randn(4, 3, 3, 3), 'bn1.running_var': torch.rand(4)}
    source = publish(tmp_path / 'server', 'resnet101_v1c', {'state_dict': weights})
    serve_as(monkeypatch, 'get_external_models', 'resnet101_v1c', source)
    install_mmengine_checkpoint_loader()
    loaded = CheckpointLoader.load_checkpoint('open-mmlab://resnet101_v1c')
    assert all(torch.equal(loaded['state_dict'][k], v) for k, v in weights.items())
    cached = hub / source.name
    assert cached.read_bytes() == source.read_bytes() and sorted(os.listdir(hub)) == [source.name]
    source.unlink()  # the cache is used without the network from now on
    assert torch.equal(CheckpointLoader.load_checkpoint('open-mmlab://resnet101_v1c')['state_dict']['conv1.weight'],
                       weights['conv1.weight'])


def test_wrong_checksum_is_refused_and_leaves_no_file(hub, tmp_path):
    source = tmp_path / 'server' / 'resnet50-deadbeef.pth'
    source.parent.mkdir()
    torch.save({'w': torch.zeros(1)}, source)
    with pytest.raises(LipToolkitError) as error:
        fetch(source.as_uri())
    message = str(error.value)
    assert '\n' not in message and 'cannot download' in message and 'hash' in message.lower()
    assert not cache_path(source.as_uri()).exists() and not any(hub.iterdir())


def test_offline_is_one_line_naming_the_url_the_cache_and_the_override(hub, tmp_path, monkeypatch):
    from mmengine.runner.checkpoint import CheckpointLoader
    missing = tmp_path / 'unreachable' / 'hrnetv2_w48-d2186c55.pth'
    serve_as(monkeypatch, 'get_external_models', 'msra/hrnetv2_w48', missing)
    install_mmengine_checkpoint_loader()
    with pytest.raises(LipToolkitError) as error:
        CheckpointLoader.load_checkpoint('open-mmlab://msra/hrnetv2_w48')
    message = str(error.value)
    assert '\n' not in message and message.startswith('open-mmlab://msra/hrnetv2_w48: cannot download ')
    assert missing.as_uri() in message and str(hub / missing.name) in message and OVERRIDE_HINT in message


class _Payload:
    def __reduce__(self):
        return (os.system, (f'touch {self.marker}', ))


def test_a_hostile_published_file_is_refused_before_it_runs(hub, tmp_path, monkeypatch):
    """mmengine's own URL loader unpickles with weights_only=False; ours goes through safe_load."""
    from mmengine.runner.checkpoint import CheckpointLoader
    payload = _Payload()
    payload.marker = tmp_path / 'pwned'
    source = publish(tmp_path / 'server', 'resnet50', {'state_dict': {'w': torch.zeros(1)}, 'x': payload})
    serve_as(monkeypatch, 'get_torchvision_models', 'resnet50', source)
    install_mmengine_checkpoint_loader()
    with pytest.raises(LipToolkitError, match='refused to load'):
        CheckpointLoader.load_checkpoint('torchvision://resnet50')
    assert not payload.marker.exists()


def _full_size_configs():
    return sorted(p for folder in ('pose', 'parsing') for p in (CONFIGS_DIR / folder).rglob('*.py')
                  if 'synthetic' not in p.name and 'tiny' not in p.name)


@pytest.mark.parametrize('config', _full_size_configs(), ids=lambda p: p.stem)
def test_every_full_size_config_names_published_imagenet_weights_listed_in_the_docs(config):
    from mmengine.config import Config
    init_cfg = Config.fromfile(str(config)).model.backbone.init_cfg
    assert init_cfg.type in ('Pretrained', 'ConvertedPretrained') and is_published_name(init_cfg.checkpoint)
    file_name = os.path.basename(published_url(init_cfg.checkpoint))
    docs = (ROOT / 'docs' / f'{config.parent.parent.name}_models.md').read_text()
    assert re.search(rf'`{re.escape(file_name)}`', docs), f'{file_name} is not listed in the docs'


def _build(config):
    """The config's model as training builds it (registries, default scope), not yet initialised."""
    from mmengine.registry import init_default_scope

    from lip_toolkit.core.runner import load_config
    from lip_toolkit.registration import register_all_modules
    register_all_modules()
    cfg = load_config(str(config))
    init_default_scope(cfg.default_scope)
    registry = __import__(f'{cfg.default_scope}.registry', fromlist=['MODELS']).MODELS
    return registry.build(cfg.model)


def _random_like(state):
    generator = torch.Generator().manual_seed(0)
    return {k: torch.randn(v.shape, generator=generator) if v.is_floating_point() else v for k, v in state.items()}


def _pretrainedmodels_se_resnet152():
    """Random weights in pretrainedmodels' SE-ResNet-152 layout (its published file's names and shapes)."""
    from lip_toolkit.convert import imagenet
    generator = torch.Generator().manual_seed(0)
    return {k: torch.randn(s, generator=generator) if s else torch.tensor(0)
            for k, s in imagenet.se_resnet152_reference_keys().items()}


@pytest.mark.slow  # full-size networks: 100-270 MB stand-in files
@pytest.mark.parametrize('config', [
    'parsing/ce2p/ce2p-aspoc_r101-d16_4xb10-150e_lip-480x480.py',  # open-mmlab://resnet101_v1c
    'parsing/hrnet/fcn_hrnetv2-w48_4xb10-150e_lip-480x480.py',  # open-mmlab://msra/hrnetv2_w48
    'pose/mspn/td-hm_4xmspn50_8xb32-210e_lip-coco-384x288.py',  # torchvision://resnet50 (MSPN's own init)
    'pose/posefix/posefix_res152_8xb16-140e_lip-coco-384x288.py',  # torchvision://resnet152 (PoseFix's init)
    'pose/hrnet/td-hm_hrnet-w32_8xb32-210e_lip-384x288.py',  # an https URL
    'parsing/ce2p/ce2p-aspoc_scnet101-d16_4xb10-150e_lip-trainval-mhp-576x576.py',  # an https URL
    'parsing/ce2p/ce2p-aspoc_seresnet152-d16_4xb10-150e_lip-trainval-mhp-576x576.py',  # converted while loading
])
def test_full_size_config_initialises_from_its_published_weights_with_no_manual_step(config, hub, tmp_path,
                                                                                      monkeypatch):
    """Build a full-size config's model and run init_weights() as training does: the named weights are fetched
    (a file:// stand-in for the download behind the open-mmlab:// / torchvision:// tables; for plain URLs the file
    stands in the cache, where a download puts it), read safely, and end up in the backbone."""
    import torchvision
    from mmengine.config import Config
    install_mmengine_checkpoint_loader()
    model = _build(CONFIGS_DIR / config)
    name = Config.fromfile(str(CONFIGS_DIR / config)).model.backbone.init_cfg.checkpoint
    url = published_url(name)
    if 'seresnet152' in config:
        published = _pretrainedmodels_se_resnet152()
        probe = ('layer4.2.se_layer.conv2.conv.bias', published['layer4.2.se_module.fc2.bias'])
    elif name.startswith('torchvision://'):  # torchvision's own layout
        net = getattr(torchvision.models, name.split('://')[1])()
        published = _random_like(net.state_dict())
        probe = ('layer3.1.conv2.weight', published['layer3.1.conv2.weight'])
        if 'mspn' in config:  # MSPN copies layer weights into each unit's down-sampling path
            probe = ('multi_stage_mspn.0.downsample.layer3.1.conv2.weight', probe[1])
    else:  # OpenMMLab files hold the backbone's own keys, plus ImageNet-only ones
        own = model.backbone.state_dict()
        published = dict(_random_like(own), **{'fc.weight': torch.zeros(1000, 8), 'fc.bias': torch.zeros(1000)})
        key = sorted(k for k in own if k.endswith('conv2.weight'))[-1]
        probe = (key, published[key])
    if name.startswith(('https://', 'http://')):
        hub.mkdir(parents=True)
        torch.save(published, hub / os.path.basename(url))
    else:
        table = 'get_torchvision_models' if name.startswith('torchvision://') else 'get_external_models'
        stem = os.path.basename(url).rsplit('-', 1)[0]
        serve_as(monkeypatch, table, name.split('://', 1)[1], publish(tmp_path / 'server', stem, published))
    model.init_weights()
    loaded = model.backbone.state_dict()[probe[0]]
    torch.testing.assert_close(loaded, probe[1], rtol=0, atol=0)
