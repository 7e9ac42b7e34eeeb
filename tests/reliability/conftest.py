"""The attack table is a plugin (tests/reliability/attack_table.py, registered in tests/conftest.py)
so any test can add its row; its strength switch is re-exported here for the attack tests."""

from tests.reliability.attack_table import FULL  # noqa: F401
