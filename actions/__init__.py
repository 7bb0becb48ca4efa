"""Custom actions of the PVO-assistent, served by the rasa-sdk action server.

One module per capability. Actions are thin: they read slots and the parsed message, call the
domain layer (kvo/) where needed and phrase the answer in Dutch.
"""
