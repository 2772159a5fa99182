"""Published pretrained weights by name: resolve, download once into the cache, load through :func:`safe_load`.

Configs name ImageNet weights the way OpenMMLab configs do: ``open-mmlab://resnet101_v1c``,
``torchvision://resnet152``, ``mmcls://se-resnet50`` or a plain ``https://`` URL. mmengine resolves such a name
with its own tables (``mmengine/hub/openmmlab.json``, torchvision's weight enums, ``mmcls.json``) and the toolkit
keeps that: :func:`published_url` reads the same tables. What changes is how the file is read. mmengine's
``load_from_http`` calls ``torch.hub.load_state_dict_from_url``, whose ``weights_only`` defaults to False (it
unpickles whatever the file asks for); here the file is downloaded into torch's hub cache
(``<torch.hub.get_dir()>/checkpoints/<file name>``, the folder mmengine and torchvision use) with the SHA-256
prefix in its name checked (:data:`HASH_CHECKED_HOSTS`), and then read by
:func:`lip_toolkit.core.checkpoint.safe_load` like any local file.

* Cache: a file already in the cache is used as it is, with no network access.
* Local override: copy the published file into that folder under its published name, or point the config at a
  local file (``--cfg-options model.backbone.init_cfg.checkpoint=/path/file.pth``).
* Offline: one line naming the URL, the cache path and the override (:class:`LipToolkitError`).

:func:`lip_toolkit.core.checkpoint.install_mmengine_checkpoint_loader` installs :func:`load_from_published` as
mmengine's loader for these prefixes.
"""
import os
import re
from pathlib import Path
from urllib.parse import unquote, urlparse

from .errors import LipToolkitError

#: Name prefixes resolved through mmengine's tables, and plain URLs.
OPENMMLAB_PREFIXES = ('open-mmlab://', 'openmmlab://')
PUBLISHED_PREFIXES = OPENMMLAB_PREFIXES + ('torchvision://', 'modelzoo://', 'mmcls://', 'http://', 'https://',
                                           'file://')
#: The config key every full-size config's ImageNet weights sit under (used in messages).
OVERRIDE_HINT = '--cfg-options model.backbone.init_cfg.checkpoint=LOCAL_FILE'
#: torch.hub's convention (OpenMMLab's too): ``name-<first hex digits of the SHA-256>.ext``.
_HASH_IN_NAME = re.compile(r'-([a-f0-9]{8,})\.')
#: Hosts whose file names follow that convention (torchvision's weights; OpenMMLab's ``publish_model.py``), and
#: local mirrors (``file://``) of such files. Elsewhere (the SE-ResNet-152 and SCNet authors' files) a hex suffix
#: is not documented as a SHA-256 prefix, so it is not checked.
HASH_CHECKED_HOSTS = ('download.pytorch.org', 'download.openmmlab.com', '')


def is_published_name(name) -> bool:
    """Whether ``name`` is a published name or URL rather than a local path."""
    return isinstance(name, str) and name.startswith(PUBLISHED_PREFIXES)


def published_url(name: str) -> str:
    """The URL behind a published name (``open-mmlab://``, ``torchvision://``, ``mmcls://``) or the URL itself.

    Raises:
        LipToolkitError: a name mmengine's tables do not know.
    """
    from mmengine.runner import checkpoint as mm
    if name.startswith(('http://', 'https://', 'file://')):
        return name
    scheme, key = name.split('://', 1)
    if name.startswith(OPENMMLAB_PREFIXES):
        key = mm.get_deprecated_model_names().get(key, key)
        table = mm.get_external_models()
    elif scheme in ('torchvision', 'modelzoo'):
        table = mm.get_torchvision_models()
    elif scheme == 'mmcls':
        table = mm.get_mmcls_models()
    else:
        raise LipToolkitError(f'not a published weight name: {name!r}')
    if key not in table:
        raise LipToolkitError(f'unknown {scheme}:// weights {key!r} (not in mmengine\'s model tables)')
    url = table[key]
    if not url.startswith(('http://', 'https://', 'file://')):  # mmengine's own: a path under MMENGINE_HOME
        url = Path(mm._get_mmengine_home(), url).as_uri()
    return url


def cache_path(url: str) -> Path:
    """Where a downloaded file lives: ``<torch.hub.get_dir()>/checkpoints/<file name of the URL>``."""
    import torch.hub
    return Path(torch.hub.get_dir()) / 'checkpoints' / os.path.basename(unquote(urlparse(url).path))


def fetch(name: str, progress: bool = False) -> Path:
    """The local file of published weights ``name``: the cached copy, or downloaded (hash-checked) into the cache.

    Raises:
        LipToolkitError: an unknown name, or the download failed (offline, refused, wrong checksum): one line
            naming the URL, the cache path and the override.
    """
    import torch.hub
    url = published_url(name)
    path = cache_path(url)
    if path.is_file():
        return path
    match = _HASH_IN_NAME.search(path.name) if urlparse(url).netloc in HASH_CHECKED_HOSTS else None
    path.parent.mkdir(parents=True, exist_ok=True)
    try:  # torch writes a temporary file and moves it into place: a complete file or none
        torch.hub.download_url_to_file(url, str(path), match.group(1) if match else None, progress=progress)
    except Exception as exc:  # URLError, HTTPError, socket errors, the checksum's RuntimeError ...
        reason = ' '.join(str(getattr(exc, 'reason', None) or exc).split())[:160]
        raise LipToolkitError(f'cannot download {url} ({type(exc).__name__}: {reason}); offline, copy the file to '
                              f'{path} or use a local copy: {OVERRIDE_HINT}', name) from None
    return path


def load_from_published(name: str, map_location=None) -> dict:
    """mmengine ``CheckpointLoader`` handler for published names: :func:`fetch`, then ``safe_load``.

    In a distributed run rank 0 downloads first; the others wait, then read the cached file.
    """
    from mmengine.dist import barrier, get_dist_info

    from .checkpoint import safe_load
    rank, world_size = get_dist_info()
    if world_size > 1 and rank != 0:
        barrier()
    path = fetch(name)
    if world_size > 1 and rank == 0:
        barrier()
    checkpoint = safe_load(path, map_location=map_location or 'cpu')
    if name.startswith('mmcls://'):  # as mmengine's load_from_mmcls: the classifier's backbone. prefix goes
        from mmengine.runner.checkpoint import _process_mmcls_checkpoint
        checkpoint = _process_mmcls_checkpoint(checkpoint)
    return checkpoint


def load_pretrained(name_or_path, map_location='cpu') -> dict:
    """Weights named in an ``init_cfg``: a published name or URL (:func:`load_from_published`) or a local file
    (``safe_load``). For code that reads an ``init_cfg`` checkpoint itself instead of through mmengine."""
    if is_published_name(str(name_or_path)):
        return load_from_published(str(name_or_path), map_location)
    from .checkpoint import safe_load
    return safe_load(name_or_path, map_location=map_location)

