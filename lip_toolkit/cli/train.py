"""``lip-toolkit train``: train a pose or parsing config on mmengine's Runner."""
import click

from ._common import cfg_options_option, launch_options, relaunch_if_requested


@click.command(context_settings=dict(ignore_unknown_options=False))
@click.argument('config')
@click.option('--work-dir', type=click.Path(file_okay=False), default=None,
              help='Logs and checkpoints go here (default: work_dirs/<config name>).')
@click.option('--data-root', type=click.Path(file_okay=False), default=None,
              help="LIP release folder for the config's LIP datasets (default: the config's data_root).")
@click.option('--resume', is_flag=True,
              help='Continue the training in the work dir from its last checkpoint, with the options it was started '
                   'with (data root, --cfg-options...).')
@click.option('--resume-from', type=click.Path(dir_okay=False), default=None,
              help='Resume from this checkpoint file.')
@click.option('--overwrite', is_flag=True,
              help='Start again in a work dir that holds an earlier training (its files are deleted).')
@click.option('--amp', is_flag=True, help='Mixed-precision training (GPU only; the full-size configs have it on).')
@click.option('--no-gpu-speed', is_flag=True,
              help='Turn off the GPU speed settings of the full-size configs: mixed precision, cuDNN benchmark, '
                   'pinned memory (docs/gpu.md).')
@click.option('--tensorboard', is_flag=True, help='Also log to TensorBoard (needs: pip install tensorboard).')
@click.option('--auto-scale-lr', is_flag=True,
              help="Scale the learning rate with the total batch size (the config's auto_scale_lr).")
@launch_options
@cfg_options_option
@click.pass_context
def cli(ctx, config, work_dir, data_root, resume, resume_from, overwrite, amp, no_gpu_speed, tensorboard,
        auto_scale_lr, cfg_options, **launch):
    """Train CONFIG (a pose config with default_scope mmpose, or a parsing config with mmseg).

    A work dir that holds a training is trained into only with --resume (continue) or --overwrite (start again).
    The work dir remembers the options it was started with, so --resume needs none of them again. Ctrl-C prints
    the last checkpoint and the command that resumes from it. The screen shows the losses and metrics; the run's
    log file (WORK_DIR/<timestamp>/<timestamp>.log) has everything (lip-toolkit --verbose train ... shows it too).

    \b
    Examples:
      lip-toolkit data synth data/synth && \
      lip-toolkit train configs/demo/pose_hrnet-tiny_lip-128x96.py --data-root data/synth --work-dir work_dirs/tiny
      lip-toolkit train CONFIG --work-dir work_dirs/tiny --resume   # after Ctrl-C or a crash: continue
      lip-toolkit train CONFIG --work-dir work_dirs/tiny --overwrite   # start again from scratch
      lip-toolkit train CONFIG --gpus 8                       # 8 processes under torchrun on this node
      lip-toolkit train CONFIG --no-gpu-speed                 # float32, no cuDNN autotuning (docs/gpu.md)
      lip-toolkit train CONFIG --gpus 8 --nnodes 2 --node-rank 0 --master-addr 10.0.0.1 --master-port 29500
      srun -n 16 lip-toolkit train CONFIG --launcher slurm
      lip-toolkit train CONFIG --cfg-options train_dataloader.batch_size=16 optim_wrapper.optimizer.lr=0.01
    """
    relaunch_if_requested(launch)
    from ..core.runner import TrainingInterrupted, train
    resume_arg = resume_from or resume
    try:
        work = train(config, work_dir=work_dir, resume=resume_arg, overwrite=overwrite, amp=amp,
                     cfg_options=cfg_options, launcher=launch['launcher'], auto_scale_lr=auto_scale_lr,
                     data_root=data_root, tensorboard=tensorboard, quiet=bool((ctx.obj or {}).get('quiet')),
                     gpu_speed=not no_gpu_speed)
    except TrainingInterrupted as stop:
        if stop.main_process:
            click.echo(_interrupted_message(config, stop, launch), err=True)
        raise click.exceptions.Exit(130) from None
    click.echo(f'training finished: logs and checkpoints in {work}')


def _interrupted_message(config, stop, launch) -> str:
    import shlex
    command = ['lip-toolkit', 'train', config, '--work-dir', str(stop.work_dir)]
    launched = ' (with the same launch options)' if launch.get('launcher', 'none') != 'none' else ''
    if stop.checkpoint is None:
        again = ' with --overwrite' if stop.work_dir.exists() else ''
        return f'interrupted before the first checkpoint: nothing to resume; to start again, rerun the command{again}'
    return f'interrupted; last checkpoint: {stop.checkpoint}; resume with: {shlex.join(command + ["--resume"])}' \
           f'{launched}'
