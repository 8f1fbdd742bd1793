"""cnitool: run CNI network configurations against Linux network namespaces."""

__version__ = "0.1.0"
