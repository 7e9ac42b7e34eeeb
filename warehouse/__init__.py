"""Build and publish the warehouse: run dbt into the next DuckDB file, then swap it in.

The pieces the daily DAG wires together live in `warehouse.pipeline`; each is a
plain function, so the pipeline also runs (and is tested) without Airflow.
"""
