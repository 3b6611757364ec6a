"""convlens: train convolutional image classifiers and see what they learned.

The public API is re-exported here; everything under a ``_private`` name is infrastructure.
"""

from convlens.errors import ConvlensError

__version__ = "0.1.0"

__all__ = ["ConvlensError", "__version__"]
