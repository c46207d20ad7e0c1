using Yingyun.Dicom.Tests.Support;

namespace Yingyun.Dicom.Tests.IO;

public class DicomElementScannerTests
{
    private static string Corpus => Path.Combine(Pydicom.DataDirectory, "test_files");

    [Theory]
    [InlineData("CT_small.dcm")]
    [InlineData("MR_small_implicit.dcm")]
    [InlineData("MR_small_bigendian.dcm")]
    [InlineData("rtplan.dcm")]
    [InlineData("nested_priv_SQ.dcm")]
    [InlineData("JPEG2000.dcm")]
    public async Task Scanner_sees_the_same_top_level_elements_as_the_reader(string name)
    {
        var path = Path.Combine(Corpus, name);
        var file = await DicomReader.OpenAsync(path);
        var bytes = await File.ReadAllBytesAsync(path);
        int start = DatasetStart(bytes);

        var scanner = new DicomElementScanner(bytes, file.TransferSyntax, start);
        var topLevel = new List<DicomTag>();
        while (scanner.MoveNext())
            if (scanner.Current.Depth == 0 && scanner.Current.Tag.Group != 0xFFFE) topLevel.Add(scanner.Current.Tag);

        scanner.ErrorOffset.Should().Be(-1);
        topLevel.Should().Equal(file.Dataset.Select(i => i.Tag));
    }

    [Fact]
    public void Scanner_reports_a_length_past_the_end_instead_of_reading_it()
    {
        // (0010,0010) PN with length 0x100 but only 4 bytes of value.
        byte[] bytes = [0x10, 0x00, 0x10, 0x00, (byte)'P', (byte)'N', 0x00, 0x01, (byte)'A', (byte)'^', (byte)'B', (byte)' '];
        var scanner = new DicomElementScanner(bytes, DicomTransferSyntax.ExplicitVRLittleEndian);
        scanner.MoveNext().Should().BeFalse();
        scanner.ErrorOffset.Should().Be(0);
    }

    private static int DatasetStart(byte[] bytes)
    {
        // Past the preamble, "DICM" and the File Meta Information group (its group length tells where it ends).
        if (bytes.Length > 132 && bytes.AsSpan(128, 4).SequenceEqual("DICM"u8))
            return 132 + 12 + (int)BitConverter.ToUInt32(bytes, 140);
        return 0;
    }
}
