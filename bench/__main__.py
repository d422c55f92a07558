"""`python -m bench`: every benchmark in one run; writes bench/results.json and prints the Markdown table."""

from bench.run import main

main()
