"""The attack table is a plugin (tests/reliability/attack_table.py, registered in tests/conftest.py)
so any test can add its row; its strength switch is re-exported here for the attack tests, and
the restatement attacks' shared home is a fixture of this directory."""

from tests.reliability.attack_table import FULL  # noqa: F401
from tests.reliability.restate_home import restate_base  # noqa: F401  (a fixture)
