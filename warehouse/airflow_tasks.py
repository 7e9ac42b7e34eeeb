"""What every DAG's tasks share, written once (the DAG files stay wiring)."""

from __future__ import annotations


def run_gate(step, *args):
    """Run a gate step. A blocked gate is a verdict on the data, not a glitch: it fails the
    task without retries (AirflowFailException), whichever DAG runs it."""
    from airflow.sdk.exceptions import AirflowFailException

    from expectations import GateFailed

    try:
        return step(*args)
    except GateFailed as exc:
        raise AirflowFailException(str(exc)) from exc
