"""Sequence and text tasks: text classification, seq2seq, language models, skip-gram,
memory networks; their evaluation, decoding, export and published reference numbers.

Each task module registers itself when imported; `pipelines/tasks/catalog.py` lists them.
"""
