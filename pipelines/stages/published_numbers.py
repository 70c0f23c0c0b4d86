"""Published test accuracies to reproduce, keyed by the config value naming a row.

Pure data (imported at config load). `pipelines.stages.published` puts a run's or a
sweep's numbers next to these.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Table:
    """One paper's numbers: row key -> {column: test accuracy in [0, 1]}."""

    title: str
    citation: str
    rows: dict[str, dict[str, float]]
    labels: dict[str, str] = dataclasses.field(default_factory=dict)  # row key -> display name
    note: str = ""


# Greydanus 2020, "Scaling down deep learning" (MNIST-1D), Table 1: test accuracy on the
# 4,000/1,000 split. Row keys are dlzoo model names of the same families.
MNIST1D = Table(
    title="MNIST-1D (Greydanus 2020)",
    citation="S. Greydanus, Scaling down deep learning, arXiv:2011.14439, 2020, Table 1",
    rows={
        "perceptron": {"paper": 0.32},
        "mlp": {"paper": 0.68},
        "conv1d": {"paper": 0.94},
        "gru": {"paper": 0.91},
    },
    labels={
        "perceptron": "logistic regression",
        "mlp": "MLP",
        "conv1d": "CNN",
        "gru": "GRU",
    },
)

# Sukhbaatar, Szlam, Weston, Fergus 2015, "End-To-End Memory Networks", Table 1: bAbI
# 1k training set, test error (%) of 3-hop MemN2N trained per task; columns "PE"
# (position encoding) and "PE LS RN" (+ linear start + random noise). Stored as accuracy.
_PE = [0.1, 21.6, 64.2, 3.8, 14.1, 7.9, 21.6, 12.6, 23.3, 17.4,
       4.3, 0.3, 9.9, 1.8, 0.0, 52.1, 50.1, 13.6, 87.4, 0.0]  # fmt: skip
_PE_LS_RN = [0.0, 8.3, 40.3, 2.8, 13.1, 7.6, 17.3, 10.0, 13.2, 15.1,
             0.9, 0.2, 0.4, 1.7, 0.0, 1.3, 51.0, 11.1, 82.8, 0.0]  # fmt: skip
BABI_TASKS = [
    "single supporting fact", "two supporting facts", "three supporting facts",
    "two argument relations", "three argument relations", "yes/no questions", "counting",
    "lists/sets", "simple negation", "indefinite knowledge", "basic coreference",
    "conjunction", "compound coreference", "time reasoning", "basic deduction",
    "basic induction", "positional reasoning", "size reasoning", "path finding",
    "agent's motivations",
]  # fmt: skip
MEMN2N_BABI_1K = Table(
    title="bAbI 1k, MemN2N (Sukhbaatar et al. 2015)",
    citation="S. Sukhbaatar et al., End-To-End Memory Networks, NIPS 2015, Table 1 (1k)",
    rows={
        str(task): {
            "paper PE": round(1 - pe / 100, 4),
            "paper PE LS RN": round(1 - best / 100, 4),
        }
        for task, (pe, best) in enumerate(zip(_PE, _PE_LS_RN), start=1)
    },
    labels={str(i): f"{i}: {name}" for i, name in enumerate(BABI_TASKS, start=1)},
    note="paper means: PE 79.7%, PE LS RN 86.1% accuracy (errors 20.3%, 13.9%)",
)

TABLES: dict[str, Table] = {
    "mnist1d_greydanus2020": MNIST1D,
    "babi1k_memn2n_sukhbaatar2015": MEMN2N_BABI_1K,
}
