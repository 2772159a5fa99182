"""Ensemble specs: files (.py here; JSON/YAML in tests/cli/test_ensemble.py), command-line members, validation."""
import pytest

from lip_toolkit.core.errors import LipToolkitError
from lip_toolkit.ensemble_config import EnsembleMember, EnsembleSpec, load_ensemble

POSE = 'configs/demo/pose_hrnet-tiny_lip-128x96.py'
POSEFIX = 'configs/demo/pose_posefix-tiny_lip-128x96.py'
PARSING = 'configs/demo/parsing_ce2p-aspoc_r18-tiny_30e_synthetic-96x96.py'


@pytest.fixture()
def checkpoints(tmp_path):
    for name in ('a.pth', 'b.pth', 'fix.pth'):
        (tmp_path / name).write_bytes(b'only its existence is checked here')
    return tmp_path


def _write(path, text):
    path.write_text(text)
    return path


def test_py_file_with_members_refiner_and_relative_checkpoints(checkpoints):
    path = _write(checkpoints / 'ens.py', f"""
flip = False
members = [dict(config='{POSE}', checkpoint='a.pth', weight=3), dict(config='{POSE}', checkpoint='b.pth',
           weight=1, name='second', flip=True)]
refiner = dict(config='{POSEFIX}', checkpoint='fix.pth')
""")
    spec = load_ensemble(path)
    assert spec.track == 'pose' and spec.source == str(path)
    assert [m.checkpoint for m in spec.members] == [str(checkpoints / 'a.pth'), str(checkpoints / 'b.pth')]
    assert spec.normalised_weights() == [0.75, 0.25]
    assert [m.name for m in spec.members] == ['pose_hrnet-tiny_lip-128x96', 'second']
    assert [spec.member_flip(m) for m in spec.members] == [False, True]
    assert spec.refiner.checkpoint == str(checkpoints / 'fix.pth')


def test_command_line_members_add_to_the_file_and_override_settings(checkpoints):
    path = _write(checkpoints / 'ens.py', f"average = 'logits'\nmembers = [dict(config='{PARSING}', "
                                          "checkpoint='a.pth')]\n")
    spec = load_ensemble(path, members=[(PARSING, str(checkpoints / 'b.pth'), '0.5')], average='softmax',
                         scales='0.75,1,1.25')
    assert spec.track == 'parsing' and spec.average == 'softmax' and spec.scales == (0.75, 1.0, 1.25)
    assert [m.weight for m in spec.members] == [1.0, 0.5]
    assert [m.name for m in spec.members] == [PARSING.split('/')[-1][:-3], PARSING.split('/')[-1][:-3] + ' #2']
    assert spec.member_flip(spec.members[0]) is False  # parsing: off unless asked, as in `evaluate`


def test_track_defaults_and_normalised_single_weight():
    pose = EnsembleSpec('pose', [EnsembleMember('x.py', 'x.pth', 2.5)])
    assert pose.member_flip(pose.members[0]) is True and pose.normalised_weights() == [1.0]


@pytest.mark.parametrize('text, message', [
    ("members = []", 'needs at least one member'),
    ("members = [dict(config='{P}', checkpoint='a.pth')]\ntypo_flip = True", 'unknown setting(s) typo_flip'),
    ("members = [dict(config='{P}', checkpoint='a.pth', wieght=2)]", 'member 1: unknown key(s) wieght'),
    ("members = [dict(config='{P}')]", 'member 1: checkpoint is missing'),
    ("members = [dict(config='{P}', checkpoint='a.pth', weight=0)]", 'weights sum to 0'),
    ("members = [dict(config='{P}', checkpoint='a.pth', weight=-2)]", 'weight must be a finite number >= 0'),
    ("members = [dict(config='{P}', checkpoint='a.pth', scales=[0])]", 'scales must be positive numbers'),
    ("members = [dict(config='{P}', checkpoint='missing.pth')]", "checkpoint of member"),
    ("members = [dict(config='nowhere.py', checkpoint='a.pth')]", 'config file not found'),
    ("members = [dict(config='{P}', checkpoint='a.pth')]\nrefiner = dict(config='{F}', checkpoint='fix.pth')",
     'a refiner applies to pose ensembles only'),
    ("track = 'pose'\nmembers = [dict(config='{P}', checkpoint='a.pth')]", "track is 'pose' but the members are "
                                                                           'parsing'),
    ("average = 'median'\nmembers = [dict(config='{P}', checkpoint='a.pth')]", "average must be 'logits' or"),
    ("members = [dict(config='{P}', checkpoint='a.pth'), dict(config='{O}', checkpoint='b.pth')]",
     'members mix pose and parsing'),
    ("members = [dict(config='{O}', checkpoint='a.pth')]\nscales = (1.0, 2.0)", 'scales apply to parsing'),
    ("members = [dict(config='{O}', checkpoint='a.pth')]\nrefiner = dict(config='{P}', checkpoint='b.pth')",
     'the refiner must be a pose (PoseFix) config'),
    ("members = [dict(config='{O}', checkpoint='a.pth')", 'cannot read ensemble file'),
])
def test_bad_ensemble_files_are_one_line_errors_naming_the_file(checkpoints, text, message):
    path = _write(checkpoints / 'bad.py', text.format(P=PARSING, F=POSEFIX, O=POSE))
    with pytest.raises(LipToolkitError) as error:
        load_ensemble(path)
    assert message in error.value.one_line()


def test_refiner_on_a_non_posefix_config_is_refused_when_run():
    # PoseFix-ness is a model property: ensemble_pose checks it once the model is built (see test_ensemble)
    spec = load_ensemble(members=[(POSE, 'a.pth')], refiner=(POSE, 'b.pth'), check_files=False, track='pose')
    assert spec.refiner.config == POSE


@pytest.mark.parametrize('name', ['pose_hrnet-w32-mspn_lip-trainval-coco-aic-512x384.py',
                                  'pose_hrnet-w32-mspn-posefix_lip-trainval-coco-aic-512x384.py',
                                  'parsing_ce2p-hrnet_logits_lip-trainval-mhp-576x576.py',
                                  'parsing_ce2p-hrnet_softmax_lip-trainval-mhp-576x576.py'])
def test_the_seeds_ensembles_name_existing_configs_of_their_track(name):
    from lip_toolkit.core.paths import CONFIGS_DIR, resolve_config
    from lip_toolkit.core.runner import config_track, load_config
    spec = load_ensemble(CONFIGS_DIR / 'ensembles' / name, check_files=False)
    for member in spec.members:
        assert config_track(load_config(member.config)) == spec.track, member.config
        assert resolve_config(member.config).is_file()
        assert member.checkpoint.startswith('work_dirs/') and member.checkpoint.endswith('.pth')
    assert (spec.refiner is not None) == ('posefix' in name)
    assert spec.average == ('softmax' if 'softmax' in name else 'logits') and spec.flip is True
    text = (CONFIGS_DIR / 'ensembles' / name).read_text()
    assert ('92.0' in text and '92.6' in text) if spec.track == 'pose' else ('62.17' in text)
