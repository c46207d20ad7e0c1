#!/usr/bin/python3
"""Writes one large multi-frame instance for the C-STORE peak-memory benchmark (bench/store.sh).

Multi-frame Grayscale Word Secondary Capture (PS3.3 A.8.3), 512x512 16-bit frames, explicit VR little endian;
--frames 2048 makes Pixel Data exactly 1 GiB. pydicom writes the header; Pixel Data (7FE0,0010) is appended
frame by frame, so this script never holds more than one frame in memory.

Use /usr/bin/python3 (Debian's python3-pydicom):  /usr/bin/python3 bench/make_large_instance.py OUT.dcm --frames 2048
"""
import argparse
import struct

from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, PYDICOM_IMPLEMENTATION_UID

MULTIFRAME_GRAYSCALE_WORD_SC = "1.2.840.10008.5.1.4.1.1.7.3"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out")
    parser.add_argument("--frames", type=int, default=2048)
    parser.add_argument("--rows", type=int, default=512)
    parser.add_argument("--cols", type=int, default=512)
    args = parser.parse_args()

    # Fixed UIDs under a private-looking root: the same file every time, so runs are comparable.
    root = "1.2.826.0.1.3680043.8.498.77."
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = MULTIFRAME_GRAYSCALE_WORD_SC
    meta.MediaStorageSOPInstanceUID = root + "3"
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID

    ds = FileDataset(args.out, {}, file_meta=meta, preamble=b"\0" * 128)
    ds.is_little_endian = True
    ds.is_implicit_VR = False
    ds.SOPClassUID = MULTIFRAME_GRAYSCALE_WORD_SC
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = root + "1"
    ds.SeriesInstanceUID = root + "2"
    ds.PatientName = "BENCH^LARGE"
    ds.PatientID = "BENCH-LARGE"
    ds.Modality = "OT"
    ds.ConversionType = "WSD"
    ds.StudyDate = "20260101"
    ds.SeriesNumber = 1
    ds.InstanceNumber = 1
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.NumberOfFrames = args.frames
    ds.FrameIncrementPointer = 0x00181063  # Frame Time
    ds.FrameTime = 40
    ds.Rows = args.rows
    ds.Columns = args.cols
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 0
    ds.save_as(args.out, write_like_original=False)

    frame_bytes = args.rows * args.cols * 2
    length = frame_bytes * args.frames
    if length >= 0xFFFFFFFF:
        raise SystemExit(f"{length} bytes of Pixel Data do not fit a 32-bit length")
    with open(args.out, "ab") as f:
        # (7FE0,0010) OW, reserved 2 bytes, 32-bit length (PS3.5 7.1.2).
        f.write(struct.pack("<HH2s2xI", 0x7FE0, 0x0010, b"OW", length))
        ramp = bytes(range(256)) * (frame_bytes // 256)
        for n in range(args.frames):
            # Each frame differs in its first two bytes: not a run of identical blocks.
            f.write(struct.pack("<H", n) + ramp[2:])


if __name__ == "__main__":
    main()
