"""The master stage: the chain pass over the spilled premaster (``chain``), the loudness solver
(``solver``), the per-deliverable stage (``stage``), master-only jobs (``job``) and the loudness
presets (``presets``, the one place they are defined)."""
