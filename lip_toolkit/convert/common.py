"""The strict key-mapping engine shared by the reference converters (CE2P, SCHP, HRNet-Seg, MMPose).

A reference checkpoint is turned into a toolkit checkpoint in five steps, each of them exact:

1. **Read** the file with :func:`lip_toolkit.core.checkpoint.safe_load` (weights-only unpickling, allow-list);
   take its ``state_dict`` (SCHP, HRNet-Seg, mmengine) or the dict itself (CE2P).
2. **Strip prefixes** the reference's training wrappers added: ``module.`` (``DataParallel``), ``model.``
   (HRNet-Seg's ``FullModel``).
3. **Rewrite tensors** where the reference computes something the toolkit's modules express differently:

   * InPlaceABN(Sync) scales by ``|weight| + eps``, never by ``weight`` (the absolute value keeps its in-place
     backward invertible), so its ``weight`` becomes ``|weight| + eps`` in a plain BatchNorm; ``bias``,
     ``running_mean`` and ``running_var`` are kept. The activation (LeakyReLU 0.01, or none where the reference
     says ``activation='none'``) is a property of the toolkit module, set by the config. Where a reference
     released files from different norm layers (HRNet-Seg), its *variant*, told by the file or given, decides
     which norms are InPlaceABN (:func:`resolve_variant`).
   * a convolution bias followed by a BatchNorm folds into the BatchNorm's running mean (``mean - bias``):
     identical in eval mode, and the toolkit's ``ConvModule`` has no bias before a norm;
   * concatenations in another order: the input channels of the following convolution are reordered.
4. **Rename** every key with an ordered list of ``(regex, replacement)`` rules (the first full match wins).
5. **Check strictly** against the target model's own state dict: every reference key must land on a toolkit key
   of the same shape, every toolkit key must receive a value. The only toolkit keys allowed to come from
   nowhere are BatchNorm ``num_batches_tracked`` counters (InPlaceABN has none; they are unused at test time)
   and they are set to 0. Anything else refuses the conversion with one line naming the keys on both sides;
   nothing is written.

The result is written with ``torch.save`` into memory, then to disk through
:func:`lip_toolkit.core.io.atomic_write` (a complete file or none).
"""
import io
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from ..core.errors import LipToolkitError

#: InPlaceABN's default epsilon (both CE2P's ``libs`` and SCHP's ``modules`` copies).
ABN_EPS = 1e-5
#: Keys the engine may fill itself when the reference has no such buffer.
FILLABLE_SUFFIX = '.num_batches_tracked'

Shape = Tuple[int, ...]
RenameRule = Tuple[str, str]


@dataclass
class ReferenceSpec:
    """What one reference needs beyond the engine: its names, its layout and its tensor rewrites.

    Attributes:
        name: the command-line name (``ce2p``, ``schp``, ``hrnet-seg``, ``mmpose``).
        title: human-readable name used in messages.
        default_config: toolkit config whose model receives the weights.
        rules: ordered ``(regex, replacement)`` rename rules on the reference's (prefix-free) keys.
        strip_prefixes: prefixes removed from every key that has them, in order.
        abn_module: ``f(module_name) -> bool``: is this reference norm an InPlaceABN (weight -> ``|w| + eps``)?
        fold_conv_bias: ``{reference conv bias key: reference norm module}`` folded into the norm's running mean.
        reorder_in_channels: ``{reference weight key: f(weight, state_dict) -> weight}`` channel reorderings.
        drop_keys: regexes (full match, prefix-free keys) of reference tensors with no counterpart by design,
            e.g. an ImageNet classifier (``fc.*``); they are left out before renaming.
        target_module: the model's sub-module that receives the weights (``'backbone'`` for ImageNet weights):
            the strict check runs against its state dict and the written keys are relative to it, as
            ``init_cfg=dict(type='Pretrained', checkpoint=...)`` reads them. None: the whole model.
        variants: for a reference whose released files ran different norm layers: ``{variant name:
            abn_module}`` (replacing ``abn_module``); empty for a reference with one network.
        choose_variant: ``f(state_dict, requested or None, path) -> variant name`` (prefix-free keys): the
            variant the file shows, or the requested one where the file cannot tell; raises
            :class:`LipToolkitError` when neither decides or the request contradicts the file.
    """

    name: str
    title: str
    default_config: str
    rules: Sequence[RenameRule]
    strip_prefixes: Sequence[str] = ('module.',)
    abn_module: Callable[[str], bool] = lambda module: False
    fold_conv_bias: Mapping[str, str] = field(default_factory=dict)
    reorder_in_channels: Mapping[str, Callable] = field(default_factory=dict)
    drop_keys: Sequence[str] = ()
    target_module: Optional[str] = None
    variants: Mapping[str, Callable[[str], bool]] = field(default_factory=dict)
    choose_variant: Optional[Callable] = None


def _sample(items: Sequence[str], limit: int = 8) -> str:
    shown = ', '.join(items[:limit])
    return shown + (f', ... ({len(items) - limit} more)' if len(items) > limit else '')


class ConversionMismatch(LipToolkitError):
    """A conversion left keys unmatched; the full lists are attributes, the message is one line."""

    def __init__(self, message, path=None, unmatched_source=(), unfilled_target=(), shape_mismatch=()):
        super().__init__(message, path)
        self.unmatched_source = list(unmatched_source)
        self.unfilled_target = list(unfilled_target)
        self.shape_mismatch = list(shape_mismatch)


# ----------------------------------------------------------------------------------------------------------------
# Reading
# ----------------------------------------------------------------------------------------------------------------
def read_reference_state_dict(path) -> 'OrderedDict':
    """The weights of a reference checkpoint, read safely: ``state_dict`` / ``model`` entry or the dict itself.

    Raises:
        LipToolkitError: the file is missing, unsafe, damaged, or holds no tensors.
    """
    import torch

    from ..core.checkpoint import safe_load
    checkpoint = safe_load(path)
    for key in ('state_dict', 'model'):
        candidate = checkpoint.get(key)
        if isinstance(candidate, dict) and candidate and all(torch.is_tensor(v) for v in candidate.values()):
            return OrderedDict(candidate)
    tensors = OrderedDict((k, v) for k, v in checkpoint.items() if torch.is_tensor(v))
    if tensors and len(tensors) == len(checkpoint):
        return tensors
    if tensors:
        others = sorted(str(k) for k, v in checkpoint.items() if not torch.is_tensor(v))
        raise LipToolkitError(f'checkpoint mixes weights with other entries ({_sample(others, 3)}); expected a '
                              'state dict or a dict with a "state_dict" entry', path)
    raise LipToolkitError(f'no model weights in the checkpoint (keys: {_sample(sorted(map(str, checkpoint)), 3)})',
                          path)


def strip_prefixes(state_dict: Mapping, prefixes: Iterable[str]) -> 'OrderedDict':
    """Remove each of ``prefixes`` (in order) from the keys that start with it."""
    out = OrderedDict()
    for key, value in state_dict.items():
        for prefix in prefixes:
            if key.startswith(prefix):
                key = key[len(prefix):]
        if key in out:
            raise LipToolkitError(f'two checkpoint keys become {key!r} once prefixes {list(prefixes)} are removed')
        out[key] = value
    return out


# ----------------------------------------------------------------------------------------------------------------
# Tensor rewrites
# ----------------------------------------------------------------------------------------------------------------
def norm_modules(state_dict: Mapping) -> List[str]:
    """Module names that hold BatchNorm-style statistics (``<name>.running_mean``)."""
    return [key[:-len('.running_mean')] for key in state_dict if key.endswith('.running_mean')]


def abn_to_bn(state_dict: 'OrderedDict', modules: Iterable[str], eps: float = ABN_EPS) -> None:
    """In place: InPlaceABN's effective scale ``|weight| + eps`` becomes a plain BatchNorm weight."""
    for module in modules:
        key = f'{module}.weight'
        if key in state_dict:
            state_dict[key] = state_dict[key].abs() + eps


def fold_conv_bias_into_norm(state_dict: 'OrderedDict', bias_key: str, norm_module: str) -> None:
    """In place: ``BN(conv(x) + b) == BN'(conv(x))`` with ``running_mean' = running_mean - b``; drops ``b``."""
    mean_key = f'{norm_module}.running_mean'
    if bias_key not in state_dict or mean_key not in state_dict:
        return  # left for the strict check to report
    bias = state_dict.pop(bias_key)
    if bias.shape != state_dict[mean_key].shape:
        raise LipToolkitError(f'cannot fold {bias_key} {tuple(bias.shape)} into {mean_key} '
                              f'{tuple(state_dict[mean_key].shape)}')
    state_dict[mean_key] = state_dict[mean_key] - bias


def move_trailing_in_channels_first(weight, trailing: int):
    """Reorder a conv weight's input channels from ``[a, b]`` to ``[b, a]`` where ``b`` has ``trailing`` channels.

    Used where the reference concatenates ``[pooled..., input]`` and the toolkit ``[input, pooled...]``.
    """
    import torch
    total = weight.shape[1]
    if not 0 < trailing < total:
        raise LipToolkitError(f'cannot move {trailing} trailing input channels of a weight with {total}')
    return torch.cat([weight[:, total - trailing:], weight[:, :total - trailing]], dim=1).contiguous()


# ----------------------------------------------------------------------------------------------------------------
# Renaming and the strict check
# ----------------------------------------------------------------------------------------------------------------
def rename_key(key: str, rules: Sequence[RenameRule]) -> Optional[str]:
    """The toolkit name of ``key`` under the first rule whose pattern matches it fully, or None."""
    for pattern, replacement in rules:
        match = re.fullmatch(pattern, key)
        if match:
            return match.expand(replacement)
    return None


def map_state_dict(source: Mapping, rules: Sequence[RenameRule], target_shapes: Mapping[str, Shape],
                   path=None, title: str = 'reference') -> Tuple['OrderedDict', List[str]]:
    """Rename ``source`` onto ``target_shapes`` strictly (see the module docstring, step 5).

    Args:
        source: reference state dict after prefix stripping and tensor rewrites.
        rules: rename rules.
        target_shapes: the toolkit model's ``{key: shape}``.
        path: the source file, for messages.
        title: the reference's name, for messages.

    Returns:
        ``(state_dict, filled)``: the toolkit state dict in the target's key order, and the
        ``num_batches_tracked`` keys set to 0 because the reference has no such counter.

    Raises:
        ConversionMismatch: one line listing the reference keys with no place, the toolkit keys with no value
            and the shape disagreements; the full lists are on the exception.
    """
    import torch
    mapped: Dict[str, object] = {}
    origin: Dict[str, str] = {}
    unmatched_source, shape_mismatch, wrong_shape_targets = [], [], set()
    for key, value in source.items():
        new_key = rename_key(key, rules)
        if new_key is None or new_key not in target_shapes:
            unmatched_source.append(key)
            continue
        if new_key in mapped:
            raise LipToolkitError(f'{origin[new_key]} and {key} both map to {new_key}', path)
        if tuple(value.shape) != tuple(target_shapes[new_key]):
            shape_mismatch.append(f'{key} {tuple(value.shape)} -> {new_key} {tuple(target_shapes[new_key])}')
            wrong_shape_targets.add(new_key)
            continue
        mapped[new_key] = value
        origin[new_key] = key
    unfilled = [key for key in target_shapes if key not in mapped and key not in wrong_shape_targets
                and not key.endswith(FILLABLE_SUFFIX)]
    if unmatched_source or unfilled or shape_mismatch:
        parts = []
        if unmatched_source:
            parts.append(f'{len(unmatched_source)} {title} keys have no place in the toolkit model '
                         f'({_sample(unmatched_source)})')
        if unfilled:
            parts.append(f'{len(unfilled)} toolkit weights get no value ({_sample(unfilled)})')
        if shape_mismatch:
            parts.append(f'{len(shape_mismatch)} shapes differ ({_sample(shape_mismatch, 3)})')
        raise ConversionMismatch('refusing a partial conversion: ' + '; '.join(parts), path,
                                 unmatched_source, unfilled, shape_mismatch)
    out, filled = OrderedDict(), []
    for key in target_shapes:
        if key in mapped:
            out[key] = mapped[key].contiguous()
        else:  # a num_batches_tracked counter the reference does not keep (unused at test time)
            out[key] = torch.tensor(0, dtype=torch.long)
            filled.append(key)
    return out, filled


def resolve_variant(spec: ReferenceSpec, state: Mapping, requested: Optional[str] = None,
                    path=None) -> Optional[str]:
    """The variant of ``spec`` that produced ``state`` (prefix-free keys), or None for a one-network reference.

    Raises:
        LipToolkitError: an unknown variant, a variant asked of a one-network reference, a file that does not
            tell its variant when none is given, or a request the file contradicts.
    """
    if not spec.variants:
        if requested is not None:
            raise LipToolkitError(f'{spec.name} has a single network; --variant applies to references with '
                                  'several released norm layers (hrnet-seg)', path)
        return None
    if requested is not None and requested not in spec.variants:
        raise LipToolkitError(f'unknown {spec.name} variant {requested!r}; one of {", ".join(spec.variants)}',
                              path)
    return spec.choose_variant(state, requested, path)


def apply_spec(source: Mapping, spec: ReferenceSpec, target_shapes: Mapping[str, Shape],
               path=None, variant: Optional[str] = None) -> Tuple['OrderedDict', List[str]]:
    """Steps 2-5 for one reference: prefixes, tensor rewrites in the reference's names, renaming, strict check.

    Args:
        variant: for a reference with :attr:`ReferenceSpec.variants`, the released network to reproduce
            (default: the one the file shows, see :func:`resolve_variant`).

    Returns:
        ``(state_dict, filled)`` as :func:`map_state_dict`.
    """
    state = strip_prefixes(source, spec.strip_prefixes)
    for key in [key for key in state if any(re.fullmatch(pattern, key) for pattern in spec.drop_keys)]:
        del state[key]
    abn_module = spec.abn_module
    chosen = resolve_variant(spec, state, variant, path)
    if chosen is not None:
        abn_module = spec.variants[chosen]
    for key, reorder in spec.reorder_in_channels.items():
        if key in state:
            state[key] = reorder(state[key], state)
    for bias_key, norm_module in spec.fold_conv_bias.items():
        fold_conv_bias_into_norm(state, bias_key, norm_module)
    abn_to_bn(state, [module for module in norm_modules(state) if abn_module(module)])
    return map_state_dict(state, spec.rules, target_shapes, path=path, title=spec.title)


# ----------------------------------------------------------------------------------------------------------------
# The target model and writing
# ----------------------------------------------------------------------------------------------------------------
def build_target_model(config, cfg_options: Optional[dict] = None):
    """The toolkit model of ``config`` (MMSeg or MMPose scope) in eval mode on CPU; no pretrained file is read."""
    from mmengine.config import Config

    from ..core.runner import config_track, load_config
    cfg = config if isinstance(config, Config) else load_config(config, cfg_options)
    if config_track(cfg, config) == 'pose':
        from ..pose.inference import build_pose_model
        return build_pose_model(cfg, None, device='cpu')
    from ..parsing.inference import build_parsing_model
    return build_parsing_model(cfg, None, device='cpu')


def target_shapes_of(model) -> 'OrderedDict':
    """``{key: shape}`` of a model's state dict."""
    return OrderedDict((key, tuple(value.shape)) for key, value in model.state_dict().items())


def write_checkpoint(path, state_dict: Mapping, meta: Optional[dict] = None) -> Path:
    """``{'state_dict', 'meta'}`` saved with ``torch.save`` into memory, then atomically to ``path``."""
    import torch

    from ..core.io import atomic_write
    buffer = io.BytesIO()
    torch.save({'state_dict': OrderedDict(state_dict), 'meta': dict(meta or {})}, buffer)
    with atomic_write(path, 'wb') as handle:
        handle.write(buffer.getvalue())
    return Path(path)


def convert_checkpoint(spec: ReferenceSpec, src, dst, config=None, cfg_options: Optional[dict] = None,
                       variant: Optional[str] = None) -> dict:
    """Convert reference checkpoint ``src`` into toolkit checkpoint ``dst`` for ``config``'s model.

    Args:
        spec: the reference (see :mod:`lip_toolkit.convert`).
        src: the reference's checkpoint file.
        dst: the toolkit checkpoint to write (atomically; never partially).
        config: toolkit config whose model receives the weights; default ``spec.default_config``.
        cfg_options: config overrides.
        variant: the released network to reproduce, for a reference with variants (default: the file's).

    Returns:
        ``{'dst', 'config', 'num_tensors', 'filled', 'variant'}`` (``filled``: how many counters were set to 0;
        ``variant``: None for a one-network reference).

    Raises:
        LipToolkitError: unreadable or unsafe source, same source and destination, or any unmatched key.
    """
    src, dst = Path(src), Path(dst)
    if dst.exists() and src.exists() and dst.resolve() == src.resolve():
        raise LipToolkitError('the converted checkpoint would overwrite its source; choose another DST', dst)
    config = str(config or spec.default_config)
    from ..core.runner import config_track, load_config
    cfg = load_config(config, cfg_options)
    wanted, given = config_track(load_config(spec.default_config)), config_track(cfg, config)
    if given != wanted:  # said in one line, not as hundreds of unmatched keys
        raise LipToolkitError(f'{spec.name} is a {wanted} checkpoint, but --config builds a {given} model; give '
                              f'it a {wanted} config (default: {spec.default_config})', config)
    source = read_reference_state_dict(src)
    variant = resolve_variant(spec, strip_prefixes(source, spec.strip_prefixes), variant, src)
    model = build_target_model(cfg)
    if spec.target_module:
        model = getattr(model, spec.target_module)
    converted, filled = apply_spec(source, spec, target_shapes_of(model), path=src, variant=variant)
    # The same strict load every toolkit command does: the file is known to fit before it exists.
    model.load_state_dict(converted, strict=True)
    meta = dict(converted_from=src.name, reference=spec.name, config=config)
    if variant is not None:
        meta['variant'] = variant
    if spec.target_module:
        meta['module'] = spec.target_module
    write_checkpoint(dst, converted, meta)
    return dict(dst=str(dst), config=config, num_tensors=len(converted), filled=len(filled), variant=variant)
