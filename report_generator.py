"""PDF reports of the six dashboards: the door named in the design card.

The code lives in the package `prism.reporting` (one module per job: `pages/<page>.py` for each
dashboard over the skeleton in `pages/base.py`, `content`, `charts`, `pdf`, `pdf_image`, `store`; its
docstring is the map); this module re-exports what the service, the tests and the benchmarks use.
"""

from prism.reporting import *  # noqa: F403
from prism.reporting import __all__ as __all__
