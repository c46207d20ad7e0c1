using System.Text;
using System.Text.Json;

namespace Yingyun.Dicom.Tests.Json;

public class DicomJsonReaderTests
{
    private static byte[] ValueOf(DicomDataset ds, DicomTag tag)
    {
        ds.TryGetElement(tag, out var e).Should().BeTrue($"{tag} should be there");
        return e!.Span.ToArray();
    }

    private static string TextOf(DicomDataset ds, DicomTag tag) => Encoding.UTF8.GetString(ValueOf(ds, tag));

    [Fact]
    public void Values_become_part_10_values_with_padding_to_even_length()
    {
        var ds = DicomJsonReader.Read("""
            {
              "00080008": {"vr": "CS", "Value": ["ORIGINAL", null, "AXIAL"]},
              "00080018": {"vr": "UI", "Value": ["1.2.3"]},
              "00100010": {"vr": "PN", "Value": [{"Phonetic": "doe", "Alphabetic": "Doe^John"}, null, {"Ideographic": "DOE"}]},
              "00180050": {"vr": "DS", "Value": [1.50, "junk", null, -2]},
              "00200013": {"vr": "IS", "Value": [7]},
              "00280010": {"vr": "US", "Value": [512, "3"]},
              "00280009": {"vr": "AT", "Value": ["7FE00010"]},
              "00091010": {"vr": "OB", "InlineBinary": "AQID"},
              "00204000": {"vr": "LT", "Value": ["a\\b"]},
              "00100020": {"vr": "LO"}
            }
            """);
        TextOf(ds, DicomTags.ImageType).Should().Be("ORIGINAL\\\\AXIAL ");
        TextOf(ds, DicomTags.SOPInstanceUID).Should().Be("1.2.3\0");
        TextOf(ds, DicomTags.PatientName).Should().Be("Doe^John==doe\\\\=DOE ");
        TextOf(ds, new DicomTag(0x0018, 0x0050)).Should().Be("1.50\\junk\\\\-2 ");
        TextOf(ds, DicomTags.InstanceNumber).Should().Be("7 ");
        ValueOf(ds, new DicomTag(0x0028, 0x0010)).Should().Equal(0x00, 0x02, 0x03, 0x00);
        ValueOf(ds, DicomTags.FrameIncrementPointer).Should().Equal(0xE0, 0x7F, 0x10, 0x00);
        ValueOf(ds, new DicomTag(0x0009, 0x1010)).Should().Equal(1, 2, 3);
        TextOf(ds, DicomTags.ImageComments).Should().Be("a\\b ");
        ValueOf(ds, DicomTags.PatientID).Should().BeEmpty();
        ds.Should().HaveCount(10);
        ds.Select(i => i.Tag.Value).Should().BeInAscendingOrder();
    }

    [Fact]
    public void Non_ASCII_text_is_UTF_8_and_the_data_set_declares_ISO_IR_192()
    {
        var ds = DicomJsonReader.Read("""
            {
              "00080005": {"vr": "CS", "Value": ["ISO 2022 IR 87"]},
              "00081030": {"vr": "LO", "Value": ["Ba\u00f1o"]},
              "00081140": {"vr": "SQ", "Value": [
                {"00080005": {"vr": "CS", "Value": ["ISO_IR 100"]}, "00100010": {"vr": "PN", "Value": [{"Ideographic": "山田^太郎"}]}},
                {"00100020": {"vr": "LO", "Value": ["plain"]}}
              ]}
            }
            """);
        TextOf(ds, DicomTag.SpecificCharacterSetTag).Should().Be("ISO_IR 192");
        ValueOf(ds, DicomTags.StudyDescription).Should().Equal(Encoding.UTF8.GetBytes("Baño "));
        ds.TryGetSequence(DicomTags.ReferencedImageSequence, out var sq).Should().BeTrue();
        // an item that declared its own character set declares UTF-8 too; the other inherits it
        TextOf(sq!.Items[0], DicomTag.SpecificCharacterSetTag).Should().Be("ISO_IR 192");
        TextOf(sq.Items[0], DicomTags.PatientName).Should().Be("=山田^太郎");
        sq.Items[1].Contains(DicomTag.SpecificCharacterSetTag).Should().BeFalse();
        sq.Items[1].Parent.Should().BeSameAs(ds);
        sq.Items[1].CharacterSet.Terms.Should().Equal("ISO_IR 192");
    }

    [Fact]
    public void ASCII_text_keeps_the_declared_character_set()
    {
        var ds = DicomJsonReader.Read("""{"00080005": {"vr": "CS", "Value": ["ISO_IR 100"]}, "00100010": {"vr": "PN", "Value": [{"Alphabetic": "Doe^John"}]}}""");
        TextOf(ds, DicomTag.SpecificCharacterSetTag).Should().Be("ISO_IR 100");
    }

    [Fact]
    public void Attribute_members_in_any_order_and_a_missing_vr_from_the_dictionary()
    {
        var ds = DicomJsonReader.Read("""
            {
              "00280010": {"Value": [2], "vr": "US"},
              "00100010": {"Value": [{"Alphabetic": "Doe"}]},
              "00081140": {"Value": [{"00081155": {"Value": ["1.2"], "vr": "UI"}}]},
              "00100020": {"vr": "LO", "Value": ["x"], "comment": {"ignored": [1, 2]}}
            }
            """);
        ValueOf(ds, new DicomTag(0x0028, 0x0010)).Should().Equal(2, 0);
        ds[DicomTags.PatientName]!.VR.Should().Be(DicomVR.PN);
        TextOf(ds, DicomTags.PatientName).Should().Be("Doe ");
        ds.TryGetSequence(DicomTags.ReferencedImageSequence, out var sq).Should().BeTrue();
        TextOf(sq!.Items[0], DicomTags.ReferencedSOPInstanceUID).Should().Be("1.2\0");
        TextOf(ds, DicomTags.PatientID).Should().Be("x ");
    }

    [Fact]
    public void Numbers_for_DS_and_IS_keep_their_digits_or_are_made_to_fit()
    {
        var ds = DicomJsonReader.Read("""{"00180050": {"vr": "DS", "Value": [0.30000001192092896, 1E+3, 12345678901234567890]}, "00200013": {"vr": "IS", "Value": [2.0, 1e3, -12]}}""");
        var ds_ = TextOf(ds, new DicomTag(0x0018, 0x0050)).TrimEnd().Split('\\');
        ds_.Should().HaveCount(3).And.OnlyContain(v => v.Length <= 16);
        double.Parse(ds_[0], System.Globalization.CultureInfo.InvariantCulture).Should().BeApproximately(0.30000001192092896, 1e-13);
        ds_[1].Should().Be("1E+3");
        double.Parse(ds_[2], System.Globalization.CultureInfo.InvariantCulture).Should().BeApproximately(12345678901234567890.0, 1e9);
        TextOf(ds, DicomTags.InstanceNumber).Should().Be("2\\1000\\-12");
    }

    [Theory]
    [InlineData("""{"00280010": {"vr": "US", "Value": [70000]}}""", "00280010")]
    [InlineData("""{"00280010": {"vr": "US", "Value": [1.5]}}""", "00280010")]
    [InlineData("""{"00081140": {"vr": "SQ", "Value": [{"00280009": {"vr": "AT", "Value": ["nope"]}}]}}""", "00081140/00280009")]
    [InlineData("""{"7FE00010": {"vr": "OB", "InlineBinary": "not base64!"}}""", "7FE00010")]
    [InlineData("""{"7FE00010": {"vr": "OB", "Value": [1]}}""", "7FE00010")]
    [InlineData("""{"00100010": {"vr": "PN", "Value": ["A"], "InlineBinary": "AA=="}}""", "00100010")]
    [InlineData("""{"00100010": "Doe"}""", "00100010")]
    public void Values_a_VR_cannot_hold_throw_naming_the_attribute(string json, string where)
    {
        var act = () => DicomJsonReader.Read(json);
        act.Should().Throw<JsonException>().WithMessage($"{where}:*");
    }

    [Fact]
    public void Malformed_JSON_throws()
    {
        FluentActions.Invoking(() => DicomJsonReader.Read("""{"00100010": {"vr": "PN" """)).Should().Throw<JsonException>();
        FluentActions.Invoking(() => DicomJsonReader.Read("[]")).Should().Throw<JsonException>();
        FluentActions.Invoking(() => DicomJsonReader.Read("""{"xyz": {"vr": "PN"}}""")).Should().Throw<JsonException>().WithMessage("*xyz*");
    }

    [Fact]
    public async Task Bulk_data_uris_are_kept_unfetched_and_fail_loudly_if_read()
    {
        var ds = DicomJsonReader.Read("""{"7FE00010": {"vr": "OW", "BulkDataURI": "https://pacs.invalid/studies/1/bulk/7FE00010"}}""");
        ds.TryGetElement(DicomTags.PixelData, out var e).Should().BeTrue();
        DicomJsonBulkDataUri.TryGetUri(e!.Value, out var uri).Should().BeTrue();
        uri.Should().Be("https://pacs.invalid/studies/1/bulk/7FE00010");
        e.Value.IsInMemory.Should().BeFalse();

        // written back as the same URI, without trying to read it
        DicomJsonWriter.ToJson(ds).Should().Be("""{"7FE00010":{"vr":"OW","BulkDataURI":"https://pacs.invalid/studies/1/bulk/7FE00010"}}""");

        await FluentActions.Awaiting(() => e.Value.CopyToAsync(Stream.Null).AsTask()).Should().ThrowAsync<InvalidOperationException>().WithMessage("*not been retrieved*");
        await FluentActions.Awaiting(() => e.Value.GetBytesAsync().AsTask()).Should().ThrowAsync<InvalidOperationException>();
        await FluentActions.Awaiting(() => DicomWriter.WriteDatasetAsync(new MemoryStream(), ds, DicomTransferSyntax.ExplicitVRLittleEndian))
            .Should().ThrowAsync<InvalidOperationException>();

        // resolved, it is an ordinary value
        int n = await DicomJsonBulkDataUri.ResolveAsync(ds, (u, ct) => ValueTask.FromResult<ReadOnlyMemory<byte>>(new byte[] { 1, 0, 2, 0 }));
        n.Should().Be(1);
        ValueOf(ds, DicomTags.PixelData).Should().Equal(1, 0, 2, 0);
    }

    [Fact]
    public void Inline_pixel_data_that_is_a_sequence_of_items_becomes_fragments()
    {
        // empty offset table, one fragment of 3 bytes, then (as some writers add) the sequence delimiter
        byte[] items = [0xFE, 0xFF, 0x00, 0xE0, 0, 0, 0, 0, 0xFE, 0xFF, 0x00, 0xE0, 3, 0, 0, 0, 7, 8, 9, 0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0];
        var ds = DicomJsonReader.Read($$$"""{"7FE00010": {"vr": "OB", "InlineBinary": "{{{Convert.ToBase64String(items)}}}"}}""");
        var f = ds[DicomTags.PixelData].Should().BeOfType<DicomFragmentSequence>().Subject;
        f.OffsetTable.Length.Should().Be(0);
        f.Fragments.Should().ContainSingle().Which.Memory.ToArray().Should().Equal(7, 8, 9);

        // native pixel data stays an element
        var native = DicomJsonReader.Read("""{"7FE00010": {"vr": "OW", "InlineBinary": "AQIDBA=="}}""");
        native[DicomTags.PixelData].Should().BeOfType<DicomElement>();
    }

    [Fact]
    public void Sequences_with_empty_and_null_items()
    {
        var ds = DicomJsonReader.Read("""{"00081140": {"vr": "SQ", "Value": [{}, null]}, "00081199": {"vr": "SQ"}}""");
        ds.TryGetSequence(DicomTags.ReferencedImageSequence, out var sq).Should().BeTrue();
        sq!.Items.Should().HaveCount(2).And.OnlyContain(i => i.Count == 0);
        ds.TryGetSequence(DicomTags.ReferencedSOPSequence, out var empty).Should().BeTrue();
        empty!.Items.Should().BeEmpty();
    }

    [Fact]
    public async Task Reads_arrays_and_streams()
    {
        var list = DicomJsonReader.ReadArray("""[{"00100020": {"vr": "LO", "Value": ["a"]}}, {"00100020": {"vr": "LO", "Value": ["b"]}}]"""u8);
        list.Select(d => TextOf(d, DicomTags.PatientID)).Should().Equal("a ", "b ");

        // a stream longer than the first buffer
        string big = "{\"00204000\": {\"vr\": \"LT\", \"Value\": [\"" + new string('x', 200_000) + "\"]}}";
        var fromStream = DicomJsonReader.Read(new MemoryStream(Encoding.UTF8.GetBytes(big)));
        ValueOf(fromStream, DicomTags.ImageComments).Should().HaveCount(200_000);
        var fromAsync = await DicomJsonReader.ReadAsync(new MemoryStream(Encoding.UTF8.GetBytes(big)));
        ValueOf(fromAsync, DicomTags.ImageComments).Should().HaveCount(200_000);
    }

    [Fact]
    public void Escaped_strings_are_unescaped()
    {
        var ds = DicomJsonReader.Read("""{"00204000": {"vr": "LT", "Value": ["line1\nline2 \"q\" \u0041"]}}""");
        TextOf(ds, DicomTags.ImageComments).Should().Be("line1\nline2 \"q\" A ");
    }
}
