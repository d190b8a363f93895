"""Trainers that make a multilingual student from a teacher (MSE distillation, translation ranking)."""
