using System.Globalization;
using System.Text;

namespace Yingyun.Dicom.Tests.CharacterSets;

public class DicomCharacterSetTests
{
    static DicomCharacterSetTests() => Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);

    private static DicomCharacterSet Set(params string[] terms) => DicomCharacterSet.FromSpecificCharacterSet(terms);

    /// <summary>Bytes written as in the examples of PS3.5: hexadecimal pairs, with ASCII text in quotes.</summary>
    private static byte[] Bytes(string spec)
    {
        var result = new List<byte>();
        var parts = spec.Split('\'');
        for (int i = 0; i < parts.Length; i++)
        {
            if (i % 2 == 1) result.AddRange(Encoding.ASCII.GetBytes(parts[i]));
            else
                foreach (var hex in parts[i].Split(' ', StringSplitOptions.RemoveEmptyEntries))
                    result.Add(byte.Parse(hex, NumberStyles.HexNumber, CultureInfo.InvariantCulture));
        }
        return [.. result];
    }

    // ---- Examples of PS3.5 Annexes H to K -----------------------------------------------------------------

    public static TheoryData<string[], string, string, string> AnnexExamples => new()
    {
        // PS3.5 H.3.1: Japanese, JIS X 0208 in G0 after an empty value 1 (ISO 2022 IR 6 assumed).
        {
            ["", "ISO 2022 IR 87"], "PN",
            "'Yamada^Tarou=' 1B 24 42 3B 33 45 44 1B 28 42 '^' 1B 24 42 42 40 4F 3A 1B 28 42 '=' 1B 24 42 24 64 24 5E 24 40 1B 28 42 '^' 1B 24 42 24 3F 24 6D 24 26 1B 28 42",
            "Yamada^Tarou=山田^太郎=やまだ^たろう"
        },
        // PS3.5 H.3.2: half-width Katakana in G1 from value 1, JIS X 0208, back to JIS X 0201 Romaji.
        {
            ["ISO 2022 IR 13", "ISO 2022 IR 87"], "PN",
            "D4 CF C0 DE '^' C0 DB B3 '=' 1B 24 42 3B 33 45 44 1B 28 4A '^' 1B 24 42 42 40 4F 3A 1B 28 4A '=' 1B 24 42 24 64 24 5E 24 40 1B 28 4A '^' 1B 24 42 24 3F 24 6D 24 26 1B 28 4A",
            "ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう"
        },
        // PS3.5 I.2: Korean, KS X 1001 designated to G1 again after every delimiter.
        {
            ["", "ISO 2022 IR 149"], "PN",
            "'Hong^Gildong=' 1B 24 29 43 FB F3 '^' 1B 24 29 43 D1 CE D4 D7 '=' 1B 24 29 43 C8 AB '^' 1B 24 29 43 B1 E6 B5 BF",
            "Hong^Gildong=洪^吉洞=홍^길동"
        },
        // PS3.5 J.3: GB18030 Person Name.
        { ["GB18030"], "PN", "'Wang^XiaoDong=' CD F5 '^' D0 A1 B6 AB '='", "Wang^XiaoDong=王^小东=" },
        // PS3.5 J.4: GB18030 text over several lines.
        {
            ["GB18030"], "LT",
            "'The first line includes' D6 D0 CE C4 '.' 0D 0A 'The second line includes' D6 D0 CE C4 ', too.' 0D 0A 'The third line.' 0D 0A",
            "The first line includes中文.\r\nThe second line includes中文, too.\r\nThe third line.\r\n"
        },
        // PS3.5 K.2: GB 2312 designated to G1 with ESC $ ) A.
        {
            ["", "ISO 2022 IR 58"], "PN",
            "'Zhang^XiaoDong=' 1B 24 29 41 D5 C5 '^' 1B 24 29 41 D0 A1 B6 AB '='",
            "Zhang^XiaoDong=张^小东="
        },
        // PS3.5 Annex K, text example: G1 returns to none at each CR LF and is designated again.
        {
            ["", "ISO 2022 IR 58"], "LT",
            "'1.' 1B 24 29 41 B5 DA D2 BB D0 D0 CE C4 D7 D6 A1 A3 0D 0A '2.' 1B 24 29 41 B5 DA B6 FE D0 D0 CE C4 D7 D6 A1 A3 0D 0A '3.' 1B 24 29 41 B5 DA C8 FD D0 D0 CE C4 D7 D6 A1 A3 0D 0A",
            "1.第一行文字。\r\n2.第二行文字。\r\n3.第三行文字。\r\n"
        },
    };

    [Theory]
    [MemberData(nameof(AnnexExamples))]
    public void Decodes_and_encodes_the_examples_of_PS3_5(string[] terms, string vr, string bytes, string text)
    {
        var characterSet = Set(terms);
        var value = Bytes(bytes);
        var valueRepresentation = DicomVRInfo.Parse(vr);

        characterSet.Decode(value, valueRepresentation).Should().Be(text);
        characterSet.TryDecodeStrict(value, valueRepresentation, out var strict, out var error).Should().BeTrue(error);
        strict.Should().Be(text);
        characterSet.Problems.Should().BeEmpty();
        // The encoder designates exactly where the standard's examples do.
        characterSet.Encode(text, valueRepresentation).Should().Equal(value);
    }

    // ---- Stand-alone multi-byte sets (PS3.3 Table C.12-5) ------------------------------------------------

    [Fact]
    public void Decodes_GBK_and_GB18030_names_written_by_the_runtime_encoders()
    {
        const string name = "Wang^XiaoDong=王^小东=";
        Set("GBK").Decode(Encoding.GetEncoding(936).GetBytes(name), DicomVR.PN).Should().Be(name);
        Set("GB18030").Decode(Encoding.GetEncoding(54936).GetBytes(name), DicomVR.PN).Should().Be(name);
        // 镕 is in GBK but not in GB 2312.
        Set("GBK").Decode(Bytes("E9 46 '^' D0 A1"), DicomVR.PN).Should().Be("镕^小");
        // GB18030 four-byte sequences: U+0080 and a supplementary-plane ideograph (a surrogate pair).
        Set("GB18030").Decode(Bytes("81 30 81 30 95 32 82 36"), DicomVR.LO).Should().Be("\u0080\U00020000");
    }

    [Fact]
    public void A_GBK_trail_byte_equal_to_backslash_does_not_split_the_value()
    {
        // 乗 is 81 5C in GBK: the caller splits on '\' only after decoding.
        var text = Set("GBK").Decode(Bytes("81 5C '^' D2 BB '\\' D2 BB"), DicomVR.LO);
        text.Should().Be("乗^一\\一");
        text.Split('\\').Should().Equal("乗^一", "一");
    }

    [Fact]
    public void UTF_8_decodes_the_whole_value()
    {
        Set("ISO_IR 192").Decode(Bytes("'Wang^XiaoDong=' E7 8E 8B '^' E5 B0 8F E6 9D B1 '='"), DicomVR.PN)
            .Should().Be("Wang^XiaoDong=王^小東=");
    }

    // ---- Defined Terms, misspellings and problems ---------------------------------------------------------

    public static TheoryData<string> DefinedTerms =>
    [
        "ISO_IR 6", "ISO_IR 100", "ISO_IR 101", "ISO_IR 109", "ISO_IR 110", "ISO_IR 144", "ISO_IR 127", "ISO_IR 126",
        "ISO_IR 138", "ISO_IR 148", "ISO_IR 203", "ISO_IR 13", "ISO_IR 166", "ISO_IR 192", "GB18030", "GBK",
        "ISO 2022 IR 6", "ISO 2022 IR 100", "ISO 2022 IR 101", "ISO 2022 IR 109", "ISO 2022 IR 110", "ISO 2022 IR 144",
        "ISO 2022 IR 127", "ISO 2022 IR 126", "ISO 2022 IR 138", "ISO 2022 IR 148", "ISO 2022 IR 203", "ISO 2022 IR 13",
        "ISO 2022 IR 166",
    ];

    [Theory]
    [MemberData(nameof(DefinedTerms))]
    public void Every_Defined_Term_is_known_without_problems(string term)
    {
        var characterSet = Set(term);
        characterSet.IsKnown.Should().BeTrue();
        characterSet.Problems.Should().BeEmpty();
        characterSet.Terms.Should().Equal(term);
    }

    [Theory]
    [InlineData("ISO 2022 IR 87")]
    [InlineData("ISO 2022 IR 159")]
    [InlineData("ISO 2022 IR 149")]
    [InlineData("ISO 2022 IR 58")]
    public void Multi_byte_code_extensions_are_known_as_value_2(string term)
    {
        var characterSet = Set("ISO 2022 IR 6", term);
        characterSet.IsKnown.Should().BeTrue();
        characterSet.Problems.Should().BeEmpty();
        characterSet.UsesCodeExtensions.Should().BeTrue();
    }

    [Theory]
    [InlineData("ISO IR 100")]
    [InlineData("ISO-IR 100")]
    [InlineData("ISO_IR100")]
    [InlineData("iso_ir 100")]
    [InlineData("ISO_IR 100\0")]
    [InlineData("ISO 2022 IR 100")]
    [InlineData("ISO-8859-1")]
    public void Misspelled_Latin_1_is_read_as_ISO_IR_100(string term)
    {
        var characterSet = Set(term);
        characterSet.Decode(Bytes("'Buc^J' E9 'r' F4 'me'"), DicomVR.PN).Should().Be("Buc^Jérôme");
        characterSet.IsKnown.Should().BeTrue();
        if (term != "ISO 2022 IR 100")
            characterSet.Problems.Should().ContainSingle().Which.Should().Contain("ISO_IR 100");
    }

    [Theory]
    [InlineData("UTF-8")]
    [InlineData("utf8")]
    [InlineData("ISO_IR192")]
    [InlineData("ISO 2022 IR 192")]
    public void Misspelled_UTF_8_is_read_as_ISO_IR_192(string term)
    {
        var characterSet = Set(term);
        characterSet.Decode(Bytes("E7 8E 8B"), DicomVR.LO).Should().Be("王");
        characterSet.Problems.Should().ContainSingle().Which.Should().Contain("ISO_IR 192");
    }

    [Theory]
    [InlineData("gb18030", "GB18030")]
    [InlineData("GB-18030", "GB18030")]
    [InlineData("gbk ", "GBK")]
    [InlineData("GB 2312", "ISO 2022 IR 58")]
    public void Misspelled_Chinese_terms_are_read(string term, string definedTerm)
    {
        var characterSet = Set(term);
        characterSet.Decode(Bytes("CD F5"), DicomVR.LO).Should().Be("王");
        characterSet.IsKnown.Should().BeTrue();
        characterSet.Problems.Should().Contain(p => p.Contains(definedTerm, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("ISO_IR 87")]
    [InlineData("ISO-2022-IR-87")]
    [InlineData("iso 2022 ir 87")]
    public void Misspelled_Japanese_code_extension_is_read_as_ISO_2022_IR_87(string term)
    {
        var characterSet = Set("", term);
        characterSet.Decode(Bytes("1B 24 42 3B 33 45 44 1B 28 42"), DicomVR.PN).Should().Be("山田");
        characterSet.Problems.Should().ContainSingle().Which.Should().Contain("ISO 2022 IR 87");
    }

    [Fact]
    public void An_unknown_term_falls_back_to_the_default_repertoire_and_is_reported()
    {
        var characterSet = Set("KLINGON");
        characterSet.IsKnown.Should().BeFalse();
        characterSet.Problems.Should().ContainSingle().Which.Should().Contain("KLINGON");
        characterSet.Decode(Bytes("'Buc^J' E9 'r' F4 'me'"), DicomVR.PN).Should().Be("Buc^Jérôme");
        characterSet.TryDecodeStrict(Bytes("'J' E9"), DicomVR.PN, out _, out var error).Should().BeFalse();
        error.Should().Contain("0xE9");

        var extension = Set("ISO 2022 IR 100", "KLINGON");
        extension.IsKnown.Should().BeFalse();
        extension.Problems.Should().ContainSingle().Which.Should().Contain("value 2 is ignored");
        extension.Decode(Bytes("E9"), DicomVR.LO).Should().Be("é");
    }

    [Fact]
    public void Stand_alone_sets_ignore_code_extensions_and_say_so()
    {
        var utf8 = Set("ISO_IR 192", "ISO 2022 IR 87");
        utf8.Problems.Should().ContainSingle().Which.Should().Contain("ISO 2022 IR 87");
        utf8.Decode(Bytes("E7 8E 8B"), DicomVR.LO).Should().Be("王");

        var extension = Set("ISO 2022 IR 100", "GB18030");
        extension.Problems.Should().ContainSingle().Which.Should().Contain("GB18030");
        extension.Decode(Bytes("E9"), DicomVR.LO).Should().Be("é");
    }

    [Fact]
    public void A_term_without_code_extensions_among_several_values_is_read_as_its_ISO_2022_form()
    {
        // Seen in Japanese files: ISO_IR 13\ISO 2022 IR 87 for ISO 2022 IR 13\ISO 2022 IR 87.
        var characterSet = Set("ISO_IR 13", "ISO 2022 IR 87");
        characterSet.UsesCodeExtensions.Should().BeTrue();
        characterSet.Problems.Should().ContainSingle().Which.Should().Contain("ISO_IR 13");
        characterSet.Decode(Bytes("D4 CF '=' 1B 24 42 3B 33 1B 28 4A"), DicomVR.PN).Should().Be("ﾔﾏ=山");

        Set("ISO_IR 6", "ISO 2022 IR 87").Problems.Should().ContainSingle().Which.Should().Contain("ISO_IR 6");
    }

    [Fact]
    public void A_multi_byte_set_as_value_1_keeps_ASCII_in_G0()
    {
        var korean = Set("ISO 2022 IR 149");
        korean.Problems.Should().ContainSingle().Which.Should().Contain("Table C.12-4");
        korean.Decode(Bytes("'Kim=' B1 E8"), DicomVR.PN).Should().Be("Kim=김");
    }

    [Fact]
    public void Empty_values_mean_the_default_repertoire()
    {
        Set().Should().BeSameAs(DicomCharacterSet.Default);
        Set("").Should().BeSameAs(DicomCharacterSet.Default);
        Set(" ", "\0").Should().BeSameAs(DicomCharacterSet.Default);

        var latin1 = Set("ISO_IR 100", "");
        latin1.Decode(Bytes("E9"), DicomVR.LO).Should().Be("é");
        latin1.UsesCodeExtensions.Should().BeFalse();
        latin1.Problems.Should().ContainSingle().Which.Should().Contain("value 2");
    }

    [Fact]
    public void Instances_are_shared_per_terms_list()
    {
        Set("ISO_IR 100").Should().BeSameAs(Set("ISO_IR 100"));
        Set("", "ISO 2022 IR 87").Should().BeSameAs(Set("", "ISO 2022 IR 87"));
        Set("ISO_IR 100").Should().NotBeSameAs(Set("ISO IR 100"));
    }

    // ---- VRs and delimiters ------------------------------------------------------------------------------

    [Fact]
    public void Only_text_VRs_use_the_specific_character_set()
    {
        var utf8 = Set("ISO_IR 192");
        var value = Bytes("C3 84");
        utf8.Decode(value, DicomVR.LO).Should().Be("Ä");
        // PS3.5 §6.1.2.3: CS, UI, DA, ... keep the default repertoire (bytes above 0x7F read as Latin-1).
        utf8.Decode(value, DicomVR.CS).Should().Be("Ã\u0084");
        utf8.TryDecodeStrict(value, DicomVR.CS, out _, out var error).Should().BeFalse();
        error.Should().Contain("default repertoire");
        utf8.Encode("Ä", DicomVR.CS).Should().Equal(0xC4);
        utf8.TryEncode("Ä", DicomVR.CS, out _).Should().BeFalse();
    }

    [Fact]
    public void Delimiters_reset_to_the_value_1_sets()
    {
        var latinGreek = Set("ISO 2022 IR 100", "ISO 2022 IR 126");
        var value = Bytes("1B 2D 46 E1 '^' E1 '\\' E1");
        // PN: '^' and '\' bring Latin-1 back to G1 (PS3.5 §6.1.2.5.3).
        latinGreek.Decode(value, DicomVR.PN).Should().Be("α^á\\á");
        // LO: '^' is an ordinary character, '\' separates values.
        latinGreek.Decode(value, DicomVR.LO).Should().Be("α^α\\á");
        // LT holds one value: '\' is an ordinary character too.
        latinGreek.Decode(value, DicomVR.LT).Should().Be("α^α\\α");
        latinGreek.Decode(Bytes("1B 2D 46 E1 0D 0A E1"), DicomVR.LT).Should().Be("α\r\ná");
    }

    [Fact]
    public void A_double_byte_character_may_contain_delimiter_bytes()
    {
        var japanese = Set("", "ISO 2022 IR 87");
        // 移 is 30 5C in JIS X 0208: its second byte is the backslash.
        var value = Bytes("1B 24 42 30 5C 1B 28 42 '\\' 1B 24 42 3B 33 45 44 1B 28 42");
        var text = japanese.Decode(value, DicomVR.LO);
        text.Should().Be("移\\山田");
        text.Split('\\').Should().HaveCount(2);
        japanese.Encode(text, DicomVR.LO).Should().Equal(value);
    }

    [Fact]
    public void Decodes_JIS_X_0212()
    {
        var supplementary = Set("", "ISO 2022 IR 159");
        var value = Bytes("1B 24 28 44 30 21 1B 28 42");
        supplementary.Decode(value, DicomVR.LO).Should().Be("丂");
        supplementary.Encode("丂", DicomVR.LO).Should().Equal(value);
    }

    [Fact]
    public void Tolerates_a_missing_G1_designation()
    {
        // Korean files often omit ESC $ ) C: the first declared G1 set is used, and strict decoding reports it.
        var korean = Set("", "ISO 2022 IR 149");
        var value = Bytes("B1 E8 C8 F1 C1 DF");
        korean.Decode(value, DicomVR.PN).Should().Be("김희중");
        korean.TryDecodeStrict(value, DicomVR.PN, out var text, out var error).Should().BeFalse();
        text.Should().Be("김희중");
        error.Should().Contain("G1");
    }

    // ---- Strict decoding ---------------------------------------------------------------------------------

    public static TheoryData<string[], string, string, string> IllegalValues => new()
    {
        { [], "LO", "'A' E9", "0xE9" },
        { [], "LO", "1B 24 42", "escape sequence" },
        { ["ISO_IR 192"], "LO", "'A' C3 28", "C3" },
        { ["GB18030"], "LO", "'A' 81 20", "81" },
        { ["GBK"], "LO", "'A' FF", "FF" },
        { ["ISO_IR 100"], "LO", "'A' 92", "C1" },
        { ["ISO_IR 127"], "LO", "A1", "0xA1" },
        { ["ISO_IR 13"], "LO", "E0", "0xE0" },
        { ["ISO_IR 100"], "LO", "1B 2D 46 E1", "no code extensions" },
        { ["", "ISO 2022 IR 87"], "PN", "1B 24 42 3B 33", "ends" },
        { ["", "ISO 2022 IR 87"], "LT", "1B 24 42 3B 33 0D 0A", "0x0D" },
        { ["", "ISO 2022 IR 87"], "LO", "1B 24 42 3B", "incomplete" },
        { ["", "ISO 2022 IR 87"], "LO", "1B 24 29 43 B1 E8", "does not declare" },
        { ["", "ISO 2022 IR 87"], "LO", "1B 24 40 3B 33 1B 28 42", "ISO-IR 42" },
        { ["", "ISO 2022 IR 87"], "LO", "1B 28 5A 'A'", "unknown escape sequence" },
        // Row 13 of the runtime's EUC-JP holds NEC special characters, not JIS X 0208.
        { ["", "ISO 2022 IR 87"], "LO", "1B 24 42 2D 21 1B 28 42", "ISO-IR 87" },
        { ["", "ISO 2022 IR 149"], "LO", "1B 24 29 43 B1", "does not start" },
    };

    [Theory]
    [MemberData(nameof(IllegalValues))]
    public void Strict_decoding_reports_bytes_illegal_for_the_declared_sets(string[] terms, string vr, string bytes, string errorFragment)
    {
        var characterSet = Set(terms);
        var value = Bytes(bytes);
        var valueRepresentation = DicomVRInfo.Parse(vr);

        characterSet.TryDecodeStrict(value, valueRepresentation, out var text, out var error).Should().BeFalse();
        error.Should().Contain(errorFragment);
        // Lenient decoding never throws and reads the same text.
        characterSet.Decode(value, valueRepresentation).Should().Be(text);
    }

    [Fact]
    public void Lenient_decoding_keeps_what_can_be_read()
    {
        Set("", "ISO 2022 IR 87").Decode(Bytes("1B 24 40 3B 33 1B 28 42"), DicomVR.LO).Should().Be("山");
        Set("ISO_IR 192").Decode(Bytes("'A' C3 28"), DicomVR.LO).Should().Be("A\uFFFD(");
        Set("ISO_IR 127").Decode(Bytes("'A' A1 C7"), DicomVR.LO).Should().Be("A\uFFFDا");
        Set("ISO_IR 100").Decode(Bytes("1B 2D 46 E1"), DicomVR.LO).Should().Be("α");
    }

    // ---- Encoding ----------------------------------------------------------------------------------------

    [Fact]
    public void Encodes_single_byte_sets()
    {
        Set("ISO_IR 100").Encode("Buc^Jérôme", DicomVR.PN).Should().Equal(Bytes("'Buc^J' E9 'r' F4 'me'"));
        Set("ISO_IR 144").Encode("Люкceмбypг", DicomVR.PN).Should().Equal(Bytes("BB EE DA 'ce' DC D1 'yp' D3"));
        Set("ISO_IR 166").Encode("ก", DicomVR.LO).Should().Equal(0xA1);
    }

    [Fact]
    public void Reports_characters_the_declared_sets_cannot_encode()
    {
        var latin1 = Set("ISO_IR 100");
        latin1.TryEncode("日本", DicomVR.LO, out var bytes).Should().BeFalse();
        bytes.Should().BeNull();
        latin1.Encode("日本", DicomVR.LO).Should().Equal(Bytes("'??'"));
        Set("GBK").TryEncode("한", DicomVR.LO, out _).Should().BeFalse();
        Set("GB18030").TryEncode("한", DicomVR.LO, out _).Should().BeTrue();
    }

    [Fact]
    public void Switches_between_declared_sets_in_the_order_of_the_terms()
    {
        var characterSet = Set("ISO 2022 IR 100", "ISO 2022 IR 126", "ISO 2022 IR 87");
        const string text = "é α 山 é";
        var bytes = characterSet.Encode(text, DicomVR.LO);
        bytes.Should().Equal(Bytes("E9 ' ' 1B 2D 46 E1 ' ' 1B 24 42 3B 33 1B 28 42 ' ' 1B 2D 41 E9"));
        characterSet.Decode(bytes, DicomVR.LO).Should().Be(text);
    }

    [Fact]
    public void Accepts_the_Windows_variants_of_JIS_X_0208_symbols_when_encoding()
    {
        // CP932 input writes FULLWIDTH TILDE for JIS X 0208 1-33 (WAVE DASH).
        Set("", "ISO 2022 IR 87").Encode("\uFF5E", DicomVR.LO).Should().Equal(Bytes("1B 24 42 21 41 1B 28 42"));
    }
}
