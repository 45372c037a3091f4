"""`python -m pipelines.cli`: the `kinerja` command, without its console script."""

from pipelines.cli import main

main()
