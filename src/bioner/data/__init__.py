"""The data stages: fetch (sources, the bundled sample), the corpus reader, silver subsets, tokenizers and entity-level
scores."""
