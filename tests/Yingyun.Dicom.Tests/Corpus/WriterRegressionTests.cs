using Yingyun.Dicom.Tests.Support;

namespace Yingyun.Dicom.Tests.Corpus;

/// <summary>Writer bugs found by the corpus tests, one regression test each.</summary>
public class WriterRegressionTests
{
    /// <summary>In explicit VR big endian, a value over 64 KiB of a VR with a 16-bit length field (US, FL, …) is
    /// written as UN, but its bytes were still swapped as US/FL: UN is a byte stream that no reader swaps (DCMTK
    /// keeps UN little endian, as ours does), so the value came back byte-reversed. Found while checking the
    /// round trip's UN allowance. The bytes of an element written as UN are now never swapped.</summary>
    [Theory]
    [InlineData("US", 2)]
    [InlineData("FL", 4)]
    [InlineData("FD", 8)]
    public async Task A_long_value_written_as_UN_in_big_endian_keeps_its_bytes(string vrText, int unit)
    {
        var vr = DicomVRInfo.Parse(vrText);
        var value = new byte[70_000 - 70_000 % unit];
        new Random(unit).NextBytes(value);
        var ds = new DicomDataset()
            .AddOrUpdate(new DicomElement(new DicomTag(0x0009, 0x0010), DicomVR.LO, "YINGYUN TEST"u8.ToArray()))
            .AddOrUpdate(new DicomElement(new DicomTag(0x0009, 0x1010), vr, value))
            .AddOrUpdate(new DicomElement(new DicomTag(0x0028, 0x0010), DicomVR.US, new byte[] { 0x34, 0x12 }));

        foreach (var definedLengths in new[] { false, true })
        {
            var ms = new MemoryStream();
            await DicomWriter.WriteFileAsync(ms, new DicomFile(new DicomDataset(), ds), DicomTransferSyntax.ExplicitVRBigEndian,
                new DicomWriterOptions { DefinedLengthSequences = definedLengths });
            var back = DicomReader.Read(ms.ToArray());

            back.Problems.Should().BeEmpty();
            var element = back.Dataset[new DicomTag(0x0009, 0x1010)].Should().BeOfType<DicomElement>().Subject;
            element.VR.Should().Be(DicomVR.UN, "a 16-bit length cannot hold 70,000");
            element.Span.ToArray().Should().Equal(value, "UN bytes are not swapped, so they must be written unswapped");
            back.Dataset[new DicomTag(0x0028, 0x0010)].Should().BeOfType<DicomElement>().Which.Span.ToArray()
                .Should().Equal(new byte[] { 0x34, 0x12 }, "a short US is still swapped both ways");
            (await DatasetComparer.CompareAsync(ds, back.Dataset, DicomTransferSyntax.ExplicitVRBigEndian)).Should().BeEmpty();
        }
    }

    /// <summary>The same when the value is left on disk (read from a file with a small bulk data threshold), which
    /// goes through the writer's streaming path.</summary>
    [Fact]
    public async Task A_long_value_on_disk_written_as_UN_in_big_endian_keeps_its_bytes()
    {
        var value = new byte[70_000];
        new Random(7).NextBytes(value);
        var ds = new DicomDataset().AddOrUpdate(new DicomElement(new DicomTag(0x0009, 0x1010), DicomVR.US, value));
        string path = Path.GetTempFileName();
        try
        {
            await using (var fs = File.Create(path))
                await DicomWriter.WriteFileAsync(fs, new DicomFile(new DicomDataset(), ds), DicomTransferSyntax.ImplicitVRLittleEndian);
            var onDisk = await DicomReader.OpenAsync(path, new DicomReaderOptions { BulkDataThreshold = 1024 });
            onDisk.Dataset[new DicomTag(0x0009, 0x1010)].Should().BeOfType<DicomElement>().Which.Value.IsInMemory.Should().BeFalse();
            var element = (DicomElement)onDisk.Dataset[new DicomTag(0x0009, 0x1010)]!;
            var us = new DicomDataset().AddOrUpdate(element.WithVR(DicomVR.US));

            var ms = new MemoryStream();
            await DicomWriter.WriteFileAsync(ms, new DicomFile(new DicomDataset(), us), DicomTransferSyntax.ExplicitVRBigEndian);
            var back = DicomReader.Read(ms.ToArray());

            back.Dataset[new DicomTag(0x0009, 0x1010)].Should().BeOfType<DicomElement>().Which.Span.ToArray().Should().Equal(value);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
