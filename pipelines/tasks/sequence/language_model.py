"""The "language_model" task: predict the next token at every step, then generate.

Evaluated by test cross-entropy (perplexity, bits per token) and by samples from
each prompt at each temperature (`sequence.prompts`, `sequence.temperatures`). The
export takes prompts and returns their continuation (`sequence.export_temperature`,
0 = greedy; a fixed seed makes sampled exports repeatable).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import keras

from common import report
from common.errors import UserError
from pipelines.config.sequence import SequenceConfig
from pipelines.data.spec import DataSpec
from pipelines.data.text import Vocabulary
from pipelines.tasks.base import TASKS, Task
from pipelines.tasks.sequence.generate import generate_text
from pipelines.tasks.sequence.metrics import MaskedTokenAccuracy
from pipelines.tasks.sequence.serving import Generator, export_text


def assemble(core: keras.Model, spec: DataSpec) -> keras.Model:
    return core  # complete as built: token ids in, no normalization


def compile_model(model: keras.Model, optimizer, spec: DataSpec) -> None:
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0),
        metrics=[MaskedTokenAccuracy()],
    )


def evaluate(run) -> dict[str, Any]:
    """Perplexity on the test windows and generated samples per temperature."""
    seq = run.cfg.sequence or SequenceConfig()
    results = run.model.evaluate(run.bundle.test, verbose=0, return_dict=True)
    loss = float(results["loss"])
    vocab = Vocabulary.from_dict(run.bundle.spec.extra["text"])
    samples = []
    for prompt in seq.prompts:
        for temperature in seq.temperatures:
            if not prompt and vocab.level != "char" and "\n" not in vocab.tokens:
                raise UserError("sequence.prompts: word-level models need non-empty prompts")
            text = generate_text(run.model, vocab, [prompt], length=seq.generate_length,
                                 temperature=temperature, seed=run.cfg.seed)[0]
            samples.append({"prompt": prompt, "temperature": temperature, "text": text})
    metrics = {
        "test_loss": loss,
        "perplexity": math.exp(min(loss, 50.0)),
        "bits_per_token": loss / math.log(2),
        "token_accuracy": float(results["token_accuracy"]),
        "samples": samples,
    }
    unit = "character" if vocab.level == "char" else "word"
    blocks = [
        f"**prompt {s['prompt']!r}, temperature {s['temperature']}**\n\n```\n"
        f"{s['prompt']}{s['text']}\n```\n"
        for s in samples
    ]
    report.section(run.run_dir, "evaluate", "\n".join([
        "## Evaluation (test split)",
        f"Test cross-entropy {loss:.4f} nats per {unit}: perplexity "
        f"**{metrics['perplexity']:.3f}**, {metrics['bits_per_token']:.3f} bits per {unit}, "
        f"next-{unit} accuracy {metrics['token_accuracy']:.4f}.\n",
        f"Samples ({seq.generate_length} tokens; temperature 0 is greedy, higher is more "
        "varied):\n",
        *blocks,
    ]))
    return metrics


def export(run) -> list[Path]:
    seq = run.cfg.sequence or SequenceConfig()
    vocab = Vocabulary.from_dict(run.bundle.spec.extra["text"])
    serving = Generator(vocab, run.model, length=seq.generate_length,
                        temperature=seq.export_temperature, seed=run.cfg.seed, name="generator")
    samples = [p for p in seq.prompts if p] or ["", "a"]
    return [export_text(run, serving, samples,
                        metadata={"temperature": seq.export_temperature,
                                  "length": seq.generate_length})]


TASKS.add(
    "language_model",
    Task(
        name="language_model",
        assemble=assemble,
        compile=compile_model,
        evaluate=evaluate,
        serving_outputs=lambda logits: {"logits": logits},
        export=export,
        device_formats=False,
        monitor="val_loss",
        mode="min",
        data_tasks=("language_model",),
    ),
)
