"""The Tagger and what it owns: loading a checkpoint, inference, prediction files, evaluation, the model card and
publishing."""
