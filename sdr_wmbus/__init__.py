"""sdr_wmbus: a software-defined Wireless M-Bus receiver and telegram decoder."""

__version__ = "0.1.0"
