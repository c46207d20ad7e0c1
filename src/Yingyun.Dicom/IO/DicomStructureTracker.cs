using System.Buffers.Binary;

namespace Yingyun.Dicom;

/// <summary>Follows the element structure of the part of a data set that is not parsed into a
/// <see cref="DicomDataset"/> (Pixel Data and whatever follows it), from bytes pushed to it in chunks of any size,
/// keeping nothing but the current element header: values are counted past, never stored. At the end it says whether
/// the data ended on an element boundary with every delimited sequence and every encapsulated Pixel Data closed, which
/// is how a data set cut short shows (PS3.5 §7.1, §7.5, §A.4). The rules are the reader's
/// (<see cref="DicomReader"/>), so a data set the reader accepts is accepted here too; sequences and items of defined
/// length are skipped whole (their length must fit, their inside is not walked).</summary>
internal sealed class DicomStructureTracker
{
    private const uint UndefinedLength = 0xFFFFFFFF;

    private enum Kind : byte { Sequence, Item, Fragments }

    /// <summary>An open sequence, item or encapsulated Pixel Data, all of undefined length (defined lengths are skipped).</summary>
    private readonly record struct Level(Kind Kind, DicomTag Tag, long At, bool Explicit, bool BigEndian);

    private readonly List<DicomReadProblem> _problems;
    private readonly bool _explicit;
    private readonly bool _bigEndian;
    private readonly int _maxDepth;
    private readonly List<Level> _levels = [];
    private readonly byte[] _header = new byte[12];
    private int _have;
    private int _need = 8;
    private long _position;
    private long _skip;
    private bool _failed;
    private DicomTag _valueTag;
    private long _valueAt;
    private long _valueLength;
    private bool _inPixelData;

    public DicomStructureTracker(long start, DicomTransferSyntax encoding, int maxDepth, List<DicomReadProblem> problems)
    {
        _position = start;
        _explicit = encoding.IsExplicitVR;
        _bigEndian = encoding.IsBigEndian;
        _maxDepth = maxDepth;
        _problems = problems;
    }

    /// <summary>Offset of the next byte expected.</summary>
    public long Position => _position;

    /// <summary>A fatal problem was found; the rest is only counted.</summary>
    public bool Failed => _failed;

    /// <summary>Top-level Pixel Data (7FE0,0010), once its header has passed.</summary>
    public DicomPixelDataInfo? PixelData { get; private set; }

    public void Feed(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            if (_failed)
            {
                _position += data.Length;
                return;
            }
            if (_skip > 0)
            {
                int n = (int)Math.Min(_skip, data.Length);
                _skip -= n;
                _position += n;
                data = data[n..];
                continue;
            }
            int take = Math.Min(_need - _have, data.Length);
            data[..take].CopyTo(_header.AsSpan(_have));
            _have += take;
            _position += take;
            data = data[take..];
            if (_have < _need) continue;
            if (_need == 8 && NeedsLongHeader())
            {
                _need = 12;
                continue;
            }
            OnHeader(_position - _have);
            _have = 0;
            _need = 8;
        }
    }

    /// <summary>The data has ended: records what was left open.</summary>
    public void Finish()
    {
        if (_failed) return;
        if (_have > 0)
        {
            Fail(_position - _have, null, _levels.Count == 0
                ? $"{_have} stray bytes at the end of the data"
                : $"data ends inside an element header ({_have} bytes)");
            return;
        }
        if (_skip > 0)
        {
            Fail(_valueAt, _valueTag, $"value length {_valueLength} but only {_valueLength - _skip} bytes follow");
            return;
        }
        for (int i = _levels.Count - 1; i >= 0; i--)
        {
            var level = _levels[i];
            if (level.Kind == Kind.Fragments)
            {
                // The reader lets this pass; for a received instance it means the last fragments may be missing.
                Fail(level.At, level.Tag, "data ends inside encapsulated pixel data (no sequence delimiter)");
                return;
            }
            // A missing delimiter at the very end is common and harmless (the reader reads the same way).
            _problems.Add(new DicomReadProblem(_position, level.Tag, level.Kind == Kind.Item ? "data ends inside an item" : "data ends inside a sequence"));
        }
        _levels.Clear();
    }

    private Level? Top => _levels.Count == 0 ? null : _levels[^1];
    private bool Explicit => _levels.Count == 0 ? _explicit : _levels[^1].Explicit;
    private bool BigEndian => _levels.Count == 0 ? _bigEndian : _levels[^1].BigEndian;

    private DicomTag ReadTag(bool bigEndian) => bigEndian
        ? new DicomTag(BinaryPrimitives.ReadUInt16BigEndian(_header), BinaryPrimitives.ReadUInt16BigEndian(_header.AsSpan(2)))
        : new DicomTag(BinaryPrimitives.ReadUInt16LittleEndian(_header), BinaryPrimitives.ReadUInt16LittleEndian(_header.AsSpan(2)));

    private uint ReadUInt32(int at, bool bigEndian) => bigEndian
        ? BinaryPrimitives.ReadUInt32BigEndian(_header.AsSpan(at))
        : BinaryPrimitives.ReadUInt32LittleEndian(_header.AsSpan(at));

    private static bool IsUpperAscii(byte b) => b is >= (byte)'A' and <= (byte)'Z';

    /// <summary>Explicit VR with a 32-bit length (PS3.5 §7.1.2), or an unknown VR of two capitals (read as UN).</summary>
    private bool NeedsLongHeader()
    {
        if (!Explicit) return false;
        var tag = ReadTag(BigEndian);
        if (tag.Group == 0xFFFE) return false;
        var vr = DicomVRInfo.FromBytes(_header[4], _header[5]);
        return vr.HasLongLength() || (!vr.IsKnown() && IsUpperAscii(_header[4]) && IsUpperAscii(_header[5]));
    }

    private void Fail(long at, DicomTag? tag, string message)
    {
        _problems.Add(new DicomReadProblem(at, tag, message, true));
        _failed = true;
    }

    private bool Push(Level level)
    {
        if (_levels.Count >= _maxDepth)
        {
            Fail(level.At, level.Tag, $"sequence nested more than {_maxDepth} levels deep (DicomReaderOptions.MaxSequenceDepth); stopped");
            return false;
        }
        _levels.Add(level);
        return true;
    }

    private void Pop()
    {
        if (_levels[^1].Kind == Kind.Fragments && _levels.Count == 1) _inPixelData = false;
        _levels.RemoveAt(_levels.Count - 1);
    }

    private void OnHeader(long at)
    {
        bool bigEndian = BigEndian;
        var tag = ReadTag(bigEndian);

        // Item and delimiter tags have no VR in any syntax (PS3.5 §7.5).
        if (tag.Group == 0xFFFE)
        {
            uint length = ReadUInt32(4, bigEndian);
            OnItemTag(tag, length, at);
            return;
        }

        if (Top is { } top && top.Kind != Kind.Item)
        {
            if (top.Kind == Kind.Fragments)
            {
                Fail(at, tag, "expected a fragment item in encapsulated pixel data; stopped");
                return;
            }
            // An undefined-length sequence without its delimiter: the element belongs to the parent.
            _problems.Add(new DicomReadProblem(at, tag, "sequence delimiter missing; the sequence ends here"));
            Pop();
            OnHeader(at);
            return;
        }

        bool isExplicit = Explicit;
        DicomVR vr;
        uint valueLength;
        if (isExplicit)
        {
            vr = DicomVRInfo.FromBytes(_header[4], _header[5]);
            if (_need == 12)
            {
                if (!vr.IsKnown())
                {
                    _problems.Add(new DicomReadProblem(at, tag, $"unknown VR '{(char)_header[4]}{(char)_header[5]}'; read as UN"));
                    vr = DicomVR.UN;
                }
                valueLength = ReadUInt32(8, bigEndian);
            }
            else if (vr.IsKnown())
            {
                valueLength = bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(_header.AsSpan(6)) : BinaryPrimitives.ReadUInt16LittleEndian(_header.AsSpan(6));
            }
            else
            {
                _problems.Add(new DicomReadProblem(at, tag, $"bytes {_header[4]:X2} {_header[5]:X2} are not a VR; read this element as implicit VR"));
                vr = DicomDictionary.GetImplicitVR(tag);
                valueLength = ReadUInt32(4, bigEndian);
            }
        }
        else
        {
            vr = DicomDictionary.GetImplicitVR(tag);
            valueLength = ReadUInt32(4, bigEndian);
        }

        bool topLevelPixelData = _levels.Count == 0 && tag == DicomTag.PixelDataTag;
        if (valueLength == UndefinedLength)
        {
            bool looksEncapsulated = tag == DicomTag.PixelDataTag || (vr is DicomVR.OB or DicomVR.OW && tag.Element == 0x0010 && tag.Group == 0x7FE0);
            if (looksEncapsulated || (vr is DicomVR.OB or DicomVR.OW && isExplicit))
            {
                if (topLevelPixelData)
                {
                    PixelData = new DicomPixelDataInfo(at, _position, null, 0);
                    _inPixelData = true;
                }
                Push(new Level(Kind.Fragments, tag, at, isExplicit, bigEndian));
                return;
            }
            // UN of undefined length holds a sequence in implicit VR little endian (PS3.5 §6.2.2 Note 3).
            Push(vr == DicomVR.UN ? new Level(Kind.Sequence, tag, at, false, false) : new Level(Kind.Sequence, tag, at, isExplicit, bigEndian));
            return;
        }
        if (topLevelPixelData) PixelData = new DicomPixelDataInfo(at, _position, valueLength, 0);
        Skip(tag, at, valueLength);
    }

    private void Skip(DicomTag tag, long at, uint length)
    {
        _valueTag = tag;
        _valueAt = at;
        _valueLength = length;
        _skip = length;
    }

    private void OnItemTag(DicomTag tag, uint length, long at)
    {
        var top = Top;
        if (tag == DicomTag.Item)
        {
            switch (top?.Kind)
            {
                case Kind.Fragments:
                    if (length == UndefinedLength)
                    {
                        Fail(at, tag, "expected a fragment item in encapsulated pixel data; stopped");
                        return;
                    }
                    if (_inPixelData && _levels.Count == 1 && PixelData is { } info)
                        PixelData = info with { Items = info.Items + 1 };
                    Skip(tag, at, length);
                    return;
                case Kind.Item:
                    // The previous item ended without its delimiter: this item is the next one of the same sequence.
                    _problems.Add(new DicomReadProblem(at, tag, "item delimiter missing before the next item"));
                    Pop();
                    OnItemTag(tag, length, at);
                    return;
                case Kind.Sequence:
                    if (length == UndefinedLength) Push(new Level(Kind.Item, tag, at, top.Value.Explicit, top.Value.BigEndian));
                    else Skip(tag, at, length);
                    return;
                default:
                    Fail(at, tag, "unexpected item tag in a data set; stopped reading");
                    return;
            }
        }
        if (tag == DicomTag.ItemDelimitationItem)
        {
            if (length != 0) _problems.Add(new DicomReadProblem(at, tag, $"item delimiter with length {length} (should be 0)"));
            if (top?.Kind == Kind.Item) Pop();
            else _problems.Add(new DicomReadProblem(at, tag, "item delimiter outside any item; ignored"));
            return;
        }
        if (tag == DicomTag.SequenceDelimitationItem)
        {
            switch (top?.Kind)
            {
                case Kind.Fragments or Kind.Sequence:
                    Pop();
                    return;
                case Kind.Item:
                    // An item that ends without its delimiter: the sequence delimiter closes both.
                    Pop();
                    if (Top?.Kind == Kind.Sequence) Pop();
                    return;
                default:
                    _problems.Add(new DicomReadProblem(at, tag, "sequence delimiter outside any sequence; ignored"));
                    return;
            }
        }
        Fail(at, tag, "unexpected item tag in a data set; stopped reading");
    }
}
