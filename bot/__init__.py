"""Rasa-side glue of the PVO-assistent: spaCy pipeline build, launcher, training helpers."""
