"""sentinel: public-opinion watch and incident response for a college's response office."""

__version__ = "0.1.0"
