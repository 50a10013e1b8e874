"""``python -m skinvault_client``: the SkinVault command line (see cli.py)."""

import sys

from skinvault_client.cli import main

if __name__ == "__main__":
    sys.exit(main())
