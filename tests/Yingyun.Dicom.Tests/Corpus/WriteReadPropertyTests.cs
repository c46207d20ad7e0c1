using System.Text;
using CsCheck;
using Yingyun.Dicom.Tests.Support;

namespace Yingyun.Dicom.Tests.Corpus;

/// <summary>Generated data sets (dictionary elements of every VR, private creators and their elements, sequences
/// nested 0-3 levels, empty values, odd lengths) written in every uncompressed syntax, with undefined and with
/// defined sequence lengths, read back equal (<see cref="DatasetComparer"/>) and without problems.</summary>
public class WriteReadPropertyTests
{
    /// <summary>A generated element, before it becomes a <see cref="DicomItem"/>: printable, so that CsCheck can
    /// show the smallest failing case.</summary>
    public sealed record Spec(DicomTag Tag, DicomVR VR, byte[] Value, List<List<Spec>>? Items)
    {
        public override string ToString() => Items is null
            ? $"{Tag} {VR.ToText()} [{Convert.ToHexString(Value)}]"
            : $"{Tag} SQ {{{string.Join(" | ", Items.Select(i => string.Join(", ", i)))}}}";
    }

    // Dictionary elements that can stand anywhere in a data set: not File Meta Information (group 0002, read as meta
    // when first), not group lengths, not command fields, not Specific Character Set (it would only change how
    // text is decoded, which nothing here does), not item tags.
    private static readonly DicomDictionaryEntry[] Leaves = [.. DicomDictionary.Entries.Where(e =>
        e.Mask == 0xFFFFFFFF && e.VR is not (DicomVR.None or DicomVR.SQ) && e.Tag.Group is > 0x0002 and < 0xFFFE
        && !e.Tag.IsGroupLength && e.Tag != DicomTag.SpecificCharacterSetTag)];

    private static readonly DicomDictionaryEntry[] Sequences = [.. DicomDictionary.Entries.Where(e =>
        e.Mask == 0xFFFFFFFF && e.VR == DicomVR.SQ && e.Tag.Group > 0x0002)];

    private static readonly DicomVR[] PrivateVRs = [.. Enum.GetValues<DicomVR>().Where(v => v is not (DicomVR.None or DicomVR.SQ))];

    private static readonly byte[] TextCharacters = Encoding.ASCII.GetBytes("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 ^=-_.,:/()\\");

    /// <summary>Bytes of a valid length for <paramref name="vr"/>: whole units for binary numbers, within the VR's
    /// maximum for text; empty one time in ten; odd lengths where the VR allows them (they are padded).</summary>
    private static Gen<byte[]> ValueOf(DicomVR vr)
    {
        int unit = vr == DicomVR.AT ? 4 : vr.UnitSize();
        Gen<byte[]> gen;
        if (vr.IsString())
        {
            int max = vr.MaxLength() is > 0 and var m ? Math.Min(m, 80) : 300;
            var chars = vr == DicomVR.UI ? Encoding.ASCII.GetBytes("0123456789.") : TextCharacters;
            gen = Gen.Int[0, chars.Length - 1].Select(i => chars[i]).Array[0, max];
        }
        else if (unit > 1)
        {
            gen = Gen.Int[0, 12].SelectMany(n => Gen.Byte.Array[n * unit]);
        }
        else
        {
            gen = Gen.Byte.Array[0, 120]; // OB, UN: any length
        }
        return Gen.Frequency((1, Gen.Const(Array.Empty<byte>())), (9, gen));
    }

    private static Gen<Spec> Leaf => Gen.Int[0, Leaves.Length - 1].SelectMany(i =>
    {
        var entry = Leaves[i];
        return Gen.Int[0, entry.ValueRepresentations.Count - 1].SelectMany(v =>
        {
            var vr = entry.ValueRepresentations[v];
            return ValueOf(vr).Select(value => new Spec(entry.Tag, vr, value, null));
        });
    });

    /// <summary>A private block: its creator (gggg,00xx) and elements (gggg,xxyy) of any VR.</summary>
    private static Gen<List<Spec>> PrivateBlock(Gen<Spec> sequence) =>
        Gen.Select(Gen.Int[0, 0x7F], Gen.Int[0x10, 0xFF], Gen.Int[0, 9999], (g, block, name) =>
        {
            ushort group = (ushort)(0x0009 + 2 * g);
            return (group, (ushort)block, $"YINGYUN TEST {name}");
        }).SelectMany(b =>
        {
            var creator = new Spec(new DicomTag(b.group, b.Item2), DicomVR.LO, Encoding.ASCII.GetBytes(b.Item3), null);
            var element = Gen.Select(Gen.Int[0, 0xFF], Gen.Int[0, PrivateVRs.Length - 1], (e, v) => (e, v))
                .SelectMany(x => ValueOf(PrivateVRs[x.v]).Select(value =>
                    new Spec(new DicomTag(b.group, (ushort)((b.Item2 << 8) | x.e)), PrivateVRs[x.v], value, null)));
            var privateSequence = sequence.Select(s => s with { Tag = new DicomTag(b.group, (ushort)((b.Item2 << 8) | (s.Tag.Element & 0xFF))) });
            return Gen.Frequency((4, element), (1, privateSequence)).List[0, 5].Select(list => (List<Spec>)[creator, .. list]);
        });

    /// <summary>A data set's elements, nested <paramref name="depth"/> levels deep at most.</summary>
    private static Gen<List<Spec>> DatasetSpec(int depth)
    {
        var sequence = depth == 0
            ? Leaf
            : Gen.Select(Gen.Int[0, Sequences.Length - 1], DatasetSpec(depth - 1).List[0, 3],
                (i, items) => new Spec(Sequences[i].Tag, DicomVR.SQ, [], items));
        var one = Gen.Frequency((6, Leaf.Select(l => (List<Spec>)[l])), (2, PrivateBlock(sequence)), (2, sequence.Select(s => (List<Spec>)[s])));
        return one.List[0, 6].Select(lists => lists.SelectMany(l => l).ToList());
    }

    private static DicomDataset Build(List<Spec> specs)
    {
        var ds = new DicomDataset();
        foreach (var s in specs)
            ds.AddOrUpdate(s.Items is null
                ? new DicomElement(s.Tag, s.VR, s.Value)
                : new DicomSequence(s.Tag, s.Items.Select(Build).ToList()));
        return ds;
    }

    private static readonly Gen<List<Spec>> Datasets = DatasetSpec(3);

    public static TheoryData<bool> SequenceLengths => new() { false, true };

    [Theory]
    [MemberData(nameof(SequenceLengths))]
    public void Generated_data_sets_round_trip_in_every_uncompressed_syntax(bool definedLengthSequences)
    {
        var writerOptions = new DicomWriterOptions { DefinedLengthSequences = definedLengthSequences };
        Datasets.Sample(specs =>
        {
            var ds = Build(specs);
            foreach (var syntax in DicomTransferSyntax.Uncompressed)
            {
                var file = new DicomFile(new DicomDataset(), ds);
                var ms = new MemoryStream();
                // MemoryStream and DeflateStream over it complete synchronously.
                DicomWriter.WriteFileAsync(ms, file, syntax, writerOptions).GetAwaiter().GetResult();
                var back = DicomReader.Read(ms.ToArray());

                string context = $"{syntax.Name}, {(definedLengthSequences ? "defined" : "undefined")} lengths";
                back.Problems.Should().BeEmpty(context);
                back.TransferSyntax.Should().Be(syntax);
                var differences = DatasetComparer.CompareAsync(ds, back.Dataset, syntax).GetAwaiter().GetResult();
                differences.Should().BeEmpty($"{context}:\n{string.Join('\n', differences.Take(20))}");

                // The bare data set, as DIMSE sends it.
                var bare = new MemoryStream();
                DicomWriter.WriteDatasetAsync(bare, ds, syntax, writerOptions).GetAwaiter().GetResult();
                var problems = new List<DicomReadProblem>();
                var bareBack = DicomReader.ReadDatasetAsync(new MemoryStream(bare.ToArray()), syntax, problems: problems).GetAwaiter().GetResult();
                problems.Should().BeEmpty($"bare {context}");
                DatasetComparer.CompareAsync(ds, bareBack, syntax).GetAwaiter().GetResult().Should().BeEmpty($"bare {context}");
            }
        }, iter: 300, print: s => string.Join("\n", s));
    }

    /// <summary>The generator makes what the round trip claims to cover.</summary>
    [Fact]
    public void The_generator_covers_nesting_private_blocks_empty_and_odd_values()
    {
        int deepest = 0, privateCreators = 0, privateSequences = 0, empty = 0, odd = 0, elements = 0;
        var vrs = new HashSet<DicomVR>();
        void Walk(List<Spec> specs, int depth)
        {
            deepest = Math.Max(deepest, depth);
            foreach (var s in specs)
            {
                elements++;
                vrs.Add(s.VR);
                if (s.Tag.IsPrivateCreator) privateCreators++;
                if (s.Items is { } items)
                {
                    if (s.Tag.IsPrivate) privateSequences++;
                    foreach (var i in items) Walk(i, depth + 1);
                    continue;
                }
                if (s.Value.Length == 0) empty++;
                if (s.Value.Length % 2 == 1) odd++;
            }
        }
        Datasets.Sample(specs => Walk(specs, 0), iter: 300, threads: 1);

        deepest.Should().Be(3);
        privateCreators.Should().BeGreaterThan(50);
        privateSequences.Should().BeGreaterThan(10);
        empty.Should().BeGreaterThan(50);
        odd.Should().BeGreaterThan(50);
        elements.Should().BeGreaterThan(2000);
        vrs.Should().HaveCount(PrivateVRs.Length + 1, "every VR, SQ included");
    }
}
