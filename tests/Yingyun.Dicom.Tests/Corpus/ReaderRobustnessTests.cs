using Yingyun.Dicom.Fuzz;
using System.Buffers.Binary;
using CsCheck;

namespace Yingyun.Dicom.Tests.Corpus;

/// <summary>Hostile and damaged input: the reader returns (with problems) or throws <see cref="DicomReadException"/>,
/// never another exception, never allocates what a length field claims without the bytes being there, and never
/// overflows the stack.</summary>
public class ReaderRobustnessTests
{
    /// <summary>A hang would otherwise hang the whole test run; this turns it into a failure. It is a watchdog,
    /// not a measure: a file of this corpus reads in milliseconds.</summary>
    private static readonly TimeSpan Watchdog = TimeSpan.FromMinutes(2);

    // ---- lengths that lie ------------------------------------------------------------------

    private static byte[] ExplicitElement(ushort group, ushort element, string vr, uint length, int bytesThatFollow)
    {
        var b = new byte[12 + bytesThatFollow];
        BinaryPrimitives.WriteUInt16LittleEndian(b, group);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(2), element);
        b[4] = (byte)vr[0];
        b[5] = (byte)vr[1];
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(8), length);
        return b;
    }

    private static readonly DicomReaderOptions Explicit = new() { TransferSyntax = DicomTransferSyntax.ExplicitVRLittleEndian };

    public static TheoryData<string, uint> LyingLengths => new()
    {
        { "OB", 0xFFFFFFF0 },  // 4 GB
        { "UT", 0xFFFFFFF0 },
        { "OW", 0x7FFFFFFF },  // 2 GB
        { "OB", 0x1F000000 },  // 496 MB: under the in-memory limit, so only the bytes that arrive may be buffered
    };

    [Theory]
    [MemberData(nameof(LyingLengths))]
    public async Task A_huge_declared_length_in_a_small_input_fails_fast_with_a_problem(string vr, uint length)
    {
        var bytes = ExplicitElement(0x0009, 0x1010, vr, length, 100);

        foreach (var (how, read) in Readers(bytes, Explicit))
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            var file = await read();
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

            // (An odd length is also noted, as a problem that is not fatal.)
            var problem = file.Problems.Should().ContainSingle(p => p.IsFatal, $"read from {how}").Subject;
            problem.Offset.Should().Be(0);
            problem.Tag.Should().Be(new DicomTag(0x0009, 0x1010));
            problem.Message.Should().Contain(length.ToString(System.Globalization.CultureInfo.InvariantCulture));
            file.Dataset.Count.Should().Be(0, "a value cut short is not kept");
            // Readers over memory and over a synchronously completing stream run on this thread, so this counts
            // everything they allocated: a few buffers, nothing near the declared length.
            allocated.Should().BeLessThan(8 << 20, $"reading from {how} must not allocate the declared {length} bytes");
        }
    }

    [Fact]
    public async Task Huge_sequence_item_and_fragment_lengths_are_reported_not_allocated()
    {
        // A defined-length sequence of 4 GB holding an item of 4 GB holding one short element.
        var seq = ExplicitElement(0x0008, 0x1115, "SQ", 0xFFFFFFF0, 0);
        var item = new byte[8];
        BinaryPrimitives.WriteUInt16LittleEndian(item, 0xFFFE);
        BinaryPrimitives.WriteUInt16LittleEndian(item.AsSpan(2), 0xE000);
        BinaryPrimitives.WriteUInt32LittleEndian(item.AsSpan(4), 0xFFFFFFF0);
        var cs = new byte[] { 0x08, 0x00, 0x60, 0x00, (byte)'C', (byte)'S', 2, 0, (byte)'C', (byte)'T' };
        byte[] sequenceBomb = [.. seq, .. item, .. cs];

        // Encapsulated pixel data whose second fragment claims 4 GB.
        var pixel = ExplicitElement(0x7FE0, 0x0010, "OB", 0xFFFFFFFF, 0);
        var bot = new byte[] { 0xFE, 0xFF, 0x00, 0xE0, 0, 0, 0, 0 };
        var fragment = new byte[] { 0xFE, 0xFF, 0x00, 0xE0, 0xF0, 0xFF, 0xFF, 0xFF, 1, 2, 3, 4 };
        byte[] fragmentBomb = [.. pixel, .. bot, .. fragment];

        foreach (var (how, read) in Readers(sequenceBomb, Explicit))
        {
            var file = await read();
            if (how == "non-seekable stream")
                file.Problems.Should().Contain(p => p.Message.Contains("data ends inside a sequence", StringComparison.Ordinal), "a stream of unknown length finds out at its end");
            else
                file.Problems.Should().Contain(p => p.Tag == new DicomTag(0x0008, 0x1115) && p.Message.Contains("4294967280", StringComparison.Ordinal), how);
            var sq = file.Dataset[new DicomTag(0x0008, 0x1115)].Should().BeOfType<DicomSequence>(how).Subject;
            sq.Items.Should().ContainSingle(how).Which.Contains(new DicomTag(0x0008, 0x0060)).Should().BeTrue(how);
        }
        foreach (var (how, read) in Readers(fragmentBomb, Explicit))
        {
            var file = await read();
            file.Problems.Should().Contain(p => p.IsFatal && p.Tag == DicomTag.Item && p.Offset == 20, how);
        }
    }

    /// <summary>The same bytes through each entry point: memory, a non-seekable stream, a seekable stream and a file.</summary>
    private static IEnumerable<(string How, Func<Task<DicomFile>> Read)> Readers(byte[] bytes, DicomReaderOptions options)
    {
        yield return ("memory", () => Task.FromResult(DicomReader.Read(bytes, options)));
        yield return ("non-seekable stream", () => DicomReader.ReadAsync(new NonSeekableStream(bytes), options));
        yield return ("memory stream", () => DicomReader.ReadAsync(new MemoryStream(bytes), options));
        yield return ("file", async () =>
        {
            string path = Path.GetTempFileName();
            try
            {
                await File.WriteAllBytesAsync(path, bytes);
                return await DicomReader.OpenAsync(path, options);
            }
            finally
            {
                File.Delete(path);
            }
        });
    }

    // ---- damage everywhere -------------------------------------------------------------------

    /// <summary>Each corpus file cut at 50 random places (the same places every run): reading returns or throws
    /// <see cref="DicomReadException"/>; what it returns after the File Meta Information holds no element the whole
    /// file does not have (a cut never makes up elements).</summary>
    [Theory]
    [MemberData(nameof(CorpusFiles.Everything), MemberType = typeof(CorpusFiles))]
    public async Task Truncated_anywhere_reads_or_throws_DicomReadException(string file)
    {
        var bytes = await File.ReadAllBytesAsync(CorpusFiles.FullPath(file));
        var whole = DicomReader.Read(bytes);
        var wholeTags = AllTags(whole.Dataset);
        var random = new Random(StableSeed(file));

        await Task.Run(async () =>
        {
            for (int i = 0; i < 50; i++)
            {
                int cut = random.Next(bytes.Length);
                var prefix = bytes.AsMemory(0, cut);
                var fromMemory = ReadOrNull(() => DicomReader.Read(prefix), $"{file} cut at {cut}");
                if (fromMemory is not null && fromMemory.TransferSyntax == whole.TransferSyntax && fromMemory.FileMetaInformation.Count == whole.FileMetaInformation.Count)
                    AllTags(fromMemory.Dataset).Should().BeSubsetOf(wholeTags, $"{file} cut at {cut}");
                if (i % 10 == 0)
                {
                    // The stream reader has its own buffer refills and end-of-data paths.
                    try { await DicomReader.ReadAsync(new NonSeekableStream(prefix.ToArray(), chunk: 1000)); }
                    catch (DicomReadException) { }
                }
            }
        }).WaitAsync(Watchdog);
    }

    /// <summary>Each corpus file with 1 to 4 random bytes replaced, 30 times (the same way every run): reading
    /// returns or throws <see cref="DicomReadException"/>, and what it returns the writer can write.</summary>
    [Theory]
    [MemberData(nameof(CorpusFiles.Everything), MemberType = typeof(CorpusFiles))]
    public async Task Random_byte_flips_read_or_throw_DicomReadException(string file)
    {
        var original = await File.ReadAllBytesAsync(CorpusFiles.FullPath(file));
        var random = new Random(StableSeed(file) ^ 0x5EED);

        await Task.Run(async () =>
        {
            for (int i = 0; i < 30; i++)
            {
                var bytes = (byte[])original.Clone();
                int flips = random.Next(1, 5);
                var at = new List<int>();
                for (int f = 0; f < flips; f++)
                {
                    // Half of the flips land in the first 1 KiB, where the headers and the File Meta Information are.
                    int pos = random.Next(2) == 0 ? random.Next(Math.Min(1024, bytes.Length)) : random.Next(bytes.Length);
                    bytes[pos] = (byte)random.Next(256);
                    at.Add(pos);
                }
                string context = $"{file} with bytes changed at {string.Join(", ", at)}";
                var read = ReadOrNull(() => DicomReader.Read(bytes), context);
                if (i % 5 == 0)
                {
                    // A seekable stream whose long values stay behind as references (the path files take).
                    var options = new DicomReaderOptions { BulkDataThreshold = 256, BulkDataSource = new MemoryBulkDataSource(bytes) };
                    ReadOrNull(() => DicomReader.ReadAsync(new MemoryStream(bytes), options).GetAwaiter().GetResult(), context + " (references)");
                }
                if (read is null || read.Dataset[DicomTag.PixelDataTag] is DicomFragmentSequence) continue;
                try
                {
                    await DicomWriter.WriteFileAsync(Stream.Null, read, DicomTransferSyntax.ExplicitVRLittleEndian);
                }
                catch (Exception e)
                {
                    throw new InvalidOperationException($"{context}: the writer could not write what the reader returned", e);
                }
            }
        }).WaitAsync(Watchdog);
    }

    /// <summary>Random bytes, bare or behind a valid preamble, "DICM" and File Meta Information in each uncompressed
    /// syntax: reading returns or throws <see cref="DicomReadException"/>.</summary>
    [Fact]
    public void Random_bytes_read_or_throw_DicomReadException()
    {
        var syntaxes = DicomTransferSyntax.Uncompressed;
        var headers = syntaxes.Select(ts =>
        {
            var ms = new MemoryStream();
            DicomWriter.WriteFileAsync(ms, new DicomFile(new DicomDataset(), new DicomDataset()), ts).GetAwaiter().GetResult();
            return ms.ToArray();
        }).ToArray();
        var gen = Gen.Select(Gen.Int[-1, headers.Length - 1], Gen.Byte.Array[0, 600]);
        gen.Sample((header, garbage) =>
        {
            byte[] bytes = header < 0 ? garbage : [.. headers[header], .. garbage];
            ReadOrNull(() => DicomReader.Read(bytes), $"{bytes.Length} bytes: {Convert.ToHexString(bytes)}");
            try { DicomReader.ReadAsync(new NonSeekableStream(bytes, chunk: 7)).GetAwaiter().GetResult(); }
            catch (DicomReadException) { }
        }, iter: 2000);
    }

    private static DicomFile? ReadOrNull(Func<DicomFile> read, string context)
    {
        try
        {
            return read();
        }
        catch (DicomReadException)
        {
            return null;
        }
        catch (Exception e)
        {
            throw new InvalidOperationException($"{context}: {e.GetType().Name} instead of a DicomReadException or problems", e);
        }
    }

    private static HashSet<DicomTag> AllTags(DicomDataset ds) => [.. ds.Select(i => i.Tag)];

    /// <summary>A seed from the file name that is the same in every run (string.GetHashCode is not).</summary>
    private static int StableSeed(string s)
    {
        uint h = 2166136261;
        foreach (char c in s) h = (h ^ c) * 16777619;
        return (int)h;
    }
}
