import sys

from nashpo.cli import main

sys.exit(main())
