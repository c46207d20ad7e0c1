using System.Buffers.Binary;

namespace Yingyun.Dicom;

/// <summary>The header of one element as the scanner meets it: where its value is and how long it is.
/// <see cref="Depth"/> counts enclosing sequence items (0 = top level).</summary>
public readonly record struct DicomElementHeader(DicomTag Tag, DicomVR VR, uint Length, int ValueOffset, int Depth)
{
    public bool IsUndefinedLength => Length == 0xFFFFFFFF;
}

/// <summary>Walks the element headers of a data set in memory without allocating anything: the fastest way
/// to pick a few values (UIDs, Patient ID) out of a header, e.g. to route an instance before parsing it.
/// It descends into sequences (yielding item and delimiter tags too) and stops at the first malformed
/// header, reporting where in <see cref="ErrorOffset"/>.</summary>
public ref struct DicomElementScanner
{
    private const int Undefined = int.MaxValue;
    private readonly ReadOnlySpan<byte> _data;
    private readonly bool _explicit;
    private readonly bool _bigEndian;
    private int _position;
    private bool _inFragments;
    // Ends of the sequences and items currently open (Undefined for delimited ones). A fixed stack keeps
    // the scanner allocation-free; nesting deeper than 32 levels stops the scan with an error.
    private EndStack _ends;
    private int _depth;

    [System.Runtime.CompilerServices.InlineArray(32)]
    private struct EndStack { private int _e0; }

    public DicomElementScanner(ReadOnlySpan<byte> data, DicomTransferSyntax syntax, int start = 0)
    {
        _data = data;
        _explicit = syntax.IsExplicitVR;
        _bigEndian = syntax.IsBigEndian;
        _position = start;
        Current = default;
        ErrorOffset = -1;
    }

    public DicomElementHeader Current { get; private set; }

    /// <summary>Offset of the header that could not be read, or -1.</summary>
    public int ErrorOffset { get; private set; }

    public bool MoveNext()
    {
        while (_depth > 0 && _ends[_depth - 1] != Undefined && _position >= _ends[_depth - 1]) _depth--;
        var d = _data;
        int p = _position;
        if (p + 8 > d.Length)
        {
            if (p != d.Length) ErrorOffset = p;
            return false;
        }
        var tag = _bigEndian
            ? new DicomTag(BinaryPrimitives.ReadUInt16BigEndian(d[p..]), BinaryPrimitives.ReadUInt16BigEndian(d[(p + 2)..]))
            : new DicomTag(BinaryPrimitives.ReadUInt16LittleEndian(d[p..]), BinaryPrimitives.ReadUInt16LittleEndian(d[(p + 2)..]));
        DicomVR vr = DicomVR.None;
        uint length;
        int header;
        if (tag.Group == 0xFFFE || !_explicit)
        {
            length = ReadUInt32(d[(p + 4)..]);
            header = 8;
            if (tag.Group != 0xFFFE) vr = DicomDictionary.GetImplicitVR(tag);
        }
        else
        {
            vr = DicomVRInfo.FromBytes(d[p + 4], d[p + 5]);
            if (!vr.IsKnown()) { ErrorOffset = p; return false; }
            if (vr.HasLongLength())
            {
                if (p + 12 > d.Length) { ErrorOffset = p; return false; }
                length = ReadUInt32(d[(p + 8)..]);
                header = 12;
            }
            else
            {
                length = _bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(d[(p + 6)..]) : BinaryPrimitives.ReadUInt16LittleEndian(d[(p + 6)..]);
                header = 8;
            }
        }
        int valueOffset = p + header;
        Current = new DicomElementHeader(tag, vr, length, valueOffset, _depth);
        _position = valueOffset;

        if (tag == DicomTag.SequenceDelimitationItem)
        {
            if (_inFragments) _inFragments = false;
            else if (_depth > 0) _depth--;
            return true;
        }
        if (tag == DicomTag.ItemDelimitationItem)
        {
            if (_depth > 0) _depth--;
            return true;
        }
        bool undefined = length == 0xFFFFFFFF;
        bool opensLevel = tag == DicomTag.Item
            ? !_inFragments
            : vr == DicomVR.SQ || (undefined && tag != DicomTag.PixelDataTag && vr is not (DicomVR.OB or DicomVR.OW));
        if (opensLevel)
        {
            if (_depth == 32) { ErrorOffset = p; return false; }
            _ends[_depth++] = undefined ? Undefined : (int)Math.Min(int.MaxValue - 1, (long)valueOffset + length);
            return true;
        }
        if (undefined)
        {
            // Encapsulated pixel data (PS3.5 §A.4): its fragment items follow and are skipped as values.
            _inFragments = true;
            return true;
        }
        if ((long)valueOffset + length > d.Length) { ErrorOffset = p; return false; }
        _position = valueOffset + (int)length;
        return true;
    }

    private readonly uint ReadUInt32(ReadOnlySpan<byte> s) =>
        _bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(s) : BinaryPrimitives.ReadUInt32LittleEndian(s);
}
