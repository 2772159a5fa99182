"""Every full-size pose and parsing config exports with its parity shown, except the deformable-convolution ones,
which are refused in one line (slow: the real networks with random weights, traced and run on CPU)."""
from pathlib import Path

import pytest

from lip_toolkit.core.errors import LipToolkitError
from lip_toolkit.core.paths import REPO_ROOT

from .conftest import initial_weights

MODEL_CONFIGS = sorted(str(p.relative_to(REPO_ROOT)) for folder in ('configs/pose', 'configs/parsing')
                       for p in (REPO_ROOT / folder).rglob('*.py')) + [
    str(p.relative_to(REPO_ROOT)) for p in sorted((REPO_ROOT / 'configs' / 'references').glob('*.py'))
    if not p.name.startswith('ensemble')]


@pytest.mark.slow
@pytest.mark.parametrize('config', MODEL_CONFIGS)
def test_full_size_config_exports_with_parity_or_is_refused(config, tmp_path, capsys):
    pytest.importorskip('onnxruntime')
    from lip_toolkit.deploy import export_model
    checkpoint = initial_weights(config, tmp_path / 'weights.pth')
    out = tmp_path / 'model.onnx'
    if '_dcn-' in Path(config).name:
        with pytest.raises(LipToolkitError, match='deformable convolution'):
            export_model(config, checkpoint, out)
        assert not out.exists()
        return
    report = export_model(config, checkpoint, out)
    with capsys.disabled():  # the figures, for the record (docs/deploy.md)
        parity = report['parity']
        print(f"\n{config}: dynamic H/W {report['dynamic_hw']}, {parity['checked']}: max |diff| "
              f"{parity['max_abs_diff']:.2g} of {parity['scale']:.3g}, argmax {100 * parity['argmax_agreement']:.3f} %"
              f", {report['seconds']} s")
    assert out.is_file() and parity['argmax_agreement'] >= 0.999
