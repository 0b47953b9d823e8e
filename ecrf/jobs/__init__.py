"""Background jobs: long extracts run off the request, on RQ workers or a thread pool."""
