"""Explicit list of the modules that register tasks and post-training stages.

`pipelines.tasks.task_for` and `pipelines.run.run_all` import this module, so a
task or stage exists as soon as its module is listed here (no import side effects
hidden elsewhere). Add one line per module.
"""

import pipelines.tasks  # noqa: F401  (classify)
