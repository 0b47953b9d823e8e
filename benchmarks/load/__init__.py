"""The load test: real users' flows (workload), locust's users over them (locustfile), and
the runner that builds the servers, runs locust and checks the data (run)."""
