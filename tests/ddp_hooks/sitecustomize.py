"""Test instrumentation for tests/test_distributed.py, on sys.path (PYTHONPATH) only in that test's subprocesses.

In each torchrun worker (LOCAL_RANK set) with BIONER_TEST_SHARDS=1, every WeightedTokenTrainer gets a callback
that, before each epoch, writes the training-example indices of this rank's data shard to
`<phase work dir>/shards_rank<R>.json` ({epoch: [indices]}), so the test can check that ranks see disjoint
shards. It reads the rank's batch sampler, which has no side effects (the epoch-seeded length-grouped sampler
and accelerate's seedable sampler draw from their own generators).
"""

import os

if os.environ.get("BIONER_TEST_SHARDS") == "1" and "LOCAL_RANK" in os.environ:
    from pathlib import Path

    from transformers import TrainerCallback

    from bioner.io.atomic import write_json
    from bioner.training.trainer import WeightedTokenTrainer

    class ShardRecorder(TrainerCallback):
        def __init__(self) -> None:
            self.epochs: dict[str, list[int]] = {}

        def on_epoch_begin(self, args, state, control, train_dataloader=None, **kwargs):  # noqa: D102
            if train_dataloader is None:
                return
            epoch = int(state.epoch or 0)
            train_dataloader.set_epoch(epoch)  # the Trainer sets the same epoch right after this callback
            self.epochs[str(epoch)] = [int(i) for batch in train_dataloader.batch_sampler for i in batch]
            write_json(Path(args.output_dir) / f"shards_rank{args.process_index}.json", self.epochs)

    _init = WeightedTokenTrainer.__init__

    def _with_recorder(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003
        _init(self, *args, **kwargs)
        self.add_callback(ShardRecorder())

    WeightedTokenTrainer.__init__ = _with_recorder
