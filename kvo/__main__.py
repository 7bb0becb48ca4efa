"""``python -m kvo``: the operator CLI."""

from kvo.cli import app

if __name__ == "__main__":
    app(prog_name="python -m kvo")
