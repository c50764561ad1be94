"""Getting data in: the batch loader (bank extracts into the lake) and, later, the event collector."""
