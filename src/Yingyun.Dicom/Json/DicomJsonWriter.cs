using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Yingyun.Dicom;

/// <summary>Writes a data set in the DICOM JSON Model (PS3.18 Annex F) straight to a <see cref="Utf8JsonWriter"/>:
/// no intermediate document, and text in plain ASCII (the usual case) goes from the value bytes to the output with
/// no string in between. QIDO-RS and WADO-RS metadata are produced with it.</summary>
/// <remarks>
/// <para>Never throws on a bad value: a DS or IS that is not a number is written as a JSON string (PS3.18 Table
/// F.2.3-1 allows strings for them), a non-finite FL or FD as the string "NaN", "Infinity" or "-Infinity" (JSON has
/// no such numbers; these are the names System.Text.Json reads with
/// <see cref="System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals"/>, and
/// <see cref="DicomJsonReader"/> reads them back), and a trailing partial unit of a binary number value is left out.
/// Only failures to read a value left on disk propagate.</para>
/// <para>Choices where pydicom 2.3's <c>Dataset.to_json_dict</c> differs from PS3.18: group lengths are left out
/// (§F.2.2 "shall not be included"; pydicom writes them); an empty value within a multi-valued string is null
/// (§F.2.5; pydicom writes ""); a sequence without items and a Person Name's empty component groups are left out
/// (§F.2.2, §F.2.5; pydicom writes "Value": [] and "Alphabetic": ""); trailing spaces of every value, and leading
/// ones of AE, CS, DS, IS, SH and LO, are padding (PS3.5 Table 6.2-1) and are removed (pydicom keeps those of a CS
/// value that is not the last, "DERIVED "); InlineBinary is little endian whatever the file's transfer syntax
/// (pydicom copies a big endian file's bytes).</para>
/// </remarks>
public static class DicomJsonWriter
{
    // Base64 of one segment: a multiple of 3 bytes, so segments end on whole base64 quanta.
    private const int SegmentBytes = 3 * 16 * 1024;
    private const int FlushThreshold = 64 * 1024;

    /// <summary>Writes <paramref name="dataset"/> as one DICOM JSON object. A value left on disk
    /// (<see cref="BulkDataReference"/>) that gets no Bulk Data URI is read here, blocking the calling thread:
    /// servers use <see cref="WriteAsync"/>.</summary>
    public static void Write(Utf8JsonWriter writer, DicomDataset dataset, DicomJsonWriterOptions? options = null)
    {
        var task = new Session(writer, options ?? DicomJsonWriterOptions.Default, synchronous: true, CancellationToken.None).WriteDatasetAsync(dataset);
        // Synchronous mode never awaits anything that has not completed.
        if (!task.IsCompleted) task.AsTask().GetAwaiter().GetResult();
        else task.GetAwaiter().GetResult();
    }

    /// <summary>Writes <paramref name="dataset"/> as one DICOM JSON object; values left on disk that get no Bulk Data
    /// URI are streamed into "InlineBinary" in segments (never whole in memory), and the writer is flushed as it
    /// goes so that a stream-backed writer does not buffer the whole response.</summary>
    public static ValueTask WriteAsync(Utf8JsonWriter writer, DicomDataset dataset, DicomJsonWriterOptions? options = null, CancellationToken cancellationToken = default) =>
        new Session(writer, options ?? DicomJsonWriterOptions.Default, synchronous: false, cancellationToken).WriteDatasetAsync(dataset);

    /// <summary>The DICOM JSON of <paramref name="dataset"/> as a string. Non-ASCII text is written as it is, not as
    /// \u escapes (<see cref="JavaScriptEncoder.UnsafeRelaxedJsonEscaping"/>: safe for JSON, not for embedding in HTML).</summary>
    public static string ToJson(DicomDataset dataset, DicomJsonWriterOptions? options = null, bool indented = false) =>
        Encoding.UTF8.GetString(ToUtf8Json(dataset, options, indented));

    /// <summary>The DICOM JSON of <paramref name="dataset"/> as UTF-8 bytes; see <see cref="ToJson"/>.</summary>
    public static byte[] ToUtf8Json(DicomDataset dataset, DicomJsonWriterOptions? options = null, bool indented = false)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, CreateJsonWriterOptions(indented)))
            Write(w, dataset, options);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Writer options for DICOM JSON meant to be read by people or by JSON parsers (not embedded in HTML).</summary>
    public static JsonWriterOptions CreateJsonWriterOptions(bool indented) =>
        new() { Indented = indented, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>VRs written as "InlineBinary" (PS3.18 §F.2.7); a VR this toolkit does not know is written as UN.</summary>
    internal static bool IsBinaryVR(DicomVR vr) =>
        vr is DicomVR.OB or DicomVR.OD or DicomVR.OF or DicomVR.OL or DicomVR.OV or DicomVR.OW or DicomVR.UN || !vr.IsKnown();

    /// <summary>VRs whose value PS3.18 §F.2.2 lets be given by a "BulkDataURI".</summary>
    internal static bool MayBeBulkData(DicomVR vr) => IsBinaryVR(vr) || vr is DicomVR.DS or DicomVR.FL or DicomVR.FD or
        DicomVR.IS or DicomVR.LT or DicomVR.SL or DicomVR.SS or DicomVR.ST or DicomVR.SV or DicomVR.UC or DicomVR.UL or
        DicomVR.US or DicomVR.UT or DicomVR.UV;

    /// <summary>One write: the path stack and the mode.</summary>
    private sealed class Session(Utf8JsonWriter w, DicomJsonWriterOptions options, bool synchronous, CancellationToken ct)
    {
        private DicomJsonPathSegment[] _path = new DicomJsonPathSegment[8];
        private int _depth;
        private readonly byte[] _itemHeader = new byte[8];
        private DicomCharacterSet? _checkedSet;
        private bool _checkedSetIsAsciiCompatible;

        public async ValueTask WriteDatasetAsync(DicomDataset ds)
        {
            w.WriteStartObject();
            foreach (var item in ds)
            {
                // PS3.18 §F.2.2: "Group Length (gggg,0000) attributes shall not be included".
                if (item.Tag.IsGroupLength) continue;
                Push(item.Tag);
                WriteKey(item.Tag);
                switch (item)
                {
                    case DicomSequence sq:
                        await WriteSequenceAsync(sq).ConfigureAwait(false);
                        break;
                    case DicomFragmentSequence f:
                        await WriteFragmentsAsync(f).ConfigureAwait(false);
                        break;
                    case DicomElement e:
                        // Everything but a value to be read from disk is written without an await.
                        if (!TryWriteElement(ds, e)) await WriteElementFromDiskAsync(ds, e).ConfigureAwait(false);
                        break;
                    default:
                        // A kind of item this writer does not know: keep the JSON valid and say what it was.
                        w.WriteStartObject();
                        WriteVR(item.VR);
                        w.WriteEndObject();
                        break;
                }
                _depth--;
                if (w.BytesPending > FlushThreshold) await FlushAsync().ConfigureAwait(false);
            }
            w.WriteEndObject();
        }

        private ValueTask FlushAsync()
        {
            if (synchronous)
            {
                w.Flush();
                return ValueTask.CompletedTask;
            }
            return new ValueTask(w.FlushAsync(ct));
        }

        private void Push(DicomTag tag)
        {
            if (_depth == _path.Length) Array.Resize(ref _path, _depth * 2);
            _path[_depth++] = new DicomJsonPathSegment(tag, -1);
        }

        private string? AskForUri(DicomItem item, long length) =>
            options.BulkDataUriProvider?.Invoke(new DicomJsonPath(_path.AsSpan(0, _depth)), item, length);

        private void WriteKey(DicomTag tag)
        {
            // PS3.18 §F.2.2: the name is the tag as eight upper-case hexadecimal digits.
            Span<byte> key = stackalloc byte[8];
            tag.Value.TryFormat(key, out _, "X8", CultureInfo.InvariantCulture);
            w.WritePropertyName(key);
        }

        private void WriteVR(DicomVR vr)
        {
            if (!vr.IsKnown()) vr = DicomVR.UN;
            Span<byte> text = [(byte)((ushort)vr >> 8), (byte)vr];
            w.WriteString("vr"u8, text);
        }

        private async ValueTask WriteSequenceAsync(DicomSequence sq)
        {
            w.WriteStartObject();
            WriteVR(DicomVR.SQ);
            // PS3.18 §F.2.5: a sequence with no items is an empty attribute, written without "Value".
            if (sq.Items.Count > 0)
            {
                w.WriteStartArray("Value"u8);
                for (int i = 0; i < sq.Items.Count; i++)
                {
                    _path[_depth - 1] = new DicomJsonPathSegment(sq.Tag, i);
                    await WriteDatasetAsync(sq.Items[i]).ConfigureAwait(false);
                }
                w.WriteEndArray();
            }
            w.WriteEndObject();
        }

        /// <summary>Writes the element unless its value must first be read from disk: it is in memory, or it gets a
        /// Bulk Data URI, which is decided on the length alone.</summary>
        private bool TryWriteElement(DicomDataset ds, DicomElement e)
        {
            long length = e.Length;
            string? uri = length > 0 && options.BulkDataUriProvider is not null && MayBeBulkData(e.VR) ? AskForUri(e, length) : null;
            if (uri is null && !e.Value.IsInMemory && DicomJsonBulkDataUri.TryGetUri(e.Value, out var held)) uri = held;
            if (uri is not null)
            {
                w.WriteStartObject();
                WriteVR(e.VR);
                w.WriteString("BulkDataURI"u8, uri);
                w.WriteEndObject();
                return true;
            }
            if (!e.Value.IsInMemory) return false;
            WriteElement(ds, e.VR, e.Value.Memory.Span);
            return true;
        }

        private async ValueTask WriteElementFromDiskAsync(DicomDataset ds, DicomElement e)
        {
            if (IsBinaryVR(e.VR))
            {
                // Streamed in segments: a value left on disk because it is large is never whole in memory.
                w.WriteStartObject();
                WriteVR(e.VR);
                w.WritePropertyName("InlineBinary"u8);
                await CopyToBase64Async(e.Value.Reference!).ConfigureAwait(false);
                w.WriteBase64StringSegment([], isFinalSegment: true);
                w.WriteEndObject();
                return;
            }
            var bytes = synchronous
                ? e.Value.Reference!.LoadAsync(ct).AsTask().GetAwaiter().GetResult()
                : await e.Value.Reference!.LoadAsync(ct).ConfigureAwait(false);
            WriteElement(ds, e.VR, bytes);
        }

        private async ValueTask CopyToBase64Async(BulkDataReference reference)
        {
            using var sink = new Base64SegmentStream(w, synchronous);
            if (synchronous) reference.CopyToAsync(sink, ct).AsTask().GetAwaiter().GetResult();
            else await reference.CopyToAsync(sink, ct).ConfigureAwait(false);
        }

        /// <summary>Encapsulated Pixel Data (PS3.5 §A.4): the Value Field is the item sequence, so "InlineBinary"
        /// holds each item (offset table first) with its 8-byte header, without the sequence delimiter, as
        /// pydicom writes it.</summary>
        private async ValueTask WriteFragmentsAsync(DicomFragmentSequence f)
        {
            long length = 8 + f.OffsetTable.Length;
            foreach (var fragment in f.Fragments) length += 8 + fragment.Length;
            w.WriteStartObject();
            WriteVR(f.VR);
            if (AskForUri(f, length) is { } uri)
            {
                w.WriteString("BulkDataURI"u8, uri);
                w.WriteEndObject();
                return;
            }
            w.WritePropertyName("InlineBinary"u8);
            var header = _itemHeader;
            for (int i = -1; i < f.Fragments.Count; i++)
            {
                var value = i < 0 ? f.OffsetTable : f.Fragments[i];
                BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(), DicomTag.Item.Group);
                BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(2), DicomTag.Item.Element);
                BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(4), (uint)value.Length);
                w.WriteBase64StringSegment(header, isFinalSegment: false);
                if (value.IsInMemory) WriteBase64Segments(value.Memory.Span);
                else await CopyToBase64Async(value.Reference!).ConfigureAwait(false);
                if (w.BytesPending > FlushThreshold) await FlushAsync().ConfigureAwait(false);
            }
            w.WriteBase64StringSegment([], isFinalSegment: true);
            w.WriteEndObject();
        }

        private void WriteBase64Segments(ReadOnlySpan<byte> bytes)
        {
            while (bytes.Length > SegmentBytes)
            {
                w.WriteBase64StringSegment(bytes[..SegmentBytes], isFinalSegment: false);
                bytes = bytes[SegmentBytes..];
            }
            if (!bytes.IsEmpty) w.WriteBase64StringSegment(bytes, isFinalSegment: false);
        }

        // ---- one element whose bytes are in memory ------------------------------------------------

        private void WriteElement(DicomDataset ds, DicomVR vr, ReadOnlySpan<byte> bytes)
        {
            w.WriteStartObject();
            WriteVR(vr);
            if (!vr.IsKnown()) vr = DicomVR.UN;
            switch (vr)
            {
                case DicomVR.AT:
                    WriteAttributeTags(bytes);
                    break;
                case DicomVR.US or DicomVR.SS or DicomVR.UL or DicomVR.SL or DicomVR.FL or DicomVR.FD or DicomVR.SV or DicomVR.UV:
                    WriteBinaryNumbers(vr, bytes);
                    break;
                case var _ when vr.IsString():
                    WriteText(ds, vr, bytes);
                    break;
                default:
                    // PS3.18 §F.2.5: an empty value is an attribute with no "Value", "InlineBinary" or "BulkDataURI".
                    if (bytes.IsEmpty) break;
                    w.WritePropertyName("InlineBinary"u8);
                    WriteBase64Segments(bytes);
                    w.WriteBase64StringSegment([], isFinalSegment: true);
                    break;
            }
            w.WriteEndObject();
        }

        /// <summary>AT: each value as eight upper-case hex digits, group then element (PS3.18 §F.2.3).</summary>
        private void WriteAttributeTags(ReadOnlySpan<byte> bytes)
        {
            int count = bytes.Length / 4;
            if (count == 0) return;
            w.WriteStartArray("Value"u8);
            Span<byte> hex = stackalloc byte[8];
            for (int i = 0; i < count; i++)
            {
                var v = bytes.Slice(i * 4, 4);
                uint tag = ((uint)BinaryPrimitives.ReadUInt16LittleEndian(v) << 16) | BinaryPrimitives.ReadUInt16LittleEndian(v[2..]);
                tag.TryFormat(hex, out _, "X8", CultureInfo.InvariantCulture);
                w.WriteStringValue(hex);
            }
            w.WriteEndArray();
        }

        private void WriteBinaryNumbers(DicomVR vr, ReadOnlySpan<byte> bytes)
        {
            int unit = vr.UnitSize();
            int count = bytes.Length / unit;
            if (count == 0) return;
            bool bigAsString = options.VeryLongIntegersBeyondDoublePrecisionAsStrings;
            const long DoublePrecision = 1L << 53;
            w.WriteStartArray("Value"u8);
            for (int i = 0; i < count; i++)
            {
                var v = bytes.Slice(i * unit, unit);
                switch (vr)
                {
                    case DicomVR.US: w.WriteNumberValue(BinaryPrimitives.ReadUInt16LittleEndian(v)); break;
                    case DicomVR.SS: w.WriteNumberValue(BinaryPrimitives.ReadInt16LittleEndian(v)); break;
                    case DicomVR.UL: w.WriteNumberValue(BinaryPrimitives.ReadUInt32LittleEndian(v)); break;
                    case DicomVR.SL: w.WriteNumberValue(BinaryPrimitives.ReadInt32LittleEndian(v)); break;
                    case DicomVR.FL:
                        float f = BinaryPrimitives.ReadSingleLittleEndian(v);
                        if (float.IsFinite(f)) w.WriteNumberValue(f);
                        else WriteNonFinite(f);
                        break;
                    case DicomVR.FD:
                        double d = BinaryPrimitives.ReadDoubleLittleEndian(v);
                        if (double.IsFinite(d)) w.WriteNumberValue(d);
                        else WriteNonFinite(d);
                        break;
                    case DicomVR.SV:
                        long sv = BinaryPrimitives.ReadInt64LittleEndian(v);
                        if (bigAsString && (sv > DoublePrecision || sv < -DoublePrecision)) w.WriteStringValue(sv.ToString(CultureInfo.InvariantCulture));
                        else w.WriteNumberValue(sv);
                        break;
                    default:
                        ulong uv = BinaryPrimitives.ReadUInt64LittleEndian(v);
                        if (bigAsString && uv > DoublePrecision) w.WriteStringValue(uv.ToString(CultureInfo.InvariantCulture));
                        else w.WriteNumberValue(uv);
                        break;
                }
            }
            w.WriteEndArray();
        }

        private void WriteNonFinite(double d) =>
            w.WriteStringValue(double.IsNaN(d) ? "NaN"u8 : d > 0 ? "Infinity"u8 : "-Infinity"u8);

        // ---- text -------------------------------------------------------------------------------

        private void WriteText(DicomDataset ds, DicomVR vr, ReadOnlySpan<byte> bytes)
        {
            // PS3.5 §6.2: values are padded to even length with a space (NUL for UI); some writers pad text with
            // NUL too. No DICOM character set has a multi-byte character ending in 20H or 00H, so trimming bytes is safe.
            bytes = bytes.TrimEnd(" \0"u8);
            if (bytes.IsEmpty) return; // PS3.18 §F.2.5
            var cs = ds.CharacterSet;
            if (Ascii.IsValid(bytes) && !bytes.Contains((byte)0x1B) && (!vr.IsCharacterSetDependent() || IsAsciiCompatible(cs)))
            {
                WriteTextValues(vr, bytes);
                return;
            }
            WriteTextValues(vr, cs.Decode(bytes, vr).AsSpan());
        }

        /// <summary>Whether bytes 00-7F other than ESC mean ASCII under <paramref name="cs"/>: so in every
        /// character set of PS3.3 C.12.1.1.2 but those whose G0 is JIS X 0201 Romaji (ISO_IR 13 and ISO 2022 IR 13
        /// as the first value), where 5CH is the YEN SIGN.</summary>
        private bool IsAsciiCompatible(DicomCharacterSet cs)
        {
            if (ReferenceEquals(cs, _checkedSet)) return _checkedSetIsAsciiCompatible;
            // The first value sets G0 at the start of every value (PS3.3 C.12.1.1.2); bytes without ESC never leave it.
            bool ok = cs.Terms.Count == 0 || !cs.Terms[0].Trim().EndsWith(" 13", StringComparison.Ordinal);
            _checkedSet = cs;
            _checkedSetIsAsciiCompatible = ok;
            return ok;
        }

        /// <summary>Splits text into values and writes "Value" (the text is non-empty). Works on UTF-8/ASCII bytes
        /// or on decoded chars alike.</summary>
        private void WriteTextValues<T>(DicomVR vr, ReadOnlySpan<T> text) where T : unmanaged, IEquatable<T>
        {
            T backslash = Char<T>('\\'), space = Char<T>(' '), nul = Char<T>('\0');
            w.WriteStartArray("Value"u8);
            if (vr.IsSingleValuedText())
            {
                // PS3.5 §6.4: LT, ST, UT and UR have one value, backslash included; leading spaces are significant.
                WriteString(text);
                w.WriteEndArray();
                return;
            }
            // PS3.5 Table 6.2-1: leading spaces are padding for these VRs too.
            bool trimStart = vr is DicomVR.AE or DicomVR.CS or DicomVR.DS or DicomVR.IS or DicomVR.SH or DicomVR.LO;
            while (true)
            {
                // PS3.18 §F.2.4: 5CH separates values, also where the character set shows it as a YEN SIGN.
                int end = text.IndexOf(backslash);
                var value = end < 0 ? text : text[..end];
                while (!value.IsEmpty && (value[^1].Equals(space) || value[^1].Equals(nul))) value = value[..^1];
                if (trimStart) value = value.TrimStart(space);
                if (value.IsEmpty) w.WriteNullValue(); // PS3.18 §F.2.5: an empty value among several is null
                else if (vr == DicomVR.PN) WritePersonName(value);
                else if (vr == DicomVR.DS) WriteDecimalString(value);
                else if (vr == DicomVR.IS) WriteIntegerString(value);
                else WriteString(value);
                if (end < 0) break;
                text = text[(end + 1)..];
            }
            w.WriteEndArray();
        }

        /// <summary>PN: an object with the non-empty component groups (PS3.18 §F.2.2), split on '=' (PS3.5 §6.2.1).</summary>
        private void WritePersonName<T>(ReadOnlySpan<T> value) where T : unmanaged, IEquatable<T>
        {
            T equals = Char<T>('=');
            int first = value.IndexOf(equals);
            var alphabetic = first < 0 ? value : value[..first];
            var rest = first < 0 ? [] : value[(first + 1)..];
            int second = rest.IndexOf(equals);
            var ideographic = first < 0 ? [] : second < 0 ? rest : rest[..second];
            // A fourth group has no place in PS3.5; it stays with the phonetic one rather than being dropped.
            var phonetic = second < 0 ? [] : rest[(second + 1)..];
            if (alphabetic.IsEmpty && ideographic.IsEmpty && phonetic.IsEmpty)
            {
                w.WriteNullValue();
                return;
            }
            w.WriteStartObject();
            if (!alphabetic.IsEmpty) { w.WritePropertyName("Alphabetic"u8); WriteString(alphabetic); }
            if (!ideographic.IsEmpty) { w.WritePropertyName("Ideographic"u8); WriteString(ideographic); }
            if (!phonetic.IsEmpty) { w.WritePropertyName("Phonetic"u8); WriteString(phonetic); }
            w.WriteEndObject();
        }

        /// <summary>DS as a JSON number (PS3.18 Table F.2.3-1), through <see cref="decimal"/> where it holds the value,
        /// so that its digits are kept ("1.50" stays 1.50; a DS has at most 16 characters, decimal 28 digits); else
        /// through the double; a string when it is not a finite number.</summary>
        private void WriteDecimalString<T>(ReadOnlySpan<T> value) where T : unmanaged, IEquatable<T>
        {
            if (!TryParseDouble(value, out double d) || !double.IsFinite(d)) WriteString(value);
            else if (TryParseDecimal(value, out decimal m) && (double)m == d) w.WriteNumberValue(m);
            else w.WriteNumberValue(d);
        }

        /// <summary>IS as a JSON number; a value with a zero fraction ("1.0") as its integer, as pydicom reads it; a
        /// string when it is not an integer.</summary>
        private void WriteIntegerString<T>(ReadOnlySpan<T> value) where T : unmanaged, IEquatable<T>
        {
            if (TryParseLong(value, out long l))
            {
                w.WriteNumberValue(l);
            }
            else if (TryParseDouble(value, out double d) && double.IsFinite(d) && Math.Abs(d) < 9e15 && d == Math.Floor(d))
            {
                w.WriteNumberValue((long)d);
            }
            else
            {
                WriteString(value);
            }
        }

        private void WriteString<T>(ReadOnlySpan<T> text) where T : unmanaged
        {
            if (typeof(T) == typeof(byte)) w.WriteStringValue(MemoryMarshal.Cast<T, byte>(text));
            else w.WriteStringValue(MemoryMarshal.Cast<T, char>(text));
        }
    }

    private static T Char<T>(char c) where T : unmanaged
    {
        if (typeof(T) == typeof(byte))
        {
            byte b = (byte)c;
            return Unsafe.As<byte, T>(ref b);
        }
        return Unsafe.As<char, T>(ref c);
    }

    private static bool TryParseDouble<T>(ReadOnlySpan<T> text, out double d) where T : unmanaged =>
        typeof(T) == typeof(byte)
            ? double.TryParse(MemoryMarshal.Cast<T, byte>(text), NumberStyles.Float, CultureInfo.InvariantCulture, out d)
            : double.TryParse(MemoryMarshal.Cast<T, char>(text), NumberStyles.Float, CultureInfo.InvariantCulture, out d);

    private static bool TryParseDecimal<T>(ReadOnlySpan<T> text, out decimal m) where T : unmanaged =>
        typeof(T) == typeof(byte)
            ? decimal.TryParse(MemoryMarshal.Cast<T, byte>(text), NumberStyles.Float, CultureInfo.InvariantCulture, out m)
            : decimal.TryParse(MemoryMarshal.Cast<T, char>(text), NumberStyles.Float, CultureInfo.InvariantCulture, out m);

    private static bool TryParseLong<T>(ReadOnlySpan<T> text, out long l) where T : unmanaged =>
        typeof(T) == typeof(byte)
            ? long.TryParse(MemoryMarshal.Cast<T, byte>(text), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out l)
            : long.TryParse(MemoryMarshal.Cast<T, char>(text), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out l);

    /// <summary>Feeds bytes copied out of a <see cref="BulkDataReference"/> into base64 segments of the JSON string
    /// being written.</summary>
    private sealed class Base64SegmentStream(Utf8JsonWriter w, bool synchronous) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            while (buffer.Length > SegmentBytes)
            {
                w.WriteBase64StringSegment(buffer[..SegmentBytes], isFinalSegment: false);
                buffer = buffer[SegmentBytes..];
            }
            w.WriteBase64StringSegment(buffer, isFinalSegment: false);
            if (synchronous && w.BytesPending > FlushThreshold) w.Flush();
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (synchronous)
            {
                Write(buffer.Span);
                return;
            }
            while (buffer.Length > SegmentBytes)
            {
                w.WriteBase64StringSegment(buffer.Span[..SegmentBytes], isFinalSegment: false);
                buffer = buffer[SegmentBytes..];
                if (w.BytesPending > FlushThreshold) await w.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
            w.WriteBase64StringSegment(buffer.Span, isFinalSegment: false);
            if (w.BytesPending > FlushThreshold) await w.FlushAsync(cancellationToken).ConfigureAwait(false);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }
}
