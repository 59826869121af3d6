"""BioNER-DS: one BERT-family token classifier for Chemical, Disease, Virus and Gene."""

__version__ = "0.1.0"
