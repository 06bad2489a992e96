"""`python -m shale ARGS...` runs the shale binary (as `shale ARGS...`)."""

import os
import subprocess
import sys

from ._binary import find_shale_bin


def main() -> "int":
    binary = find_shale_bin()
    if os.name == "nt":
        return subprocess.call([binary, *sys.argv[1:]])
    os.execv(binary, [binary, *sys.argv[1:]])
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
