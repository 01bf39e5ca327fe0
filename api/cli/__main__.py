import sys

from api.cli.parser import main

sys.exit(main())
