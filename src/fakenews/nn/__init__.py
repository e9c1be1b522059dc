"""Shared torch code: the trainer, batching and the network families' building blocks."""
