"""The toolkit's main job on its built-in default, end to end on a CPU in a few minutes.

Synthesise a LIP release, train tiny members of both tracks, score each member and their ensemble on the val
split (pose: averaged heatmaps then PoseFix refinement; parsing: averaged logits), predict the test split, write
both challenge submissions (checked) and a short report with a members-vs-ensemble table and pictures.
"""
import dataclasses
import json
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from .core.errors import LipToolkitError
from .core.io import atomic_write
from .core.paths import CONFIGS_DIR
from .core.progress import info


@dataclasses.dataclass
class DemoMember:
    """A tiny model the demo trains: its config, a short name and config overrides."""

    name: str
    config: str
    cfg_options: Dict = dataclasses.field(default_factory=dict)


def _epochs(max_epochs: int) -> Dict:
    # No validation while training: the ensemble pass scores every member on val afterwards.
    return {'train_cfg.max_epochs': max_epochs, 'default_hooks.checkpoint.interval': max_epochs,
            'val_cfg': None, 'val_dataloader': None, 'val_evaluator': None}


@dataclasses.dataclass
class DemoPlan:
    """What the demo does; the defaults are the embedded demo, ``quick()`` a smaller one for tests."""

    train: int = 200
    val: int = 40
    test: int = 20
    seed: int = 0
    pose_epochs: int = 10
    posefix_epochs: int = 20
    parsing_epochs: int = 8
    pictures: int = 4

    @classmethod
    def quick(cls) -> 'DemoPlan':
        return cls(train=48, val=12, test=6, pose_epochs=2, posefix_epochs=1, parsing_epochs=2, pictures=2)

    def pose_members(self) -> List[DemoMember]:
        # Two tiny HRNets trained from different seeds. (The seed's HRNet + MSPN pair is in configs/ensembles;
        # tiny MSPN costs 4x tiny HRNet per iteration on a CPU and is far weaker at this budget.)
        return [DemoMember(f'hrnet-tiny-seed{seed}', 'demo/pose_hrnet-tiny_lip-128x96.py',
                           dict(_epochs(self.pose_epochs), **{'randomness.seed': seed})) for seed in (1, 2)]

    def posefix(self) -> DemoMember:
        # A fixed seed like the other members: without one mmengine draws a new seed per run and the refined
        # score changed from run to run (measured).
        return DemoMember('posefix-tiny', 'demo/pose_posefix-tiny_lip-128x96.py',
                          dict(_epochs(self.posefix_epochs), **{'randomness.seed': self.seed}))

    def parsing_members(self) -> List[DemoMember]:
        return [DemoMember(f'ce2p-ocnet-tiny-seed{seed}', 'demo/parsing_ce2p-aspoc_r18-tiny_30e_synthetic-96x96.py',
                           dict(_epochs(self.parsing_epochs), **{'randomness.seed': seed})) for seed in (1, 2)]


def _last_checkpoint(work_dir: Path) -> str:
    marker = work_dir / 'last_checkpoint'
    if not marker.is_file():
        raise LipToolkitError('training wrote no checkpoint', work_dir)
    return marker.read_text().strip()


class _Steps:
    """Numbered progress lines with elapsed time (silenced by --quiet)."""

    def __init__(self, total: int):
        self.total, self.done, self.start = total, 0, time.perf_counter()

    def __call__(self, message: str) -> None:
        self.done += 1
        info(f'[{self.done}/{self.total} {time.perf_counter() - self.start:6.1f}s] {message}')


def run_demo(out_dir, plan: Optional[DemoPlan] = None, device: Optional[str] = 'cpu') -> Dict:
    """Run the demo into ``out_dir`` and return its summary (also written as ``summary.json``).

    Layout of ``out_dir``: ``data/`` (synthetic LIP), ``work_dirs/<member>/`` (logs, checkpoints),
    ``predictions/`` (val and test predictions of the ensembles), ``submissions/`` (``pose_submission.csv``,
    ``parsing_submission.zip``), ``pictures/``, ``report.md``, ``summary.json``.
    """
    import torch
    plan = plan or DemoPlan()
    threads = torch.get_num_threads()
    # Tiny models: one intra-op thread is faster than two on 2 cores (measured 13 s vs 38 s per CE2P-tiny epoch
    # with one other busy process), because idle OpenMP threads spin against everything else on the machine.
    torch.set_num_threads(1)
    try:
        return _run_demo(out_dir, plan, device)
    finally:
        torch.set_num_threads(threads)


def _run_demo(out_dir, plan: DemoPlan, device: Optional[str]) -> Dict:
    from .core.runner import train
    from .ensemble_config import EnsembleMember, EnsembleSpec
    from .parsing.ensemble import ensemble_parsing
    from .parsing.submission import make_parsing_submission
    from .pose.ensemble import ensemble_pose
    from .pose.submission import make_pose_submission
    from .synthetic import synthesize_lip

    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LipToolkitError(f'cannot create the demo folder: {exc.strerror}', out) from None
    data = out / 'data'
    members = plan.pose_members() + [plan.posefix()] + plan.parsing_members()
    step = _Steps(total=1 + len(members) + 4 + 2)
    started = time.perf_counter()

    synthesize_lip(data, train=plan.train, val=plan.val, test=plan.test, seed=plan.seed, overwrite=True)
    step(f'synthetic LIP: {plan.train} train / {plan.val} val / {plan.test} test images in {data}')

    checkpoints: Dict[str, str] = {}
    for member in members:
        work_dir = out / 'work_dirs' / member.name
        train(CONFIGS_DIR / member.config, work_dir=work_dir, data_root=data, cfg_options=member.cfg_options,
              overwrite=True)  # a rerun of the demo into the same --out trains afresh
        checkpoints[member.name] = _last_checkpoint(work_dir)
        step(f'trained {member.name} ({member.config})')

    def spec(track, chosen: Sequence[DemoMember], refiner: Optional[DemoMember] = None) -> EnsembleSpec:
        def as_member(m):
            return EnsembleMember(config=str(CONFIGS_DIR / m.config), checkpoint=checkpoints[m.name], name=m.name)
        return EnsembleSpec(track=track, members=[as_member(m) for m in chosen], average='logits', flip=True,
                            scales=(1.0,), refiner=as_member(refiner) if refiner else None)

    predictions = out / 'predictions'
    pose_spec = spec('pose', plan.pose_members(), plan.posefix())
    parsing_spec = spec('parsing', plan.parsing_members())
    results = {}
    results['pose_val'] = ensemble_pose(pose_spec, split='val', data_root=data, out=predictions / 'pose_val.csv',
                                        device=device)
    step('pose: members, heatmap ensemble and PoseFix refinement scored on val')
    results['parsing_val'] = ensemble_parsing(parsing_spec, split='val', data_root=data,
                                              out=predictions / 'parsing_val', device=device)
    step('parsing: members and logit ensemble scored on val')
    ensemble_pose(pose_spec, split='test', data_root=data, out=predictions / 'pose_test.csv', device=device)
    ensemble_parsing(parsing_spec, split='test', data_root=data, out=predictions / 'parsing_test', device=device)
    step('test split predicted by both ensembles')

    test_ids = data / 'Testing_images' / 'test_id.txt'
    test_images = data / 'Testing_images' / 'testing_images'
    submissions = out / 'submissions'
    make_pose_submission(predictions / 'pose_test.csv', test_ids, submissions / 'pose_submission.csv',
                         images_dir=test_images)
    make_parsing_submission(predictions / 'parsing_test', test_ids, submissions / 'parsing_submission.zip',
                            images_dir=test_images)
    step(f'challenge files written and checked in {submissions}')

    pictures = _pictures(out, data, predictions, plan.pictures)
    step(f'{len(pictures)} pictures in {out / "pictures"}')
    summary = _summary(results, time.perf_counter() - started, plan)
    report = _report(summary, pictures, out)
    with atomic_write(out / 'report.md') as handle:
        handle.write(report)
    with atomic_write(out / 'summary.json') as handle:
        json.dump(summary, handle, indent=2)
    step(f'report: {out / "report.md"}')
    summary['report'] = str(out / 'report.md')
    return summary


def _pictures(out: Path, data: Path, predictions: Path, limit: int) -> List[Path]:
    from .visualization import visualize_parsing_predictions, visualize_pose_predictions
    val_images = data / 'TrainVal_images' / 'val_images'
    pose = visualize_pose_predictions(predictions / 'pose_val.csv', val_images, out / 'pictures' / 'pose',
                                      gt_csv=data / 'TrainVal_pose_annotations' / 'lip_val_set.csv', limit=limit)
    parsing = visualize_parsing_predictions(predictions / 'parsing_val', val_images, out / 'pictures' / 'parsing',
                                            gt_dir=data / 'TrainVal_parsing_annotations' / 'val_segmentations',
                                            limit=limit)
    return list(pose) + list(parsing)


def _summary(results: Dict, seconds: float, plan: DemoPlan) -> Dict:
    pose, parsing = results['pose_val'], results['parsing_val']
    pose_members = [(m['name'], m['PCKh']) for m in pose['members']]
    pose_rows = pose_members + [('ensemble (averaged heatmaps)', pose['ensemble']['PCKh'])]
    if pose.get('refined'):
        pose_rows.append(('ensemble + PoseFix', pose['refined']['PCKh']))
    parsing_members = [(m['name'], m['mIoU']) for m in parsing['members']]
    parsing_rows = parsing_members + [(f'ensemble (averaged {parsing.get("average", "logits")})',
                                       parsing['ensemble']['mIoU'])]
    return {
        'seconds': round(seconds, 1),
        'plan': dataclasses.asdict(plan),
        'pose': {'metric': 'PCKh@0.5 Mean', 'rows': pose_rows,
                 'ensemble_beats_best_member': _not_worse(pose['ensemble']['PCKh'], pose_members),
                 'posefix_change': (round(pose['refined']['PCKh'] - pose['ensemble']['PCKh'], 2)
                                    if pose.get('refined') else None)},
        'parsing': {'metric': 'mIoU', 'rows': parsing_rows,
                    'ensemble_beats_best_member': _not_worse(parsing['ensemble']['mIoU'], parsing_members)},
    }


def _not_worse(ensemble: float, members: Sequence[Tuple[str, float]]) -> bool:
    return ensemble >= max(score for _, score in members) - 1e-9


def _report(summary: Dict, pictures: Sequence[Path], out: Path) -> str:
    lines = ['# lip-toolkit demo report', '',
             f'Synthetic LIP ({summary["plan"]["train"]} train / {summary["plan"]["val"]} val / '
             f'{summary["plan"]["test"]} test images, seed {summary["plan"]["seed"]}); tiny models trained on a CPU; '
             f'{summary["seconds"]:.0f} s in all. Scores on the val split. Rerun: `lip-toolkit demo --out DIR`.', '']
    for track in ('pose', 'parsing'):
        part = summary[track]
        lines += [f'## {track.capitalize()} ({part["metric"]})', '', '| model | score |', '|---|---:|']
        lines += [f'| {name} | {score:.2f} |' for name, score in part['rows']]
        verdict = ('The ensemble scores at least as well as its best member.' if part['ensemble_beats_best_member']
                   else '**The ensemble did not score as well as its best member on this run.**')
        lines += ['', verdict]
        change = part.get('posefix_change')
        if change is not None:
            lines += ['', f'PoseFix refinement {"raises" if change >= 0 else "lowers"} the ensemble\'s score by '
                          f'{abs(change):.2f} on this run'
                          + ('.' if change >= 0 else ': the tiny refiner, trained briefly on synthetic coarse poses, '
                                                     'is weaker here than the poses it refines.')]
        lines += ['']
    lines += ['## Challenge files', '', '- `submissions/pose_submission.csv` (checked)',
              '- `submissions/parsing_submission.zip` (checked)', '', '## Pictures', '']
    lines += [f'![{p.stem}]({p.relative_to(out)})' for p in pictures]
    return '\n'.join(lines) + '\n'
