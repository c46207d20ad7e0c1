using System.Buffers.Binary;

namespace Yingyun.Dicom;

/// <summary>Which fragments of encapsulated Pixel Data make up each frame (PS3.5 §A.4): from the Extended
/// Offset Table (7FE0,0001) when present, else the Basic Offset Table, else one fragment per frame when the
/// counts agree, else (single frame) all fragments.</summary>
public static class EncapsulatedFrames
{
    /// <summary>Fragment index ranges, one per frame; null when the frames cannot be told apart.</summary>
    public static IReadOnlyList<Range>? Map(DicomDataset dataset, DicomFragmentSequence pixelData)
    {
        int frames = NumberOfFrames(dataset);
        var fragments = pixelData.Fragments;
        if (fragments.Count == 0) return null;

        // Offsets of each fragment's item header, measured from the first fragment's item (PS3.5 §A.4 Table A.4-1).
        var starts = new long[fragments.Count];
        long position = 0;
        for (int i = 0; i < fragments.Count; i++)
        {
            starts[i] = position;
            position += 8 + ((fragments[i].Length + 1) & ~1L);
        }

        long[]? offsets = null;
        if (dataset.TryGetElement(new DicomTag(0x7FE0, 0x0001), out var eot) && eot.Value.IsInMemory && eot.Length >= 8)
        {
            var span = eot.Span;
            offsets = new long[span.Length / 8];
            for (int i = 0; i < offsets.Length; i++) offsets[i] = (long)BinaryPrimitives.ReadUInt64LittleEndian(span[(i * 8)..]);
        }
        else if (pixelData.OffsetTable.IsInMemory && pixelData.OffsetTable.Length >= 4)
        {
            var span = pixelData.OffsetTable.Memory.Span;
            offsets = new long[span.Length / 4];
            for (int i = 0; i < offsets.Length; i++) offsets[i] = BinaryPrimitives.ReadUInt32LittleEndian(span[(i * 4)..]);
        }

        if (offsets is { Length: > 0 })
        {
            var ranges = new Range[offsets.Length];
            for (int f = 0; f < offsets.Length; f++)
            {
                int first = Array.BinarySearch(starts, offsets[f]);
                if (first < 0) return null; // an offset that is not a fragment boundary: the table is wrong
                int end = f + 1 < offsets.Length ? Array.BinarySearch(starts, offsets[f + 1]) : fragments.Count;
                if (end < 0 || end <= first) return null;
                ranges[f] = first..end;
            }
            return ranges;
        }
        if (frames <= 1) return [0..fragments.Count];
        if (frames == fragments.Count) return Enumerable.Range(0, frames).Select(i => i..(i + 1)).ToArray();
        return null;
    }

    /// <summary>Number of Frames (0028,0008), an IS; 1 when absent, unreadable or not positive.</summary>
    public static int NumberOfFrames(DicomDataset dataset) => Math.Max(1, dataset.GetValueOrDefault(DicomTags.NumberOfFrames, 1));
}
