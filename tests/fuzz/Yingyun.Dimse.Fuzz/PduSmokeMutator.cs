using Yingyun.Fuzz;

namespace Yingyun.Dimse.Fuzz;

/// <summary>Blind mutations of PDU streams (see <see cref="SmokeMutatorBase"/>). The length fields are found by
/// walking the structure as far as it holds: PDU lengths (PS3.8 §9.3.1), item and sub-item lengths of the
/// A-ASSOCIATE PDUs and the length prefixes inside sub-items (§9.3.2, PS3.7 Annex D.3.3), PDV item lengths
/// (§9.3.5.1), and the element lengths of command sets (implicit VR little endian, PS3.7 §6.3.1).</summary>
internal sealed class PduSmokeMutator(int seed) : SmokeMutatorBase(seed)
{
    protected override List<LengthField> LengthFields(List<byte> d)
    {
        var found = new List<LengthField>();
        int at = 0;
        while (at + 6 <= d.Count && d[at] is >= 1 and <= 7)
        {
            found.Add(new LengthField(at, at + 2, 4, BigEndian: true, CutSpan: 10));
            long length = BigEndian32(d, at + 2);
            int end = (int)Math.Min(d.Count, at + 6 + length);
            if (d[at] is 1 or 2) Items(d, at + 6 + 68, end, found, nested: true);
            else if (d[at] == 4) Pdvs(d, at + 6, end, found);
            at = end;
        }
        return found;
    }

    private static void Items(List<byte> d, int at, int end, List<LengthField> found, bool nested)
    {
        while (at + 4 <= end)
        {
            byte type = d[at];
            found.Add(new LengthField(at, at + 2, 2, BigEndian: true, CutSpan: 8));
            int itemEnd = Math.Min(end, at + 4 + (d[at + 2] << 8 | d[at + 3]));
            // Presentation context items have 4 fixed bytes before their sub-items; the user information item none.
            if (nested && type is 0x20 or 0x21) Items(d, at + 8, itemEnd, found, nested: false);
            else if (nested && type == 0x50) Items(d, at + 4, itemEnd, found, nested: false);
            // Sub-items that start with a 2-byte length of their own (role selection, extended negotiation, user
            // identity response), and the user identity request's after its 2 fixed bytes.
            else if (!nested && type is 0x54 or 0x56 or 0x57 or 0x59 && at + 6 <= itemEnd) found.Add(new LengthField(at + 4, at + 4, 2, BigEndian: true, CutSpan: 4));
            else if (!nested && type == 0x58 && at + 8 <= itemEnd) found.Add(new LengthField(at + 6, at + 6, 2, BigEndian: true, CutSpan: 4));
            at = itemEnd;
        }
    }

    private static void Pdvs(List<byte> d, int at, int end, List<LengthField> found)
    {
        while (at + 6 <= end)
        {
            found.Add(new LengthField(at, at, 4, BigEndian: true, CutSpan: 8));
            long length = BigEndian32(d, at);
            int pdvEnd = (int)Math.Min(end, at + 4 + length);
            if ((d[at + 5] & 1) != 0)
            {
                // Command set elements: tag 4, length 4 (little endian), value.
                int e = at + 6;
                while (e + 8 <= pdvEnd)
                {
                    found.Add(new LengthField(e, e + 4, 4, BigEndian: false, CutSpan: 10));
                    long elementLength = (uint)(d[e + 4] | d[e + 5] << 8 | d[e + 6] << 16 | d[e + 7] << 24);
                    e = (int)Math.Min(pdvEnd, e + 8 + elementLength);
                }
            }
            at = Math.Max(pdvEnd, at + 6);
        }
    }

    private static long BigEndian32(List<byte> d, int at) => (uint)(d[at] << 24 | d[at + 1] << 16 | d[at + 2] << 8 | d[at + 3]);
}
