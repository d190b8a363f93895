"""Shared search: exact and approximate kNN, bitext-mining accuracy and margins. Used by tasks and trainers."""
