"""Pulumi entry point (Pulumi.yaml: main: infra/). The engine runs this file with runpy, so the
project must be installed in the engine's virtualenv for `import infra` to work (see README)."""
import pulumi

from infra.program import main
from infra.spec import SpecError

try:
    main()
except SpecError as exc:
    # A malformed spec is the user's to fix: RunError is shown as a message, without a traceback.
    raise pulumi.RunError(str(exc)) from None
