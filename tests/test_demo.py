"""The demo, the toolkit's main job, end to end (quick plan): every artefact it promises is there and valid."""
import json

from lip_toolkit.submission import check_submission
from lip_toolkit.demo import DemoPlan, run_demo


def test_quick_demo_end_to_end(tmp_path):
    out = tmp_path / 'demo'
    summary = run_demo(out, plan=DemoPlan.quick())
    data = out / 'data'
    test_ids = data / 'Testing_images' / 'test_id.txt'
    for name in ('pose_submission.csv', 'parsing_submission.zip'):
        report = check_submission(out / 'submissions' / name, test_ids,
                                  images_dir=data / 'Testing_images' / 'testing_images')
        assert report.num_errors == 0, report.errors[:3]
    saved = json.loads((out / 'summary.json').read_text())
    assert saved['pose']['rows'] == [list(row) for row in summary['pose']['rows']]
    names = [name for name, _ in summary['pose']['rows']]
    assert names[-2:] == ['ensemble (averaged heatmaps)', 'ensemble + PoseFix']
    assert len(summary['parsing']['rows']) == 3
    for track in ('pose', 'parsing'):
        assert all(0.0 <= score <= 100.0 for _, score in summary[track]['rows'])
    text = (out / 'report.md').read_text()
    rows = dict(summary['pose']['rows'])
    change = rows['ensemble + PoseFix'] - rows['ensemble (averaged heatmaps)']
    assert abs(summary['pose']['posefix_change'] - change) < 0.01
    assert f"PoseFix refinement {'raises' if change >= 0 else 'lowers'} the ensemble's score by {abs(change):.2f}" \
        in text
    assert '| ensemble (averaged heatmaps) |' in text and '| ensemble (averaged logits) |' in text
    pictures = sorted((out / 'pictures').rglob('*.png'))
    assert len(pictures) == 4 and all(p.stat().st_size > 0 for p in pictures)
    for picture in pictures:
        assert str(picture.relative_to(out)) in text


def test_demo_folder_that_cannot_exist_is_a_one_line_error(tmp_path, capsys):
    from lip_toolkit.cli import main
    blocker = tmp_path / 'file'
    blocker.write_text('')
    assert main(['demo', '--quick', '--out', str(blocker / 'sub')]) == 1
    err = capsys.readouterr().err
    assert err.startswith('error: ') and 'cannot create the demo folder' in err and err.count('\n') == 1
