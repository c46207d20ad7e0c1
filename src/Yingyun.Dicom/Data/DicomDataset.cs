using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace Yingyun.Dicom;

/// <summary>An ordered set of data elements (PS3.5 §7), kept sorted by tag. Nested items know their
/// parent so that text inherits the enclosing Specific Character Set (PS3.5 §7.5.3, C.12.1.1.2).</summary>
public sealed partial class DicomDataset : IEnumerable<DicomItem>
{
    private readonly List<DicomItem> _items;
    private DicomCharacterSet? _characterSet;

    public DicomDataset() => _items = [];
    public DicomDataset(int capacity) => _items = new List<DicomItem>(capacity);
    public DicomDataset(IEnumerable<DicomItem> items) : this()
    {
        foreach (var i in items) AddOrUpdate(i);
    }

    /// <summary>The data set this one is an item of, if any.</summary>
    public DicomDataset? Parent { get; internal set; }

    public int Count => _items.Count;

    /// <summary>The character set of this data set's text: its own (0008,0005), else its parent's, else the default.</summary>
    public DicomCharacterSet CharacterSet
    {
        get
        {
            if (_characterSet is not null) return _characterSet;
            if (TryGetElement(DicomTag.SpecificCharacterSetTag, out var e) && e.Value.IsInMemory)
                return _characterSet = DicomCharacterSet.FromSpecificCharacterSet(SplitDefaultRepertoire(e.Span));
            return Parent?.CharacterSet ?? DicomCharacterSet.Default;
        }
    }

    private static string[] SplitDefaultRepertoire(ReadOnlySpan<byte> value)
    {
        var text = System.Text.Encoding.ASCII.GetString(value).TrimEnd(' ', '\0');
        var parts = text.Split('\\');
        for (int i = 0; i < parts.Length; i++) parts[i] = parts[i].Trim();
        return parts;
    }

    private int IndexOf(DicomTag tag)
    {
        // Readers append in ascending order, so the last item is the common answer for inserts.
        int lo = 0, hi = _items.Count - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            uint v = _items[mid].Tag.Value;
            if (v == tag.Value) return mid;
            if (v < tag.Value) lo = mid + 1; else hi = mid - 1;
        }
        return ~lo;
    }

    public bool Contains(DicomTag tag) => IndexOf(tag) >= 0;

    public DicomItem? this[DicomTag tag] => TryGetItem(tag, out var i) ? i : null;

    public bool TryGetItem(DicomTag tag, [NotNullWhen(true)] out DicomItem? item)
    {
        int i = IndexOf(tag);
        item = i >= 0 ? _items[i] : null;
        return item is not null;
    }

    public bool TryGetElement(DicomTag tag, [NotNullWhen(true)] out DicomElement? element)
    {
        element = TryGetItem(tag, out var i) ? i as DicomElement : null;
        return element is not null;
    }

    public bool TryGetSequence(DicomTag tag, [NotNullWhen(true)] out DicomSequence? sequence)
    {
        sequence = TryGetItem(tag, out var i) ? i as DicomSequence : null;
        return sequence is not null;
    }

    /// <summary>Adds or replaces the item with the same tag.</summary>
    public DicomDataset AddOrUpdate(DicomItem item)
    {
        if (item is DicomSequence sq)
            foreach (var child in sq.Items) child.Parent = this;
        if (item.Tag == DicomTag.SpecificCharacterSetTag) InvalidateCharacterSet();
        int n = _items.Count;
        if (n == 0 || _items[n - 1].Tag.Value < item.Tag.Value)
        {
            _items.Add(item);
            return this;
        }
        int i = IndexOf(item.Tag);
        if (i >= 0) _items[i] = item;
        else _items.Insert(~i, item);
        return this;
    }

    /// <summary>Adds an item; false if one with that tag is already present (the reader keeps the first,
    /// as DCMTK does, and reports the duplicate).</summary>
    public bool TryAdd(DicomItem item)
    {
        int n = _items.Count;
        if (n != 0 && _items[n - 1].Tag.Value >= item.Tag.Value && Contains(item.Tag)) return false;
        AddOrUpdate(item);
        return true;
    }

    public bool Remove(DicomTag tag)
    {
        int i = IndexOf(tag);
        if (i < 0) return false;
        _items.RemoveAt(i);
        if (tag == DicomTag.SpecificCharacterSetTag) InvalidateCharacterSet();
        return true;
    }

    /// <summary>Removes every element of <paramref name="group"/> (e.g. group lengths before writing).</summary>
    public int RemoveGroup(ushort group) => _items.RemoveAll(i => i.Tag.Group == group);

    public int RemoveAll(Predicate<DicomItem> match) => _items.RemoveAll(match);

    private void InvalidateCharacterSet()
    {
        _characterSet = null;
        foreach (var i in _items)
            if (i is DicomSequence sq)
                foreach (var d in sq.Items) d.InvalidateCharacterSet();
    }

    public IEnumerator<DicomItem> GetEnumerator() => _items.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>A deep copy of the structure; value bytes are shared (they are immutable).</summary>
    public DicomDataset Clone()
    {
        var copy = new DicomDataset(_items.Count);
        foreach (var item in _items)
        {
            copy._items.Add(item is DicomSequence sq
                ? new DicomSequence(sq.Tag, sq.Items.Select(d => d.Clone()).ToList())
                : item);
        }
        foreach (var item in copy._items)
            if (item is DicomSequence sq)
                foreach (var d in sq.Items) d.Parent = copy;
        return copy;
    }
}
