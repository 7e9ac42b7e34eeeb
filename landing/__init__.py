"""The landing contract: what extractors write and every reader reads.

Importable with pyarrow and the standard library alone, so the gates, the
warehouse and dbt's helpers read landing without loading any extractor:
``landing.schemas`` (each dataset's columns), ``landing.layout`` (where a
partition and its manifest live) and ``landing.window`` (the half-open window).
"""
