"""What students receive (the release and its views, install cell and bundle) and the example
submissions graded by `make demo`."""
