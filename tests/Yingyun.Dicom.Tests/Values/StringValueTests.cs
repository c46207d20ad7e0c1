namespace Yingyun.Dicom.Tests.Values;

public class StringValueTests
{
    [Theory]
    // Trailing padding goes for every VR; leading spaces only where PS3.5 Table 6.2-1 says they are insignificant.
    [InlineData("CS", "  ORIGINAL ", "ORIGINAL")]
    [InlineData("AE", " STORESCP  ", "STORESCP")]
    [InlineData("LO", "  Chest PA  ", "Chest PA")]
    [InlineData("SH", " ABC ", "ABC")]
    [InlineData("DS", " 1.5 ", "1.5")]
    [InlineData("IS", "  12", "12")]
    [InlineData("LT", "  indented text  ", "  indented text")]
    [InlineData("ST", " x ", " x")]
    [InlineData("UT", " x\r\n ", " x\r\n")]
    [InlineData("PN", " Doe^John ", " Doe^John")]
    [InlineData("DA", "20240102", "20240102")]
    [InlineData("UI", "1.2.840.10008.1.2\0", "1.2.840.10008.1.2")]
    [InlineData("UI", "1.2.3 ", "1.2.3")]
    [InlineData("SH", "ABC\0", "ABC")]
    [InlineData("LO", "", "")]
    [InlineData("LO", "  ", "")]
    public void GetString_removes_padding_per_VR(string vr, string raw, string expected)
    {
        var tag = new DicomTag(0x0009, 0x1001);
        var ds = TestData.With(tag, DicomVRInfo.Parse(vr), raw);
        ds.GetString(tag).Should().Be(expected);
        ds.TryGetString(tag, out var s).Should().BeTrue();
        s.Should().Be(expected);
    }

    [Fact]
    public void GetString_is_null_when_absent_and_throws_for_binary_or_sequence()
    {
        var ds = new DicomDataset();
        ds.GetString(DicomTags.PatientName).Should().BeNull();
        ds.TryGetString(DicomTags.PatientName, out _).Should().BeFalse();
        ds.AddOrUpdate(DicomTags.Rows, DicomVR.US, (ushort)512);
        ds.AddOrUpdate(new DicomSequence(DicomTags.ReferencedSeriesSequence));
        FluentActions.Invoking(() => ds.GetString(DicomTags.Rows)).Should().Throw<InvalidOperationException>().WithMessage("*Rows*");
        FluentActions.Invoking(() => ds.GetString(DicomTags.ReferencedSeriesSequence)).Should().Throw<InvalidOperationException>();
        ds.TryGetString(DicomTags.Rows, out _).Should().BeFalse();
        ds.GetSingleValueOrDefault(DicomTags.Rows, "none").Should().Be("none");
    }

    [Theory]
    [InlineData("CS", "ORIGINAL\\PRIMARY\\AXIAL ", new[] { "ORIGINAL", "PRIMARY", "AXIAL" })]
    [InlineData("CS", " A \\ B", new[] { "A", "B" })]
    [InlineData("LO", "one\\\\three", new[] { "one", "", "three" })]
    [InlineData("DS", "1.5\\-2 \\ 3e2 ", new[] { "1.5", "-2", "3e2" })]
    [InlineData("UI", "1.2\\1.3\0", new[] { "1.2", "1.3" })]
    [InlineData("LT", "a\\b ", new[] { "a\\b" })] // LT, ST, UT, UR hold one value: '\' is text (PS3.5 §6.4)
    [InlineData("UR", "http://h/a\\b", new[] { "http://h/a\\b" })]
    [InlineData("LO", "", new string[0])]
    public void GetStrings_splits_on_backslash_except_single_valued_text(string vr, string raw, string[] expected)
    {
        var tag = new DicomTag(0x0009, 0x1001);
        TestData.With(tag, DicomVRInfo.Parse(vr), raw).GetStrings(tag).Should().Equal(expected);
    }

    [Fact]
    public void Indexed_and_default_string_helpers_never_throw()
    {
        var ds = TestData.With(DicomTags.ImageType, DicomVR.CS, "ORIGINAL\\PRIMARY ");
        ds.TryGetString(DicomTags.ImageType, 1, out var second).Should().BeTrue();
        second.Should().Be("PRIMARY");
        ds.TryGetString(DicomTags.ImageType, 2, out _).Should().BeFalse();
        ds.GetSingleValueOrDefault(DicomTags.ImageType, "x").Should().Be("ORIGINAL");
        ds.GetSingleValueOrDefault(DicomTags.Modality, "OT").Should().Be("OT");
        ds.GetStrings(DicomTags.Modality).Should().BeEmpty();
    }

    [Theory]
    [InlineData("CS", new[] { "DERIVED", "PRIMARY" }, "DERIVED\\PRIMARY ")]
    [InlineData("CS", new[] { "ORIGINAL", "PRIMARY" }, "ORIGINAL\\PRIMARY")]
    [InlineData("UI", new[] { "1.2.3" }, "1.2.3\0")]
    [InlineData("UI", new[] { "1.2.34" }, "1.2.34")]
    [InlineData("LO", new[] { "abc" }, "abc ")]
    [InlineData("LT", new[] { "line1\r\nline2\\not a delimiter!" }, "line1\r\nline2\\not a delimiter! ")]
    [InlineData("LO", new string[0], "")]
    public void AddOrUpdate_joins_and_pads_with_the_VR_padding_byte(string vr, string[] values, string expectedRaw)
    {
        var tag = new DicomTag(0x0009, 0x1001);
        var ds = new DicomDataset().AddOrUpdate(tag, DicomVRInfo.Parse(vr), values);
        TestData.Raw(ds, tag).Should().Be(expectedRaw);
        ds.GetStrings(tag).Should().Equal(values);
    }

    [Fact]
    public void AddOrUpdate_takes_the_VR_from_the_dictionary()
    {
        var ds = new DicomDataset().AddOrUpdate(DicomTags.Modality, "CT");
        ds[DicomTags.Modality]!.VR.Should().Be(DicomVR.CS);
        ds.GetString(DicomTags.Modality).Should().Be("CT");
        FluentActions.Invoking(() => ds.AddOrUpdate(new DicomTag(0x0009, 0x1001), "x")).Should().Throw<ArgumentException>();
    }

    [Fact]
    public void AddOrUpdate_rejects_values_that_would_change_the_multiplicity()
    {
        var ds = new DicomDataset();
        FluentActions.Invoking(() => ds.AddOrUpdate(DicomTags.ImageType, DicomVR.CS, "A\\B")).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => ds.AddOrUpdate(DicomTags.ImageComments, DicomVR.LT, "a", "b")).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => ds.AddOrUpdate(DicomTags.Rows, DicomVR.US, "512")).Should().Throw<ArgumentException>();
    }

    [Fact]
    public void Nested_items_decode_with_the_character_set_they_inherit()
    {
        var root = new DicomDataset().AddOrUpdate(DicomTag.SpecificCharacterSetTag, DicomVR.CS, "ISO_IR 100");
        var item = new DicomDataset().AddOrUpdate(new DicomElement(DicomTags.PatientName, DicomVR.PN, System.Text.Encoding.Latin1.GetBytes("Müller^Jürgen")));
        root.AddOrUpdate(new DicomSequence(DicomTags.OtherPatientIDsSequence, item));
        item.CharacterSet.Terms.Should().Equal("ISO_IR 100");
        item.GetPersonName(DicomTags.PatientName)!.FamilyName.Should().Be("Müller");
    }
}
