"""Encoders: model specs and aliases, packaged models, adapters behind the Encoder protocol, tokenizer checks."""
