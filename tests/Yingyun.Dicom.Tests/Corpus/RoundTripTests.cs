using System.Runtime.ExceptionServices;
using Yingyun.Dicom.Tests.Support;

namespace Yingyun.Dicom.Tests.Corpus;

/// <summary>Writes every corpus file, as we read it, in each uncompressed syntax (native pixel data) or in its own
/// syntax (encapsulated pixel data) into a temporary directory, and runs DCMTK's dcmdump once over all originals
/// and once over all written files: dcmdump costs about a tenth of a second per process here, so one process per
/// file would make this the slowest test of the suite by far.</summary>
public sealed class RoundTripFixture : IAsyncLifetime
{
    public sealed record Written(DicomTransferSyntax Syntax, string Path, byte[] Bytes);

    public sealed class Entry
    {
        public DicomFile? Original { get; set; }
        public ExceptionDispatchInfo? Error { get; set; }
        public List<Written> Files { get; } = [];
    }

    public string Directory { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "yingyun-roundtrip-" + Guid.NewGuid().ToString("N"));
    public Dictionary<string, Entry> Entries { get; } = new(StringComparer.Ordinal);

    /// <summary>dcmdump's element count of each original it can parse; null where it gives up.</summary>
    public Dictionary<string, int?> OriginalCounts { get; } = new(StringComparer.Ordinal);

    /// <summary>dcmdump's output for each written file.</summary>
    public Dictionary<string, Dcmtk.DumpResult> Dumps { get; } = new(StringComparer.Ordinal);

    /// <summary>dcmdump's "E:" lines and exit code for each written file (an exit code other than 0 for the whole run
    /// means some file failed; each written file is then dumped alone to know which).</summary>
    public Dictionary<string, (int ExitCode, string[] Errors)> DumpErrors { get; } = new(StringComparer.Ordinal);

    public async Task InitializeAsync()
    {
        System.IO.Directory.CreateDirectory(Directory);
        int n = 0;
        foreach (var name in CorpusFiles.All)
        {
            var entry = new Entry();
            Entries[name] = entry;
            try
            {
                var original = await DicomReader.OpenAsync(CorpusFiles.FullPath(name));
                entry.Original = original;
                bool encapsulated = original.Dataset[DicomTag.PixelDataTag] is DicomFragmentSequence;
                foreach (var syntax in encapsulated ? [original.TransferSyntax] : DicomTransferSyntax.Uncompressed)
                {
                    var ms = new MemoryStream();
                    await DicomWriter.WriteFileAsync(ms, original, syntax);
                    string path = System.IO.Path.Combine(Directory, $"{n++}.dcm");
                    await File.WriteAllBytesAsync(path, ms.ToArray());
                    entry.Files.Add(new Written(syntax, path, ms.ToArray()));
                }
            }
            catch (Exception e)
            {
                entry.Error = ExceptionDispatchInfo.Capture(e);
            }
        }

        var (_, originalErrors, originals) = Dcmtk.Dump([.. CorpusFiles.All.Select(CorpusFiles.FullPath)]);
        foreach (var f in originals)
        {
            // dcmdump names the file it gave up on ("... reading file: PATH"); its partial dump does not count.
            bool failed = originalErrors.Contains($"reading file: {f.Path}\n", StringComparison.Ordinal)
                || !f.Output.Contains("# Dicom-Data-Set", StringComparison.Ordinal);
            OriginalCounts[f.Path] = failed ? null : f.DataSetElementCount;
        }

        var written = Entries.Values.SelectMany(e => e.Files).Select(f => f.Path).ToList();
        var (exitCode, errors, dumps) = Dcmtk.Dump(written);
        foreach (var d in dumps) Dumps[d.Path] = d;
        bool clean = exitCode == 0 && !Dcmtk.ErrorLines(errors).Any();
        foreach (var path in written)
        {
            if (clean)
            {
                DumpErrors[path] = (0, []);
                continue;
            }
            var (code, alone, _) = Dcmtk.Dump([path]);
            DumpErrors[path] = (code, [.. Dcmtk.ErrorLines(alone)]);
        }
    }

    public Task DisposeAsync()
    {
        System.IO.Directory.Delete(Directory, recursive: true);
        return Task.CompletedTask;
    }
}

/// <summary>Every corpus file, as we read it, written in each uncompressed syntax (native pixel data) or in its
/// own syntax (encapsulated pixel data), read back from memory and from a file, equals what was written
/// (<see cref="DatasetComparer"/>); DCMTK's dcmdump parses every file we wrote without error, and sees as many
/// elements in our big endian and deflated copies as in the original.</summary>
public class RoundTripTests(RoundTripFixture fixture) : IClassFixture<RoundTripFixture>
{
    /// <summary>Read-back from a file leaves values over this many bytes on disk as references, so that the
    /// comparison also goes through <see cref="BulkDataReference"/>.</summary>
    private static readonly DicomReaderOptions SmallBulkData = new() { BulkDataThreshold = 256 };

    [Theory]
    [MemberData(nameof(CorpusFiles.Everything), MemberType = typeof(CorpusFiles))]
    public async Task Writes_and_reads_back_equal(string file)
    {
        var entry = fixture.Entries[file];
        entry.Error?.Throw();
        var original = entry.Original!;
        entry.Files.Should().NotBeEmpty();

        foreach (var (syntax, path, bytes) in entry.Files)
        {
            var fromMemory = await DicomReader.ReadAsync(new MemoryStream(bytes));
            var fromFile = await DicomReader.OpenAsync(path, SmallBulkData);
            foreach (var (how, back) in new[] { ("memory", fromMemory), ("file", fromFile) })
            {
                string context = $"{file} written as {syntax.Name}, read back from {how}";
                back.Problems.Should().BeEmpty($"{context}: we write clean files");
                back.TransferSyntax.Should().Be(syntax, context);
                MetaUid(back, 0x0010).Should().Be(syntax.Uid, context);
                var differences = await DatasetComparer.CompareAsync(original.Dataset, back.Dataset, syntax);
                differences.Should().BeEmpty($"{context}:\n{string.Join('\n', differences.Take(30))}");
            }

            var (exitCode, errors) = fixture.DumpErrors[path];
            errors.Should().BeEmpty($"dcmdump parses what we wrote from {file} as {syntax.Name}");
            exitCode.Should().Be(0, $"dcmdump parses what we wrote from {file} as {syntax.Name}");

            // Big endian and deflated are where a writer most easily goes wrong unnoticed by its own reader:
            // DCMTK must see as many elements there as in the original (where it can parse the original).
            if ((syntax.IsBigEndian || syntax.IsDeflated) && fixture.OriginalCounts[CorpusFiles.FullPath(file)] is { } expected)
                fixture.Dumps[path].DataSetElementCount.Should().Be(expected, $"dcmdump counts the same elements in {file} and in our {syntax.Name} copy");
        }
    }

    /// <summary>The element counts compared above are not vacuous: DCMTK parses most originals.</summary>
    [Fact]
    public void Dcmtk_parses_most_originals()
    {
        fixture.OriginalCounts.Should().HaveCount(CorpusFiles.All.Count);
        fixture.OriginalCounts.Values.Count(c => c is > 0).Should().BeGreaterThan(CorpusFiles.All.Count - 10);
        fixture.OriginalCounts[CorpusFiles.FullPath("test_files/MR_truncated.dcm")].Should().BeNull();
    }

    private static string? MetaUid(DicomFile f, ushort element) =>
        f.FileMetaInformation.TryGetElement(new DicomTag(0x0002, element), out var e)
            ? System.Text.Encoding.ASCII.GetString(e.Span).TrimEnd('\0', ' ')
            : null;
}
