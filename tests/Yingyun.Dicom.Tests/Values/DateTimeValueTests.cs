namespace Yingyun.Dicom.Tests.Values;

public class DateTimeValueTests
{
    [Theory]
    [InlineData("20240102", 2024, 1, 2)]
    [InlineData("2024.01.02", 2024, 1, 2)] // ACR-NEMA form, PS3.5 §6.2 asks to accept it
    [InlineData("20240229 ", 2024, 2, 29)]
    [InlineData(" 19991231", 1999, 12, 31)]
    public void Dates_are_read(string raw, int y, int m, int d)
    {
        var ds = TestData.With(DicomTags.StudyDate, DicomVR.DA, raw);
        ds.GetDate(DicomTags.StudyDate).Should().Be(new DateOnly(y, m, d));
        ds.TryGetDate(DicomTags.StudyDate, out var date).Should().BeTrue();
        date.Should().Be(new DateOnly(y, m, d));
    }

    [Theory]
    [InlineData("20230229")]
    [InlineData("2024-01-02")]
    [InlineData("20241301")]
    [InlineData("2024010")]
    [InlineData("00000000")]
    [InlineData("")]
    public void Bad_dates_are_reported(string raw)
    {
        var ds = TestData.With(DicomTags.StudyDate, DicomVR.DA, raw);
        ds.TryGetDate(DicomTags.StudyDate, out _).Should().BeFalse();
        FluentActions.Invoking(() => ds.GetDate(DicomTags.StudyDate)).Should().Throw<FormatException>();
    }

    [Theory]
    [InlineData("20240101-20240131", "2024-01-01", "2024-01-31")]
    [InlineData("-20240131", null, "2024-01-31")]
    [InlineData("20240101-", "2024-01-01", null)]
    [InlineData("20240105", "2024-01-05", "2024-01-05")]
    public void Date_ranges_for_query_keys(string raw, string? start, string? end)
    {
        var ds = TestData.With(DicomTags.StudyDate, DicomVR.DA, raw);
        var range = ds.GetDateRange(DicomTags.StudyDate);
        range.Start.Should().Be(start is null ? null : DateOnly.Parse(start, System.Globalization.CultureInfo.InvariantCulture));
        range.End.Should().Be(end is null ? null : DateOnly.Parse(end, System.Globalization.CultureInfo.InvariantCulture));
        range.ToString().Should().Be(raw);
        new DicomDataset().AddOrUpdate(DicomTags.StudyDate, range).GetDateRange(DicomTags.StudyDate).Should().Be(range);
    }

    [Fact]
    public void Date_ranges_contain_their_ends_and_reject_reversed_ranges()
    {
        var r = DicomDateRange.Parse("20240101-20240131");
        r.Contains(new DateOnly(2024, 1, 1)).Should().BeTrue();
        r.Contains(new DateOnly(2024, 1, 31)).Should().BeTrue();
        r.Contains(new DateOnly(2024, 2, 1)).Should().BeFalse();
        DicomDateRange.TryParse("20240131-20240101", out _).Should().BeFalse();
        DicomDateRange.TryParse("-", out _).Should().BeFalse();
    }

    [Theory]
    [InlineData("1230", 12, 30, 0, 0, DicomDateTimePrecision.Minute, "1230")]
    [InlineData("12", 12, 0, 0, 0, DicomDateTimePrecision.Hour, "12")]
    [InlineData("123005", 12, 30, 5, 0, DicomDateTimePrecision.Second, "123005")]
    [InlineData("123005.5", 12, 30, 5, 500000, DicomDateTimePrecision.Fraction, "123005.5")]
    [InlineData("235959.123456", 23, 59, 59, 123456, DicomDateTimePrecision.Fraction, "235959.123456")]
    [InlineData("12:30:00.5", 12, 30, 0, 500000, DicomDateTimePrecision.Fraction, "123000.5")] // ACR-NEMA form
    [InlineData("12:30", 12, 30, 0, 0, DicomDateTimePrecision.Minute, "1230")]
    [InlineData("070809 ", 7, 8, 9, 0, DicomDateTimePrecision.Second, "070809")]
    [InlineData("101010.1234567", 10, 10, 10, 123456, DicomDateTimePrecision.Fraction, "101010.123456")] // 7 digits: truncated
    public void Times_keep_their_precision(string raw, int h, int m, int s, int micro, DicomDateTimePrecision precision, string written)
    {
        var ds = TestData.With(DicomTags.StudyTime, DicomVR.TM, raw);
        var expected = new TimeOnly(h, m, s).Add(TimeSpan.FromMicroseconds(micro));
        ds.GetTime(DicomTags.StudyTime).Should().Be(expected);
        var t = ds.GetDicomTime(DicomTags.StudyTime);
        t.Precision.Should().Be(precision);
        t.ToString().Should().Be(written);
        new DicomDataset().AddOrUpdate(DicomTags.StudyTime, t).GetString(DicomTags.StudyTime).Should().Be(written);
    }

    [Theory]
    [InlineData("2400")]
    [InlineData("1260")]
    [InlineData("1")]
    [InlineData("12:3")]
    [InlineData("12a0")]
    [InlineData("")]
    public void Bad_times_are_reported(string raw)
    {
        var ds = TestData.With(DicomTags.StudyTime, DicomVR.TM, raw);
        ds.TryGetTime(DicomTags.StudyTime, out _).Should().BeFalse();
        FluentActions.Invoking(() => ds.GetTime(DicomTags.StudyTime)).Should().Throw<FormatException>();
    }

    [Fact]
    public void Strict_time_syntax_refuses_the_legacy_forms()
    {
        DicomTime.TryParseExact("123000.5", out _).Should().BeTrue();
        DicomTime.TryParseExact("12:30:00", out _).Should().BeFalse();
        DicomTime.TryParseExact("123000.", out _).Should().BeFalse();
        DicomTime.TryParseExact("123000.1234567", out _).Should().BeFalse();
        DicomTime.TryParseExact("1230 ", out _).Should().BeFalse();
    }

    [Fact]
    public void A_leap_second_reads_as_the_last_microsecond()
    {
        DicomTime.Parse("235960").Time.Should().Be(new TimeOnly(23, 59, 59).Add(TimeSpan.FromMicroseconds(999999)));
    }

    [Theory]
    [InlineData("2024", DicomDateTimePrecision.Year, null)]
    [InlineData("202403", DicomDateTimePrecision.Month, null)]
    [InlineData("20240315", DicomDateTimePrecision.Day, null)]
    [InlineData("2024031508", DicomDateTimePrecision.Hour, null)]
    [InlineData("202403150830", DicomDateTimePrecision.Minute, null)]
    [InlineData("20240315083015", DicomDateTimePrecision.Second, null)]
    [InlineData("20240315083015.25", DicomDateTimePrecision.Fraction, null)]
    [InlineData("20240315083015.123456+0800", DicomDateTimePrecision.Fraction, 480)]
    [InlineData("20240315-0500", DicomDateTimePrecision.Day, -300)]
    [InlineData("2024031508+0000", DicomDateTimePrecision.Hour, 0)]
    public void Date_times_keep_precision_and_offset(string raw, DicomDateTimePrecision precision, int? offsetMinutes)
    {
        var ds = TestData.With(DicomTags.AcquisitionDateTime, DicomVR.DT, raw + (raw.Length % 2 == 1 ? " " : ""));
        var dt = ds.GetDateTime(DicomTags.AcquisitionDateTime);
        dt.Precision.Should().Be(precision);
        dt.Offset.Should().Be(offsetMinutes is { } m ? TimeSpan.FromMinutes(m) : null);
        dt.ToString().Should().Be(raw);
        dt.DateTime.Year.Should().Be(2024);
    }

    [Fact]
    public void Date_time_becomes_an_instant_with_its_own_or_the_data_set_offset()
    {
        var ds = TestData.With(DicomTags.AcquisitionDateTime, DicomVR.DT, "20240315083015");
        ds.GetDateTimeOffset(DicomTags.AcquisitionDateTime, TimeSpan.Zero).Should().Be(new DateTimeOffset(2024, 3, 15, 8, 30, 15, TimeSpan.Zero));
        ds.AddOrUpdate(DicomTags.TimezoneOffsetFromUTC, DicomVR.SH, "+0800");
        ds.GetDateTimeOffset(DicomTags.AcquisitionDateTime, TimeSpan.Zero).Offset.Should().Be(TimeSpan.FromHours(8));
        ds.AddOrUpdate(DicomTags.AcquisitionDateTime, DicomVR.DT, "20240315083015-0100");
        ds.GetDateTimeOffset(DicomTags.AcquisitionDateTime, TimeSpan.Zero).Offset.Should().Be(TimeSpan.FromHours(-1));
    }

    [Theory]
    [InlineData("202413")]
    [InlineData("20240230")]
    [InlineData("2024031525")]
    [InlineData("20240315+08")]
    [InlineData("20240315083015.25+1500")]
    [InlineData("2024031")]
    [InlineData("24")]
    public void Bad_date_times_are_reported(string raw)
    {
        DicomDateTime.TryParse(raw, out _).Should().BeFalse();
    }

    [Fact]
    public void Date_time_setters_write_DICOM_format()
    {
        var ds = new DicomDataset()
            .AddOrUpdate(DicomTags.StudyDate, new DateOnly(2024, 1, 2))
            .AddOrUpdate(DicomTags.StudyTime, new TimeOnly(13, 5, 7, 250))
            .AddOrUpdate(DicomTags.SeriesTime, new TimeOnly(13, 5))
            .AddOrUpdate(DicomTags.AcquisitionDateTime, new DateTimeOffset(2024, 1, 2, 13, 5, 7, TimeSpan.FromHours(8)));
        TestData.Raw(ds, DicomTags.StudyDate).Should().Be("20240102");
        TestData.Raw(ds, DicomTags.StudyTime).Should().Be("130507.25 ");
        TestData.Raw(ds, DicomTags.SeriesTime).Should().Be("130500");
        TestData.Raw(ds, DicomTags.AcquisitionDateTime).Should().Be("20240102130507+0800 ");
        ds[DicomTags.AcquisitionDateTime]!.VR.Should().Be(DicomVR.DT);
        ds.TryGetDateTime(DicomTags.StudyDate, DicomTags.StudyTime, out var combined).Should().BeTrue();
        combined.Should().Be(new DateTime(2024, 1, 2, 13, 5, 7, 250));
        ds.TryGetDateTime(DicomTags.SeriesDate, DicomTags.SeriesTime, out _).Should().BeFalse();
    }
}
