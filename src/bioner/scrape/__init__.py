"""The `corpus` stage: an unlabelled silver corpus from NCBI Entrez, PubMed XML files or plain text.

One module per concern: `entrez` (the E-utilities HTTP client: rate limit, retries), `batches` (ESearch then
EFetch in batches through a resumable on-disk cache), `pubmed_xml` (streaming PubMed XML parser), `text` (plain
text documents), `sentences` (sentence splitting + the corpus's `punct` tokenisation), `dedup` (by PMID, token
sequence and gold test overlap) and `stage` (sources -> data/corpus/<name>.jsonl + metrics/corpus.json).
"""
