"""chatcart: self-hosted conversational commerce."""

__version__ = "0.1.0"
