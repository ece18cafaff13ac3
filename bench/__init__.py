"""Benchmarks: ``make bench`` or ``python -m bench [NAME...]``. Each ``bench_*.py`` module
has a ``main()`` that prints its figures and the ratios against a baseline measured in
the same run (these machines are shared and noisy: compare within a run, not across)."""
