"""The ``yuqing`` command: :mod:`yuqing.cli.main` lists the commands; each has a module here with
``configure(parser)`` (its options) and the functions it runs."""
