using System.Security.Cryptography;
using Yingyun.Fuzz;

namespace Yingyun.Dicom.Fuzz;

/// <summary>
/// The fuzz target for the Part 10 reader, shared by the AFL harness (tests/fuzz) and the regression
/// tests (linked into Yingyun.Dicom.Tests). One run over an input:
/// <list type="number">
/// <item>reads it with <see cref="DicomReader.Read"/> (memory mode) and with <see cref="DicomReader.ReadAsync"/>
/// over a non-seekable stream that hands out small chunks (stream mode);</item>
/// <item>dumps the result with <see cref="DicomDump"/> to <see cref="TextWriter.Null"/>;</item>
/// <item>when the read was clean (no problems), writes it back with <see cref="DicomWriter.WriteFileAsync"/>
/// in its own transfer syntax to a <see cref="MemoryStream"/> and reads that again.</item>
/// </list>
/// Expected, and swallowed:
/// <list type="bullet">
/// <item><see cref="DicomReadException"/> from the first read: the reader's one way of saying "not DICOM";</item>
/// <item><see cref="InvalidOperationException"/> from the writer only where it documents a refusal, i.e. only
/// when <see cref="WriterMustRefuse"/> predicts one before the call: encapsulated Pixel Data (a fragment
/// sequence) into a native syntax, or native Pixel Data into an encapsulated syntax (both need a codec).</item>
/// </list>
/// Everything else is a crash: any other exception type anywhere; an <see cref="InvalidOperationException"/>
/// from the writer that was not predicted (e.g. its internal buffer checks, or a value left on disk); the
/// writer accepting what it documents refusing; and a broken invariant, thrown as <see cref="FuzzOracleException"/>:
/// memory and stream mode disagree (one throws, or the data sets differ, unless a deflated data set is
/// damaged), or the writer's output of a clean
/// read cannot be read back cleanly, as the same data set (group lengths aside) and with the same File Meta
/// Information elements (the writer rebuilds some of their values, never drops one).
/// </summary>
internal static class ReaderTarget
{
    /// <summary>What one run did, for replay reports.</summary>
    internal enum Outcome { NotDicom, ReadWithProblems, WriterRefused, RoundTripped }

    public static Outcome Run(ReadOnlyMemory<byte> input)
    {
        var fromMemory = ReadOrNull(() => DicomReader.Read(input));
        var fromStream = ReadOrNull(() => DicomReader.ReadAsync(new NonSeekableStream(input, ChunkSize(input.Length))).GetAwaiter().GetResult());
        if ((fromMemory is null) != (fromStream is null))
            throw new FuzzOracleException($"memory mode {(fromMemory is null ? "threw DicomReadException" : "read the input")} but stream mode {(fromStream is null ? "threw DicomReadException" : "read it")}");
        if (fromMemory is null || fromStream is null) return Outcome.NotDicom;

        DicomDump.Write(TextWriter.Null, fromMemory);
        DicomDump.Write(TextWriter.Null, fromStream);
        // A damaged deflate stream is the one exception: the inflater notices damage (or the reader stops at
        // garbage it produced) at a point that depends on how the compressed bytes arrive.
        bool damagedDeflate = fromMemory.TransferSyntax.IsDeflated && (fromMemory.Problems.Count > 0 || fromStream.Problems.Count > 0);
        string memoryShape = Shape(fromMemory), streamShape = Shape(fromStream);
        if (memoryShape != streamShape && !damagedDeflate)
            throw new FuzzOracleException($"memory and stream mode read different data sets:{Environment.NewLine}{FirstDifference(memoryShape, streamShape, "memory", "stream")}");

        if (fromMemory.Problems.Count > 0) return Outcome.ReadWithProblems;
        return RoundTrip(fromMemory);
    }

    /// <summary>The writer's documented refusals (DicomWriter.CheckCanWrite): Pixel Data whose form (native or
    /// encapsulated) does not match what the target syntax requires cannot be written without a codec.</summary>
    public static bool WriterMustRefuse(DicomFile file, DicomTransferSyntax syntax)
    {
        var ds = file.Dataset;
        bool encapsulated = ds.TryGetItem(DicomTag.PixelDataTag, out var pd) && pd is DicomFragmentSequence;
        if (encapsulated) return !syntax.IsEncapsulated;
        return syntax.IsEncapsulated && ds.Contains(DicomTag.PixelDataTag);
    }

    private static Outcome RoundTrip(DicomFile file)
    {
        bool mustRefuse = WriterMustRefuse(file, file.TransferSyntax);
        using var output = new MemoryStream();
        try
        {
            DicomWriter.WriteFileAsync(output, file).GetAwaiter().GetResult();
        }
        catch (InvalidOperationException) when (mustRefuse)
        {
            return Outcome.WriterRefused;
        }
        if (mustRefuse)
            throw new FuzzOracleException($"the writer wrote Pixel Data it documents refusing ({file.Dataset[DicomTag.PixelDataTag]?.GetType().Name} as {file.TransferSyntax.Name})");

        DicomFile again;
        try
        {
            again = DicomReader.Read(output.ToArray());
        }
        catch (DicomReadException e)
        {
            throw new FuzzOracleException("the writer's output of a clean read cannot be read back", e);
        }
        DicomDump.Write(TextWriter.Null, again);
        if (again.Problems.Count > 0)
            throw new FuzzOracleException($"the writer's output of a clean read reads back with problems: {again.Problems[0]}");
        string before = Canonical(file.Dataset), after = Canonical(again.Dataset);
        if (before != after)
            throw new FuzzOracleException($"the writer's output of a clean read reads back as a different data set:{Environment.NewLine}{FirstDifference(before, after, "read", "reread")}");
        foreach (var item in file.FileMetaInformation)
            if (item is DicomElement && !item.Tag.IsGroupLength && !again.FileMetaInformation.Contains(item.Tag))
                throw new FuzzOracleException($"the writer dropped File Meta Information element {item.Tag}");
        return Outcome.RoundTripped;
    }

    /// <summary>A data set as the writer promises to keep it: every item but group lengths (retired, PS3.5 §7.2,
    /// and not written outside group 0002), with tag, VR (OB for encapsulated Pixel Data), length and value.</summary>
    private static string Canonical(DicomDataset ds)
    {
        var sb = new System.Text.StringBuilder();
        Append(ds, 0);
        return sb.ToString();

        void Append(DicomDataset d, int depth)
        {
            foreach (var item in d)
            {
                if (item.Tag.IsGroupLength && item.Tag.Group != 0x0002) continue;
                // Encapsulated Pixel Data is always written as OB (PS3.5 §A.4), whatever VR it was read with.
                sb.Append(' ', depth * 2).Append(item.Tag).Append(' ').Append(item is DicomFragmentSequence ? "OB" : item.VR.ToText());
                switch (item)
                {
                    case DicomElement e:
                        sb.Append(' ').Append(e.Length).Append(' ').Append(Hash(e.Value)).Append('\n');
                        break;
                    case DicomSequence sq:
                        sb.Append(" items ").Append(sq.Items.Count).Append('\n');
                        foreach (var child in sq.Items)
                        {
                            sb.Append(' ', depth * 2 + 1).Append("item\n");
                            Append(child, depth + 1);
                        }
                        break;
                    case DicomFragmentSequence f:
                        sb.Append(" fragments ").Append(f.Fragments.Count).Append(' ').Append(Hash(f.OffsetTable));
                        foreach (var v in f.Fragments) sb.Append(' ').Append(v.Length).Append(':').Append(Hash(v));
                        sb.Append('\n');
                        break;
                }
            }
        }

        static string Hash(DicomValue v) => v.IsInMemory ? Convert.ToHexString(SHA256.HashData(v.Memory.Span))[..16] : "(on disk)";
    }

    private static DicomFile? ReadOrNull(Func<DicomFile> read)
    {
        try
        {
            return read();
        }
        catch (DicomReadException)
        {
            return null;
        }
    }

    /// <summary>Stream mode gets its bytes in chunks of 1 to 97 bytes, varying with the input, so that element
    /// headers and values straddle the reader's refills.</summary>
    internal static int ChunkSize(int length) => 1 + length % 97;

    /// <summary>Everything read except the problem list (whose wording may differ: only memory mode knows how
    /// many bytes remain).</summary>
    private static string Shape(DicomFile file)
    {
        using var w = new StringWriter();
        w.WriteLine(file.TransferSyntax.Uid);
        w.WriteLine(file.Preamble is null ? "no preamble" : Convert.ToHexString(SHA256.HashData(file.Preamble)));
        DicomDump.WriteDataset(w, file.FileMetaInformation, 0);
        w.WriteLine("--");
        DicomDump.WriteDataset(w, file.Dataset, 0);
        return w.ToString();
    }

    private static string FirstDifference(string a, string b, string nameA, string nameB)
    {
        var la = a.Split('\n');
        var lb = b.Split('\n');
        for (int i = 0; i < Math.Max(la.Length, lb.Length); i++)
        {
            string x = i < la.Length ? la[i].TrimEnd('\r') : "(end)", y = i < lb.Length ? lb[i].TrimEnd('\r') : "(end)";
            if (x != y) return $"  line {i + 1}{Environment.NewLine}  {nameA}: {x}{Environment.NewLine}  {nameB}: {y}";
        }
        return "  (no line differs)";
    }

    /// <summary>Name of a crash for grouping: the exception type and the first frame in Yingyun.Dicom.</summary>
    public static string Signature(Exception e) => CrashSignature.Of(e, "Yingyun.Dicom.");
}

/// <summary>Bytes in memory behind a stream that cannot seek, does not know its length, and returns at most
/// <c>chunk</c> bytes per read, like a network stream.</summary>
internal sealed class NonSeekableStream(ReadOnlyMemory<byte> data, int chunk = 4096) : ForwardOnlyReadStream
{
    private int _position;

    public override int Read(Span<byte> buffer)
    {
        int n = Math.Min(Math.Min(buffer.Length, chunk), data.Length - _position);
        data.Span.Slice(_position, n).CopyTo(buffer);
        _position += n;
        return n;
    }
}
