using System.Buffers;
using System.Text;

namespace Yingyun.Dicom;

/// <summary>Checks a data set against PS3.5 (VRs, value syntax, lengths, multiplicity, character sets) and against
/// the Type 1 and Type 2 attributes of the common modules of PS3.3 (<see cref="DicomModules"/>). Problems are returned
/// as data; nothing throws for bad input. A clean data set costs no allocation beyond the walker itself, and the
/// messages and paths of problems are only built when a problem is found.</summary>
public static class DicomValidator
{
    public static IReadOnlyList<DicomValidationProblem> Validate(DicomDataset dataset, DicomValidationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        options ??= DicomValidationOptions.Default;
        var walker = new Walker(options);
        walker.Dataset(dataset);
        if (options.CheckAttributeTypes) walker.Modules(dataset);
        return walker.Problems is { } problems ? problems : [];
    }

    // SearchValues rather than IndexOfAnyInRange: the char range search was measured allocating 96 bytes a call on
    // .NET 10, and these run for every text value.
    private static readonly SearchValues<char> ControlCharacters = SearchValues.Create(
        "\0\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t\n\u000B\f\r\u000E\u000F\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001A\u001B\u001C\u001D\u001E\u001F\u007F");
    private static readonly SearchValues<char> PrintableAscii = SearchValues.Create(" !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~");

    private sealed class Walker(DicomValidationOptions options)
    {
        private readonly record struct PathSegment(DicomTag Sequence, int Item);

        private PathSegment[] _path = [];
        private int _depth;

        public List<DicomValidationProblem>? Problems { get; private set; }

        private bool IsFull => Problems is { } p && p.Count >= options.MaxProblems;

        // ------------------------------------------------------------ structure

        public void Dataset(DicomDataset ds)
        {
            foreach (var item in ds.ItemSpan)
            {
                if (IsFull) return;
                Item(ds, item);
            }
        }

        private void Item(DicomDataset ds, DicomItem item)
        {
            var tag = item.Tag;
            var vr = item.VR;
            DicomDictionaryEntry? entry = null;
            if (tag.IsPrivate)
            {
                if (tag.IsPrivateCreator)
                {
                    if (vr is not (DicomVR.LO or DicomVR.UN))
                        Report(DicomValidationProblemCode.WrongVR, tag, null, $"private creator {tag} is {vr.ToText()}; it is LO (PS3.5 §7.8.1)");
                }
                else if (tag.Element >= 0x1000 && !ds.Contains(tag.PrivateCreatorTag))
                {
                    Report(DicomValidationProblemCode.MissingPrivateCreator, tag, null,
                        $"no private creator {tag.PrivateCreatorTag} reserves the block of {tag} (PS3.5 §7.8.1)");
                }
            }
            else if (!tag.IsGroupLength && DicomDictionary.TryGet(tag, out entry))
            {
                var allowed = entry.ValueRepresentations;
                // An unknown VR is reported once, by Element.
                if (allowed.Count > 0 && vr != DicomVR.UN && vr.IsKnown() && !Contains(allowed, vr))
                    Report(DicomValidationProblemCode.WrongVR, tag, null, $"{Name(tag)} is {vr.ToText()}; PS3.6 gives {string.Join(" or ", allowed.Select(v => v.ToText()))}");
            }

            switch (item)
            {
                case DicomSequence sq:
                    for (int i = 0; i < sq.Items.Count && !IsFull; i++)
                    {
                        Push(tag, i);
                        Dataset(sq.Items[i]);
                        _depth--;
                    }
                    break;
                case DicomFragmentSequence fragments:
                    for (int i = 0; i < fragments.Fragments.Count; i++)
                    {
                        if ((fragments.Fragments[i].Length & 1) != 0)
                        {
                            Report(DicomValidationProblemCode.OddLength, tag, null, $"fragment {i + 1} of {Name(tag)} has odd length {fragments.Fragments[i].Length} (PS3.5 §A.4)");
                            break;
                        }
                    }
                    break;
                case DicomElement e:
                    Element(ds, e, entry);
                    break;
            }
        }

        private static bool Contains(IReadOnlyList<DicomVR> list, DicomVR vr)
        {
            for (int i = 0; i < list.Count; i++)
                if (list[i] == vr) return true;
            return false;
        }

        private void Push(DicomTag tag, int item)
        {
            if (_depth == _path.Length) Array.Resize(ref _path, Math.Max(4, _path.Length * 2));
            _path[_depth++] = new PathSegment(tag, item);
        }

        // ------------------------------------------------------------ values

        private void Element(DicomDataset ds, DicomElement e, DicomDictionaryEntry? entry)
        {
            var tag = e.Tag;
            var vr = e.VR;
            if ((e.Length & 1) != 0)
                Report(DicomValidationProblemCode.OddLength, tag, null, $"{Name(tag)} has odd value length {e.Length} (PS3.5 §7.1.1)");
            if (!vr.IsKnown())
            {
                Report(DicomValidationProblemCode.WrongVR, tag, null, $"{Name(tag)} has VR '{vr.ToText()}', not a VR of PS3.5 Table 6.2-1");
                return;
            }
            // Values left on disk are bulk data (pixels, waveforms): their length was checked; their content is not read.
            if (!options.CheckValues || !e.Value.IsInMemory || vr is DicomVR.UN or DicomVR.SQ) return;
            if (vr.IsString()) Text(ds, e, entry);
            else Binary(e, entry);
        }

        private void Binary(DicomElement e, DicomDictionaryEntry? entry)
        {
            var vr = e.VR;
            int length = e.Span.Length;
            int unit = vr.UnitSize();
            if (unit > 1 && length % unit != 0)
            {
                Report(DicomValidationProblemCode.InvalidLength, e.Tag, null, $"{Name(e.Tag)} is {vr.ToText()} of {length} bytes, not a multiple of {unit} (PS3.5 §6.2)");
                return;
            }
            // OB, OW, OF, OD, OL, OV hold one value however long (PS3.5 §6.4).
            if (entry is null || length == 0 || unit == 1 || vr is DicomVR.OW or DicomVR.OF or DicomVR.OD or DicomVR.OL or DicomVR.OV) return;
            CheckMultiplicity(e.Tag, entry, length / unit);
        }

        private void Text(DicomDataset ds, DicomElement e, DicomDictionaryEntry? entry)
        {
            var vr = e.VR;
            // Only the VR's own padding byte is padding (PS3.5 §6.2): a text value padded with NUL or a UID padded with a
            // space shows up below as a bad character.
            var bytes = e.Span;
            byte pad = vr.PaddingByte();
            int end = bytes.Length;
            while (end > 0 && bytes[end - 1] == pad) end--;
            bytes = bytes[..end];
            if (bytes.IsEmpty) return;

            var characterSet = ds.CharacterSet;
            Span<char> buffer = stackalloc char[256];
            char[]? rented = null;
            try
            {
                scoped ReadOnlySpan<char> text;
                if (vr.IsCharacterSetDependent() && !ReferenceEquals(characterSet, DicomCharacterSet.Default))
                {
                    if (!characterSet.TryDecodeStrict(bytes, vr, out var decoded, out var error))
                        Report(DicomValidationProblemCode.UndecodableCharacters, e.Tag, decoded,
                            $"{Name(e.Tag)} is not valid in Specific Character Set '{characterSet}': {error} (PS3.3 C.12.1.1.2)");
                    text = decoded;
                }
                else
                {
                    if (vr.IsCharacterSetDependent() && bytes.IndexOfAnyInRange((byte)0x80, (byte)0xFF) >= 0)
                        Report(DicomValidationProblemCode.UndecodableCharacters, e.Tag, Encoding.Latin1.GetString(bytes),
                            $"{Name(e.Tag)} has bytes above 7FH but the data set has no Specific Character Set (0008,0005): the default repertoire is ISO-IR 6 (PS3.5 §6.1.2.2)");
                    if (bytes.Length > buffer.Length) buffer = rented = ArrayPool<char>.Shared.Rent(bytes.Length);
                    text = DicomValueText.Widen(bytes, buffer);
                }
                Values(e, entry, text);
            }
            finally
            {
                if (rented is not null) ArrayPool<char>.Shared.Return(rented);
            }
        }

        private void Values(DicomElement e, DicomDictionaryEntry? entry, ReadOnlySpan<char> text)
        {
            var vr = e.VR;
            uint reported = 0; // one problem per code per element: counts stay meaningful for a 1000-value element
            if (vr.IsSingleValuedText())
            {
                Value(e, text, ref reported);
                return;
            }
            int count = 0;
            foreach (var range in text.Split(DicomValueText.Delimiter))
            {
                Value(e, text[range], ref reported);
                count++;
            }
            if (entry is not null) CheckMultiplicity(e.Tag, entry, count);
        }

        private void CheckMultiplicity(DicomTag tag, DicomDictionaryEntry entry, int count)
        {
            if (DicomValueMultiplicity.TryParse(entry.ValueMultiplicity, out var vm) && !vm.Allows(count))
                Report(DicomValidationProblemCode.VMMismatch, tag, null, $"{Name(tag)} has {count} values; PS3.6 gives VM {entry.ValueMultiplicity}");
        }

        private void Value(DicomElement e, ReadOnlySpan<char> v, ref uint reported)
        {
            if (v.IsEmpty) return; // an empty value among others carries no syntax
            var tag = e.Tag;
            var vr = e.VR;
            switch (vr)
            {
                case DicomVR.AE:
                    Length(tag, vr, v, ref reported);
                    if (v.IndexOfAnyExcept(PrintableAscii) >= 0)
                        Once(ref reported, DicomValidationProblemCode.IllegalCharacter, tag, v, $"{Name(tag)}: an AE title has default repertoire characters and no control characters (PS3.5 Table 6.2-1)");
                    else if (v.Trim(' ').IsEmpty)
                        Once(ref reported, DicomValidationProblemCode.IllegalCharacter, tag, v, $"{Name(tag)}: an AE title of only spaces is not allowed (PS3.5 Table 6.2-1)");
                    break;
                case DicomVR.AS:
                    if (!DicomAge.TryParseExact(v, out _))
                        Once(ref reported, DicomValidationProblemCode.InvalidAge, tag, v, $"{Name(tag)}: not an age string nnnD, nnnW, nnnM or nnnY (PS3.5 Table 6.2-1)");
                    break;
                case DicomVR.CS:
                    Length(tag, vr, v, ref reported);
                    foreach (char c in v)
                    {
                        if (!(char.IsAsciiLetterUpper(c) || char.IsAsciiDigit(c) || c is ' ' or '_'))
                        {
                            Once(ref reported, DicomValidationProblemCode.InvalidCodeString, tag, v, $"{Name(tag)}: a code string has only A-Z, 0-9, space and underscore (PS3.5 Table 6.2-1)");
                            break;
                        }
                    }
                    break;
                case DicomVR.DA:
                    if (!DicomDate.TryParseExact(v, out _) && !(options.AllowRanges && IsRange(v, static s => DicomDate.TryParseExact(s, out _))))
                        Once(ref reported, DicomValidationProblemCode.InvalidDate, tag, v, DicomDate.IsLegacyForm(v)
                            ? $"{Name(tag)}: 'YYYY.MM.DD' is the ACR-NEMA form; DICOM writes YYYYMMDD (PS3.5 Table 6.2-1)"
                            : $"{Name(tag)}: not a date YYYYMMDD (PS3.5 Table 6.2-1)");
                    break;
                case DicomVR.DS:
                    Length(tag, vr, v, ref reported);
                    if (!DicomDecimalString.IsValid(v))
                        Once(ref reported, DicomValidationProblemCode.InvalidNumber, tag, v, $"{Name(tag)}: not a decimal string (PS3.5 Table 6.2-1)");
                    break;
                case DicomVR.DT:
                    if (!DicomDateTime.TryParseExact(v, out _) && !(options.AllowRanges && IsRange(v, static s => DicomDateTime.TryParseExact(s, out _))))
                        Once(ref reported, DicomValidationProblemCode.InvalidDateTime, tag, v, $"{Name(tag)}: not a date time YYYYMMDDHHMMSS.FFFFFF&ZZXX (PS3.5 Table 6.2-1)");
                    break;
                case DicomVR.IS:
                    Length(tag, vr, v, ref reported);
                    if (!DicomIntegerString.IsValid(v))
                        Once(ref reported, DicomValidationProblemCode.InvalidNumber, tag, v, $"{Name(tag)}: not an integer string in -2^31..2^31-1 (PS3.5 Table 6.2-1)");
                    break;
                case DicomVR.LO or DicomVR.SH or DicomVR.UC:
                    Length(tag, vr, v, ref reported);
                    Controls(tag, v, formatting: false, ref reported);
                    break;
                case DicomVR.PN:
                    PersonName(tag, v, ref reported);
                    Controls(tag, v, formatting: false, ref reported);
                    break;
                case DicomVR.LT or DicomVR.ST or DicomVR.UT:
                    Length(tag, vr, v, ref reported);
                    Controls(tag, v, formatting: true, ref reported);
                    break;
                case DicomVR.TM:
                    if (!DicomTime.TryParseExact(v, out _) && !(options.AllowRanges && IsRange(v, static s => DicomTime.TryParseExact(s, out _))))
                        Once(ref reported, DicomValidationProblemCode.InvalidTime, tag, v, v.Contains(':')
                            ? $"{Name(tag)}: 'HH:MM:SS' is the ACR-NEMA form; DICOM writes HHMMSS.FFFFFF (PS3.5 Table 6.2-1)"
                            : $"{Name(tag)}: not a time HHMMSS.FFFFFF (PS3.5 Table 6.2-1)");
                    break;
                case DicomVR.UI:
                    if (UidProblem(v) is { } why)
                        Once(ref reported, DicomValidationProblemCode.InvalidUid, tag, v, $"{Name(tag)}: {why} (PS3.5 §9.1)");
                    break;
                case DicomVR.UR:
                    if (v.IndexOf(' ') >= 0 || v.IndexOfAnyExcept(PrintableAscii) >= 0)
                        Once(ref reported, DicomValidationProblemCode.IllegalCharacter, tag, v, $"{Name(tag)}: a URI has no spaces, control or non-ASCII characters (PS3.5 Table 6.2-1, RFC 3986)");
                    break;
            }
        }

        private delegate bool SpanPredicate(ReadOnlySpan<char> text);

        /// <summary>"a-b", "-b" or "a-" with each side valid (PS3.4 C.2.2.2.5). DT values contain '-' in negative offsets,
        /// so every '-' is tried as the separator.</summary>
        private static bool IsRange(ReadOnlySpan<char> v, SpanPredicate valid)
        {
            for (int i = 0; i < v.Length; i++)
            {
                if (v[i] != '-') continue;
                var a = v[..i];
                var b = v[(i + 1)..];
                if ((a.Length > 0 || b.Length > 0) && (a.IsEmpty || valid(a)) && (b.IsEmpty || valid(b))) return true;
            }
            return false;
        }

        private void Length(DicomTag tag, DicomVR vr, ReadOnlySpan<char> v, ref uint reported)
        {
            int max = vr.MaxLength();
            if (max > 0 && v.Length > max)
                Once(ref reported, DicomValidationProblemCode.ValueTooLong, tag, v, $"{Name(tag)}: a value of {v.Length} characters; {vr.ToText()} allows {max} (PS3.5 Table 6.2-1)");
        }

        private void Controls(DicomTag tag, ReadOnlySpan<char> v, bool formatting, ref uint reported)
        {
            int i = IndexOfControl(v, formatting);
            if (i >= 0)
                Once(ref reported, DicomValidationProblemCode.IllegalCharacter, tag, v,
                    $"{Name(tag)}: control character {(int)v[i]:X2}H; {(formatting ? "LT, ST and UT allow only CR, LF, FF, TAB and ESC" : "only ESC is allowed")} (PS3.5 §6.1.3)");
        }

        /// <summary>The first control character other than ESC (and CR, LF, FF, TAB with <paramref name="formatting"/>).</summary>
        private static int IndexOfControl(ReadOnlySpan<char> v, bool formatting)
        {
            int start = 0;
            while (true)
            {
                int i = v[start..].IndexOfAny(ControlCharacters);
                if (i < 0) return -1;
                i += start;
                char c = v[i];
                if (c != '\u001B' && !(formatting && c is '\r' or '\n' or '\f' or '\t')) return i;
                start = i + 1;
            }
        }

        private void PersonName(DicomTag tag, ReadOnlySpan<char> v, ref uint reported)
        {
            int groups = 0;
            foreach (var range in v.Split(DicomPersonName.ComponentGroupDelimiter))
            {
                var group = v[range];
                groups++;
                if (group.Length > 64)
                    Once(ref reported, DicomValidationProblemCode.ValueTooLong, tag, v, $"{Name(tag)}: a component group of {group.Length} characters; PN allows 64 per group (PS3.5 Table 6.2-1)");
                if (group.Count(DicomPersonNameComponentGroup.ComponentDelimiter) > 4)
                    Once(ref reported, DicomValidationProblemCode.InvalidPersonName, tag, v, $"{Name(tag)}: more than five components in a group (PS3.5 §6.2.1.1)");
            }
            if (groups > 3)
                Once(ref reported, DicomValidationProblemCode.InvalidPersonName, tag, v, $"{Name(tag)}: more than three component groups (PS3.5 §6.2.1.2)");
        }

        /// <summary>Why <paramref name="uid"/> is not a UID of PS3.5 §9.1, or null.</summary>
        private static string? UidProblem(ReadOnlySpan<char> uid)
        {
            if (uid.Length > 64) return $"{uid.Length} characters; a UID has at most 64";
            int componentStart = 0;
            for (int i = 0; i <= uid.Length; i++)
            {
                if (i == uid.Length || uid[i] == '.')
                {
                    int n = i - componentStart;
                    if (n == 0) return "an empty component";
                    if (n > 1 && uid[componentStart] == '0') return "a component with a leading zero";
                    componentStart = i + 1;
                }
                else if (!char.IsAsciiDigit(uid[i]))
                {
                    return uid[i] == ' ' ? "padded with a space; UI is padded with NUL" : $"'{uid[i]}' is not a digit or '.'";
                }
            }
            return null;
        }

        // ------------------------------------------------------------ modules

        public void Modules(DicomDataset ds)
        {
            var sopClass = ds.TryGetElement(DicomTags.SOPClassUID, out var sc) && sc.Value.IsInMemory
                ? DicomValueText.TrimPadding(sc.Span, DicomVR.UI)
                : default;
            var modules = DicomModules.For(sopClass, ds.Contains(DicomTag.PixelDataTag));
            int samplesPerPixel = ds.GetValueOrDefault(DicomTags.SamplesPerPixel, 1);
            for (int m = 0; m < modules.Count; m++)
            {
                var module = modules[m];
                for (int a = 0; a < module.Attributes.Count; a++)
                {
                    var attribute = module.Attributes[a];
                    if (attribute.Condition == DicomAttributeCondition.SamplesPerPixelGreaterThanOne && samplesPerPixel <= 1) continue;
                    bool type1 = attribute.Type is DicomAttributeType.Type1 or DicomAttributeType.Type1C;
                    var tag = attribute.Tag;
                    if (!ds.TryGetItem(tag, out var item))
                    {
                        var code = type1 ? DicomValidationProblemCode.MissingType1 : DicomValidationProblemCode.MissingType2;
                        if (!AlreadyReported(code, tag))
                            Report(code, tag, null, $"{Name(tag)} is Type {(type1 ? "1" : "2")} in the {module.Name} Module ({module.Section}) and is absent");
                    }
                    else if (type1 && IsEmpty(item) && !AlreadyReported(DicomValidationProblemCode.EmptyType1, tag))
                    {
                        Report(DicomValidationProblemCode.EmptyType1, tag, null, $"{Name(tag)} is Type 1 in the {module.Name} Module ({module.Section}) and has no value");
                    }
                }
            }
        }

        private bool AlreadyReported(DicomValidationProblemCode code, DicomTag tag)
        {
            // Attributes such as Bits Allocated appear in several modules of one IOD; report them once.
            if (Problems is null) return false;
            foreach (var p in Problems)
                if (p.Code == code && p.Tag == tag) return true;
            return false;
        }

        private static bool IsEmpty(DicomItem item) => item switch
        {
            DicomSequence sq => sq.Items.Count == 0,
            DicomFragmentSequence f => f.Fragments.Count == 0,
            DicomElement e when e.Length == 0 => true,
            // A text value of only padding has no value; a binary value of zeros is the number 0.
            DicomElement e when e.VR.IsString() && e.Value.IsInMemory => e.Span.IndexOfAnyExcept((byte)' ', (byte)0) < 0,
            _ => false,
        };

        // ------------------------------------------------------------ reporting

        private void Once(ref uint reported, DicomValidationProblemCode code, DicomTag tag, ReadOnlySpan<char> value, string message)
        {
            uint bit = 1u << ((int)code & 31);
            if ((reported & bit) != 0) return;
            reported |= bit;
            Report(code, tag, Truncate(value), message);
        }

        private string Truncate(ReadOnlySpan<char> value) =>
            value.Length <= options.MaxValueLength ? value.ToString() : string.Concat(value[..options.MaxValueLength], "…");

        private void Report(DicomValidationProblemCode code, DicomTag tag, string? value, string message)
        {
            if (IsFull) return;
            if (value is not null && value.Length > options.MaxValueLength) value = Truncate(value);
            (Problems ??= []).Add(new DicomValidationProblem(code, tag, TagPath(tag), value, message));
        }

        private string TagPath(DicomTag leaf)
        {
            if (_depth == 0) return leaf.ToString();
            var sb = new StringBuilder(16 * (_depth + 1));
            for (int i = 0; i < _depth; i++)
                sb.Append(_path[i].Sequence.ToString()).Append('[').Append(_path[i].Item).Append("].");
            return sb.Append(leaf.ToString()).ToString();
        }

        private static string Name(DicomTag tag)
        {
            string keyword = DicomDictionary.GetKeyword(tag);
            return keyword.Length > 0 ? $"{keyword} {tag}" : tag.ToString();
        }
    }
}
