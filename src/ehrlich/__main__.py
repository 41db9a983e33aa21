from ehrlich.cli.main import run

run()
