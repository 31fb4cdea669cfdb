"""What a host's own test suite uses: fake clock, in-memory desk and the shipped contract suites."""
