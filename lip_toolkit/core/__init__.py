"""What both tracks share, one home each: errors, atomic I/O, checkpoint loading, launching."""
