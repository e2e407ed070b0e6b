"""mixgraph master MIX.wav --target-lufs -14 --ceiling-dbtp -1 -o OUT.wav"""

from __future__ import annotations

HELP = ("master a finished mix file: solve the input gain into a true-peak limiter for a loudness "
        "target (default chain: the limiter only)")


def add_arguments(p) -> None:
    p.add_argument("mix", metavar="MIX")
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="the master file to write")
    from mixgraph.mastering.presets import PRESET_NAMES, describe

    p.add_argument("--preset", choices=PRESET_NAMES, help=describe())
    p.add_argument("--target-lufs", type=float, help="integrated loudness target (overrides the preset)")
    p.add_argument("--ceiling-dbtp", type=float, help="true-peak ceiling (overrides the preset)")
    p.add_argument("--bit-depth", default="24", choices=("16", "24", "32f"))
    p.add_argument("--sample-rate", type=int, help="resample the master (soxr VHQ)")


def run(args) -> int:
    from rich.console import Console

    from mixgraph.api.master import master_file
    from mixgraph.report import build_report, render_terminal

    bit_depth = args.bit_depth if args.bit_depth == "32f" else int(args.bit_depth)
    result = master_file(args.mix, args.output, target_lufs=args.target_lufs, ceiling_dbtp=args.ceiling_dbtp,
                         preset=args.preset, bit_depth=bit_depth, sample_rate=args.sample_rate)
    render_terminal(build_report(result), Console())
    return 0
