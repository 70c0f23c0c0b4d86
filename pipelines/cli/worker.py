"""One launched worker of `dlzoo train --workers N`:
`python -m pipelines.cli.worker RUN_DIR`, with TF_CONFIG naming its task.

The local launcher (pipelines/train/distribute/multiworker.py) starts N of these.
"""

from __future__ import annotations

import sys
from pathlib import Path

from common.errors import UserError
from pipelines.config.load import load_recipe
from pipelines.run import train_in_process
from pipelines.train.distribute.multiworker import train_as_worker


def main(argv: list[str] | None = None) -> None:
    run_dir = Path((argv or sys.argv[1:])[0])
    try:
        train_as_worker(load_recipe(run_dir / "config.yaml"), run_dir, train_fn=train_in_process)
    except UserError as err:
        print(f"dlzoo: error: {err}", file=sys.stderr, flush=True)
        sys.exit(err.exit_code)


if __name__ == "__main__":
    main()
