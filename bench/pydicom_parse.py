#!/usr/bin/python3
"""Times pydicom over a folder of DICOM files, for the side-by-side figures in bench/RESULTS.md.

usage: /usr/bin/python3 bench/pydicom_parse.py DIR [--repeat N]
Prints JSON: seconds per pass (best of N) for header-only and full reads.
"""
import glob
import json
import os
import sys
import time

import pydicom


def best(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main():
    folder = sys.argv[1]
    repeat = int(sys.argv[sys.argv.index("--repeat") + 1]) if "--repeat" in sys.argv else 3
    files = sorted(glob.glob(os.path.join(folder, "**", "*.dcm"), recursive=True))
    total = sum(os.path.getsize(f) for f in files)

    def header_only():
        for f in files:
            pydicom.dcmread(f, stop_before_pixels=True)

    def full():
        for f in files:
            ds = pydicom.dcmread(f)
            ds.PixelData  # the value is read with the file; touch it so nothing is deferred

    print(json.dumps({
        "files": len(files),
        "bytes": total,
        "pydicom": pydicom.__version__,
        "header_only_s": best(header_only, repeat),
        "full_s": best(full, repeat),
    }))


if __name__ == "__main__":
    main()
