"""The package's version, read from its installed metadata (set in protocol/python/pyproject.toml).

pyproject.toml holds meow's one version number for Python; Sources/MEow/MEowVersion.swift says the
same for the Swift executables, and Tests/system/test_versions.py checks that they agree.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("meow_client")
except PackageNotFoundError:
    raise ImportError("meow_client is imported from a source tree without being installed; install it with "
                      "`pip install -e protocol/python` (make deps does this)") from None
