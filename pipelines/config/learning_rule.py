"""The `learning_rule:` section: the report of a linear unit trained by a classical rule
(pipelines/stages/learning_rule.py): the Novikoff bound, least squares, the
McCulloch-Pitts gates. Runs of `task: learning_rule` models get it with its defaults.

```yaml
learning_rule: {svm_c: 1.0e+5, grid: 300, gates: true}
```
"""

from __future__ import annotations

from pydantic import Field

from common.config import Strict


class LearningRuleConfig(Strict):
    svm_c: float = Field(
        1e5, gt=0,
        description="C of the hinge-loss linear SVM that finds the max-margin separator "
        "(large: a hard margin) for the margin gamma of the Novikoff bound",
    )
    grid: int = Field(300, ge=20, le=2000, description="points per side of the boundary plot")
    gates: bool = Field(True, description="show the McCulloch-Pitts AND / OR / NOT units")
