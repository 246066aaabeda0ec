"""How well do the background, lighting and image-quality checks (issue 4) work?  One command:

    python benchmarks/quality_eval.py            # all 20 neutral portraits, 2440 photos (~7 min)
    python benchmarks/quality_eval.py --quick    # 4 portraits (~1.5 min)

Builds the generated set of ``benchmarks/quality_synth.py`` from the 20 neutral studio portraits
(clean composites on the three reference backgrounds, and for each property cases on both sides
of its threshold), runs the moe-2021 rules of the 11 checks on every photo, and prints for every
check its confusion counts — positive = the photo violates the rule — counting only cases whose
true value lies outside ±10 % of the threshold, the false failures on the clean composites, and
the time per check (ms per photo, face models already run; a check that runs first pays for the
shared intermediates it needs, e.g. the background model).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import quality_synth as qs  # noqa: E402
import zkphoto  # noqa: E402
from zkphoto.checks import CHECKS  # noqa: E402
from zkphoto.context import PhotoContext  # noqa: E402
from zkphoto.pipeline import run_checks  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="4 portraits instead of 20")
    ap.add_argument("--families", nargs="*", help="only these case families")
    ap.add_argument("--verbose", "-v", action="store_true", help="list every misclassified case")
    args = ap.parse_args()
    names = qs.neutral_portraits()
    if args.quick:
        names = names[::5]
    spec = zkphoto.load_spec("moe-2021")
    t0 = time.time()
    cases = qs.cases(names, args.families)
    conf = {c: defaultdict(int) for c in qs.CHECKS}
    wrong = []
    clean_ff = defaultdict(int)
    clean_n = 0
    times = defaultdict(list)
    all_times = []
    for i, case in enumerate(cases):
        data = case.jpeg()
        ctx = PhotoContext.from_source(data, name=case.id)
        ctx.face_detections, ctx.landmarks, ctx.person_mask  # the face models, not timed
        try:
            ctx.face
        except Exception:  # noqa: BLE001 - NotAssessable: the checks report it
            pass
        t = time.perf_counter()
        rep = run_checks(ctx, spec, only=list(case.truth))
        all_times.append((time.perf_counter() - t) * 1000 / len(case.truth) * len(qs.CHECKS)
                         if case.family == "clean" else None)
        if case.family == "clean":
            clean_n += 1
        for cid, crit in case.truth.items():
            want = qs.expected(crit)
            res = rep.check(cid)
            got = {"pass": "pass", "fail": "fail", "warn": "fail"}.get(res.status.value, "error")
            if case.family == "clean" and got != "pass":
                clean_ff[cid] += 1
            if want is None:
                conf[cid]["excluded"] += 1
                continue
            if got == "error":
                conf[cid]["error"] += 1
                wrong.append((case.id, cid, want, got, res.message.en))
                continue
            key = {("fail", "fail"): "TP", ("pass", "fail"): "FP", ("pass", "pass"): "TN",
                   ("fail", "pass"): "FN"}[(want, got)]
            conf[cid][key] += 1
            if key in ("FP", "FN"):
                wrong.append((case.id, cid, want, got, _short(res.measured)))
        if (i + 1) % 50 == 0:
            print(f"  {i + 1}/{len(cases)} photos, {time.time() - t0:.0f} s", file=sys.stderr)
    # per-check time: each check alone on a fresh context (face models already run)
    for case in [c for c in cases if c.family == "clean"][:12]:
        data = case.jpeg()
        for cid in qs.CHECKS:
            ctx = PhotoContext.from_source(data)
            ctx.face, ctx.face_detections, ctx.person_mask, ctx.rgb
            rule = spec.rule(cid)
            t = time.perf_counter()
            CHECKS[cid].fn(ctx, rule)
            times[cid].append((time.perf_counter() - t) * 1000)
        ctx = PhotoContext.from_source(data)
        ctx.face, ctx.face_detections, ctx.person_mask, ctx.rgb
        t = time.perf_counter()
        for cid in qs.CHECKS:
            CHECKS[cid].fn(ctx, spec.rule(cid))
        times["(all 11 together)"].append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        run_checks(PhotoContext.from_source(data), spec)
        times["(moe-2021, every rule)"].append((time.perf_counter() - t) * 1000)

    print(f"\nGenerated set: {len(cases)} photos from {len(names)} neutral portraits "
          f"({clean_n} clean composites), {time.time() - t0:.0f} s\n")
    hdr = f"{'check':24} {'TP':>4} {'FP':>4} {'TN':>4} {'FN':>4} {'err':>4} {'excl':>5} {'correct':>8} {'clean FF':>9} {'ms':>6}"
    print(hdr)
    print("-" * len(hdr))
    tot_ok = tot_n = 0
    for cid in qs.CHECKS:
        c = conf[cid]
        n = c["TP"] + c["FP"] + c["TN"] + c["FN"] + c["error"]
        ok = c["TP"] + c["TN"]
        tot_ok += ok
        tot_n += n
        ms = statistics.median(times[cid]) if times[cid] else float("nan")
        print(f"{cid:24} {c['TP']:4d} {c['FP']:4d} {c['TN']:4d} {c['FN']:4d} {c['error']:4d} {c['excluded']:5d} "
              f"{(ok / n if n else float('nan')):8.1%} {clean_ff[cid]:4d}/{clean_n:<4d} {ms:6.1f}")
    print("-" * len(hdr))
    print(f"{'all':24} {'':4} {'':4} {'':4} {'':4} {'':4} {'':5} {tot_ok / max(tot_n, 1):8.1%}"
          f" {sum(clean_ff.values()):4d}/{clean_n * len(qs.CHECKS):<4d} "
          f"{statistics.median(times['(all 11 together)']):6.1f}  (all 11 checks on one photo)")
    print(f"{'moe-2021, every rule':24} {'':4} {'':4} {'':4} {'':4} {'':4} {'':5} {'':8} {'':9} "
          f"{statistics.median(times['(moe-2021, every rule)']):6.1f}  (whole check of one photo, face models included)")
    print("\nms = median wall time of the check alone on a fresh context (face models already run), "
          "so shared intermediates are charged to every check that needs them; the 'all' figure is "
          "the 11 checks run together on one context.")
    if wrong:
        print(f"\n{len(wrong)} misclassified case(s):")
        for w in wrong if args.verbose else wrong[:30]:
            print("  ", *w)
    return 0


def _short(m: dict) -> str:
    keep = {k: v for k, v in m.items() if not isinstance(v, (list, dict))}
    return ", ".join(f"{k}={v}" for k, v in list(keep.items())[:5])


if __name__ == "__main__":
    raise SystemExit(main())
