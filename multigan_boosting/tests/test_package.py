"""The package installs, imports and registers its command group."""

from ganlab.core.cli import build_parser


def test_imports_and_registers_command():
    import ganlab.multigan_boosting as pkg

    assert pkg.__version__
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert "multigan-boosting" in sub.choices
