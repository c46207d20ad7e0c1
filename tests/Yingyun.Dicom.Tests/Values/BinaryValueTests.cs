namespace Yingyun.Dicom.Tests.Values;

public class BinaryValueTests
{
    [Fact]
    public void GetValues_views_the_little_endian_bytes()
    {
        var ds = TestData.WithBytes(DicomTags.Rows, DicomVR.US, 0x00, 0x02);
        ds.GetValues<ushort>(DicomTags.Rows).ToArray().Should().Equal((ushort)512);
        ds.GetValue<ushort>(DicomTags.Rows).Should().Be(512);
        ds.GetValue<int>(DicomTags.Rows).Should().Be(512);
        ds.GetValue<double>(DicomTags.Rows).Should().Be(512.0);

        var ss = TestData.WithBytes(DicomTags.SmallestImagePixelValue, DicomVR.SS, 0xFF, 0xFF, 0x00, 0x80);
        ss.GetValues<short>(DicomTags.SmallestImagePixelValue).ToArray().Should().Equal(-1, short.MinValue);
        ss.GetValue<int>(DicomTags.SmallestImagePixelValue, 1).Should().Be(-32768);

        var fd = TestData.WithBytes(DicomTags.FrameTime, DicomVR.FD, BitConverter.GetBytes(2.5));
        fd.GetValue<double>(DicomTags.FrameTime).Should().Be(2.5);
        fd.GetValue<float>(DicomTags.FrameTime).Should().Be(2.5f);
    }

    [Theory]
    [InlineData("US", 3)]
    [InlineData("UL", 6)]
    [InlineData("FD", 12)]
    [InlineData("FL", 2)]
    public void Lengths_that_are_not_whole_values_are_rejected_with_a_clear_error(string vr, int length)
    {
        var v = DicomVRInfo.Parse(vr);
        var tag = new DicomTag(0x0009, 0x1001);
        var ds = TestData.WithBytes(tag, v, new byte[length]);
        Action view = v switch
        {
            DicomVR.US => () => ds.GetValues<ushort>(tag),
            DicomVR.UL => () => ds.GetValues<uint>(tag),
            DicomVR.FD => () => ds.GetValues<double>(tag),
            _ => () => ds.GetValues<float>(tag),
        };
        view.Should().Throw<FormatException>().WithMessage($"*length {length}*multiple of {v.UnitSize()}*");
        ds.TryGetValue(tag, out double _).Should().BeFalse();
    }

    [Fact]
    public void GetValues_rejects_a_type_of_the_wrong_size_and_text_VRs()
    {
        var ds = TestData.WithBytes(DicomTags.Rows, DicomVR.US, 0x00, 0x02);
        FluentActions.Invoking(() => ds.GetValues<uint>(DicomTags.Rows).Length).Should().Throw<InvalidOperationException>().WithMessage("*2-byte*");
        var text = TestData.With(DicomTags.Modality, DicomVR.CS, "CT");
        FluentActions.Invoking(() => text.GetValues<byte>(DicomTags.Modality).Length).Should().Throw<InvalidOperationException>();
        new DicomDataset().GetValues<ushort>(DicomTags.Rows).IsEmpty.Should().BeTrue();
    }

    [Fact]
    public void GetValue_reports_range_and_index_problems()
    {
        var ds = TestData.WithBytes(DicomTags.Rows, DicomVR.US, 0x00, 0x02);
        FluentActions.Invoking(() => ds.GetValue<byte>(DicomTags.Rows)).Should().Throw<FormatException>().WithMessage("*fit*");
        FluentActions.Invoking(() => ds.GetValue<ushort>(DicomTags.Rows, 1)).Should().Throw<FormatException>().WithMessage("*1 values*");
        FluentActions.Invoking(() => ds.GetValue<ushort>(DicomTags.Columns)).Should().Throw<KeyNotFoundException>();
        ds.GetValueOrDefault<ushort>(DicomTags.Columns, 7).Should().Be(7);
        ds.GetValueOrDefault<ushort>(DicomTags.Rows, 7, 3).Should().Be(7);
    }

    [Fact]
    public void Numeric_setters_convert_with_a_range_check()
    {
        var ds = new DicomDataset().AddOrUpdate(DicomTags.Rows, DicomVR.US, 512);
        TestData.Raw(ds, DicomTags.Rows).Should().Be("\0\u0002");
        FluentActions.Invoking(() => ds.AddOrUpdate(DicomTags.Rows, DicomVR.US, -1)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => ds.AddOrUpdate(DicomTags.Rows, DicomVR.US, 70000)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => ds.AddOrUpdate(DicomTags.Rows, DicomVR.US, 1.5)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => ds.AddOrUpdate(DicomTags.Rows, DicomVR.CS, 1)).Should().Throw<ArgumentException>();

        ds.AddOrUpdate(DicomTags.RescaleSlope, DicomVR.FD, 1, 2);
        ds.GetValues<double>(DicomTags.RescaleSlope).ToArray().Should().Equal(1.0, 2.0);
    }

    [Fact]
    public void Other_VRs_take_raw_bits_and_OB_is_padded_to_even_length()
    {
        var ds = new DicomDataset()
            .AddOrUpdate(DicomTags.PixelData, DicomVR.OW, (short)-1, (short)2)
            .AddOrUpdate(DicomTags.EncapsulatedDocument, DicomVR.OB, (byte)1, (byte)2, (byte)3);
        ds.GetValues<short>(DicomTags.PixelData).ToArray().Should().Equal(-1, 2);
        ds.GetValues<ushort>(DicomTags.PixelData).ToArray().Should().Equal(0xFFFF, 2);
        ds.GetValues<byte>(DicomTags.PixelData).ToArray().Should().Equal(0xFF, 0xFF, 2, 0);
        ds[DicomTags.EncapsulatedDocument].Should().BeOfType<DicomElement>().Which.Length.Should().Be(4);
        ds.GetValues<byte>(DicomTags.EncapsulatedDocument).ToArray().Should().Equal(1, 2, 3, 0);
    }

    [Fact]
    public void Dictionary_VR_is_chosen_by_type_for_ambiguous_elements()
    {
        var ds = new DicomDataset()
            .AddOrUpdate(DicomTags.SmallestImagePixelValue, (short)-5)
            .AddOrUpdate(DicomTags.LargestImagePixelValue, (ushort)5)
            .AddOrUpdate(DicomTags.Columns, 256);
        ds[DicomTags.SmallestImagePixelValue]!.VR.Should().Be(DicomVR.SS);
        ds[DicomTags.LargestImagePixelValue]!.VR.Should().Be(DicomVR.US);
        ds[DicomTags.Columns]!.VR.Should().Be(DicomVR.US);
        ds.GetValue<short>(DicomTags.SmallestImagePixelValue).Should().Be(-5);
    }

    [Fact]
    public void Attribute_tags_are_group_then_element_little_endian()
    {
        var ds = TestData.WithBytes(DicomTags.FrameIncrementPointer, DicomVR.AT, 0x18, 0x00, 0x63, 0x10, 0x54, 0x00, 0x80, 0x00);
        ds.GetAttributeTags(DicomTags.FrameIncrementPointer).Should().Equal(new DicomTag(0x0018, 0x1063), new DicomTag(0x0054, 0x0080));

        var written = new DicomDataset().AddOrUpdate(DicomTags.FrameIncrementPointer, DicomVR.AT, [DicomTags.FrameTime, DicomTags.SliceVector]);
        written.GetAttributeTags(DicomTags.FrameIncrementPointer).Should().Equal(DicomTags.FrameTime, DicomTags.SliceVector);
        TestData.Raw(written, DicomTags.FrameIncrementPointer).Should().Be(TestData.Raw(ds, DicomTags.FrameIncrementPointer));
        FluentActions.Invoking(() => ds.GetValue<uint>(DicomTags.FrameIncrementPointer)).Should().Throw<FormatException>().WithMessage("*GetAttributeTags*");
        FluentActions.Invoking(() => TestData.WithBytes(DicomTags.FrameIncrementPointer, DicomVR.AT, 1, 2).GetAttributeTags(DicomTags.FrameIncrementPointer))
            .Should().Throw<FormatException>();
    }

    [Fact]
    public void Values_left_on_disk_are_not_read_silently()
    {
        var source = new MemoryBulkDataSource(new byte[] { 1, 0, 2, 0 });
        var ds = new DicomDataset().AddOrUpdate(new DicomElement(DicomTags.PixelData, DicomVR.OW, new DicomValue(new BulkDataReference(source, 0, 4))));
        FluentActions.Invoking(() => ds.GetValues<ushort>(DicomTags.PixelData).Length).Should().Throw<InvalidOperationException>().WithMessage("*GetBytesAsync*");
        ds.TryGetValue(DicomTags.PixelData, out ushort _).Should().BeFalse();
    }
}
