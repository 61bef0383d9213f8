"""Loaded by every Python subprocess of the test suite (tests/conftest.py puts this folder on
PYTHONPATH): the same hermetic guard as the test process."""
try:
    import hermetic
except ImportError:  # run outside the test suite: nothing to guard
    pass
else:
    hermetic.install()
