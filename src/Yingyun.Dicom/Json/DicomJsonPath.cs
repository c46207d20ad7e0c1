using System.Globalization;
using System.Text;

namespace Yingyun.Dicom;

/// <summary>One step of a <see cref="DicomJsonPath"/>: an attribute, and for a sequence that the path goes
/// through, the index (from 0) of the item it enters; -1 for the last step.</summary>
public readonly record struct DicomJsonPathSegment(DicomTag Tag, int ItemIndex);

/// <summary>Where an attribute sits in a data set: the sequence attributes and item indices that lead to it,
/// then its own tag. It is a view of the writer's working stack, valid only during the callback that receives
/// it; keep <see cref="ToString"/> to remember it.</summary>
public readonly ref struct DicomJsonPath
{
    private readonly ReadOnlySpan<DicomJsonPathSegment> _segments;

    public DicomJsonPath(ReadOnlySpan<DicomJsonPathSegment> segments) => _segments = segments;

    /// <summary>The steps from the top-level data set; the last one is the attribute itself.</summary>
    public ReadOnlySpan<DicomJsonPathSegment> Segments => _segments;

    /// <summary>The attribute's own tag.</summary>
    public DicomTag Tag => _segments.IsEmpty ? default : _segments[^1].Tag;

    /// <summary>0 for a top-level attribute, 1 inside an item of a top-level sequence, and so on.</summary>
    public int Depth => Math.Max(0, _segments.Length - 1);

    /// <summary>Eight upper-case hex digits per tag, as in DICOM JSON keys (PS3.18 §F.2.2), with the item
    /// index after each sequence tag, joined by '/': <c>7FE00010</c>, <c>00540016/0/00181074</c>. Only
    /// characters allowed in a URI path (RFC 3986 §3.3), so it can be put in a URI as it is.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder(_segments.Length * 11);
        for (int i = 0; i < _segments.Length; i++)
        {
            if (i > 0) sb.Append('/');
            sb.Append(_segments[i].Tag.Value.ToString("X8", CultureInfo.InvariantCulture));
            if (i < _segments.Length - 1)
                sb.Append('/').Append(_segments[i].ItemIndex.ToString(CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }
}
