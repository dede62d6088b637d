from nashpo.cli import entry

entry()
