"""Transport layer (TPL headers, configuration field) and the AES security modes 5 and 7, plus keys."""
