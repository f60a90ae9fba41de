#!/usr/bin/env python3
"""check_seeds.py BUILD_DIR [TARGET...]: checks that every seed reaches the path it was
written for (docs/fuzzing.md).

gen.py wrote BUILD_DIR/seeds/<target>/<name> and, in BUILD_DIR/seeds/<target>.expect, the
text of a trace line the harness must print for each seed. This runs BUILD_DIR/fuzz_<target>
on each seed alone (libFuzzer executes the files it is given once) with MINIVMM_FUZZ_TRACE=1
and looks for that text among its "trace: " lines: e.g. that the virtio seed made vf0 transmit
two frames that vf1 received through the switch, or that the ELF seed loaded as a PVH kernel.
Prints one line per seed; exit status 1 when any seed missed or a harness failed.
"""
import glob
import os
import subprocess
import sys

build = sys.argv[1]
only = set(sys.argv[2:])
env = dict(os.environ, MINIVMM_FUZZ_TRACE="1")
failed = 0
checked = 0
for expect in sorted(glob.glob(os.path.join(build, "seeds", "*.expect"))):
    target = os.path.basename(expect)[:-len(".expect")]
    if only and target not in only:
        continue
    exe = os.path.join(build, "fuzz_" + target)
    with open(expect) as f:
        for line in f:
            name, text = line.rstrip("\n").split("\t", 1)
            path = os.path.join(build, "seeds", target, name)
            p = subprocess.run([exe, path], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, errors="replace")
            traces = [l[len("trace: "):] for l in p.stderr.splitlines()
                      if l.startswith("trace: ")]
            ok = p.returncode == 0 and any(text in t for t in traces)
            checked += 1
            if ok:
                print(f"ok   {target}/{name}: {text}")
            else:
                failed += 1
                print(f"FAIL {target}/{name}: wanted a trace with {text!r} "
                      f"(status {p.returncode}); the harness said:")
                for t in traces:
                    print("       " + t)
                if p.returncode:
                    print(p.stderr[-3000:])
if checked == 0:
    print("check_seeds: no seeds found under " + os.path.join(build, "seeds"))
    sys.exit(1)
print(f"check_seeds: {checked - failed} of {checked} seeds reach their path")
sys.exit(1 if failed else 0)
