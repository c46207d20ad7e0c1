using Yingyun.Dicom.Tests.Support;

namespace Yingyun.Dicom.Tests.IO;

public class EncapsulatedFramesTests
{
    private static string Corpus => Path.Combine(Pydicom.DataDirectory, "test_files");

    [Theory]
    [InlineData("SC_rgb_rle_2frame.dcm", 2)]
    [InlineData("JPEG2000.dcm", 1)]
    [InlineData("MR_small_RLE.dcm", 1)]
    public async Task Maps_each_frame_to_its_fragments(string name, int frames)
    {
        var file = await DicomReader.OpenAsync(Path.Combine(Corpus, name));
        var pixels = (DicomFragmentSequence)file.Dataset[DicomTag.PixelDataTag]!;
        var map = EncapsulatedFrames.Map(file.Dataset, pixels);
        map.Should().NotBeNull().And.HaveCount(frames);
        map!.Sum(r => r.GetOffsetAndLength(pixels.Fragments.Count).Length).Should().Be(pixels.Fragments.Count);
    }

    [Fact]
    public void Uses_the_basic_offset_table()
    {
        // Three fragments of 10, 4 and 6 bytes; the table says frame 2 starts at the third fragment.
        var bot = new byte[8];
        BitConverter.TryWriteBytes(bot.AsSpan(4), (uint)(8 + 10 + 8 + 4));
        var seq = new DicomFragmentSequence(DicomTag.PixelDataTag, DicomVR.OB, new DicomValue(bot),
            [new DicomValue(new byte[10]), new DicomValue(new byte[4]), new DicomValue(new byte[6])]);
        var ds = new DicomDataset();
        ds.AddOrUpdate(new DicomElement(new DicomTag(0x0028, 0x0008), DicomVR.IS, "2 "u8.ToArray()));
        var map = EncapsulatedFrames.Map(ds, seq);
        map.Should().Equal(0..2, 2..3);
    }
}
