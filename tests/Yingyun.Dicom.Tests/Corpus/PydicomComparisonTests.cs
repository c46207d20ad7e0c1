using Yingyun.Dicom.Fuzz;
using Yingyun.Dicom.Tests.Support;

namespace Yingyun.Dicom.Tests.Corpus;

/// <summary>Every intact file of pydicom's corpus reads as pydicom reads it, element by element.</summary>
public class PydicomComparisonTests
{
    [Theory]
    [MemberData(nameof(CorpusFiles.Intact), MemberType = typeof(CorpusFiles))]
    public async Task Reads_like_pydicom(string file)
    {
        var theirs = CorpusFiles.PydicomDump(file);
        theirs.Ok.Should().BeTrue($"pydicom reads {file}: {theirs.Error}");

        var ours = await DicomReader.OpenAsync(CorpusFiles.FullPath(file));

        ours.Problems.Where(p => p.IsFatal).Should().BeEmpty($"{file} is intact");
        if (theirs.TransferSyntax is { } uid)
            ours.TransferSyntax.Uid.Should().Be(uid.TrimEnd('\0', ' '));
        (ours.Preamble is not null).Should().Be(theirs.Preamble, "pydicom and we agree whether there is a preamble");
        var differences = await PydicomComparison.CompareAsync(ours, theirs, CorpusFiles.PendingCharsetFiles.Contains(file));
        differences.Should().BeEmpty($"{file} should read as pydicom reads it:\n{string.Join('\n', differences.Take(40))}");
    }

    /// <summary>Reading from memory (slices, no copies) and from a file (large values left on disk) give the same
    /// data set.</summary>
    [Theory]
    [MemberData(nameof(CorpusFiles.Everything), MemberType = typeof(CorpusFiles))]
    public async Task Memory_stream_and_file_readings_agree(string file)
    {
        string path = CorpusFiles.FullPath(file);
        var bytes = await File.ReadAllBytesAsync(path);
        var fromFile = await DicomReader.OpenAsync(path);
        var fromMemory = DicomReader.Read(bytes);
        await using var stream = new NonSeekableStream(bytes);
        var fromStream = await DicomReader.ReadAsync(stream);

        foreach (var (name, other) in new[] { ("memory", fromMemory), ("non-seekable stream", fromStream) })
        {
            (await DatasetComparer.CompareAsync(fromFile.FileMetaInformation, other.FileMetaInformation)).Should().BeEmpty($"meta from {name}");
            var d = await DatasetComparer.CompareAsync(fromFile.Dataset, other.Dataset);
            d.Should().BeEmpty($"data set from {name}:\n{string.Join('\n', d.Take(20))}");
        }
        // A stream of unknown length cannot tell in advance that a length runs past the end, so only memory
        // reports the same problems in the same words.
        fromMemory.Problems.Select(p => p.ToString()).Should().Equal(fromFile.Problems.Select(p => p.ToString()));
        fromStream.Problems.Where(p => p.IsFatal).Select(p => (p.Offset, p.Tag))
            .Should().Equal(fromFile.Problems.Where(p => p.IsFatal).Select(p => (p.Offset, p.Tag)), "the stream stops where the file does");
    }
}
