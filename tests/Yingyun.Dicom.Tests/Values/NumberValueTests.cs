namespace Yingyun.Dicom.Tests.Values;

public class NumberValueTests
{
    private static readonly DicomTag Tag = DicomTags.WindowCenter;

    [Theory]
    [InlineData(" 1.5", "1.5")]
    [InlineData("1.5 ", "1.5")]
    [InlineData("+2", "2")]
    [InlineData("1,5", "1.5")]
    [InlineData("1.0e+03", "1000")]
    [InlineData("-3.25E-2", "-0.0325")]
    [InlineData(".5", "0.5")]
    [InlineData("00036", "36")]
    [InlineData("1.5\0", "1.5")]
    public void Decimal_strings_tolerate_real_world_junk(string raw, string expected)
    {
        var ds = TestData.With(Tag, DicomVR.DS, raw);
        ds.GetDecimalStrings(Tag).Should().Equal(decimal.Parse(expected, System.Globalization.CultureInfo.InvariantCulture));
        ds.GetValue<decimal>(Tag).Should().Be(decimal.Parse(expected, System.Globalization.CultureInfo.InvariantCulture));
        ds.GetValue<double>(Tag).Should().Be(double.Parse(expected, System.Globalization.CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("1.5.2")]
    [InlineData("1 5")]
    [InlineData("1,000.5")]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("0x10")]
    public void Unreadable_decimal_strings_throw_from_Get_and_are_reported_by_TryGet(string raw)
    {
        var ds = TestData.With(Tag, DicomVR.DS, "1\\" + raw + "\\3 ");
        FluentActions.Invoking(() => ds.GetDecimalStrings(Tag)).Should().Throw<FormatException>().WithMessage($"*value 2*");
        ds.TryGetDecimalStrings(Tag, out var values, out var invalid).Should().BeFalse();
        values.Should().Equal(1m, null, 3m);
        invalid.Should().ContainSingle().Which.Should().Be(new DicomInvalidValue(1, raw));
        ds.TryGetValue(Tag, out decimal v, 1).Should().BeFalse();
        ds.GetValueOrDefault(Tag, -1m, 1).Should().Be(-1m);
        ds.GetValueOrDefault(Tag, -1m, 2).Should().Be(3m);
    }

    [Fact]
    public void Empty_decimal_strings_are_no_values_not_errors()
    {
        var empty = TestData.With(Tag, DicomVR.DS, "");
        empty.GetDecimalStrings(Tag).Should().BeEmpty();
        empty.TryGetDecimalStrings(Tag, out var none, out var noneInvalid).Should().BeTrue();
        none.Should().BeEmpty();
        noneInvalid.Should().BeEmpty();
        empty.TryGetValue(Tag, out decimal _).Should().BeFalse();

        var inner = TestData.With(Tag, DicomVR.DS, "1\\\\2 ");
        inner.TryGetDecimalStrings(Tag, out var values, out var invalid).Should().BeTrue();
        values.Should().Equal(1m, null, 2m);
        invalid.Should().BeEmpty();

        new DicomDataset().TryGetDecimalStrings(Tag, out _, out _).Should().BeFalse();
        new DicomDataset().GetDecimalStrings(Tag).Should().BeEmpty();
    }

    [Fact]
    public void Decimal_strings_read_as_double_keep_values_decimal_cannot_hold()
    {
        var ds = TestData.With(Tag, DicomVR.DS, "1e300 ");
        ds.GetDecimalStrings<double>(Tag).Should().Equal(1e300);
        ds.TryGetValue(Tag, out decimal _).Should().BeFalse();
    }

    [Theory]
    [InlineData(" 12", 12L)]
    [InlineData("+7 ", 7L)]
    [InlineData("-2147483648", -2147483648L)]
    [InlineData("512.0", 512L)] // DS-minded writers
    [InlineData("99999999999", 99999999999L)] // beyond IS's range but still a number: the validator reports it
    public void Integer_strings_read_as_long(string raw, long expected)
    {
        var ds = TestData.With(DicomTags.InstanceNumber, DicomVR.IS, raw);
        ds.GetIntegerStrings(DicomTags.InstanceNumber).Should().Equal(expected);
        ds.GetValue<long>(DicomTags.InstanceNumber).Should().Be(expected);
    }

    [Theory]
    [InlineData("1.5")]
    [InlineData("one")]
    [InlineData("1e3x")]
    public void Unreadable_integer_strings_are_reported(string raw)
    {
        var ds = TestData.With(DicomTags.InstanceNumber, DicomVR.IS, raw + " ");
        FluentActions.Invoking(() => ds.GetIntegerStrings(DicomTags.InstanceNumber)).Should().Throw<FormatException>();
        ds.TryGetIntegerStrings(DicomTags.InstanceNumber, out var values, out var invalid).Should().BeFalse();
        values.Should().Equal((long?)null);
        invalid.Should().Equal(new DicomInvalidValue(0, raw));
    }

    [Fact]
    public void GetValue_on_IS_checks_the_target_range()
    {
        var ds = TestData.With(DicomTags.InstanceNumber, DicomVR.IS, "300 ");
        ds.GetValue<int>(DicomTags.InstanceNumber).Should().Be(300);
        ds.TryGetValue(DicomTags.InstanceNumber, out byte _).Should().BeFalse();
        FluentActions.Invoking(() => ds.GetValue<byte>(DicomTags.InstanceNumber)).Should().Throw<FormatException>();
    }

    [Theory]
    [InlineData(1.5, "1.5")]
    [InlineData(-0.25, "-0.25")]
    [InlineData(1e20, "1E+20")]
    [InlineData(0.1234567890123456789, "0.12345678901235")] // 16 characters at most (PS3.5 §6.2)
    [InlineData(-123456789.123456789, "-123456789.12346")]
    [InlineData(512.0, "512")]
    public void Decimal_strings_are_written_in_16_characters(double value, string expected)
    {
        DicomDecimalString.Format(value).Should().Be(expected);
        var ds = new DicomDataset().AddOrUpdate(Tag, DicomVR.DS, value);
        ds.GetString(Tag).Should().Be(expected);
        DicomDecimalString.IsValid(expected).Should().BeTrue();
    }

    [Fact]
    public void Number_setters_for_DS_and_IS_write_text()
    {
        var ds = new DicomDataset()
            .AddOrUpdate(DicomTags.ImagePositionPatient, DicomVR.DS, -125m, 26.5m, 272.300049m)
            .AddOrUpdate(DicomTags.InstanceNumber, DicomVR.IS, 42);
        TestData.Raw(ds, DicomTags.ImagePositionPatient).Should().Be("-125\\26.5\\272.300049");
        TestData.Raw(ds, DicomTags.InstanceNumber).Should().Be("42");
        ds.GetDecimalStrings(DicomTags.ImagePositionPatient).Should().Equal(-125m, 26.5m, 272.300049m);
        FluentActions.Invoking(() => ds.AddOrUpdate(Tag, DicomVR.IS, 1.5)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => ds.AddOrUpdate(Tag, DicomVR.DS, double.NaN)).Should().Throw<ArgumentOutOfRangeException>();
    }
}
