#!/usr/bin/env python3
"""tests/docs/run_sample.py BINARY EXPECTED — runs a tutorial sample and checks its output.

EXPECTED holds one Python regular expression a line (blank lines and lines starting with '#'
are skipped). Each must match a whole line of the sample's output (stdout and stderr merged),
in the file's order; other output lines may come between them. The sample must exit with status
0 and finish within 60 seconds. A mismatch prints the output, so a CI log shows what changed.
"""
import re
import subprocess
import sys


def main(binary, expected_path):
    patterns = [l.rstrip("\n") for l in open(expected_path, encoding="utf-8")]
    patterns = [p for p in patterns if p and not p.startswith("#")]
    try:
        run = subprocess.run([binary], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    except subprocess.TimeoutExpired:
        print(f"FAIL: {binary} did not finish within 60 s")
        return 1
    output = run.stdout.decode("utf-8", "replace").splitlines()
    print("\n".join(output))
    if run.returncode != 0:
        print(f"FAIL: exit status {run.returncode}")
        return 1
    at = 0
    for pattern in patterns:
        regex = re.compile(pattern)
        while at < len(output) and not regex.fullmatch(output[at]):
            at += 1
        if at == len(output):
            print(f"FAIL: no output line (in order) matches: {pattern}")
            return 1
        at += 1
    print(f"ok: {len(patterns)} expected line(s) found")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
