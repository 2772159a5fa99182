"""The demo, the toolkit's main job, end to end (quick plan): every artefact it promises is there and valid; its
no-model reference rows against values worked by hand."""
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from lip_toolkit.demo import DemoPlan, background_only_scores, mean_pose_scores, run_demo
from lip_toolkit.submission import check_submission


def test_quick_demo_end_to_end(tmp_path):
    out = tmp_path / 'demo'
    photos = tmp_path / 'photos'
    plan = DemoPlan.quick()
    plan.workers = 2  # the default on two or more cores: members trained in parallel worker processes
    plan.photos = str(photos)
    photos.mkdir()
    cv2.imwrite(str(photos / 'my photo.jpg'), np.full((120, 80, 3), 128, np.uint8))
    summary = run_demo(out, plan=plan)
    data = out / 'data'
    test_ids = data / 'Testing_images' / 'test_id.txt'
    for name in ('pose_submission.csv', 'parsing_submission.zip'):
        report = check_submission(out / 'submissions' / name, test_ids,
                                  images_dir=data / 'Testing_images' / 'testing_images')
        assert report.num_errors == 0, report.errors[:3]
    saved = json.loads((out / 'summary.json').read_text())
    assert saved['pose']['rows'] == summary['pose']['rows']
    for track, members in (('pose', plan.pose_members()), ('parsing', plan.parsing_members())):
        rows = summary[track]['rows']
        assert [r['kind'] for r in rows][:1 + len(members)] == ['reference'] + ['member'] * len(members)
        assert [r['name'] for r in rows if r['kind'] == 'member'] == [m.name for m in members]
        assert all(0.0 <= r['score'] <= 100.0 for r in rows)
        checks = summary[track]['checks']
        best = max(r['score'] for r in rows if r['kind'] == 'member')
        assert checks['ensembles_not_worse_than_best_member'] == {
            r['name']: r['score'] >= best for r in rows if r['kind'] == 'ensemble'}
    assert [r['name'] for r in summary['pose']['rows'][-2:]] == ['ensemble (averaged heatmaps)', 'ensemble + PoseFix']
    assert summary['parsing']['rows'][-1]['name'] == 'ensemble (averaged logits)'
    # the reference rows are the no-model answers on this very val split
    assert summary['pose']['rows'][0]['score'] == round(mean_pose_scores(data)['PCKh'], 2)
    assert summary['parsing']['rows'][0]['score'] == round(background_only_scores(data)['mIoU'], 2)
    # every member trained, and its log shows the epochs and the val pass the curves draw
    assert set(summary['training_cpu_seconds']) == {m.name for m in plan.members()}
    for member in plan.members():
        assert member.checkpoint(out / 'work_dirs').is_file()
    (scalars,) = (out / 'work_dirs' / 'hrnet-tiny-seed1').glob('*/vis_data/scalars.json')
    assert any('LIP/PCKh' in line for line in scalars.read_text().splitlines())

    text = (out / 'report.md').read_text()
    for track in ('pose', 'parsing'):
        for row in summary[track]['rows']:
            assert f'| {row["kind"]} | {row["name"]} | {row["score"]:.2f} |' in text
    pictures = sorted((out / 'pictures').rglob('*.png'))
    referenced = [p for p in pictures if f']({p.relative_to(out)})' in text]
    names = {p.relative_to(out).as_posix() for p in referenced}
    assert 'pictures/learning_curves.png' in names
    assert len([n for n in names if n.startswith('pictures/pose/')]) == plan.pictures
    assert len([n for n in names if n.startswith('pictures/parsing/')]) == plan.pictures
    assert 'pictures/photos/my photo.png' in names
    assert all(cv2.imread(str(p)) is not None for p in referenced)


def test_demo_folder_that_cannot_exist_is_a_one_line_error(tmp_path, capsys):
    from lip_toolkit.cli import main
    blocker = tmp_path / 'file'
    blocker.write_text('')
    assert main(['demo', '--quick', '--out', str(blocker / 'sub')]) == 1
    err = capsys.readouterr().err
    assert err.startswith('error: ') and 'cannot create the demo folder' in err and err.count('\n') == 1


def test_demo_into_a_non_empty_folder_needs_overwrite(tmp_path, capsys, monkeypatch):
    """The toolkit's one rule for existing outputs (docs/conventions.md): refused in one line naming --overwrite
    before anything is made; with --overwrite the old contents go once the new run succeeds, and stay if it fails."""
    import lip_toolkit.demo as demo
    from lip_toolkit.cli import main
    runs = []

    def fake_run(out_dir, plan, device):  # stands for the minutes of training; writes what a run writes
        runs.append(out_dir)
        (out_dir / 'report.md').parent.mkdir(parents=True, exist_ok=True)
        (out_dir / 'report.md').write_text(f'run {len(runs)}')
        if len(runs) == 2:
            raise RuntimeError('interrupted')
        return {'pose': {'rows': [], 'metric': 'PCKh', 'checks': {'members_beat_reference': True,
                                                                    'ensembles_not_worse_than_best_member': {}}},
                'parsing': {'rows': [], 'metric': 'mIoU', 'checks': {'members_beat_reference': True,
                                                                      'ensembles_not_worse_than_best_member': {}}},
                'report': str(out_dir / 'report.md'), 'seconds': 0.0}

    monkeypatch.setattr(demo, '_run_demo', lambda out_dir, plan, device: fake_run(Path(out_dir), plan, device))
    out = tmp_path / 'demo_out'
    out.mkdir()
    (out / 'old.txt').write_text('earlier run')
    assert main(['demo', '--quick', '--out', str(out)]) == 1
    err = capsys.readouterr().err
    assert err == f'error: {out}: output folder is not empty (add --overwrite to replace it)\n'
    assert runs == [] and sorted(p.name for p in out.iterdir()) == ['old.txt']
    assert main(['demo', '--quick', '--out', str(out), '--overwrite']) == 0
    assert sorted(p.name for p in out.iterdir()) == ['report.md']
    with pytest.raises(RuntimeError):  # a failed run leaves the previous output as it was
        demo.run_demo(out, plan=DemoPlan.quick(), overwrite=True)
    assert (out / 'report.md').read_text() == 'run 1' and [p.name for p in tmp_path.iterdir()] == ['demo_out']
    capsys.readouterr()
    assert main(['demo', '--quick', '--out', str(tmp_path / 'empty')]) == 0  # new or empty: no flag needed


def test_make_demo_runs_twice():
    """`make demo` replaces its own earlier output (README): the Makefile passes --overwrite."""
    import subprocess
    root = Path(__file__).resolve().parents[1]
    recipe = subprocess.run(['make', '-n', '-C', str(root), 'demo'], capture_output=True, text=True, check=True).stdout
    (line,) = [line for line in recipe.splitlines() if 'lip-toolkit demo' in line]
    assert ' --overwrite' in line and '--out demo_out' in line


# ------------------------------------------------------------------------------- no-model reference rows

def _joints_row(name, points):
    fields = [name]
    for point in points:
        fields += ['nan'] * 3 if point is None else [str(point[0]), str(point[1]), '0']
    return ','.join(fields) + '\n'


def _tiny_lip(root, train, val):
    """A LIP tree with the given ``{split: [(name, (W, H), 16 points or None)]}`` pose rows."""
    for split, rows in (('train', train), ('val', val)):
        images = root / 'TrainVal_images' / f'{split}_images'
        images.mkdir(parents=True)
        (root / 'TrainVal_pose_annotations').mkdir(exist_ok=True)
        with open(root / 'TrainVal_pose_annotations' / f'lip_{split}_set.csv', 'w') as handle:
            for name, (width, height), points in rows:
                cv2.imwrite(str(images / name), np.zeros((height, width, 3), np.uint8))
                handle.write(_joints_row(name, points))
    return root


def test_mean_pose_reference_by_hand(tmp_path):
    # train: every joint at 10 % of a 100x200 image, and at 70 % of a 50x100 one (its joint 5 unlabelled)
    first = [(11, 21)] * 16
    second = [(36, 71)] * 16
    second[5] = None
    # -> mean pose: (0.4, 0.4) of the image, joint 5 (0.1, 0.1); answer on a 200x100 val image: (81, 41), (21, 11)
    truth = [(200, 100)] * 16
    truth[9], truth[8] = (81, 21), (81, 41)    # head size 20: a joint counts within 10 px
    truth[0] = (81, 50)                        # 9 px from the answer: correct
    truth[1] = (81, 52)                        # 11 px: wrong
    truth[2] = None                            # unlabelled: not scored
    truth[5] = (21, 15)                        # 4 px from joint 5's own mean: correct
    root = _tiny_lip(tmp_path / 'lip', train=[('a.jpg', (100, 200), first), ('b.jpg', (50, 100), second)],
                     val=[('v.jpg', (200, 100), truth)])
    scores = mean_pose_scores(root)
    # scored: joints 0-5 and 8-15 less the unlabelled joint 2 = 13; correct: 0, 5 and the neck (8)
    assert scores['PCKh'] == pytest.approx(100 * 3 / 13)
    assert scores['per_joint'][1] == 0.0 and scores['per_joint'][9] == 0.0


def test_background_only_reference_by_hand(tmp_path):
    from lip_toolkit.parsing.label_io import write_label_png
    root = tmp_path / 'lip'
    (root / 'TrainVal_images').mkdir(parents=True)
    (root / 'TrainVal_images' / 'val_id.txt').write_text('a\nb\n')
    labels = root / 'TrainVal_parsing_annotations' / 'val_segmentations'
    write_label_png(labels / 'a.png', np.array([[0, 0], [0, 5]], np.uint8))
    write_label_png(labels / 'b.png', np.array([[0, 255], [13, 13]], np.uint8))
    # 7 scored pixels, 4 of them background: background IoU 4/7, the 19 other classes 0
    assert background_only_scores(root)['mIoU'] == pytest.approx(100 * (4 / 7) / 20)


def test_demo_ensemble_files_name_the_demo_checkpoints():
    """The tour's ensemble files average exactly the members `make demo` trains, at their last epoch."""
    from pathlib import Path

    from lip_toolkit.core.paths import CONFIGS_DIR, resolve_config
    from lip_toolkit.ensemble_config import load_ensemble
    plan = DemoPlan()
    work_dirs = Path('demo_out') / 'work_dirs'
    for track, members, refiner in (('pose', plan.pose_members(), plan.posefix()),
                                    ('parsing', plan.parsing_members(), None)):
        spec = load_ensemble(CONFIGS_DIR / 'ensembles' / f'{track}_demo.py', check_files=False)
        assert spec.track == track
        assert [(resolve_config(m.config).resolve(), m.checkpoint, m.name) for m in spec.members] == [
            ((CONFIGS_DIR / m.config).resolve(), str(m.checkpoint(work_dirs)), m.name) for m in members]
        if refiner is not None:
            assert (resolve_config(spec.refiner.config).resolve(), spec.refiner.checkpoint) == (
                (CONFIGS_DIR / refiner.config).resolve(), str(refiner.checkpoint(work_dirs)))


def test_demo_members_train_on_their_configs_schedule():
    """Each demo config's own max_epochs is the demo's (`train CONFIG` alone trains the demo's member); PoseFix runs
    no val passes (its curve is the loss alone), the others validate for their curves."""
    from lip_toolkit.core.paths import CONFIGS_DIR
    from lip_toolkit.core.runner import load_config
    plan = DemoPlan()
    for member in plan.members():
        assert load_config(CONFIGS_DIR / member.config).train_cfg.max_epochs == member.epochs, member.config
    options = plan.posefix().cfg_options(plan.validations)
    assert options['val_cfg'] is None and 'train_cfg.val_interval' not in options
    for member in plan.pose_members() + plan.parsing_members():
        options = member.cfg_options(plan.validations)
        assert options['train_cfg.val_interval'] == member.epochs // plan.validations and 'val_cfg' not in options
