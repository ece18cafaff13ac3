"""The bottom layer: basics every other package shares and that import nothing of ours.

- ``errors``: domain errors, turned into one clear line at the entry points;
- ``yamlpos``: YAML loaded with the position of every node, for ``FILE:LINE:COL`` errors;
- ``durations``: the one ``Duration`` type for every ``30s/5m/2h`` setting;
- ``times``: times as the office reads them (the configured zone, Beijing time by default);
- ``vocabulary``: the office's words (statuses, categories, severities…) defined once.
"""
