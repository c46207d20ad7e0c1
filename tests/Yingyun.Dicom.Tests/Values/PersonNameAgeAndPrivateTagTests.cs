namespace Yingyun.Dicom.Tests.Values;

public class PersonNameAgeAndPrivateTagTests
{
    [Fact]
    public void Person_names_have_three_groups_of_five_components()
    {
        // PS3.5 §6.2.1.2 example: alphabetic, ideographic and phonetic groups (decoded text; the bytes are the
        // character set's business).
        var name = DicomPersonName.Parse("Yamada^Tarou=山田^太郎=やまだ^たろう");
        name.Alphabetic.Should().Be(new DicomPersonNameComponentGroup("Yamada", "Tarou"));
        name.Ideographic.FamilyName.Should().Be("山田");
        name.Phonetic.GivenName.Should().Be("たろう");
        name.ToString().Should().Be("Yamada^Tarou=山田^太郎=やまだ^たろう");
    }

    [Theory]
    [InlineData("Doe^John^Quincy^Dr.^Jr.", "Doe", "John", "Quincy", "Dr.", "Jr.")]
    [InlineData("Doe^John", "Doe", "John", "", "", "")]
    [InlineData("Doe^John^^^ ", "Doe", "John", "", "", "")]
    [InlineData("Doe ^John ", "Doe", "John", "", "", "")]
    [InlineData("^^^^", "", "", "", "", "")]
    [InlineData("Doe^^^^Jr.^extra", "Doe", "", "", "", "Jr.^extra")]
    public void Components_are_split_and_trailing_spaces_dropped(string raw, string family, string given, string middle, string prefix, string suffix)
    {
        var name = DicomPersonName.Parse(raw);
        name.Alphabetic.Should().Be(new DicomPersonNameComponentGroup(family, given, middle, prefix, suffix));
    }

    [Theory]
    [InlineData("Doe^John^^^", "Doe^John")]
    [InlineData("Doe^John==", "Doe^John")]
    [InlineData("=Wang^XiaoDong", "=Wang^XiaoDong")]
    [InlineData("Wang^XiaoDong==wang^xiaodong", "Wang^XiaoDong==wang^xiaodong")]
    [InlineData("^^^^=", "")]
    public void ToString_trims_trailing_empty_components_and_groups(string raw, string expected)
    {
        DicomPersonName.Parse(raw).ToString().Should().Be(expected);
    }

    [Fact]
    public void Person_name_setter_and_multiple_values()
    {
        var ds = new DicomDataset()
            .AddOrUpdate(DicomTags.PatientName, new DicomPersonName("Doe", "John", namePrefix: "Dr."))
            .AddOrUpdate(DicomTags.OtherPatientNames, [new DicomPersonName("A"), new DicomPersonName("B", "C")]);
        TestData.Raw(ds, DicomTags.PatientName).Should().Be("Doe^John^^Dr. ");
        ds.GetPersonNames(DicomTags.OtherPatientNames).Select(n => n.ToString()).Should().Equal("A", "B^C");
        ds.GetPersonName(DicomTags.OtherPatientNames, 1)!.GivenName.Should().Be("C");
        ds.GetPersonName(DicomTags.ReferringPhysicianName).Should().BeNull();
        ds.TryGetPersonName(DicomTags.OtherPatientNames, out _, 2).Should().BeFalse();
        TestData.With(DicomTags.ReferringPhysicianName, DicomVR.PN, "").GetPersonName(DicomTags.ReferringPhysicianName)!.IsEmpty.Should().BeTrue();
    }

    [Theory]
    [InlineData("045Y", 45, DicomAgeUnit.Years, "045Y")]
    [InlineData("003W", 3, DicomAgeUnit.Weeks, "003W")]
    [InlineData("012M", 12, DicomAgeUnit.Months, "012M")]
    [InlineData("100D", 100, DicomAgeUnit.Days, "100D")]
    [InlineData("45Y ", 45, DicomAgeUnit.Years, "045Y")]
    [InlineData("045y", 45, DicomAgeUnit.Years, "045Y")]
    public void Ages(string raw, int number, DicomAgeUnit unit, string written)
    {
        var ds = TestData.With(DicomTags.PatientAge, DicomVR.AS, raw);
        ds.GetAge(DicomTags.PatientAge).Should().Be(new DicomAge(number, unit));
        new DicomDataset().AddOrUpdate(DicomTags.PatientAge, ds.GetAge(DicomTags.PatientAge)).GetString(DicomTags.PatientAge).Should().Be(written);
    }

    [Theory]
    [InlineData("045")]
    [InlineData("045X")]
    [InlineData("0045Y")]
    [InlineData("Y")]
    [InlineData("-45Y")]
    public void Bad_ages_are_reported(string raw)
    {
        TestData.With(DicomTags.PatientAge, DicomVR.AS, raw).TryGetAge(DicomTags.PatientAge, out _).Should().BeFalse();
        DicomAge.TryParseExact("45Y ", out _).Should().BeFalse();
    }

    [Fact]
    public void Private_tags_are_found_in_their_creator_block()
    {
        var ds = new DicomDataset()
            .AddOrUpdate(new DicomTag(0x0029, 0x0010), DicomVR.LO, "SIEMENS CSA HEADER")
            .AddOrUpdate(new DicomTag(0x0029, 0x0011), DicomVR.LO, "YINGYUN ");
        ds.GetPrivateTag(0x0029, "YINGYUN", 0x05, reserveIfMissing: false).Should().Be(new DicomTag(0x0029, 0x1105));
        ds.GetPrivateTag(0x0029, "SIEMENS CSA HEADER", 0x20, reserveIfMissing: false).Should().Be(new DicomTag(0x0029, 0x1020));
        FluentActions.Invoking(() => ds.GetPrivateTag(0x0029, "OTHER", 0, reserveIfMissing: false)).Should().Throw<KeyNotFoundException>();
        ds.TryGetPrivateTag(0x0029, "OTHER", 0, out _).Should().BeFalse();
    }

    [Fact]
    public void Reserving_takes_the_first_free_block()
    {
        var ds = new DicomDataset().AddOrUpdate(new DicomTag(0x0029, 0x0010), DicomVR.LO, "A");
        var tag = ds.GetPrivateTag(0x0029, "YINGYUN", 0x01, reserveIfMissing: true);
        tag.Should().Be(new DicomTag(0x0029, 0x1101));
        ds.GetString(new DicomTag(0x0029, 0x0011)).Should().Be("YINGYUN");
        ds.GetPrivateTag(0x0029, "YINGYUN", 0x02, reserveIfMissing: true).Should().Be(new DicomTag(0x0029, 0x1102));
        ds.Count.Should().Be(2);
        FluentActions.Invoking(() => ds.GetPrivateTag(0x0010, "X", 0, true)).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void Reserving_fails_clearly_when_all_blocks_are_taken()
    {
        var ds = new DicomDataset();
        for (int b = 0x10; b <= 0xFF; b++) ds.AddOrUpdate(new DicomTag(0x0009, (ushort)b), DicomVR.LO, "C" + b);
        FluentActions.Invoking(() => ds.GetPrivateTag(0x0009, "NEW", 0, true)).Should().Throw<InvalidOperationException>().WithMessage("*0010-00FF*");
    }
}
