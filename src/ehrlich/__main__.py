from ehrlich.cli.program import run

run()
