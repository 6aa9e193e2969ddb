"""Protocol tables (data only): device types, manufacturers, CI fields, C fields."""
