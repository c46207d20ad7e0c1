using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using CsCheck;

namespace Yingyun.Dicom.Tests.Json;

public class DicomJsonWriterTests
{
    private static DicomElement Text(DicomTag tag, DicomVR vr, string value) => new(tag, vr, Encoding.Latin1.GetBytes(value));

    private static DicomElement Binary(DicomTag tag, DicomVR vr, params byte[] value) => new(tag, vr, value);

    private static string Json(params DicomItem[] items) => DicomJsonWriter.ToJson(new DicomDataset(items));

    private static byte[] Floats(params float[] values)
    {
        var b = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(b.AsSpan(i * 4), values[i]);
        return b;
    }

    private static byte[] Doubles(params double[] values)
    {
        var b = new byte[values.Length * 8];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteDoubleLittleEndian(b.AsSpan(i * 8), values[i]);
        return b;
    }

    [Theory]
    [InlineData("Doe^John=DOE^J=doe^john", """[{"Alphabetic":"Doe^John","Ideographic":"DOE^J","Phonetic":"doe^john"}]""")]
    [InlineData("=Yamada^Tarou", """[{"Ideographic":"Yamada^Tarou"}]""")]
    [InlineData("Doe^John==doe^john ", """[{"Alphabetic":"Doe^John","Phonetic":"doe^john"}]""")]
    [InlineData("Doe^John=", """[{"Alphabetic":"Doe^John"}]""")]
    [InlineData("Doe^John\\\\Roe^Jane ", """[{"Alphabetic":"Doe^John"},null,{"Alphabetic":"Roe^Jane"}]""")]
    [InlineData("==", "[null]")]
    public void Person_names_are_objects_of_their_non_empty_component_groups(string value, string expected)
    {
        Json(Text(DicomTags.PatientName, DicomVR.PN, value))
            .Should().Be($$$"""{"00100010":{"vr":"PN","Value":{{{expected}}}}}""");
    }

    [Fact]
    public void Empty_values_are_attributes_with_only_a_vr()
    {
        // PS3.18 §F.2.5; a value of padding only is empty too.
        Json(
            Text(DicomTags.ImageType, DicomVR.CS, ""),
            Text(DicomTags.SOPInstanceUID, DicomVR.UI, "\0"),
            Text(DicomTags.Modality, DicomVR.CS, "  "),
            Text(DicomTags.PatientName, DicomVR.PN, ""),
            Binary(new DicomTag(0x0028, 0x0010), DicomVR.US),
            Binary(new DicomTag(0x0009, 0x1001), DicomVR.OB),
            new DicomSequence(DicomTags.ReferencedImageSequence))
            .Should().Be("""{"00080008":{"vr":"CS"},"00080018":{"vr":"UI"},"00080060":{"vr":"CS"},"00081140":{"vr":"SQ"},"00091001":{"vr":"OB"},"00100010":{"vr":"PN"},"00280010":{"vr":"US"}}""");
    }

    [Theory]
    [InlineData("CS", "ORIGINAL\\\\ AXIAL ", """["ORIGINAL",null,"AXIAL"]""")]
    [InlineData("LO", "\\", "[null,null]")]
    [InlineData("DS", "1.5\\\\-2 ", "[1.5,null,-2]")]
    [InlineData("UI", "1.2\\\\1.3\0", """["1.2",null,"1.3"]""")]
    [InlineData("LT", " a\\b  ", """[" a\\b"]""")] // single-valued, leading spaces kept (PS3.5 §6.4, Table 6.2-1)
    [InlineData("UR", "http://x/a\\b ", """["http://x/a\\b"]""")]
    public void Multiple_values_split_and_empty_ones_are_null(string vr, string value, string expected)
    {
        Json(Text(new DicomTag(0x0009, 0x1002), DicomVRInfo.Parse(vr), value))
            .Should().Be($$$"""{"00091002":{"vr":"{{{vr}}}","Value":{{{expected}}}}}""");
    }

    [Fact]
    public void Attribute_tags_are_eight_upper_case_hex_digits()
    {
        byte[] at = [0x10, 0x00, 0x10, 0x00, 0xE0, 0x7F, 0x10, 0x00, 0x09, 0x00, 0x01, 0x10, 0xAA, 0xBB];
        Json(Binary(DicomTags.FrameIncrementPointer, DicomVR.AT, at))
            .Should().Be("""{"00280009":{"vr":"AT","Value":["00100010","7FE00010","00091001"]}}""");
    }

    [Fact]
    public void Writes_junk_DS_and_IS_leniently()
    {
        // DS: a number with the value's digits where it is one (exponents written out), else a string.
        Json(Text(new DicomTag(0x0018, 0x0050), DicomVR.DS, "1A\\NaN\\1e999\\ +1.50\\1.50\\00.5\\.5\\-0\\1E3\\12345678901234567"))
            .Should().Be("""{"00180050":{"vr":"DS","Value":["1A","NaN","1e999",1.50,1.50,0.5,0.5,0,1000,12345678901234567]}}""");
        // IS: integers; "2.0" is 2, as pydicom reads it; anything else stays a string.
        Json(Text(DicomTags.InstanceNumber, DicomVR.IS, "1A\\12\\2.0\\+7\\007\\1.5\\-3 "))
            .Should().Be("""{"00200013":{"vr":"IS","Value":["1A",12,2,7,7,"1.5",-3]}}""");
    }

    [Fact]
    public void Non_finite_floats_are_the_strings_NaN_and_Infinity()
    {
        string json = Json(
            Binary(new DicomTag(0x0018, 0x9353), DicomVR.FL, Floats(float.NaN, float.PositiveInfinity, float.NegativeInfinity, 1.5f, 0.3f)),
            Binary(new DicomTag(0x0040, 0x9214), DicomVR.FD, Doubles(double.NaN, double.PositiveInfinity, double.NegativeInfinity, -2.25, 0.1)));
        json.Should().Be("""{"00189353":{"vr":"FL","Value":["NaN","Infinity","-Infinity",1.5,0.3]},"00409214":{"vr":"FD","Value":["NaN","Infinity","-Infinity",-2.25,0.1]}}""");

        // and they come back as the same numbers
        var back = DicomJsonReader.Read(json);
        back.TryGetElement(new DicomTag(0x0018, 0x9353), out var fl).Should().BeTrue();
        fl!.Span.ToArray().Should().Equal(Floats(float.NaN, float.PositiveInfinity, float.NegativeInfinity, 1.5f, 0.3f));
        back.TryGetElement(new DicomTag(0x0040, 0x9214), out var fd).Should().BeTrue();
        fd!.Span.ToArray().Should().Equal(Doubles(double.NaN, double.PositiveInfinity, double.NegativeInfinity, -2.25, 0.1));
    }

    [Fact]
    public void Binary_numbers_are_numbers_and_a_partial_unit_is_left_out()
    {
        Json(
            Binary(new DicomTag(0x0028, 0x0010), DicomVR.US, 0x00, 0x02, 0xFF),
            Binary(new DicomTag(0x0028, 0x0106), DicomVR.SS, 0x00, 0x80),
            Binary(new DicomTag(0x0028, 0x0107), DicomVR.UL, 0xFF, 0xFF, 0xFF, 0xFF),
            Binary(new DicomTag(0x0028, 0x0108), DicomVR.SL, 0xFE, 0xFF, 0xFF, 0xFF),
            Binary(new DicomTag(0x0028, 0x0109), DicomVR.FD, 1, 2, 3))
            .Should().Be("""{"00280010":{"vr":"US","Value":[512]},"00280106":{"vr":"SS","Value":[-32768]},"00280107":{"vr":"UL","Value":[4294967295]},"00280108":{"vr":"SL","Value":[-2]},"00280109":{"vr":"FD"}}""");
    }

    [Fact]
    public void Very_long_integers_are_exact_numbers_or_on_request_strings_beyond_2_to_the_53()
    {
        var sv = new byte[16];
        BinaryPrimitives.WriteInt64LittleEndian(sv, long.MinValue);
        BinaryPrimitives.WriteInt64LittleEndian(sv.AsSpan(8), 1L << 53);
        var uv = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(uv, ulong.MaxValue);
        var ds = new DicomDataset([Binary(new DicomTag(0x0072, 0x0082), DicomVR.SV, sv), Binary(new DicomTag(0x0072, 0x0083), DicomVR.UV, uv)]);
        DicomJsonWriter.ToJson(ds)
            .Should().Be("""{"00720082":{"vr":"SV","Value":[-9223372036854775808,9007199254740992]},"00720083":{"vr":"UV","Value":[18446744073709551615]}}""");
        DicomJsonWriter.ToJson(ds, new DicomJsonWriterOptions { VeryLongIntegersBeyondDoublePrecisionAsStrings = true })
            .Should().Be("""{"00720082":{"vr":"SV","Value":["-9223372036854775808",9007199254740992]},"00720083":{"vr":"UV","Value":["18446744073709551615"]}}""");
    }

    [Fact]
    public void Group_lengths_are_left_out_and_an_unknown_vr_is_written_as_UN()
    {
        Json(
            Binary(new DicomTag(0x0008, 0x0000), DicomVR.UL, 4, 0, 0, 0),
            Binary(new DicomTag(0x0009, 0x0000), DicomVR.UL, 4, 0, 0, 0),
            Binary(new DicomTag(0x0009, 0x1003), (DicomVR)0x5858, 1, 2, 3))
            .Should().Be("""{"00091003":{"vr":"UN","InlineBinary":"AQID"}}""");
    }

    [Fact]
    public void Sequences_nest_items_and_keep_empty_items()
    {
        var item = new DicomDataset([Text(DicomTags.ReferencedSOPInstanceUID, DicomVR.UI, "1.2.3\0")]);
        Json(new DicomSequence(DicomTags.ReferencedImageSequence, item, new DicomDataset()))
            .Should().Be("""{"00081140":{"vr":"SQ","Value":[{"00081155":{"vr":"UI","Value":["1.2.3"]}},{}]}}""");
    }

    [Fact]
    public void Text_outside_ASCII_is_decoded_with_the_character_set()
    {
        var ds = new DicomDataset([
            Text(DicomTag.SpecificCharacterSetTag, DicomVR.CS, "ISO_IR 100"),
            new DicomElement(DicomTags.StudyDescription, DicomVR.LO, new byte[] { 0x48, 0xE9, 0x5C, 0xC4, 0x20, 0x20 }),
        ]);
        // not escaped: the default encoder of ToJson lets non-ASCII through
        DicomJsonWriter.ToJson(ds).Should().Be("""{"00080005":{"vr":"CS","Value":["ISO_IR 100"]},"00081030":{"vr":"LO","Value":["Hé","Ä"]}}""");
    }

    [Fact]
    public void Indented_output_keeps_the_digits_of_DS_values()
    {
        string json = DicomJsonWriter.ToJson(new DicomDataset([Text(new DicomTag(0x0018, 0x0050), DicomVR.DS, "1.50\\2")]), indented: true);
        json.Should().Contain("\"Value\": [\n      1.50,\n      2\n    ]", "numbers are indented like any value");
        using var doc = JsonDocument.Parse(json);
        doc.RootElement.GetProperty("00180050").GetProperty("Value")[0].GetRawText().Should().Be("1.50");
    }

    // ---- bulk data ---------------------------------------------------------------------------------

    /// <summary>Bytes "on disk" that count how often they are read.</summary>
    private sealed class CountingSource(byte[] bytes) : IBulkDataSource
    {
        public int Reads;
        public string Description => "test source";

        public ValueTask<int> ReadAtAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Reads++;
            if (offset >= bytes.Length) return ValueTask.FromResult(0);
            int n = (int)Math.Min(buffer.Length, bytes.Length - offset);
            bytes.AsSpan((int)offset, n).CopyTo(buffer.Span);
            return ValueTask.FromResult(n);
        }
    }

    private static byte[] Pattern(int length, int seed = 7)
    {
        var b = new byte[length];
        new Random(seed).NextBytes(b);
        return b;
    }

    [Fact]
    public void Bulk_data_uris_are_decided_on_values_left_on_disk_without_reading_them()
    {
        var source = new CountingSource(Pattern(5000));
        var onDisk = new DicomElement(DicomTags.PixelData, DicomVR.OW, new DicomValue(new BulkDataReference(source, 0, 5000)));
        var nested = new DicomDataset([Binary(new DicomTag(0x0028, 0x3006), DicomVR.US, Pattern(2000))]);
        var ds = new DicomDataset([new DicomSequence(new DicomTag(0x0028, 0x3000), new DicomDataset(), nested), onDisk]);
        var seen = new List<string>();
        var options = new DicomJsonWriterOptions
        {
            BulkDataUriProvider = (path, item, length) =>
            {
                seen.Add($"{path.ToString()} {item.VR.ToText()} {length}");
                return length > 1024 ? $"https://pacs.invalid/bulk/{path.ToString()}" : null;
            },
        };

        string json = DicomJsonWriter.ToJson(ds, options);

        source.Reads.Should().Be(0);
        seen.Should().Equal("00283000/1/00283006 US 2000", "7FE00010 OW 5000");
        json.Should().Be("""{"00283000":{"vr":"SQ","Value":[{},{"00283006":{"vr":"US","BulkDataURI":"https://pacs.invalid/bulk/00283000/1/00283006"}}]},"7FE00010":{"vr":"OW","BulkDataURI":"https://pacs.invalid/bulk/7FE00010"}}""");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Values_left_on_disk_without_a_uri_are_streamed_inline_in_little_endian(bool asynchronous)
    {
        // 300001 bytes: many base64 segments, an odd end, and a big endian OW that must come out swapped.
        var littleEndian = Pattern(300_002);
        var bigEndian = littleEndian.ToArray();
        ByteSwap.ToLittleEndian(bigEndian, 2);
        var odd = Pattern(300_001, seed: 3);
        var ds = new DicomDataset([
            new DicomElement(new DicomTag(0x0009, 0x1010), DicomVR.OB, new DicomValue(new BulkDataReference(new MemoryBulkDataSource(odd), 0, odd.Length))),
            new DicomElement(DicomTags.PixelData, DicomVR.OW, new DicomValue(new BulkDataReference(new MemoryBulkDataSource(bigEndian), 0, bigEndian.Length, SwapUnit: 2))),
        ]);

        var stream = new MemoryStream();
        await using (var w = new Utf8JsonWriter(stream))
        {
            if (asynchronous) await DicomJsonWriter.WriteAsync(w, ds);
            else DicomJsonWriter.Write(w, ds);
        }

        using var doc = JsonDocument.Parse(stream.ToArray());
        doc.RootElement.GetProperty("00091010").GetProperty("InlineBinary").GetString().Should().Be(Convert.ToBase64String(odd));
        doc.RootElement.GetProperty("7FE00010").GetProperty("InlineBinary").GetString().Should().Be(Convert.ToBase64String(littleEndian));
    }

    [Fact]
    public void Non_binary_values_left_on_disk_are_loaded_and_written_as_values()
    {
        var text = Encoding.ASCII.GetBytes("1.5\\2.5 ");
        var ds = new DicomDataset([new DicomElement(new DicomTag(0x0018, 0x0050), DicomVR.DS, new DicomValue(new BulkDataReference(new MemoryBulkDataSource(text), 0, text.Length)))]);
        DicomJsonWriter.ToJson(ds).Should().Be("""{"00180050":{"vr":"DS","Value":[1.5,2.5]}}""");
    }

    [Fact]
    public void Encapsulated_pixel_data_is_inline_as_its_items_or_one_bulk_data_uri()
    {
        var fragment1 = Pattern(5, seed: 1);
        var fragment2 = Pattern(70_000, seed: 2);
        var offsets = new byte[] { 0, 0, 0, 0 };
        var f = new DicomFragmentSequence(DicomTags.PixelData, DicomVR.OB, new DicomValue(offsets), [
            new DicomValue(fragment1),
            new DicomValue(new BulkDataReference(new MemoryBulkDataSource(fragment2), 0, fragment2.Length)),
        ]);
        var expected = new MemoryStream();
        foreach (var v in new[] { offsets, fragment1, fragment2 })
        {
            expected.Write([0xFE, 0xFF, 0x00, 0xE0]);
            var length = new byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(length, v.Length);
            expected.Write(length);
            expected.Write(v);
        }

        Json(f).Should().Be($$$"""{"7FE00010":{"vr":"OB","InlineBinary":"{{{Convert.ToBase64String(expected.ToArray())}}}"}}""");

        long? lengthSeen = null;
        DicomJsonWriter.ToJson(new DicomDataset([f]), new DicomJsonWriterOptions { BulkDataUriProvider = (path, item, length) => { lengthSeen = length; return item is DicomFragmentSequence ? "frames" : null; } })
            .Should().Be("""{"7FE00010":{"vr":"OB","BulkDataURI":"frames"}}""");
        lengthSeen.Should().Be(expected.Length);
    }

    [Fact]
    public void Placeholder_uris_name_the_tag_path_of_large_binary_values_only()
    {
        var provider = DicomJsonBulkDataUri.PlaceholderProvider(1024);
        var ds = new DicomDataset([
            new DicomSequence(new DicomTag(0x0054, 0x0016), new DicomDataset([Binary(new DicomTag(0x0018, 0x1074), DicomVR.OB, Pattern(1025))])),
            Binary(new DicomTag(0x0028, 0x3006), DicomVR.US, Pattern(4000)),
            Binary(DicomTags.PixelData, DicomVR.OW, Pattern(1024)),
        ]);
        string json = DicomJsonWriter.ToJson(ds, new DicomJsonWriterOptions { BulkDataUriProvider = provider });
        using var doc = JsonDocument.Parse(json);
        doc.RootElement.GetProperty("00540016").GetProperty("Value")[0].GetProperty("00181074").GetProperty("BulkDataURI").GetString().Should().Be("bulkdata:00540016/0/00181074");
        doc.RootElement.GetProperty("00283006").TryGetProperty("Value", out _).Should().BeTrue("US is not a binary VR for the dump");
        doc.RootElement.GetProperty("7FE00010").TryGetProperty("InlineBinary", out _).Should().BeTrue("1024 bytes is not over 1 KiB");
    }

    [Fact]
    public async Task Write_async_flushes_a_stream_backed_writer_as_it_goes()
    {
        var big = Pattern(1 << 20);
        var ds = new DicomDataset([new DicomElement(DicomTags.PixelData, DicomVR.OB, new DicomValue(new BulkDataReference(new MemoryBulkDataSource(big), 0, big.Length)))]);
        var stream = new ObservingStream();
        await using (var w = new Utf8JsonWriter(stream))
        {
            await DicomJsonWriter.WriteAsync(w, ds);
        }
        stream.Writes.Should().BeGreaterThan(10, "the base64 of 1 MiB goes out in many writes, not buffered whole");
        stream.Length.Should().BeGreaterThan(big.Length * 4 / 3);
    }

    private sealed class ObservingStream : MemoryStream
    {
        public int Writes;

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Writes++;
            return base.WriteAsync(buffer, cancellationToken);
        }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            Writes++;
            base.Write(buffer);
        }
    }

    [Fact]
    public void Json_path_text_is_tags_and_item_indices()
    {
        ReadOnlySpan<DicomJsonPathSegment> segments = [new(new DicomTag(0x0040, 0xA730), 2), new(new DicomTag(0x0040, 0xA730), 0), new(new DicomTag(0x0040, 0xA160), -1)];
        var path = new DicomJsonPath(segments);
        path.ToString().Should().Be("0040A730/2/0040A730/0/0040A160");
        path.Tag.Should().Be(new DicomTag(0x0040, 0xA160));
        path.Depth.Should().Be(2);
    }

    [Fact]
    public void Writes_to_any_buffer_writer()
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
            DicomJsonWriter.Write(w, new DicomDataset([Text(DicomTags.PatientID, DicomVR.LO, "ID1 ")]));
        Encoding.UTF8.GetString(buffer.WrittenSpan).Should().Be("""{"00100020":{"vr":"LO","Value":["ID1"]}}""");
    }
}

public class DicomJsonWriterPropertyTests
{
    private static readonly DicomVR[] AnyVR = [.. Enum.GetValues<DicomVR>().Where(v => v != DicomVR.SQ), (DicomVR)0x5858, (DicomVR)0x0102];

    /// <summary>A serializer never throws on a value, whatever its bytes (dicom-server had to fork fo-dicom's
    /// converter because it did), writes valid JSON, and the reader takes that JSON back.</summary>
    [Fact]
    public void Never_throws_on_any_bytes_of_any_VR_and_reads_back_what_it_writes()
    {
        Gen.Select(Gen.OneOf(AnyVR), Gen.Byte.Array[0, 40], Gen.Bool).Sample((vr, bytes, inSequence) =>
        {
            DicomItem element = new DicomElement(new DicomTag(0x0009, 0x1010), vr, bytes);
            var ds = inSequence
                ? new DicomDataset([new DicomSequence(new DicomTag(0x0009, 0x1020), new DicomDataset([element]))])
                : new DicomDataset([element]);
            string json = DicomJsonWriter.ToJson(ds, new DicomJsonWriterOptions { BulkDataUriProvider = (_, _, length) => length > 30 ? "big" : null });
            using (JsonDocument.Parse(json)) { }
            var back = DicomJsonReader.Read(json);
            back.Count.Should().BeInRange(1, 2); // 2 when non-ASCII text made it declare ISO_IR 192
        }, iter: 2000);
    }
}
