"""Tables of the reviewer side (accounts, claims, human decisions); filled in by the queue work."""
