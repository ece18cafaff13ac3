"""The built-in source types, one module each. They are declared in pyproject.toml's
``[project.entry-points."sentinel.sources"]`` and found like any plug-in's
(``crawler.registry``); importing this package registers nothing."""
