"""mixgraph plan SESSION [--variant NAME] [--json]"""

from __future__ import annotations

HELP = "show the compiled render plan: order, routing, latency per path"


def add_arguments(p) -> None:
    p.add_argument("session", metavar="SESSION")
    p.add_argument("--variant", metavar="NAME")
    p.add_argument("--json", action="store_true", help="print the portable plan JSON")


def describe(plan) -> str:
    sr = plan.sample_rate
    lines = [f"plan for {plan.session_name}" + (f" (variant {plan.variant})" if plan.variant else "")
             + f" at {sr} Hz, hash {plan.plan_hash()[:12]}"]
    for level, ids in enumerate(plan.levels):
        par = " (parallel)" if len(ids) > 1 else ""
        lines.append(f"level {level}{par}:")
        for nid in ids:
            if nid == "master":
                m = plan.master
                lines.append(f"  master  premaster latency {m.premaster_latency_samples} smp")
                for i in m.inputs:
                    lines.append(f"    <- {i.source} ({i.kind}{', delay ' + str(i.delay_samples) + ' smp' if i.delay_samples else ''})")
                for st in m.chain:
                    lines.append(f"    [{st.type}{' ' + st.id if st.id else ''}] latency {st.latency_samples} smp")
                if m.loudness:
                    lines.append(f"    loudness target {m.loudness.target_lufs:g} LUFS, ceiling {m.loudness.ceiling_dbtp:g} dBTP")
                lines.append(f"    total latency {m.latency_samples} smp ({1000 * m.latency_samples / sr:.2f} ms), trimmed at the output")
                continue
            n = plan.node(nid)
            src = ""
            if n.source:
                pick = f" channels {list(n.source.channels)}" if n.source.channels else ""
                src = f" source {n.source.rel_path}{pick}{' summed' if n.source.sum else ''} ({n.channels_in} ch)"
            lines.append(f"  {nid}{src}  latency {n.latency_samples} smp{'  MUTED' if n.mute else ''}")
            for i in n.inputs:
                lvl = f" {i.level_db:+g} dB {i.point}-fader" if i.kind == "send" else ""
                lines.append(f"    <- {i.source} ({i.kind}{lvl}{', delay ' + str(i.delay_samples) + ' smp' if i.delay_samples else ''})")
            if n.input_delay_samples:
                lines.append(f"    input delay {n.input_delay_samples} smp (sidechain alignment)")
            for st in n.chain:
                sc = st.sidechain
                key = f" key {sc.source} delay {sc.delay_samples}" if sc else ""
                lines.append(f"    [{st.type}{' ' + st.id if st.id else ''}] {st.channels_in}->{st.channels_out} ch, latency {st.latency_samples} smp{key}")
            vcas = f" + vca ({', '.join(n.vcas)})" if n.vcas else ""
            lines.append(f"    fader {n.gain_db:+g} dB{vcas}, pan {n.pan:+g}")
    for v in plan.vcas:
        moving = " (automated)" if v.automation else ""
        lines.append(f"vca {v.name}: {v.gain_db:+g} dB{moving}")
    lines.append("outputs:")
    for o in plan.outputs:
        lines.append(f"  {o.name}: {o.rel_path} <- {o.tap} ({o.format}, {o.sample_rate} Hz, {o.bit_depth} bit, dither {o.dither})")
    for w in plan.warnings:
        lines.append(w)
    return "\n".join(lines)


def run(args) -> int:
    import sys

    from mixgraph.api.compile import compile_session

    plan = compile_session(args.session, args.variant)
    from mixgraph.errors import printable

    # names come from the session: escaped (the JSON form escapes control characters itself)
    sys.stdout.write(plan.to_json() if args.json else printable(describe(plan)) + "\n")
    return 0
