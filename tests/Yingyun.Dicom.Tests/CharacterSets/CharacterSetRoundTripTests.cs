using System.Text;
using CsCheck;

namespace Yingyun.Dicom.Tests.CharacterSets;

/// <summary>Decode(Encode(x)) == x for random text drawn from the declared repertoires, with the delimiters
/// and control characters at which the ISO 2022 state resets (PS3.5 §6.1.2.5.3) mixed in.</summary>
public class CharacterSetRoundTripTests
{
    static CharacterSetRoundTripTests() => Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);

    public static TheoryData<string> GraphicSets =>
    [
        "ISO_IR 6", "ISO_IR 100", "ISO_IR 101", "ISO_IR 109", "ISO_IR 110", "ISO_IR 144", "ISO_IR 127", "ISO_IR 126",
        "ISO_IR 138", "ISO_IR 148", "ISO_IR 203", "ISO_IR 13", "ISO_IR 166",
        "ISO 2022 IR 6", "ISO 2022 IR 100", "ISO 2022 IR 166", "ISO 2022 IR 13",
        "\\ISO 2022 IR 87", "ISO 2022 IR 6\\ISO 2022 IR 87", "ISO 2022 IR 13\\ISO 2022 IR 87",
        "\\ISO 2022 IR 87\\ISO 2022 IR 159", "\\ISO 2022 IR 149", "\\ISO 2022 IR 58",
        "ISO 2022 IR 100\\ISO 2022 IR 126\\ISO 2022 IR 144",
        "ISO 2022 IR 13\\ISO 2022 IR 87\\ISO 2022 IR 159",
        "ISO 2022 IR 6\\ISO 2022 IR 100\\ISO 2022 IR 87\\ISO 2022 IR 149\\ISO 2022 IR 58",
    ];

    private static readonly DicomVR[] TextVRs = [DicomVR.PN, DicomVR.LO, DicomVR.LT];

    [Theory]
    [MemberData(nameof(GraphicSets))]
    public void Graphic_sets_round_trip(string specificCharacterSet)
    {
        var characterSet = DicomCharacterSet.FromSpecificCharacterSet(specificCharacterSet.Split('\\'));
        characterSet.Problems.Should().BeEmpty();
        var repertoire = new string(characterSet.Repertoire().Where(c => c >= 0x80).ToArray());
        var ascii = Gen.Char[" !\"#$%&'()*+,-./0123456789:;<>?@AZaz[]_`{|}~^=\\"];
        var chars = repertoire.Length == 0 ? ascii : Gen.Frequency((1, ascii), (2, Gen.Char[repertoire]));
        var controls = Gen.Char["\r\n\t\f"];
        Gen.Select(Gen.Frequency((20, chars), (1, controls)).Array[0, 40], Gen.Int[0, TextVRs.Length - 1])
            .Sample((text, vrIndex) => RoundTrips(characterSet, new string(text), TextVRs[vrIndex]), iter: 400);
    }

    [Theory]
    [InlineData("ISO_IR 192")]
    [InlineData("GB18030")]
    public void Unicode_sets_round_trip_every_scalar_value(string specificCharacterSet)
    {
        var characterSet = DicomCharacterSet.FromSpecificCharacterSet([specificCharacterSet]);
        var scalar = Gen.Int[0x20, 0x10FFFF].Where(cp => cp is < 0xD800 or > 0xDFFF).Select(char.ConvertFromUtf32);
        Gen.Select(scalar.Array[0, 30], Gen.Int[0, TextVRs.Length - 1])
            .Sample((parts, vrIndex) => RoundTrips(characterSet, string.Concat(parts), TextVRs[vrIndex]), iter: 400);
    }

    [Fact]
    public void GBK_round_trips_its_repertoire()
    {
        // GBK's repertoire, as the runtime's code page 936 decodes its two-byte codes.
        var gbk = Encoding.GetEncoding(936, EncoderFallback.ExceptionFallback, DecoderFallback.ExceptionFallback);
        var repertoire = new StringBuilder();
        for (int lead = 0x81; lead <= 0xFE; lead++)
        for (int trail = 0x40; trail <= 0xFE; trail++)
        {
            if (trail == 0x7F) continue;
            try
            {
                var s = gbk.GetString([(byte)lead, (byte)trail]);
                if (s.Length == 1 && !char.IsBetween(s[0], '\uE000', '\uF8FF')) repertoire.Append(s);
            }
            catch (DecoderFallbackException)
            {
            }
        }
        repertoire.Length.Should().BeGreaterThan(20000);
        var characterSet = DicomCharacterSet.FromSpecificCharacterSet(["GBK"]);
        var chars = Gen.Frequency((1, Gen.Char[" AZaz^=\\"]), (3, Gen.Char[repertoire.ToString()]));
        Gen.Select(chars.Array[0, 40], Gen.Int[0, TextVRs.Length - 1])
            .Sample((text, vrIndex) => RoundTrips(characterSet, new string(text), TextVRs[vrIndex]), iter: 400);
    }

    [Fact]
    public void Long_values_round_trip()
    {
        // Longer than the stack buffer of the decoder, so the pooled path is taken.
        var characterSet = DicomCharacterSet.FromSpecificCharacterSet(["", "ISO 2022 IR 87"]);
        var text = string.Concat(Enumerable.Repeat("山田 太郎\r\nYamada Tarou\r\n", 200));
        RoundTrips(characterSet, text, DicomVR.LT);
        characterSet.Encode(text, DicomVR.LT).Length.Should().BeGreaterThan(4096);
    }

    private static void RoundTrips(DicomCharacterSet characterSet, string text, DicomVR vr)
    {
        characterSet.TryEncode(text, vr, out var bytes).Should().BeTrue();
        characterSet.Decode(bytes, vr).Should().Be(text);
        characterSet.TryDecodeStrict(bytes, vr, out var strict, out var error).Should().BeTrue(error);
        strict.Should().Be(text);
    }
}
