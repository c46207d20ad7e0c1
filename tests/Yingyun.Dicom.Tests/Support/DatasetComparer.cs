namespace Yingyun.Dicom.Tests.Support;

/// <summary>Structural comparison of two data sets, recursively: the same tags, the same VRs, the same value
/// bytes (values left on disk are loaded), the same sequences of items and the same encapsulated fragments.
/// Made for round trips (read → write in a syntax → read back), so it knows what the writer and the
/// transfer syntax change by design. Each allowance:
/// <list type="number">
/// <item><b>Group lengths.</b> (gggg,0000) elements other than the File Meta Information's are retired
/// (PS3.5 §7.2) and would be wrong after any change; the writer drops them. They are ignored on both sides.</item>
/// <item><b>Padding.</b> A value of odd length is written with one padding byte (PS3.5 §7.1.1: values have even
/// length), so it is read back one byte longer: a value equals another that is the same plus one trailing
/// space or NUL. Encapsulated fragments likewise.</item>
/// <item><b>Long values in 16-bit-length VRs.</b> In explicit VR, a value over 65,535 bytes of a VR whose length
/// field is 16 bits (US, LO, …) cannot be written as such; the writer writes it as UN (PS3.5 §6.2.2 Note 2)
/// rather than truncating it. UN is then accepted for it.</item>
/// <item><b>Implicit VR.</b> When the data set went through implicit VR little endian (<c>writtenAs</c>),
/// no VR was on the wire and the reader took the dictionary's (PS3.5 Annex A.1): UN for private and unknown
/// tags, LO for private creators, UL for group lengths, and for ambiguous entries ("US or SS", "OB or OW") the
/// one the reader resolved. Any VR the dictionary allows for the tag is accepted.</item>
/// <item><b>Private sequences of defined length in implicit VR.</b> Without a VR on the wire, a private sequence
/// written with defined lengths (<see cref="DicomWriterOptions.DefinedLengthSequences"/>) cannot be told from a UN
/// value, and the reader keeps it as UN bytes (an undefined length marks a sequence: PS3.5 §6.2.2 Note 3). The
/// comparer then decodes those bytes as a sequence in implicit VR little endian and compares its items.</item>
/// <item><b>Encapsulated Pixel Data</b> is always written as OB (PS3.5 §A.4): OB is accepted for OW.</item>
/// </list></summary>
public static class DatasetComparer
{
    /// <summary>Every difference between <paramref name="expected"/> and <paramref name="actual"/>, one line each
    /// with the path of the element; empty when they are equal under the allowances.</summary>
    /// <param name="writtenAs">The syntax <paramref name="actual"/> went through, for the allowances that depend on
    /// it (implicit VR, the 16-bit length limit of explicit VR); null when both were read from the same bytes.</param>
    public static async Task<List<string>> CompareAsync(DicomDataset expected, DicomDataset actual, DicomTransferSyntax? writtenAs = null)
    {
        var differences = new List<string>();
        await CompareAsync("", expected, actual, writtenAs is { IsExplicitVR: false }, writtenAs is { IsExplicitVR: true }, differences);
        return differences;
    }

    private static bool Ignored(DicomItem item) => item.Tag.IsGroupLength && item.Tag.Group != 0x0002;

    private static async Task CompareAsync(string path, DicomDataset expected, DicomDataset actual, bool viaImplicit, bool viaExplicit, List<string> differences)
    {
        foreach (var a in actual)
            if (!Ignored(a) && !expected.Contains(a.Tag))
                differences.Add($"{path}{a.Tag}: unexpected {a.VR.ToText()} element");
        foreach (var e in expected)
        {
            if (Ignored(e)) continue;
            string here = $"{path}{e.Tag}";
            if (!actual.TryGetItem(e.Tag, out var a))
            {
                differences.Add($"{here}: {e.VR.ToText()} element missing");
                continue;
            }
            switch (e, a)
            {
                case (DicomSequence es, DicomSequence asq):
                    if (es.Items.Count != asq.Items.Count)
                    {
                        differences.Add($"{here}: {asq.Items.Count} items, expected {es.Items.Count}");
                        break;
                    }
                    for (int i = 0; i < es.Items.Count; i++)
                        await CompareAsync($"{here}[{i}]/", es.Items[i], asq.Items[i], viaImplicit, viaExplicit, differences);
                    break;

                case (DicomFragmentSequence ef, DicomFragmentSequence af):
                    if (af.VR != ef.VR && !(af.VR == DicomVR.OB && ef.VR == DicomVR.OW))
                        differences.Add($"{here}: encapsulated as {af.VR.ToText()}, expected {ef.VR.ToText()}");
                    if (!EqualIgnoringPadding(await ef.OffsetTable.GetBytesAsync(), await af.OffsetTable.GetBytesAsync()))
                        differences.Add($"{here}: Basic Offset Table differs");
                    if (ef.Fragments.Count != af.Fragments.Count)
                    {
                        differences.Add($"{here}: {af.Fragments.Count} fragments, expected {ef.Fragments.Count}");
                        break;
                    }
                    for (int i = 0; i < ef.Fragments.Count; i++)
                    {
                        var x = await ef.Fragments[i].GetBytesAsync();
                        var y = await af.Fragments[i].GetBytesAsync();
                        if (!EqualIgnoringPadding(x, y))
                            differences.Add($"{here}: fragment {i} differs ({y.Length} bytes, expected {x.Length})");
                    }
                    break;

                case (DicomElement ee, DicomElement ae):
                    if (!VRAllowed(ee, ae.VR, viaImplicit, viaExplicit))
                        differences.Add($"{here}: VR {ae.VR.ToText()}, expected {ee.VR.ToText()}");
                    var ev = await ee.Value.GetBytesAsync();
                    var av = await ae.Value.GetBytesAsync();
                    if (!EqualIgnoringPadding(ev, av))
                        differences.Add($"{here}: value {Show(av.Span)}, expected {Show(ev.Span)}");
                    break;

                case (DicomSequence es, DicomElement { VR: DicomVR.UN } ae) when viaImplicit && e.Tag.IsPrivate
                    && await DecodeSequenceAsync(e.Tag, await ae.Value.GetBytesAsync(), actual) is { } decoded:
                    if (es.Items.Count != decoded.Items.Count)
                    {
                        differences.Add($"{here}: {decoded.Items.Count} items in the UN value, expected {es.Items.Count}");
                        break;
                    }
                    for (int i = 0; i < es.Items.Count; i++)
                        await CompareAsync($"{here}(UN)[{i}]/", es.Items[i], decoded.Items[i], viaImplicit, viaExplicit, differences);
                    break;

                default:
                    differences.Add($"{here}: {a.GetType().Name} {a.VR.ToText()}, expected {e.GetType().Name} {e.VR.ToText()}");
                    break;
            }
        }
    }

    /// <summary>Decodes <paramref name="value"/> (the value of a UN element <paramref name="tag"/>) as a sequence in
    /// implicit VR little endian (PS3.5 §6.2.2 Note 3); null if it is not one.</summary>
    public static async Task<DicomSequence?> DecodeSequenceAsync(DicomTag tag, ReadOnlyMemory<byte> value, DicomDataset? parent = null)
    {
        if (value.Length == 0) return new DicomSequence(tag); // a sequence of no items has an empty value
        if (value.Length < 8 || System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(value.Span) != 0xE000FFFE) return null;
        // The value under a tag whose dictionary VR is SQ, in an implicit VR data set: the reader decodes its items.
        var wrapper = new DicomTag(0x0008, 0x1115);
        var element = new byte[8 + value.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(element, wrapper.Group);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(element.AsSpan(2), wrapper.Element);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(element.AsSpan(4), (uint)value.Length);
        value.Span.CopyTo(element.AsSpan(8));
        var problems = new List<DicomReadProblem>();
        var ds = await DicomReader.ReadDatasetAsync(new MemoryStream(element), DicomTransferSyntax.ImplicitVRLittleEndian, problems: problems);
        if (problems.Count > 0 || !ds.TryGetSequence(wrapper, out var sq)) return null;
        foreach (var item in sq.Items) item.Parent = parent;
        return new DicomSequence(tag, sq.Items);
    }

    private static bool VRAllowed(DicomElement expected, DicomVR actual, bool viaImplicit, bool viaExplicit)
    {
        if (actual == expected.VR) return true;
        if (viaExplicit && actual == DicomVR.UN && !expected.VR.HasLongLength() && expected.Length > 0xFFFF) return true;
        if (viaImplicit)
        {
            if (actual == DicomDictionary.GetImplicitVR(expected.Tag)) return true;
            if (DicomDictionary.TryGet(expected.Tag, out var entry) && entry.ValueRepresentations.Contains(actual)) return true;
        }
        return false;
    }

    /// <summary>Equal bytes, or the same bytes but for one trailing padding byte (space or NUL) on the longer
    /// one when the shorter has odd length.</summary>
    public static bool EqualIgnoringPadding(ReadOnlyMemory<byte> x, ReadOnlyMemory<byte> y) => EqualIgnoringPadding(x.Span, y.Span);

    public static bool EqualIgnoringPadding(ReadOnlySpan<byte> x, ReadOnlySpan<byte> y)
    {
        if (x.SequenceEqual(y)) return true;
        if (x.Length > y.Length)
        {
            var t = x;
            x = y;
            y = t;
        }
        return y.Length == x.Length + 1 && (x.Length & 1) == 1 && y[^1] is 0x00 or 0x20 && y[..^1].SequenceEqual(x);
    }

    private static string Show(ReadOnlySpan<byte> b) =>
        b.Length <= 32 ? $"[{Convert.ToHexString(b)}]" : $"[{b.Length} bytes {Convert.ToHexString(b[..16])}…]";
}
