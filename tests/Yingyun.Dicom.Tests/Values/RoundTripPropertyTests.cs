using CsCheck;

namespace Yingyun.Dicom.Tests.Values;

/// <summary>Setter then getter gives back the value, for generated values.</summary>
public class RoundTripPropertyTests
{
    private static readonly DicomTag Private = new(0x0009, 0x1001);

    [Fact]
    public void Binary_numbers_round_trip_for_every_VR()
    {
        Gen.UShort.Array[0, 20].Sample(v => RoundTrip(DicomVR.US, v));
        Gen.Short.Array[0, 20].Sample(v => RoundTrip(DicomVR.SS, v));
        Gen.UInt.Array[0, 20].Sample(v => RoundTrip(DicomVR.UL, v));
        Gen.Int.Array[0, 20].Sample(v => RoundTrip(DicomVR.SL, v));
        Gen.Long.Array[0, 20].Sample(v => RoundTrip(DicomVR.SV, v));
        Gen.ULong.Array[0, 20].Sample(v => RoundTrip(DicomVR.UV, v));
        Gen.Float.Array[0, 20].Sample(v => RoundTrip(DicomVR.FL, v));
        Gen.Double.Array[0, 20].Sample(v => RoundTrip(DicomVR.FD, v));
        Gen.Double.Array[0, 20].Sample(v => RoundTrip(DicomVR.OD, v));
        Gen.Float.Array[0, 20].Sample(v => RoundTrip(DicomVR.OF, v));
        Gen.UInt.Array[0, 20].Sample(v => RoundTrip(DicomVR.OL, v));
        Gen.ULong.Array[0, 20].Sample(v => RoundTrip(DicomVR.OV, v));
        Gen.UShort.Array[0, 20].Sample(v => RoundTrip(DicomVR.OW, v));
    }

    private static void RoundTrip<T>(DicomVR vr, T[] values) where T : unmanaged, System.Numerics.INumberBase<T>
    {
        var ds = new DicomDataset().AddOrUpdate(Private, vr, values);
        // Compare bits, so NaN payloads and -0 count too.
        var stored = System.Runtime.InteropServices.MemoryMarshal.AsBytes(ds.GetValues<T>(Private)).ToArray();
        stored.Should().Equal(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray());
        for (int i = 0; i < values.Length; i++)
            if (!T.IsNaN(values[i])) ds.GetValue<T>(Private, i).Should().Be(values[i]);
    }

    [Fact]
    public void Bytes_round_trip_through_OB_with_even_padding()
    {
        Gen.Byte.Array[0, 33].Sample(v =>
        {
            var ds = new DicomDataset().AddOrUpdate(Private, DicomVR.OB, v);
            var stored = ds.GetValues<byte>(Private).ToArray();
            (stored.Length % 2).Should().Be(0);
            stored[..v.Length].Should().Equal(v);
        });
    }

    [Fact]
    public void Integer_strings_round_trip()
    {
        Gen.Int.Array[1, 10].Sample(v =>
        {
            var ds = new DicomDataset().AddOrUpdate(Private, DicomVR.IS, v);
            ds.GetIntegerStrings<int>(Private).Should().Equal(v);
        });
    }

    [Fact]
    public void Decimal_strings_round_trip_within_16_characters()
    {
        // Doubles: the shortest round-trip text when it fits, else 16 characters worth of significant digits.
        Gen.Double[-1e12, 1e12].Array[1, 6].Sample(v =>
        {
            var ds = new DicomDataset().AddOrUpdate(Private, DicomVR.DS, v);
            foreach (var value in ds.GetStrings(Private))
            {
                value.Length.Should().BeLessThanOrEqualTo(16);
                DicomDecimalString.IsValid(value).Should().BeTrue();
            }
            var read = ds.GetDecimalStrings<double>(Private);
            for (int i = 0; i < v.Length; i++)
                read[i].Should().BeApproximately(v[i], Math.Max(Math.Abs(v[i]) * 1e-9, 1e-9));
        });
        // Decimals with few enough digits come back exactly.
        Gen.Decimal[-99_999_999m, 99_999_999m].Select(d => decimal.Round(d, 4)).Array[1, 6].Sample(v =>
        {
            var ds = new DicomDataset().AddOrUpdate(Private, DicomVR.DS, v);
            ds.GetDecimalStrings(Private).Should().Equal(v);
        });
    }

    [Fact]
    public void Dates_round_trip()
    {
        Gen.DateOnly[new DateOnly(1, 1, 1), new DateOnly(9999, 12, 31)].Sample(d =>
        {
            var ds = new DicomDataset().AddOrUpdate(DicomTags.StudyDate, d);
            ds.GetDate(DicomTags.StudyDate).Should().Be(d);
            DicomDate.TryParseExact(ds.GetString(DicomTags.StudyDate), out _).Should().BeTrue();
        });
    }

    [Fact]
    public void Times_round_trip_to_the_microsecond()
    {
        Gen.TimeOnly.Select(t => new TimeOnly(t.Ticks - t.Ticks % 10)).Sample(t =>
        {
            var ds = new DicomDataset().AddOrUpdate(DicomTags.StudyTime, t);
            ds.GetTime(DicomTags.StudyTime).Should().Be(t);
            DicomTime.TryParseExact(ds.GetString(DicomTags.StudyTime), out _).Should().BeTrue();
        });
    }

    [Fact]
    public void Times_and_date_times_round_trip_at_every_precision()
    {
        var precision = Gen.Int[(int)DicomDateTimePrecision.Hour, (int)DicomDateTimePrecision.Fraction].Select(p => (DicomDateTimePrecision)p);
        Gen.Select(Gen.TimeOnly, precision, Gen.Int[1, 6]).Sample((t, p, digits) =>
        {
            var value = new DicomTime(t, p, p == DicomDateTimePrecision.Fraction ? digits : 0);
            DicomTime.Parse(value.ToString()).Should().Be(value);
            DicomTime.TryParseExact(value.ToString(), out _).Should().BeTrue();
        });

        var dtPrecision = Gen.Int[(int)DicomDateTimePrecision.Year, (int)DicomDateTimePrecision.Fraction].Select(p => (DicomDateTimePrecision)p);
        var offset = Gen.Int[-12 * 60, 14 * 60].Select(m => (TimeSpan?)TimeSpan.FromMinutes(m));
        Gen.Select(Gen.DateTime[new DateTime(1, 1, 1), new DateTime(9999, 12, 31)], dtPrecision, Gen.Int[1, 6], Gen.Bool, offset).Sample((d, p, digits, hasOffset, o) =>
        {
            var value = new DicomDateTime(d, p, p == DicomDateTimePrecision.Fraction ? digits : 0, hasOffset ? o : null);
            var text = value.ToString();
            DicomDateTime.Parse(text).Should().Be(value);
            DicomDateTime.TryParseExact(text, out _).Should().BeTrue();
            var ds = new DicomDataset().AddOrUpdate(DicomTags.AcquisitionDateTime, value);
            ds.GetDateTime(DicomTags.AcquisitionDateTime).Should().Be(value);
        });
    }

    [Fact]
    public void Person_names_round_trip()
    {
        var component = Gen.String[Gen.Char["ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefgh .-'"], 0, 8].Select(s => s.TrimEnd(' '));
        var group = Gen.Select(component, component, component, component, component)
            .Select((f, g, m, p, s) => new DicomPersonNameComponentGroup(f, g, m, p, s));
        Gen.Select(group, group, group).Sample((a, i, p) =>
        {
            var name = new DicomPersonName(a, i, p);
            var ds = new DicomDataset().AddOrUpdate(DicomTags.PatientName, name);
            ds.GetPersonName(DicomTags.PatientName).Should().Be(name);
        });
    }

    [Fact]
    public void Ages_round_trip()
    {
        var unit = Gen.OneOf(DicomAgeUnit.Days, DicomAgeUnit.Weeks, DicomAgeUnit.Months, DicomAgeUnit.Years);
        Gen.Select(Gen.Int[0, 999], unit).Sample((n, u) =>
        {
            var age = new DicomAge(n, u);
            DicomAge.TryParseExact(age.ToString(), out var back).Should().BeTrue();
            back.Should().Be(age);
        });
    }
}
