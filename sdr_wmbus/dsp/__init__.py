"""Signal-processing blocks: small stateful streaming stages on complex64 sample chunks."""
