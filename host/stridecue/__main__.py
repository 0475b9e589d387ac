import sys

from stridecue.cli import main

sys.exit(main())
