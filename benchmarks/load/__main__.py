"""`python -m benchmarks.load`: the load test's runner (benchmarks/load/run.py)."""

from benchmarks.load.run import main

raise SystemExit(main())
