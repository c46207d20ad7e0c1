"""Prints, as JSON, what pydicom (Debian's python3-pydicom) reads from each file given on stdin (one path per
line): the attributes the archive indexes, keyed by SOP Instance UID. Strings are decoded with the file's
Specific Character Set by pydicom itself; absent attributes are null."""
import json
import sys
import warnings

import pydicom

KEYWORDS = ["PatientID", "PatientName", "StudyInstanceUID", "SeriesInstanceUID", "SOPClassUID", "Modality",
            "AccessionNumber", "StudyDate", "Rows", "Columns", "NumberOfFrames", "SeriesNumber", "InstanceNumber"]

warnings.simplefilter("ignore")
out = {}
for line in sys.stdin:
    path = line.strip()
    if not path:
        continue
    ds = pydicom.dcmread(path, stop_before_pixels=True, force=True)
    row = {}
    for keyword in KEYWORDS:
        element = ds.get(keyword)
        if element is None or element == "" or element is None:
            row[keyword] = None
        elif keyword in ("Rows", "Columns", "NumberOfFrames", "SeriesNumber", "InstanceNumber"):
            # An invalid IS (badVR.dcm has '1A') is no number: the archive records it as absent too.
            try:
                row[keyword] = int(element)
            except (TypeError, ValueError):
                row[keyword] = None
        else:
            row[keyword] = str(element)
    out[str(ds.SOPInstanceUID)] = row
json.dump(out, sys.stdout, ensure_ascii=False)
