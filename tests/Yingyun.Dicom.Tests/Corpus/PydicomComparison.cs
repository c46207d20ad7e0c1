using System.Security.Cryptography;
using Yingyun.Dicom.Tests.Support;

namespace Yingyun.Dicom.Tests.Corpus;

/// <summary>Compares what our reader read with what pydicom read, element by element and recursively: the tag
/// sets, the VRs (with the allowances in <see cref="VRDifference"/>), the VM, the value bytes (pydicom's raw
/// bytes of a big endian data set are swapped to little endian as ours are), and for text VRs the strings
/// pydicom decoded against ours put through pydicom's stripping rules (<see cref="PydicomText"/>).</summary>
public sealed class PydicomComparison
{
    private readonly List<string> _differences = [];
    private readonly bool _skipCharsetDependentText;

    private PydicomComparison(bool skipCharsetDependentText) => _skipCharsetDependentText = skipCharsetDependentText;

    /// <summary>Every difference, one line each with the element's path; empty when the readings agree.</summary>
    public static async Task<List<string>> CompareAsync(DicomFile ours, PydicomFile theirs, bool skipCharsetDependentText = false)
    {
        var c = new PydicomComparison(skipCharsetDependentText);
        await c.CompareDatasetAsync("meta:", ours.FileMetaInformation, theirs.Meta);
        await c.CompareDatasetAsync("", ours.Dataset, theirs.Dataset);
        return c._differences;
    }

    /// <summary>Compares one data set and everything in it, without File Meta Information.</summary>
    public static async Task<List<string>> CompareDatasetAsync(DicomDataset ours, List<PydicomElement> theirs)
    {
        var c = new PydicomComparison(false);
        await c.CompareDatasetAsync("", ours, theirs);
        return c._differences;
    }

    /// <summary>pydicom's elements without those at <paramref name="tag"/>, at any depth.</summary>
    public static List<PydicomElement> Without(List<PydicomElement> elements, DicomTag tag) =>
        [.. elements.Where(e => e.Tag != tag).Select(e => e.Items is null ? e : e with { Items = [.. e.Items.Select(i => Without(i, tag))] })];

    private async Task CompareDatasetAsync(string path, DicomDataset ours, List<PydicomElement> theirs)
    {
        var byTag = new Dictionary<DicomTag, PydicomElement>();
        foreach (var t in theirs) byTag[t.Tag] = t;
        foreach (var item in ours)
            if (!byTag.ContainsKey(item.Tag))
                _differences.Add($"{path}{item.Tag}: read by us ({item.VR.ToText()}), not by pydicom");
        foreach (var t in theirs)
        {
            if (!ours.TryGetItem(t.Tag, out var item))
            {
                _differences.Add($"{path}{t.Tag}: read by pydicom ({t.Vr}), not by us");
                continue;
            }
            await CompareItemAsync($"{path}{t.Tag}", item, t, ours);
        }
    }

    private async Task CompareItemAsync(string path, DicomItem ours, PydicomElement theirs, DicomDataset parent)
    {
        if (VRDifference(ours.VR, theirs) is { } vrProblem)
            _differences.Add($"{path}: VR {ours.VR.ToText()} but pydicom has {theirs.Vr} (encoded {theirs.RawVr ?? "implicitly"}): {vrProblem}");

        switch (ours)
        {
            case DicomSequence sq:
                if (theirs.Items is null)
                {
                    _differences.Add($"{path}: we read a sequence of {sq.Items.Count} items, pydicom a value of VR {theirs.Vr}");
                    return;
                }
                if (theirs.Vm is { } vm && vm != sq.Items.Count)
                    _differences.Add($"{path}: VM {sq.Items.Count}, pydicom {vm}");
                if (sq.Items.Count != theirs.Items.Count)
                {
                    _differences.Add($"{path}: {sq.Items.Count} items, pydicom {theirs.Items.Count}");
                    return;
                }
                for (int i = 0; i < sq.Items.Count; i++)
                    await CompareDatasetAsync($"{path}[{i}]/", sq.Items[i], theirs.Items[i]);
                return;

            case DicomFragmentSequence f:
                await CompareFragmentsAsync(path, f, theirs);
                return;

            case DicomElement e:
                await CompareElementAsync(path, e, theirs, parent);
                return;
        }
    }

    private async Task CompareFragmentsAsync(string path, DicomFragmentSequence ours, PydicomElement theirs)
    {
        if (theirs.Pixel?.Fragments is not { } fragments || theirs.Pixel.OffsetTable is not { } bot)
        {
            _differences.Add($"{path}: we read encapsulated pixel data, pydicom did not");
            return;
        }
        if (theirs.Pixel.FragmentsError is { } error)
            _differences.Add($"{path}: pydicom could not split the fragments: {error}");
        var table = (await ours.OffsetTable.GetBytesAsync()).ToArray();
        if (table.Length != bot.Length || Sha(table) != bot.Sha256)
            _differences.Add($"{path}: Basic Offset Table of {table.Length} bytes differs from pydicom's ({bot.Length} bytes)");
        if (ours.Fragments.Count != fragments.Count)
        {
            _differences.Add($"{path}: {ours.Fragments.Count} fragments, pydicom {fragments.Count}");
            return;
        }
        for (int i = 0; i < fragments.Count; i++)
        {
            var bytes = (await ours.Fragments[i].GetBytesAsync()).ToArray();
            if (bytes.Length != fragments[i].Length || Sha(bytes) != fragments[i].Sha256)
                _differences.Add($"{path}: fragment {i} of {bytes.Length} bytes differs from pydicom's ({fragments[i].Length} bytes)");
        }
    }

    private async Task CompareElementAsync(string path, DicomElement ours, PydicomElement theirs, DicomDataset parent)
    {
        var bytes = (await ours.Value.GetBytesAsync()).ToArray();
        if (theirs.Items is not null)
        {
            if (ours.VR == DicomVR.UN && await DatasetComparer.DecodeSequenceAsync(ours.Tag, bytes, parent) is { } sequence)
            {
                // pydicom decodes a UN value whose tag its dictionary knows as SQ (replace_un_with_known_vr) as a
                // sequence in implicit VR little endian (PS3.5 §6.2.2 Note 3); we keep the value as encoded.
                // Decoding our bytes the same way must give pydicom's items.
                await CompareItemAsync(path + "(UN as SQ)", sequence, theirs with { Vr = "SQ" }, parent);
                return;
            }
            _differences.Add($"{path}: we read a {ours.VR.ToText()} value of {bytes.Length} bytes, pydicom a sequence of {theirs.Items.Count} items");
            return;
        }
        if (theirs.Pixel is { } pixel)
        {
            if (pixel.Fragments is not null)
                _differences.Add($"{path}: pydicom read encapsulated pixel data, we a native value");
            else if (bytes.Length != pixel.Length || Sha(bytes) != pixel.Sha256Le)
                _differences.Add($"{path}: pixel data of {bytes.Length} bytes differs from pydicom's ({pixel.Length} bytes)");
        }
        else if (theirs.Bytes is { } raw)
        {
            var expected = raw;
            if (!theirs.Le)
            {
                expected = (byte[])raw.Clone();
                ByteSwap.ToLittleEndian(expected, ParseVR(theirs.RawVr ?? theirs.Vr, ours.VR).UnitSize());
            }
            // An element pydicom had already converted was encoded again by the dump script, with its own
            // padding: for those only the padding may differ.
            bool equal = theirs.Converted ? DatasetComparer.EqualIgnoringPadding(bytes, expected) : bytes.AsSpan().SequenceEqual(expected);
            if (!equal)
                _differences.Add($"{path}: value {Show(bytes)} but pydicom read {Show(expected)}");
        }

        // Value semantics (text rules, VM) follow the VR pydicom settled on, where it settled on one.
        var vr = ParseVR(theirs.Vr, ours.VR);
        if (theirs.Error is not null)
            return; // pydicom could not convert the value: only the bytes compare
        if (theirs.Text is { } text && vr.IsString())
        {
            if (!(_skipCharsetDependentText && vr.IsCharacterSetDependent()))
            {
                var ourText = PydicomText.Values(bytes, vr, parent.CharacterSet);
                if (!ourText.SequenceEqual(text, StringComparer.Ordinal))
                    _differences.Add($"{path}: text [{Quote(ourText)}] but pydicom [{Quote(text)}]");
            }
        }
        if (theirs.Vm is { } vm)
        {
            int ourVm = ValueMultiplicity(bytes, vr, parent.CharacterSet);
            if (ourVm != vm)
                _differences.Add($"{path}: VM {ourVm}, pydicom {vm}");
        }
    }

    /// <summary>Null when our VR agrees with pydicom's; otherwise why not. Allowed differences:
    /// <list type="bullet">
    /// <item>pydicom could not settle an ambiguous VR ("US or SS", "OB or OW") and ours is one of them;</item>
    /// <item>the element is explicit VR and ours is the VR as encoded: pydicom replaces an encoded UN by the
    /// dictionary's VR (config.replace_un_with_known_vr) or its private dictionary's, we keep what the file says;</item>
    /// <item>ours is UN, encoded as UN or implicit (pydicom also says the encoded VR is unknown when it converted
    /// the element while reading): pydicom found a VR in its dictionaries, where we have no entry (private tags:
    /// we have no private dictionary, PS3.5 §6.2.2 makes them UN) or keep the encoded UN;</item>
    /// <item>the dictionary VR is ambiguous and ours is one of its choices: the choice depends on elements
    /// (Pixel Representation) that pydicom also looks for in enclosing data sets, we only at the top level
    /// of group 0028.</item>
    /// </list></summary>
    private static string? VRDifference(DicomVR ours, PydicomElement theirs)
    {
        string text = ours.ToText();
        if (theirs.Vr is null || theirs.Vr == text) return null;
        if (Alternatives(theirs.Vr).Contains(text)) return null;
        if (theirs.RawVr is not null && theirs.RawVr == text) return null;
        if (ours == DicomVR.UN && theirs.RawVr is null or "UN") return null;
        if (theirs.DictVr is not null && Alternatives(theirs.DictVr).Contains(text) && Alternatives(theirs.DictVr).Contains(theirs.Vr)) return null;
        return "no allowance applies";
    }

    private static string[] Alternatives(string vr) => vr.Split(" or ", StringSplitOptions.TrimEntries);

    private static DicomVR ParseVR(string? text, DicomVR fallback) =>
        text is not null && DicomVRInfo.TryParse(text, out var vr) ? vr : fallback;

    /// <summary>pydicom's DataElement.VM: a str/bytes/PersonName value counts 1 unless empty, a list its length,
    /// a number 1.</summary>
    public static int ValueMultiplicity(ReadOnlySpan<byte> bytes, DicomVR vr, DicomCharacterSet characterSet)
    {
        if (bytes.Length == 0) return 0;
        if (vr.IsString())
        {
            var values = PydicomText.Values(bytes, vr, characterSet);
            return values.Count == 1 ? (values[0].Length > 0 ? 1 : 0) : values.Count;
        }
        if (vr is DicomVR.OB or DicomVR.OW or DicomVR.OD or DicomVR.OF or DicomVR.OL or DicomVR.OV or DicomVR.UN)
            return 1;
        int unit = vr == DicomVR.AT ? 4 : vr.UnitSize();
        return bytes.Length / unit;
    }

    private static string Sha(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    private static string Show(byte[] b) =>
        b.Length <= 32 ? $"[{Convert.ToHexString(b)}]" : $"[{b.Length} bytes {Convert.ToHexString(b, 0, 16)}…]";

    private static string Quote(IEnumerable<string> values) => string.Join(", ", values.Select(v => $"\"{v}\""));
}
