"""Dumps DICOM files as pydicom reads them, for Yingyun's corpus tests (Support/Pydicom.cs).

Usage:
  python3 pydicom_dump.py --data-dir          prints pydicom's bundled data directory
  python3 pydicom_dump.py OUT_DIR < paths     one JSON file per input path: OUT_DIR/<n>.json

Each JSON file holds: the path, whether pydicom could read the file, the transfer syntax it used,
and for file_meta and the data set every element recursively:
  tag        "GGGGEEEE"
  vr         the VR pydicom settled on (may be "US or SS" style when it could not decide)
  raw_vr     the VR as encoded (null in implicit VR, and for elements pydicom converted while reading)
  converted  pydicom converted the element while reading: its raw bytes are gone, 'bytes' are encoded again
  dict_vr    the dictionary VR (null for unknown and private tags)
  vm         pydicom's value multiplicity
  le         whether the value bytes are little endian
  bytes      the raw value bytes, base64 (every element but SQ and pixel data)
  text       for text VRs, the decoded value(s) exactly as pydicom gives them (a list)
  items      for SQ, one element list per item
  pixel      for pixel data: length, sha256 of the raw bytes, sha256_le of the bytes swapped to
             little endian; for encapsulated pixel data the offset table's and each fragment's
             length and sha256
  error      when pydicom could not convert the element
Runs once for all files so that the test suite starts one Python process, not one per file.
"""

import base64
import hashlib
import json
import os
import sys
import traceback
import warnings

import pydicom
from pydicom.dataelem import RawDataElement
from pydicom.datadict import dictionary_VR
from pydicom.encaps import generate_pixel_data_fragment
from pydicom.filebase import DicomBytesIO
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence
from pydicom.tag import Tag
from pydicom.valuerep import PersonName

TEXT_VRS = {"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT", "PN", "SH", "ST", "TM", "UC", "UI",
            "UR", "UT"}
UNIT = {"US": 2, "SS": 2, "OW": 2, "AT": 2, "UL": 4, "SL": 4, "FL": 4, "OF": 4, "OL": 4,
        "FD": 8, "OD": 8, "OV": 8, "SV": 8, "UV": 8}
PIXEL_TAGS = {0x7FE00008, 0x7FE00009, 0x7FE00010}
PACK = {"US": "H", "SS": "h", "UL": "I", "SL": "i", "FL": "f", "FD": "d", "SV": "q", "UV": "Q"}


def b64(data):
    return base64.b64encode(data).decode("ascii")


def sha(data):
    return hashlib.sha256(data).hexdigest()


def to_little_endian(data, vr):
    unit = UNIT.get(vr, 1)
    if unit == 1:
        return data
    whole = len(data) - len(data) % unit
    out = bytearray(data)
    for i in range(0, whole, unit):
        out[i:i + unit] = data[i:i + unit][::-1]
    return bytes(out)


def text_values(value):
    if value is None:
        return [""]
    if isinstance(value, (MultiValue, list, tuple)):
        return [str(v) for v in value]
    if isinstance(value, bytes):
        return None
    return [str(value)]


def encoded_bytes(elem):
    """Raw bytes of an element pydicom converted while reading the file (only a few, such as
    Transfer Syntax UID and Specific Character Set): re-encode them as little endian."""
    import struct
    value = elem.value
    if value is None:
        return b""
    if isinstance(value, bytes):
        return value
    vr = elem.VR.split(" or ")[0]
    if vr in PACK:
        values = list(value) if isinstance(value, (MultiValue, list, tuple)) else [value]
        return b"".join(struct.pack("<" + PACK[vr], v) for v in values)
    if vr == "AT":
        values = list(value) if isinstance(value, (MultiValue, list, tuple)) else [value]
        return b"".join(struct.pack("<HH", v >> 16, v & 0xFFFF) for v in values)
    if isinstance(value, (MultiValue, list, tuple)):
        text = "\\".join(str(v) for v in value)
    else:
        text = str(value)
    data = text.encode("latin-1", errors="replace")
    if len(data) % 2:
        data += b"\0" if vr == "UI" else b" "
    return data


def pixel_info(tag, raw_bytes, vr, undefined_length, little_endian):
    info = {"length": len(raw_bytes), "sha256": sha(raw_bytes),
            "sha256_le": sha(raw_bytes if little_endian else to_little_endian(raw_bytes, vr))}
    if undefined_length and tag == 0x7FE00010:
        fp = DicomBytesIO(raw_bytes)
        fp.is_little_endian = True
        fragments = []
        try:
            item_tag = Tag(fp.read_tag())
            if item_tag != 0xFFFEE000:
                raise ValueError(f"first item of encapsulated pixel data has tag {item_tag:08X}")
            bot = fp.read(fp.read_UL())
            info["offset_table"] = {"length": len(bot), "sha256": sha(bot)}
            for fragment in generate_pixel_data_fragment(fp):
                fragments.append({"length": len(fragment), "sha256": sha(fragment)})
        except Exception as e:  # keep what was read, say why it stopped
            info["fragments_error"] = repr(e)
        info["fragments"] = fragments
    return info


def dump_dataset(ds):
    # Take every raw element before converting any: converting one (an ambiguous VR) can convert
    # others (Pixel Representation), and then their raw bytes would be gone.
    tags = sorted(ds.keys())
    raws = {t: ds.get_item(t) for t in tags}
    out = []
    for tag in tags:
        raw = raws[tag]
        rec = {"tag": f"{int(tag):08X}"}
        try:
            rec["dict_vr"] = dictionary_VR(tag)
        except KeyError:
            rec["dict_vr"] = None
        if isinstance(raw, RawDataElement):
            rec["raw_vr"] = raw.VR
            rec["le"] = bool(raw.is_little_endian)
            raw_bytes = raw.value if raw.value is not None else b""
            undefined = raw.length == 0xFFFFFFFF
        else:
            rec["raw_vr"] = None  # converted while reading: the encoded VR is no longer known
            rec["le"] = True
            rec["converted"] = True
            raw_bytes = None
            undefined = bool(getattr(raw, "is_undefined_length", False))
        rec["undefined_length"] = undefined
        try:
            elem = ds[tag]
        except Exception as e:
            rec["error"] = repr(e)
            if raw_bytes is not None and rec["raw_vr"] != "SQ":
                rec["bytes"] = b64(raw_bytes)
            out.append(rec)
            continue
        rec["vr"] = elem.VR
        try:
            rec["vm"] = elem.VM
        except Exception as e:
            rec["vm"] = None
            rec["vm_error"] = repr(e)
        if isinstance(elem.value, Sequence) or elem.VR == "SQ":
            rec["items"] = [dump_dataset(item) for item in (elem.value or [])]
        else:
            if raw_bytes is None:
                raw_bytes = encoded_bytes(elem)
            if int(tag) in PIXEL_TAGS:
                rec["pixel"] = pixel_info(int(tag), raw_bytes, rec["raw_vr"] or elem.VR.split(" or ")[-1],
                                          undefined, rec["le"])
            else:
                rec["bytes"] = b64(raw_bytes)
            if elem.VR in TEXT_VRS:
                values = text_values(elem.value)
                if values is None:
                    rec["text_error"] = "value is bytes"
                else:
                    rec["text"] = values
        out.append(rec)
    return out


def dump_file(path):
    result = {"path": path}
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ds = pydicom.dcmread(path, force=True)
            result["ok"] = True
            meta = getattr(ds, "file_meta", None)
            result["preamble"] = ds.preamble is not None
            result["is_little_endian"] = ds.is_little_endian
            result["is_implicit_vr"] = ds.is_implicit_VR
            result["transfer_syntax"] = str(meta.TransferSyntaxUID) if meta is not None and "TransferSyntaxUID" in meta else None
            result["meta"] = dump_dataset(meta) if meta is not None else []
            result["dataset"] = dump_dataset(ds)
            result["warnings"] = [str(w.message) for w in caught]
    except Exception as e:
        result["ok"] = False
        result["error"] = repr(e)
        result["traceback"] = traceback.format_exc()
    return result


def main():
    if len(sys.argv) == 2 and sys.argv[1] == "--data-dir":
        print(os.path.join(os.path.dirname(pydicom.__file__), "data"))
        print(pydicom.__version__)
        return 0
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    for n, line in enumerate(sys.stdin):
        path = line.rstrip("\n")
        if not path:
            continue
        with open(os.path.join(out_dir, f"{n}.json"), "w", encoding="utf-8") as f:
            json.dump(dump_file(path), f, ensure_ascii=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
