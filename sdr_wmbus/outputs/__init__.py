"""Outputs: JSON lines (and later MQTT / Home Assistant)."""
