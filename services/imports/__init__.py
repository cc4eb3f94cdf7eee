"""Importing records from files other tools write (RIS, nbib, PubMed XML, CSV, JSONL)."""
