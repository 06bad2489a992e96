"""Where the shale binary is: ``SHALE_BIN`` when set, else the one installed with this package (the
wheel puts it in the environment's scripts directory, as ruff's does), else ``shale`` on PATH."""

from __future__ import annotations

import os
import shutil
import sys
import sysconfig
from typing import List

_EXE = "shale" + (sysconfig.get_config_var("EXE") or "")


def _candidates() -> List[str]:
    dirs = [sysconfig.get_path("scripts")]
    # A `pip install --user`: the user scheme's scripts directory.
    user_scheme = {"nt": "nt_user", "posix": "posix_user"}.get(os.name)
    if sys.platform == "darwin" and sys._framework:  # type: ignore[attr-defined]
        user_scheme = "osx_framework_user"
    if user_scheme and user_scheme in sysconfig.get_scheme_names():
        dirs.append(sysconfig.get_path("scripts", scheme=user_scheme))
    # A `pip install --target DIR`: DIR/bin beside the package.
    dirs.append(os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(__file__))), "bin"))
    return [os.path.join(d, _EXE) for d in dirs if d]


def find_shale_bin() -> str:
    """The path of the shale binary this package runs."""
    override = os.environ.get("SHALE_BIN")
    if override:
        return override
    for path in _candidates():
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    found = shutil.which(_EXE)
    if found:
        return found
    raise FileNotFoundError(
        "the shale binary was not found: install the package with pip (the wheel carries it), "
        "put `shale` on PATH, or set SHALE_BIN to its path"
    )
