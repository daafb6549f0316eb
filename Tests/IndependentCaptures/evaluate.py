#!/usr/bin/env python3
"""Judge `ledsentry analyze` on independent captures (make_captures.py).

Generates N seeded scenes into a temporary directory, runs the release-built
`ledsentry analyze --json` on each, and scores precision/recall of (x, y, kind, channel)
against the ground truth, per scene and overall. A scene passes at precision and recall
>= 0.99 (JPEG >= 0.98); a healthy display passes only with zero defects reported.

Usage: evaluate.py [--count N] [--seed S] [--keep DIR] [--set key=value ...] [--bin PATH]
The closing line is `independent: N passed, M failed`.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_captures  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def ledsentry_binary():
    out = subprocess.run(["swift", "build", "-c", "release", "-Xswiftc", "-enable-testing",
                          "--show-bin-path"], cwd=REPO, capture_output=True, text=True, check=True)
    path = os.path.join(out.stdout.strip(), "ledsentry")
    if not os.path.exists(path):
        sys.exit("no ledsentry binary at %s: run `nice swift build -c release -Xswiftc "
                 "-enable-testing --product ledsentry` first" % path)
    return path


def key_set(defects):
    return {(d["x"], d["y"], d["kind"], d["channel"]) for d in defects}


def score(truth, found):
    t, f = key_set(truth), key_set(found)
    tp = len(t & f)
    precision = tp / len(f) if f else 1.0
    recall = tp / len(t) if t else 1.0
    return tp, len(f) - tp, len(t) - tp, precision, recall


def describe(s):
    return ("grid=%dx%d camera=%dx%d pattern=%s format=%s bits=%d maxval=%d rgb=%d display=%s "
            "emitter=%s pitch=%.1fpx fill=%.2f yaw=%.1f pitch_deg=%.1f roll=%.1f k1=%.3f "
            "psf=%.2f defocus=%.2f bayer=%d seam=%.2f module=%dx%d" % (
                *s["grid"], *s["camera"], s["pattern"], s["format"], s["bits"], s["maxval"],
                s["rgb_capture"], s["display"], s["emitter"], s["pitch_px"], s["fill"],
                s["yaw"], s["pitch"], s["roll"], s["k1"], s["psf_sigma"], s["defocus_radius"],
                s["bayer"], s["seam_gap"], *s["module"]))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=40)
    ap.add_argument("--seed", type=int, default=1000)
    ap.add_argument("--keep", help="keep captures and results in this directory")
    ap.add_argument("--reuse", action="store_true",
                    help="with --keep: analyse scenes already rendered there instead of rendering again")
    ap.add_argument("--bin", help="ledsentry binary (default: the release build's)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--results", help="append one JSON line per scene to this file")
    a = ap.parse_args()
    binary = a.bin or ledsentry_binary()
    overrides = dict(kv.split("=", 1) for kv in a.set)
    workdir = a.keep or tempfile.mkdtemp(prefix="ledsentry-independent-")
    os.makedirs(workdir, exist_ok=True)
    passed = failed = 0
    totals = [0, 0, 0]
    healthy_fp = []
    times = []
    for seed in range(a.seed, a.seed + a.count):
        t0 = time.time()
        cached = os.path.join(workdir, "scene%05d.truth.json" % seed)
        if a.keep and a.reuse and os.path.exists(cached):   # rendered before: reuse
            with open(cached) as f:
                truth = json.load(f)
        else:
            truth = make_captures.make_scene(seed, workdir, overrides)
        gen_time = time.time() - t0
        s = truth["scene"]
        cmd = [binary, "analyze", "--grid", "%dx%d" % tuple(s["grid"]), "--pattern",
               truth["pattern"], "--json"]
        if "reference" in truth:
            cmd += ["--reference", truth["reference"]]
        cmd.append(truth["capture"])
        t0 = time.time()
        run = subprocess.run(cmd, capture_output=True, text=True)
        elapsed = time.time() - t0
        times.append(elapsed)
        line = {"seed": seed, "scene": describe(s), "truth": len(truth["defects"]),
                "exit": run.returncode, "seconds": round(elapsed, 3)}
        found = None
        try:
            found = json.loads(run.stdout.strip().splitlines()[-1])
        except (IndexError, ValueError):
            pass
        if run.returncode not in (0, 1) or found is None or "defects" not in found:
            failed += 1
            line["error"] = (run.stderr.strip() or run.stdout.strip())[-400:]
            print("FAIL seed %d ERROR exit %d: %s\n     %s" % (seed, run.returncode,
                  line["error"].replace("\n", " | "), line["scene"]), flush=True)
        else:
            tp, fp, fn, precision, recall = score(truth["defects"], found["defects"])
            totals[0] += tp
            totals[1] += fp
            totals[2] += fn
            need = 0.98 if s["format"] == "jpg" else 0.99
            ok = precision >= need and recall >= need
            if s["healthy"]:
                healthy_fp.append(fp)
            # what the misses and false positives are, by kind
            t, f = key_set(truth["defects"]), key_set(found["defects"])
            line.update(tp=tp, fp=fp, fn=fn, precision=round(precision, 4), recall=round(recall, 4),
                        missed=sorted(t - f)[:20], extra=sorted(f - t)[:20],
                        warnings=found.get("warnings", []))
            passed += ok
            failed += not ok
            print("%s seed %d P %.4f R %.4f (tp %d fp %d fn %d) %.2fs analyze, %.0fs render\n     %s%s" % (
                "ok  " if ok else "FAIL", seed, precision, recall, tp, fp, fn, elapsed, gen_time,
                line["scene"], "" if ok else "\n     missed %s\n     extra  %s" % (
                    line["missed"][:8], line["extra"][:8])), flush=True)
        if a.results:
            with open(a.results, "a") as f:
                f.write(json.dumps(line) + "\n")
        if not a.keep:
            for path in (truth["capture"], truth.get("reference")):
                if path and os.path.exists(path):
                    os.remove(path)
    if not a.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    tp, fp, fn = totals
    print("overall: precision %.4f recall %.4f (tp %d fp %d fn %d); healthy displays %d, "
          "false positives on them %d; analyze median %.2fs max %.2fs" % (
              tp / (tp + fp) if tp + fp else 1.0, tp / (tp + fn) if tp + fn else 1.0, tp, fp, fn,
              len(healthy_fp), sum(healthy_fp), sorted(times)[len(times) // 2] if times else 0,
              max(times) if times else 0))
    print("independent: %d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
