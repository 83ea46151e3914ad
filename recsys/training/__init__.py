"""Training kept apart from the library: contrastive losses, the heads trainer and the model registry."""
