"""Versioned result records, their atomic store, and the tables built from them."""
