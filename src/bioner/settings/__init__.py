"""params.yaml's schema and vocabulary: the Settings sections, entity types and label views, the strategy table, and
their error messages."""
