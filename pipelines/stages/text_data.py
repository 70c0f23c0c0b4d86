"""A "data" report section for text runs: vocabulary, lengths, what was cut or skipped.

Truncations are counted while the pipeline is built (a warning each, kept in
`DataSpec.extra["notes"]`); skipped lines are in `DataSpec.skipped`. This stage puts
both in the run report, so a number in the results can be traced to what the model saw.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from common import report
from pipelines.stages.registry import STAGES, Stage

if TYPE_CHECKING:
    from pipelines.run import Run

SHOWN = ("vocab_size", "target_vocab_size", "sequence_length", "target_sequence_length",
         "memory_size", "sentence_length", "num_negatives")


def text_data_section(run: Run) -> dict[str, Any]:
    spec = run.bundle.spec
    if "text" not in spec.extra:
        return {}
    text = spec.extra["text"]
    rows = [{"setting": k, "value": spec.extra[k]} for k in SHOWN if k in spec.extra]
    rows.insert(0, {"setting": "tokens", "value": f"{text['level']}s, standardize "
                                                   f"{text['standardize']}"})
    notes = spec.extra.get("notes", [])
    lines = ["## Data (text)",
             f"Source `{spec.source}`, task `{spec.task}`; splits "
             + ", ".join(f"{k} {v}" for k, v in spec.sizes.items())
             + ". The vocabulary was fitted on the training split only.\n",
             report.table(rows, ["setting", "value"])]
    if notes:
        lines += ["Length limits applied:\n", *[f"- {n}" for n in notes], ""]
    if spec.skipped:
        lines += [f"{len(spec.skipped)} input line(s) skipped, e.g.:\n",
                  *[f"- {s}" for s in spec.skipped[:5]], ""]
    report.section(run.run_dir, "data", "\n".join(lines))
    return {"truncation_notes": len(notes), "skipped_lines": len(spec.skipped)}


STAGES.add(
    "text_data",
    Stage(name="text_data", applies=lambda cfg: True, run=text_data_section, order=5),
)
