namespace Yingyun.Dicom;

/// <summary>A member of a data set: an element with a value, a sequence of items, or encapsulated
/// pixel data (a sequence of fragments).</summary>
public abstract class DicomItem(DicomTag tag, DicomVR vr)
{
    public DicomTag Tag { get; } = tag;
    public DicomVR VR { get; } = vr;

    public override string ToString() => $"{Tag} {VR.ToText()} {DicomDictionary.GetKeyword(Tag)}";
}

/// <summary>A value: bytes in memory (little endian, as on the wire, padding included) or a reference to
/// bytes left on disk.</summary>
public readonly struct DicomValue
{
    public DicomValue(ReadOnlyMemory<byte> bytes) { Memory = bytes; Reference = null; }
    public DicomValue(BulkDataReference reference) { Memory = default; Reference = reference; }

    public ReadOnlyMemory<byte> Memory { get; }
    public BulkDataReference? Reference { get; }
    public bool IsInMemory => Reference is null;
    public long Length => Reference?.Length ?? Memory.Length;

    /// <summary>The bytes; a value left on disk is read now.</summary>
    public async ValueTask<ReadOnlyMemory<byte>> GetBytesAsync(CancellationToken cancellationToken = default) =>
        Reference is null ? Memory : await Reference.LoadAsync(cancellationToken).ConfigureAwait(false);

    public ValueTask CopyToAsync(Stream destination, CancellationToken cancellationToken = default) =>
        Reference is null ? destination.WriteAsync(Memory, cancellationToken) : Reference.CopyToAsync(destination, cancellationToken);
}

/// <summary>An element with a value of any VR but SQ.</summary>
public sealed class DicomElement(DicomTag tag, DicomVR vr, DicomValue value) : DicomItem(tag, vr)
{
    public DicomElement(DicomTag tag, DicomVR vr, ReadOnlyMemory<byte> bytes) : this(tag, vr, new DicomValue(bytes)) { }

    public DicomValue Value { get; } = value;
    public long Length => Value.Length;

    /// <summary>The value bytes in memory. Throws for a value left on disk: use <see cref="DicomValue.GetBytesAsync"/>.</summary>
    public ReadOnlySpan<byte> Span => Value.IsInMemory
        ? Value.Memory.Span
        : throw new InvalidOperationException($"the value of {Tag} ({Length} bytes) is on disk in {Value.Reference!.Source.Description}; load it with GetBytesAsync");

    public DicomElement WithVR(DicomVR vr) => new(Tag, vr, Value);
}

/// <summary>A sequence (VR SQ) of items, each a nested data set (PS3.5 §7.5).</summary>
public sealed class DicomSequence(DicomTag tag, List<DicomDataset> items) : DicomItem(tag, DicomVR.SQ)
{
    public DicomSequence(DicomTag tag, params DicomDataset[] items) : this(tag, new List<DicomDataset>(items)) { }

    public List<DicomDataset> Items { get; } = items;
}

/// <summary>Encapsulated Pixel Data (PS3.5 §A.4): a Basic Offset Table item then one item per fragment.
/// Fragments may stay on disk as references.</summary>
public sealed class DicomFragmentSequence(DicomTag tag, DicomVR vr, DicomValue offsetTable, List<DicomValue> fragments) : DicomItem(tag, vr)
{
    /// <summary>The first item's value: empty, or 32-bit offsets of each frame's first fragment.</summary>
    public DicomValue OffsetTable { get; } = offsetTable;

    public List<DicomValue> Fragments { get; } = fragments;
}
