using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Yingyun.Dicom;

/// <summary>Reads the DICOM JSON Model (PS3.18 Annex F) into a <see cref="DicomDataset"/> whose elements hold the
/// values as Part 10 would: text with padding to even length, numbers of US, SS, UL, SL, FL, FD, SV, UV and AT in
/// binary little endian, DS and IS as text, "InlineBinary" decoded (PS3.18 §F.2.7).</summary>
/// <remarks>
/// <para>Text: JSON is Unicode, so text of the VRs that Specific Character Set governs (SH, LO, UC, ST, LT, UT, PN;
/// PS3.5 §6.1.2.3) is stored as UTF-8, and when any such text is not ASCII the data set (and every item that had its
/// own (0008,0005)) declares "ISO_IR 192" (UTF-8), replacing what the JSON said: that described bytes this data set
/// no longer has. All-ASCII text reads the same in every character set but JIS X 0201's, so (0008,0005) is then kept
/// as given. Text of the other string VRs uses the default repertoire (<see cref="DicomCharacterSet.Default"/>).</para>
/// <para>A "BulkDataURI" becomes a value that records the URI (<see cref="DicomJsonBulkDataUri"/>); nothing is fetched.
/// "InlineBinary" of Pixel Data that is a whole sequence of items (encapsulated, PS3.5 §A.4, as pydicom and
/// <see cref="DicomJsonWriter"/> write it) becomes a <see cref="DicomFragmentSequence"/> again.</para>
/// <para>Lenient where the meaning is clear: attributes in any order, "vr" after "Value", a missing "vr" taken from
/// the dictionary, numbers given as strings, a PN given as a string. Malformed JSON, or a value that the VR cannot
/// hold (a US of 70000, an AT that is not a tag), throws <see cref="JsonException"/> naming the attribute.</para>
/// </remarks>
public static class DicomJsonReader
{
    private static readonly JsonReaderOptions ReaderOptions = new()
    {
        // Every sequence level takes three JSON levels (attribute, "Value" array, item).
        MaxDepth = 512,
        CommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    private static readonly byte[] Utf8CharacterSet = "ISO_IR 192"u8.ToArray();

    /// <summary>Reads one DICOM JSON object.</summary>
    public static DicomDataset Read(ReadOnlySpan<byte> utf8Json)
    {
        var reader = new Utf8JsonReader(utf8Json, ReaderOptions);
        var context = new Context();
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            throw new JsonException("DICOM JSON must be an object (PS3.18 §F.2.2)");
        var ds = ReadDataset(ref reader, context);
        if (reader.Read()) throw new JsonException($"content after the DICOM JSON object at byte {reader.TokenStartIndex}");
        context.Finish(ds);
        return ds;
    }

    public static DicomDataset Read(string json) => Read(Encoding.UTF8.GetBytes(json));

    /// <summary>Reads a JSON array of DICOM JSON objects, as QIDO-RS and WADO-RS metadata responses are (PS3.18 §F.2.1).</summary>
    public static List<DicomDataset> ReadArray(ReadOnlySpan<byte> utf8Json)
    {
        var reader = new Utf8JsonReader(utf8Json, ReaderOptions);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray)
            throw new JsonException("expected a JSON array of DICOM JSON objects (PS3.18 §F.2.1)");
        var list = new List<DicomDataset>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.StartObject) throw new JsonException($"array member at byte {reader.TokenStartIndex} is not an object");
            var context = new Context();
            var ds = ReadDataset(ref reader, context);
            context.Finish(ds);
            list.Add(ds);
        }
        return list;
    }

    /// <summary>Reads one DICOM JSON object from a stream (read to its end first: values are copied out, so the
    /// buffer is returned to the pool).</summary>
    public static DicomDataset Read(Stream stream)
    {
        var buffer = new PooledBuffer();
        try
        {
            int n;
            while ((n = stream.Read(buffer.GetSpan())) > 0) buffer.Advance(n);
            return Read(buffer.Written);
        }
        finally
        {
            buffer.Dispose();
        }
    }

    public static async Task<DicomDataset> ReadAsync(Stream stream, CancellationToken cancellationToken = default)
    {
        var buffer = new PooledBuffer();
        try
        {
            int n;
            while ((n = await stream.ReadAsync(buffer.GetMemory(), cancellationToken).ConfigureAwait(false)) > 0) buffer.Advance(n);
            return Read(buffer.Written);
        }
        finally
        {
            buffer.Dispose();
        }
    }

    private sealed class PooledBuffer : IDisposable
    {
        private byte[] _array = ArrayPool<byte>.Shared.Rent(64 * 1024);
        private int _used;

        public ReadOnlySpan<byte> Written => _array.AsSpan(0, _used);
        public Span<byte> GetSpan() => GetMemory().Span;

        public Memory<byte> GetMemory()
        {
            if (_used == _array.Length)
            {
                var bigger = ArrayPool<byte>.Shared.Rent(_array.Length * 2);
                _array.AsSpan(0, _used).CopyTo(bigger);
                ArrayPool<byte>.Shared.Return(_array);
                _array = bigger;
            }
            return _array.AsMemory(_used);
        }

        public void Advance(int n) => _used += n;
        public void Dispose() => ArrayPool<byte>.Shared.Return(_array);
    }

    /// <summary>State of one read: where we are (for messages) and what the character set fix-up needs.</summary>
    private sealed class Context
    {
        public readonly List<DicomTag> Path = [];
        public readonly List<DicomDataset> ItemsWithCharacterSet = [];
        public readonly ArrayBufferWriter<byte> Text = new(256);
        public byte[] Scratch = new byte[256];
        public bool NonAsciiText;

        public string Where => Path.Count == 0 ? "data set" : string.Join("/", Path.Select(t => t.Value.ToString("X8", CultureInfo.InvariantCulture)));

        public JsonException Error(string message) => new($"{Where}: {message}");

        public void Finish(DicomDataset root)
        {
            if (!NonAsciiText) return;
            var utf8 = new DicomElement(DicomTag.SpecificCharacterSetTag, DicomVR.CS, Utf8CharacterSet);
            root.AddOrUpdate(utf8);
            foreach (var item in ItemsWithCharacterSet) item.AddOrUpdate(utf8);
        }
    }

    private static DicomDataset ReadDataset(ref Utf8JsonReader reader, Context context)
    {
        var ds = new DicomDataset();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            if (reader.TokenType != JsonTokenType.PropertyName) throw context.Error($"unexpected {reader.TokenType}");
            var tag = ParseKey(ref reader, context);
            context.Path.Add(tag);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                throw context.Error("an attribute must be an object with \"vr\" (PS3.18 §F.2.2)");
            ds.AddOrUpdate(ReadAttribute(ref reader, tag, context));
            context.Path.RemoveAt(context.Path.Count - 1);
        }
        if (context.Path.Count > 0 && ds.Contains(DicomTag.SpecificCharacterSetTag)) context.ItemsWithCharacterSet.Add(ds);
        return ds;
    }

    private static DicomTag ParseKey(ref Utf8JsonReader reader, Context context)
    {
        Span<char> key = stackalloc char[16];
        int n = reader.HasValueSequence || reader.ValueIsEscaped || reader.ValueSpan.Length > 16 ? -1 : reader.CopyString(key);
        if (n == 8 && uint.TryParse(key[..8], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out uint v))
            return new DicomTag(v);
        // Lenient: a keyword or "(gggg,eeee)" names the tag as well as PS3.18's eight hex digits.
        var name = reader.GetString()!;
        return DicomTag.TryParse(name, out var tag) ? tag : throw context.Error($"\"{name}\" is not a tag (PS3.18 §F.2.2: eight hexadecimal digits)");
    }

    private enum ValueKind { None, Value, InlineBinary, BulkDataUri }

    private static DicomItem ReadAttribute(ref Utf8JsonReader reader, DicomTag tag, Context context)
    {
        DicomVR vr = DicomVR.None;
        var kind = ValueKind.None;
        Utf8JsonReader deferred = default;
        bool isDeferred = false;
        DicomItem? item = null;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            if (reader.ValueTextEquals("vr"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.String) throw context.Error("\"vr\" must be a string");
                // An unknown VR (such as pydicom's "US or SS") falls back to the dictionary below.
                var text = reader.GetString()!;
                if (!DicomVRInfo.TryParse(text, out vr)) vr = DicomVR.None;
                continue;
            }
            ValueKind k = reader.ValueTextEquals("Value"u8) ? ValueKind.Value
                : reader.ValueTextEquals("InlineBinary"u8) ? ValueKind.InlineBinary
                : reader.ValueTextEquals("BulkDataURI"u8) ? ValueKind.BulkDataUri
                : ValueKind.None;
            reader.Read();
            if (k == ValueKind.None || reader.TokenType == JsonTokenType.Null)
            {
                reader.Skip();
                continue;
            }
            if (kind != ValueKind.None) throw context.Error("an attribute has at most one of \"Value\", \"InlineBinary\" and \"BulkDataURI\" (PS3.18 §F.2.2)");
            kind = k;
            if (vr != DicomVR.None)
            {
                item = ReadValue(ref reader, tag, vr, kind, context);
            }
            else
            {
                // "vr" comes later: read the value once it is known.
                deferred = reader;
                isDeferred = true;
                reader.Skip();
            }
        }
        if (vr == DicomVR.None) vr = DicomDictionary.GetImplicitVR(tag);
        if (isDeferred) item = ReadValue(ref deferred, tag, vr, kind, context);
        // PS3.18 §F.2.5: no value at all is an empty attribute.
        return item ?? (vr == DicomVR.SQ ? new DicomSequence(tag) : new DicomElement(tag, vr, ReadOnlyMemory<byte>.Empty));
    }

    private static DicomItem ReadValue(ref Utf8JsonReader reader, DicomTag tag, DicomVR vr, ValueKind kind, Context context)
    {
        switch (kind)
        {
            case ValueKind.BulkDataUri:
                if (reader.TokenType != JsonTokenType.String) throw context.Error("\"BulkDataURI\" must be a string");
                return new DicomElement(tag, vr, DicomJsonBulkDataUri.CreateValue(reader.GetString()!));
            case ValueKind.InlineBinary:
                return CreateBinaryItem(tag, vr, ReadBase64(ref reader, context));
        }
        bool single = reader.TokenType != JsonTokenType.StartArray;
        if (vr == DicomVR.SQ)
        {
            if (single) throw context.Error("a sequence's \"Value\" must be an array of objects");
            var items = new List<DicomDataset>();
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                if (reader.TokenType == JsonTokenType.Null) { items.Add([]); continue; }
                if (reader.TokenType != JsonTokenType.StartObject) throw context.Error("a sequence item must be an object");
                items.Add(ReadDataset(ref reader, context));
            }
            return new DicomSequence(tag, items);
        }
        var buffer = context.Text;
        buffer.ResetWrittenCount();
        int count = 0;
        // PS3.18 requires an array; a bare value is read as an array of one.
        while (single || (reader.Read() && reader.TokenType != JsonTokenType.EndArray))
        {
            AppendValue(ref reader, vr, buffer, count++, context);
            if (single) break;
        }
        if (vr.IsString())
        {
            // PS3.5 §6.2: even length, padded with a space, or NUL for UI.
            if ((buffer.WrittenCount & 1) != 0) buffer.Write([vr.PaddingByte()]);
        }
        return new DicomElement(tag, vr, buffer.WrittenSpan.ToArray());
    }

    private static byte[] ReadBase64(ref Utf8JsonReader reader, Context context)
    {
        if (reader.TokenType == JsonTokenType.StartArray)
        {
            // Some writers split InlineBinary into an array of strings; their bytes follow each other.
            var parts = new List<byte[]>();
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray) parts.Add(ReadBase64(ref reader, context));
            return parts.SelectMany(p => p).ToArray();
        }
        if (reader.TokenType != JsonTokenType.String) throw context.Error("\"InlineBinary\" must be a base64 string (PS3.18 §F.2.7)");
        if (reader.TryGetBytesFromBase64(out var bytes)) return bytes;
        // MIME-style base64 with line breaks.
        try
        {
            return Convert.FromBase64String(reader.GetString()!);
        }
        catch (FormatException)
        {
            throw context.Error("\"InlineBinary\" is not base64");
        }
    }

    /// <summary>An element for binary bytes; for Pixel Data that is a whole sequence of items, the fragments.</summary>
    internal static DicomItem CreateBinaryItem(DicomTag tag, DicomVR vr, ReadOnlyMemory<byte> bytes)
    {
        if (tag == DicomTag.PixelDataTag && vr is DicomVR.OB or DicomVR.OW or DicomVR.UN && TryParseItems(bytes, out var offsetTable, out var fragments))
            return new DicomFragmentSequence(tag, vr == DicomVR.UN ? DicomVR.OB : vr, offsetTable, fragments);
        return new DicomElement(tag, vr, bytes);
    }

    /// <summary>Items (FFFE,E000) of defined length that cover the bytes exactly, optionally closed by a sequence
    /// delimiter (PS3.5 §A.4): the Value Field of encapsulated Pixel Data.</summary>
    private static bool TryParseItems(ReadOnlyMemory<byte> bytes, out DicomValue offsetTable, out List<DicomValue> fragments)
    {
        offsetTable = default;
        fragments = [];
        var span = bytes.Span;
        int at = 0;
        bool first = true;
        while (at < span.Length)
        {
            if (span.Length - at < 8) return false;
            var tag = new DicomTag(BinaryPrimitives.ReadUInt16LittleEndian(span[at..]), BinaryPrimitives.ReadUInt16LittleEndian(span[(at + 2)..]));
            uint length = BinaryPrimitives.ReadUInt32LittleEndian(span[(at + 4)..]);
            if (tag == DicomTag.SequenceDelimitationItem && !first && at + 8 == span.Length && length == 0) return true;
            if (tag != DicomTag.Item || length > (uint)(span.Length - at - 8)) return false;
            var value = new DicomValue(bytes.Slice(at + 8, (int)length));
            if (first) offsetTable = value;
            else fragments.Add(value);
            first = false;
            at += 8 + (int)length;
        }
        return !first;
    }

    // ---- "Value" members ------------------------------------------------------------------------

    private static void AppendValue(ref Utf8JsonReader reader, DicomVR vr, ArrayBufferWriter<byte> buffer, int index, Context context)
    {
        if (!vr.IsKnown() || DicomJsonWriter.IsBinaryVR(vr))
            throw context.Error($"{vr.ToText()} values are given by \"InlineBinary\" or \"BulkDataURI\", not \"Value\" (PS3.18 §F.2.2)");
        if (vr.IsString())
        {
            // PS3.5 §6.4: values are separated by 5CH.
            if (index > 0) buffer.Write("\\"u8);
            switch (reader.TokenType)
            {
                case JsonTokenType.Null:
                    return; // PS3.18 §F.2.5: an empty value
                case JsonTokenType.String:
                    AppendText(ref reader, vr, buffer, context);
                    return;
                case JsonTokenType.Number:
                    AppendNumberAsText(ref reader, vr, buffer);
                    return;
                case JsonTokenType.StartObject when vr == DicomVR.PN:
                    AppendPersonName(ref reader, buffer, context);
                    return;
                default:
                    throw context.Error($"a {vr.ToText()} value must be a string");
            }
        }
        if (reader.TokenType == JsonTokenType.Null) return; // binary numbers have no empty value; nothing to keep
        if (vr == DicomVR.AT)
        {
            if (reader.TokenType != JsonTokenType.String || !TryParseAttributeTag(reader.GetString()!, out var at))
                throw context.Error("an AT value must be a tag as eight hexadecimal digits (PS3.18 §F.2.3)");
            Span<byte> b = buffer.GetSpan(4);
            BinaryPrimitives.WriteUInt16LittleEndian(b, at.Group);
            BinaryPrimitives.WriteUInt16LittleEndian(b[2..], at.Element);
            buffer.Advance(4);
            return;
        }
        AppendBinaryNumber(ref reader, vr, buffer, context);
    }

    private static bool TryParseAttributeTag(string text, out DicomTag tag)
    {
        if (text.Length == 8 && uint.TryParse(text, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out uint v))
        {
            tag = new DicomTag(v);
            return true;
        }
        return DicomTag.TryParse(text, out tag);
    }

    /// <summary>The unescaped UTF-8 of the current string token, without allocating for the usual unescaped case.</summary>
    private static ReadOnlySpan<byte> Utf8Of(ref Utf8JsonReader reader, Context context)
    {
        if (!reader.HasValueSequence && !reader.ValueIsEscaped) return reader.ValueSpan;
        long max = reader.HasValueSequence ? reader.ValueSequence.Length : reader.ValueSpan.Length;
        if (context.Scratch.Length < max) context.Scratch = new byte[Math.Max(max, context.Scratch.Length * 2)];
        int n = reader.CopyString(context.Scratch);
        return context.Scratch.AsSpan(0, n);
    }

    private static void AppendText(ref Utf8JsonReader reader, DicomVR vr, ArrayBufferWriter<byte> buffer, Context context)
    {
        var utf8 = Utf8Of(ref reader, context);
        if (Ascii.IsValid(utf8))
        {
            buffer.Write(utf8);
            return;
        }
        if (vr.IsCharacterSetDependent())
        {
            // Stored as UTF-8; the data set will declare ISO_IR 192 (see the class remarks).
            context.NonAsciiText = true;
            buffer.Write(utf8);
            return;
        }
        // Default repertoire VRs: written back the way DicomJsonWriter reads them.
        buffer.Write(DicomCharacterSet.Default.Encode(Encoding.UTF8.GetString(utf8), vr));
    }

    private static void AppendPersonName(ref Utf8JsonReader reader, ArrayBufferWriter<byte> buffer, Context context)
    {
        // PS3.18 §F.2.2 component groups, joined with '=' (PS3.5 §6.2.1.2); trailing empty groups are left out.
        // They may come in any order, so they are collected first.
        var groups = new byte[]?[3];
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            int g = reader.ValueTextEquals("Alphabetic"u8) ? 0 : reader.ValueTextEquals("Ideographic"u8) ? 1 : reader.ValueTextEquals("Phonetic"u8) ? 2 : -1;
            reader.Read();
            if (g < 0 || reader.TokenType == JsonTokenType.Null)
            {
                reader.Skip();
                continue;
            }
            if (reader.TokenType != JsonTokenType.String) throw context.Error("a Person Name component group must be a string");
            var utf8 = Utf8Of(ref reader, context);
            if (!Ascii.IsValid(utf8)) context.NonAsciiText = true;
            groups[g] = utf8.ToArray();
        }
        int last = groups[2] is { Length: > 0 } ? 2 : groups[1] is { Length: > 0 } ? 1 : 0;
        for (int g = 0; g <= last; g++)
        {
            if (g > 0) buffer.Write("="u8);
            if (groups[g] is { } bytes) buffer.Write(bytes);
        }
    }

    /// <summary>A JSON number for a string VR: DS and IS keep the number's own digits (PS3.18 Table F.2.3-1) when they
    /// fit the VR's 16 or 12 characters (PS3.5 Table 6.2-1), else the value is formatted to fit.</summary>
    private static void AppendNumberAsText(ref Utf8JsonReader reader, DicomVR vr, ArrayBufferWriter<byte> buffer)
    {
        var raw = reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan;
        if (vr == DicomVR.IS && (raw.Length > 12 || raw.IndexOfAny(".eE"u8) >= 0))
        {
            // pydicom reads an IS of "2.0" as 2; so does this, for a number written with a zero fraction.
            if (reader.TryGetInt64(out long l))
            {
                buffer.Write(Encoding.ASCII.GetBytes(l.ToString(CultureInfo.InvariantCulture)));
                return;
            }
            if (reader.TryGetDouble(out double d) && double.IsFinite(d) && d == Math.Floor(d) && Math.Abs(d) < 9e15)
            {
                buffer.Write(Encoding.ASCII.GetBytes(((long)d).ToString(CultureInfo.InvariantCulture)));
                return;
            }
        }
        else if (vr == DicomVR.DS && raw.Length > 16 && reader.TryGetDouble(out double d) && double.IsFinite(d))
        {
            buffer.Write(Encoding.ASCII.GetBytes(FormatDecimalString(d)));
            return;
        }
        buffer.Write(raw);
    }

    /// <summary>The shortest text of <paramref name="d"/> that fits a DS value (16 characters, PS3.5 Table 6.2-1),
    /// losing as little precision as the length allows.</summary>
    internal static string FormatDecimalString(double d)
    {
        string s = d.ToString("R", CultureInfo.InvariantCulture);
        for (int digits = 16; s.Length > 16 && digits > 0; digits--)
            s = d.ToString("G" + digits.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture).Replace("E+", "E", StringComparison.Ordinal);
        return s;
    }

    private static void AppendBinaryNumber(ref Utf8JsonReader reader, DicomVR vr, ArrayBufferWriter<byte> buffer, Context context)
    {
        int unit = vr.UnitSize();
        Span<byte> b = buffer.GetSpan(unit)[..unit];
        bool ok;
        if (vr is DicomVR.FL or DicomVR.FD)
        {
            double d = 0;
            float f = 0;
            ok = reader.TokenType switch
            {
                JsonTokenType.Number => vr == DicomVR.FL ? reader.TryGetSingle(out f) : reader.TryGetDouble(out d),
                // Non-finite values as DicomJsonWriter writes them: "NaN", "Infinity", "-Infinity".
                JsonTokenType.String => vr == DicomVR.FL
                    ? float.TryParse(reader.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out f)
                    : double.TryParse(reader.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out d),
                _ => false,
            };
            if (vr == DicomVR.FL) BinaryPrimitives.WriteSingleLittleEndian(b, f);
            else BinaryPrimitives.WriteDoubleLittleEndian(b, d);
        }
        else if (vr == DicomVR.UV)
        {
            ok = TryGetInteger(ref reader, out ulong u, out _, unsigned: true);
            BinaryPrimitives.WriteUInt64LittleEndian(b, u);
        }
        else
        {
            ok = TryGetInteger(ref reader, out _, out long l, unsigned: false);
            switch (vr)
            {
                case DicomVR.US: ok &= l is >= ushort.MinValue and <= ushort.MaxValue; BinaryPrimitives.WriteUInt16LittleEndian(b, (ushort)l); break;
                case DicomVR.SS: ok &= l is >= short.MinValue and <= short.MaxValue; BinaryPrimitives.WriteInt16LittleEndian(b, (short)l); break;
                case DicomVR.UL: ok &= l is >= uint.MinValue and <= uint.MaxValue; BinaryPrimitives.WriteUInt32LittleEndian(b, (uint)l); break;
                case DicomVR.SL: ok &= l is >= int.MinValue and <= int.MaxValue; BinaryPrimitives.WriteInt32LittleEndian(b, (int)l); break;
                default: BinaryPrimitives.WriteInt64LittleEndian(b, l); break;
            }
        }
        if (!ok)
        {
            string shown = reader.TokenType == JsonTokenType.String ? $"\"{reader.GetString()}\"" : Encoding.UTF8.GetString(reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan);
            throw context.Error($"{shown} is not a {vr.ToText()} value");
        }
        buffer.Advance(unit);
    }

    /// <summary>An integer from a JSON number or string; a number with a zero fraction ("2.0") counts.</summary>
    private static bool TryGetInteger(ref Utf8JsonReader reader, out ulong u, out long l, bool unsigned)
    {
        u = 0;
        l = 0;
        if (reader.TokenType == JsonTokenType.String)
        {
            var s = reader.GetString();
            return unsigned
                ? ulong.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out u)
                : long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out l);
        }
        if (reader.TokenType != JsonTokenType.Number) return false;
        if (unsigned ? reader.TryGetUInt64(out u) : reader.TryGetInt64(out l)) return true;
        if (!reader.TryGetDouble(out double d) || d != Math.Floor(d)) return false;
        if (unsigned)
        {
            if (d < 0 || d >= 18446744073709551616.0) return false;
            u = (ulong)d;
            return true;
        }
        if (d < long.MinValue || d >= 9223372036854775808.0) return false;
        l = (long)d;
        return true;
    }
}
